//! The build log (`.taskflow_log`): for each output, the hash of the command
//! that last built it, when that command started and ended, and the mtime
//! recorded for the output. The dirty check reads the hash (a changed command
//! line rebuilds) and the mtime (`restat`); the scheduler reads the duration
//! (critical-path weights).
//!
//! Our own binary format, not ninja's text `.ninja_log`: records framed by
//! [`crate::record`], so a torn last record is detected by its checksum (a
//! torn text line can still parse), fixed-width fields load without parsing,
//! and a separate name lets ninja and this runner share a build directory
//! without rewriting each other's logs. Payload: hash u64, start ms u32, end
//! ms u32, mtime ns i64 (all LE), then the output path.
//!
//! The file is read with one read and decoded in place: outputs are
//! interned ([`Interner`]), entries are a flat table beside them, so a log
//! of tens of thousands of records loads with no allocation per record.

use std::io;
use std::path::Path;

use crate::intern::Interner;
use crate::record::{self, LogFile};

pub const FILE_NAME: &str = ".taskflow_log";
const MAGIC: &[u8] = b"# taskflow-ninja build log v1\n";
const FIXED: usize = 24;
/// Recompact once the log holds this many times more records than outputs
/// (and at least `MIN_COMPACTION` records), as ninja does.
const COMPACTION_RATIO: usize = 3;
const MIN_COMPACTION: usize = 100;

/// What the log knows about one output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub hash: u64,
    pub start_ms: u32,
    pub end_ms: u32,
    pub mtime: i64,
}

impl Entry {
    pub fn duration_ms(&self) -> u32 {
        self.end_ms.saturating_sub(self.start_ms)
    }
}

/// The loaded log, open for appending.
#[derive(Debug, Default)]
pub struct BuildLog {
    outputs: Interner,
    /// The latest entry of output `i` of `outputs`.
    entries: Vec<Entry>,
    file: LogFile,
    /// Whether the file was torn or started over when read.
    pub repaired: bool,
}

fn encode(path: &str, entry: &Entry, out: &mut Vec<u8>) {
    let mut payload = Vec::with_capacity(FIXED + path.len());
    payload.extend_from_slice(&entry.hash.to_le_bytes());
    payload.extend_from_slice(&entry.start_ms.to_le_bytes());
    payload.extend_from_slice(&entry.end_ms.to_le_bytes());
    payload.extend_from_slice(&entry.mtime.to_le_bytes());
    payload.extend_from_slice(path.as_bytes());
    record::frame(&payload, out);
}

fn decode(payload: &[u8]) -> Option<(&str, Entry)> {
    let fixed = payload.get(..FIXED)?;
    let u64_at = |i: usize| u64::from_le_bytes(fixed[i..i + 8].try_into().unwrap_or_default());
    let u32_at = |i: usize| u32::from_le_bytes(fixed[i..i + 4].try_into().unwrap_or_default());
    let path = std::str::from_utf8(&payload[FIXED..]).ok()?;
    Some((
        path,
        Entry {
            hash: u64_at(0),
            start_ms: u32_at(8),
            end_ms: u32_at(12),
            mtime: u64_at(16) as i64,
        },
    ))
}

impl BuildLog {
    /// Reads the log at `path` (none is an empty log), without opening it
    /// for writing.
    pub fn read(path: &Path) -> io::Result<BuildLog> {
        let mut log = BuildLog::default();
        let (file, read_back) = LogFile::read(path, MAGIC, |payload| match decode(payload) {
            Some((output, entry)) => {
                log.set(output, entry);
                true
            }
            // A record that frames right but does not decode was written by
            // no version of this runner: stop trusting the log there.
            None => false,
        })?;
        log.file = file;
        log.repaired = read_back.repaired;
        let compactable =
            read_back.applied > MIN_COMPACTION.max(log.entries.len() * COMPACTION_RATIO);
        if log.repaired || compactable {
            log.recompact()?;
        }
        Ok(log)
    }

    /// Makes `entry` the latest of `output`.
    fn set(&mut self, output: &str, entry: Entry) {
        match self.outputs.intern(output) {
            (_, true) => self.entries.push(entry),
            (id, false) => self.entries[id] = entry,
        }
    }

    pub fn get(&self, output: &str) -> Option<&Entry> {
        self.outputs.lookup(output).map(|id| &self.entries[id])
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every output with its latest entry, in the order first recorded.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Entry)> {
        self.outputs.iter().zip(&self.entries)
    }

    /// Records that `outputs` were built, one frame each, in one write.
    pub fn record(&mut self, outputs: &[&str], entry: Entry) -> io::Result<()> {
        let mut frames = Vec::new();
        for output in outputs {
            encode(output, &entry, &mut frames);
            self.set(output, entry);
        }
        self.file.append(&frames)
    }

    /// Sets the recorded mtime of `output`, for `-t restat`.
    pub fn set_mtime(&mut self, output: &str, mtime: i64) {
        if let Some(id) = self.outputs.lookup(output) {
            self.entries[id].mtime = mtime;
        }
    }

    /// Rewrites the log with one record per output, and reopens it.
    pub fn recompact(&mut self) -> io::Result<()> {
        let mut frames = Vec::new();
        let mut latest: Vec<(&str, &Entry)> = self.iter().collect();
        latest.sort_by_key(|&(path, _)| path);
        for (path, entry) in latest {
            encode(path, entry, &mut frames);
        }
        self.file.rewrite(&frames)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn entry(hash: u64) -> Entry {
        Entry {
            hash,
            start_ms: 1,
            end_ms: 5,
            mtime: 42,
        }
    }

    #[test]
    fn entries_survive_a_reload_and_later_ones_win() {
        let dir = tempdir("reload");
        let path = dir.join(FILE_NAME);
        let mut log = BuildLog::read(&path).unwrap();
        log.record(&["a", "b"], entry(1)).unwrap();
        log.record(&["a"], entry(2)).unwrap();
        drop(log);
        let log = BuildLog::read(&path).unwrap();
        assert_eq!(log.get("a"), Some(&entry(2)));
        assert_eq!(log.get("b"), Some(&entry(1)));
        assert!(!log.repaired);
    }

    #[test]
    fn a_torn_last_record_is_dropped_and_the_log_goes_on() {
        let dir = tempdir("torn");
        let path = dir.join(FILE_NAME);
        let mut log = BuildLog::read(&path).unwrap();
        log.record(&["a"], entry(1)).unwrap();
        log.record(&["b"], entry(2)).unwrap();
        drop(log);
        let len = std::fs::metadata(&path).unwrap().len();
        for cut in 1..30 {
            let data = std::fs::read(&path).unwrap();
            let torn = dir.join(format!("torn{cut}"));
            std::fs::write(&torn, &data[..(len - cut) as usize]).unwrap();
            let mut log = BuildLog::read(&torn).unwrap();
            assert_eq!(log.get("a"), Some(&entry(1)), "cut {cut}");
            assert_eq!(log.get("b"), None, "cut {cut}");
            assert!(log.repaired);
            // Appending after the repair yields a log that reads whole.
            log.record(&["c"], entry(3)).unwrap();
            drop(log);
            let log = BuildLog::read(&torn).unwrap();
            assert_eq!(log.get("c"), Some(&entry(3)), "cut {cut}");
            assert!(!log.repaired);
        }
    }

    #[test]
    fn garbage_is_an_empty_log_not_an_error() {
        let dir = tempdir("garbage");
        let path = dir.join(FILE_NAME);
        std::fs::write(&path, b"\x00\xffnot a log at all").unwrap();
        let log = BuildLog::read(&path).unwrap();
        assert!(log.is_empty());
        assert!(log.repaired);
    }

    #[test]
    fn recompaction_keeps_the_latest_entries() {
        let dir = tempdir("compact");
        let path = dir.join(FILE_NAME);
        let mut log = BuildLog::read(&path).unwrap();
        for i in 0..300 {
            log.record(&["x", "y"], entry(i)).unwrap();
        }
        drop(log);
        let before = std::fs::metadata(&path).unwrap().len();
        let log = BuildLog::read(&path).unwrap();
        assert_eq!(log.get("x"), Some(&entry(299)));
        assert!(std::fs::metadata(&path).unwrap().len() < before / 100);
    }

    pub(crate) fn tempdir(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("taskflow-ninja-unit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
