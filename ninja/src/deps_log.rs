//! The deps log (`.taskflow_deps`): the dependencies that `deps = gcc`
//! commands reported in their depfiles, kept so the depfile can be deleted
//! and the next dirty check need not parse it.
//!
//! Framed like the build log ([`crate::record`]), with two kinds of payload:
//! a path (`0`, then the path), which takes the next id; and deps (`1`, the
//! output's id u32, the output's mtime ns i64 when they were recorded, then
//! one id u32 per dependency). A deps record may only name ids of earlier
//! path records, so a torn tail never leaves a record pointing at nothing;
//! one that does is treated as the end of the log.

use std::io;
use std::path::Path;

use crate::intern::Interner;
use crate::record::{self, LogFile};

pub const FILE_NAME: &str = ".taskflow_deps";
const MAGIC: &[u8] = b"# taskflow-ninja deps log v1\n";
const PATH: u8 = 0;
const DEPS: u8 = 1;
const COMPACTION_RATIO: usize = 3;
const MIN_COMPACTION: usize = 1000;

/// The recorded dependencies of one output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deps {
    pub mtime: i64,
    /// Ids into [`DepsLog::path`].
    pub ids: Vec<u32>,
}

/// The loaded deps log, open for appending.
#[derive(Debug, Default)]
pub struct DepsLog {
    /// Path `id` is string `id`.
    paths: Interner,
    /// Indexed by the output's id.
    deps: Vec<Option<Deps>>,
    records: usize,
    file: LogFile,
    pub repaired: bool,
}

/// Frames the deps record of output `out` onto `frames`.
fn frame_deps(out: u32, deps: &Deps, frames: &mut Vec<u8>) {
    let mut payload = Vec::with_capacity(13 + 4 * deps.ids.len());
    payload.push(DEPS);
    payload.extend_from_slice(&out.to_le_bytes());
    payload.extend_from_slice(&deps.mtime.to_le_bytes());
    for id in &deps.ids {
        payload.extend_from_slice(&id.to_le_bytes());
    }
    record::frame(&payload, frames);
}

impl DepsLog {
    pub fn read(path: &Path) -> io::Result<DepsLog> {
        let mut log = DepsLog::default();
        let (file, read_back) = LogFile::read(path, MAGIC, |payload| log.apply(payload))?;
        log.file = file;
        log.repaired = read_back.repaired;
        log.records = read_back.applied;
        let live = log.deps.iter().filter(|d| d.is_some()).count();
        if log.repaired || log.records > MIN_COMPACTION.max(live * COMPACTION_RATIO) {
            log.recompact()?;
        }
        Ok(log)
    }

    /// Applies one payload; false if it is malformed.
    fn apply(&mut self, payload: &[u8]) -> bool {
        match payload.split_first() {
            // A path recorded twice was written by no version of this runner.
            Some((&PATH, path)) => {
                std::str::from_utf8(path).is_ok_and(|path| self.add_path(path).1)
            }
            Some((&DEPS, rest)) if rest.len() >= 12 && (rest.len() - 12) % 4 == 0 => {
                let u32_at =
                    |i: usize| u32::from_le_bytes(rest[i..i + 4].try_into().unwrap_or_default());
                let out = u32_at(0);
                let mtime = i64::from_le_bytes(rest[4..12].try_into().unwrap_or_default());
                let ids: Vec<u32> = (12..rest.len()).step_by(4).map(u32_at).collect();
                let known = self.paths.len() as u32;
                if out >= known || ids.iter().any(|&id| id >= known) {
                    return false;
                }
                self.deps[out as usize] = Some(Deps { mtime, ids });
                true
            }
            _ => false,
        }
    }

    /// The id of `path`, the next one if it had none; and whether it is new.
    fn add_path(&mut self, path: &str) -> (u32, bool) {
        let (id, new) = self.paths.intern(path);
        if new {
            self.deps.push(None);
        }
        (id as u32, new)
    }

    /// The id of `path`; a new one is also framed as a path record onto
    /// `frames`.
    fn record_path(&mut self, path: &str, frames: &mut Vec<u8>) -> u32 {
        let (id, new) = self.add_path(path);
        if new {
            let mut payload = vec![PATH];
            payload.extend_from_slice(path.as_bytes());
            record::frame(&payload, frames);
        }
        id
    }

    pub fn path(&self, id: u32) -> &str {
        self.paths.get(id as usize)
    }

    /// The recorded dependencies of `output`.
    pub fn get(&self, output: &str) -> Option<&Deps> {
        let id = self.paths.lookup(output)?;
        self.deps[id].as_ref()
    }

    /// Every output with recorded deps, for `-t deps`.
    pub fn outputs(&self) -> impl Iterator<Item = (&str, &Deps)> {
        self.deps
            .iter()
            .enumerate()
            .filter_map(|(id, d)| Some((self.paths.get(id), d.as_ref()?)))
    }

    /// Records the deps of `outputs`, unless they are what the log holds.
    pub fn record(&mut self, outputs: &[&str], mtime: i64, deps: &[String]) -> io::Result<()> {
        let mut frames = Vec::new();
        let ids: Vec<u32> = deps
            .iter()
            .map(|dep| self.record_path(dep, &mut frames))
            .collect();
        let outs: Vec<u32> = outputs
            .iter()
            .map(|output| self.record_path(output, &mut frames))
            .collect();
        for out in outs {
            let new = Deps {
                mtime,
                ids: ids.clone(),
            };
            if self.deps[out as usize].as_ref() == Some(&new) {
                continue;
            }
            frame_deps(out, &new, &mut frames);
            self.deps[out as usize] = Some(new);
            self.records += 1;
        }
        self.file.append(&frames)
    }

    /// Rewrites the log with only live entries (paths renumbered), and
    /// reopens it.
    pub fn recompact(&mut self) -> io::Result<()> {
        let old = std::mem::take(self);
        let DepsLog {
            paths,
            deps,
            file,
            repaired,
            ..
        } = old;
        self.file = file;
        self.repaired = repaired;
        let mut frames = Vec::new();
        for (out, entry) in deps.iter().enumerate() {
            let Some(entry) = entry else { continue };
            // Re-recording into the fresh log, but into memory only.
            let ids: Vec<u32> = entry
                .ids
                .iter()
                .map(|&id| self.record_path(paths.get(id as usize), &mut frames))
                .collect();
            let out_id = self.record_path(paths.get(out), &mut frames);
            let live = Deps {
                mtime: entry.mtime,
                ids,
            };
            frame_deps(out_id, &live, &mut frames);
            self.deps[out_id as usize] = Some(live);
            self.records += 1;
        }
        self.file.rewrite(&frames)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build_log::tests::tempdir;

    fn deps_of(log: &DepsLog, out: &str) -> Option<(i64, Vec<String>)> {
        let d = log.get(out)?;
        Some((
            d.mtime,
            d.ids.iter().map(|&i| log.path(i).to_string()).collect(),
        ))
    }

    #[test]
    fn deps_survive_a_reload() {
        let dir = tempdir("deps-reload");
        let path = dir.join(FILE_NAME);
        let mut log = DepsLog::read(&path).unwrap();
        log.record(&["a.o"], 7, &["a.c".into(), "a.h".into()])
            .unwrap();
        log.record(&["b.o"], 8, &["b.c".into(), "a.h".into()])
            .unwrap();
        log.record(&["a.o"], 9, &["a.c".into()]).unwrap();
        drop(log);
        let log = DepsLog::read(&path).unwrap();
        assert_eq!(deps_of(&log, "a.o"), Some((9, vec!["a.c".into()])));
        assert_eq!(
            deps_of(&log, "b.o"),
            Some((8, vec!["b.c".into(), "a.h".into()]))
        );
        assert!(!log.repaired);
    }

    #[test]
    fn every_truncation_reads_as_a_prefix_of_what_was_written() {
        let dir = tempdir("deps-torn");
        let path = dir.join(FILE_NAME);
        let mut log = DepsLog::read(&path).unwrap();
        log.record(&["a.o"], 1, &["a.c".into(), "x.h".into()])
            .unwrap();
        log.record(&["b.o"], 2, &["b.c".into(), "x.h".into()])
            .unwrap();
        drop(log);
        let data = std::fs::read(&path).unwrap();
        for cut in 0..data.len() {
            let torn = dir.join(format!("torn{cut}"));
            std::fs::write(&torn, &data[..cut]).unwrap();
            let mut log = DepsLog::read(&torn).unwrap();
            let a = deps_of(&log, "a.o");
            let b = deps_of(&log, "b.o");
            assert!(a.is_none() || a == Some((1, vec!["a.c".into(), "x.h".into()])));
            assert!(b.is_none() || a.is_some(), "b without a at {cut}");
            log.record(&["c.o"], 3, &["c.c".into()]).unwrap();
            drop(log);
            let log = DepsLog::read(&torn).unwrap();
            assert_eq!(
                deps_of(&log, "c.o"),
                Some((3, vec!["c.c".into()])),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn a_record_naming_an_unknown_id_ends_the_log() {
        let dir = tempdir("deps-bad-id");
        let path = dir.join(FILE_NAME);
        let mut data = MAGIC.to_vec();
        let mut payload = vec![DEPS];
        payload.extend_from_slice(&5u32.to_le_bytes());
        payload.extend_from_slice(&0i64.to_le_bytes());
        record::frame(&payload, &mut data);
        std::fs::write(&path, data).unwrap();
        let log = DepsLog::read(&path).unwrap();
        assert!(log.repaired);
        assert_eq!(log.outputs().count(), 0);
    }
}
