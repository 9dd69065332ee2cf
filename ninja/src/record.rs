//! The framing both logs share: a magic line, then records of
//! `[payload length: u32 LE][xxh3 of the payload: u64 LE][payload]`, and
//! the file such a log lives in ([`LogFile`]): reading it back record by
//! record, appending, rewriting.
//!
//! A record is appended with one `write` of the whole frame, so a crash can
//! only leave the last record torn: short, or with a checksum that does not
//! match. Reading stops at the first such record (or at the first one its
//! log cannot use) and remembers how many bytes were good; the first append
//! truncates the file there, so a torn tail costs that one record, never
//! the log.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::xxh3_64;

const HEADER: usize = 12;
/// Larger payloads are refused as corrupt rather than allocated.
const MAX_PAYLOAD: usize = 1 << 24;

/// The payloads of a log's intact records, and the length they cover.
#[derive(Debug, Default)]
struct Records {
    payloads: Vec<(usize, usize)>,
    /// Bytes of the file that are the magic and intact records.
    valid_len: u64,
    /// Whether anything after `valid_len` was dropped.
    torn: bool,
}

/// Splits `data` (a whole log) into its intact records. A file with the
/// wrong magic yields none and a `valid_len` of 0: it is started over.
fn split(data: &[u8], magic: &[u8]) -> Records {
    let mut records = Records::default();
    if !data.starts_with(magic) {
        records.torn = !data.is_empty();
        return records;
    }
    let mut pos = magic.len();
    while pos < data.len() {
        let Some(header) = data.get(pos..pos + HEADER) else {
            break;
        };
        let len = u32::from_le_bytes(header[..4].try_into().unwrap_or_default()) as usize;
        let sum = u64::from_le_bytes(header[4..].try_into().unwrap_or_default());
        let start = pos + HEADER;
        if len > MAX_PAYLOAD {
            break;
        }
        let Some(payload) = data.get(start..start + len) else {
            break;
        };
        if xxh3_64(payload) != sum {
            break;
        }
        records.payloads.push((start, start + len));
        pos = start + len;
    }
    records.valid_len = pos.min(data.len()) as u64;
    records.torn = pos < data.len();
    records
}

/// Appends one framed record to `out`.
pub fn frame(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&xxh3_64(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// A log's file: where it is, its magic, and, once something is appended,
/// the open handle.
#[derive(Debug, Default)]
pub struct LogFile {
    path: PathBuf,
    magic: &'static [u8],
    /// Bytes of the file that are the magic and intact records: where the
    /// first append truncates it and writes.
    valid_len: u64,
    /// Opened at the first append (a build that runs nothing writes no log).
    file: Option<File>,
}

/// What reading a log back found.
#[derive(Debug)]
pub struct ReadBack {
    /// Records applied.
    pub applied: usize,
    /// Whether anything was dropped: a torn tail, a record the log refused,
    /// another magic.
    pub repaired: bool,
}

impl LogFile {
    /// Reads the log at `path` (none is an empty log) and hands the payload
    /// of each intact record to `apply`, in order, until one that `apply`
    /// refuses (false): what follows a record that frames right but means
    /// nothing is not trusted either.
    pub fn read(
        path: &Path,
        magic: &'static [u8],
        mut apply: impl FnMut(&[u8]) -> bool,
    ) -> io::Result<(LogFile, ReadBack)> {
        let data = match fs::read(path) {
            Ok(data) => data,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let records = split(&data, magic);
        let mut read_back = ReadBack {
            applied: 0,
            repaired: records.torn,
        };
        let mut valid_len = records.valid_len;
        for &(start, end) in &records.payloads {
            if !apply(&data[start..end]) {
                read_back.repaired = true;
                valid_len = (start - HEADER) as u64;
                break;
            }
            read_back.applied += 1;
        }
        let file = LogFile {
            path: path.to_path_buf(),
            magic,
            valid_len,
            file: None,
        };
        Ok((file, read_back))
    }

    /// Appends `frames` (framed records) in one write.
    pub fn append(&mut self, frames: &[u8]) -> io::Result<()> {
        if frames.is_empty() {
            return Ok(());
        }
        let file = match &mut self.file {
            Some(file) => file,
            None => self
                .file
                .insert(open_append(&self.path, self.magic, self.valid_len)?),
        };
        file.write_all(frames)
    }

    /// Replaces the log with its magic and `frames`, through a temporary
    /// file renamed over it, so a crash leaves the old log or the new one.
    pub fn rewrite(&mut self, frames: &[u8]) -> io::Result<()> {
        self.file = None;
        let tmp = self.path.with_extension("recompact");
        {
            let mut file = File::create(&tmp)?;
            file.write_all(self.magic)?;
            file.write_all(frames)?;
            file.sync_data()?;
        }
        fs::rename(&tmp, &self.path)?;
        self.valid_len = (self.magic.len() + frames.len()) as u64;
        Ok(())
    }
}

/// Opens a log to append after its `valid_len` intact bytes: truncates a
/// torn tail, and writes the magic into a new (or started-over) file.
fn open_append(path: &Path, magic: &[u8], valid_len: u64) -> io::Result<File> {
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)?;
    if valid_len < magic.len() as u64 {
        file.set_len(0)?;
        file.write_all(magic)?;
    } else if file.metadata()?.len() != valid_len {
        file.set_len(valid_len)?;
    }
    use std::io::Seek;
    file.seek(io::SeekFrom::End(0))?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(payloads: &[&[u8]]) -> Vec<u8> {
        let mut data = Vec::new();
        for p in payloads {
            frame(p, &mut data);
        }
        data
    }

    fn log(payloads: &[&[u8]]) -> Vec<u8> {
        [&b"MAGIC\n"[..], &frames(payloads)].concat()
    }

    #[test]
    fn intact_records_round_trip() {
        let data = log(&[b"one", b"", b"three"]);
        let records = split(&data, b"MAGIC\n");
        let got: Vec<&[u8]> = records.payloads.iter().map(|&(a, b)| &data[a..b]).collect();
        assert_eq!(got, [&b"one"[..], b"", b"three"]);
        assert_eq!(records.valid_len, data.len() as u64);
        assert!(!records.torn);
    }

    #[test]
    fn every_truncation_keeps_the_whole_records_before_it() {
        let data = log(&[b"first record", b"second record"]);
        let first_end = 6 + HEADER + 12;
        for cut in 0..data.len() {
            let records = split(&data[..cut], b"MAGIC\n");
            let whole = usize::from(cut >= first_end);
            assert_eq!(records.payloads.len(), whole, "cut at {cut}");
        }
    }

    #[test]
    fn a_flipped_byte_ends_the_log_there() {
        let mut data = log(&[b"first", b"second", b"third"]);
        let second = 6 + HEADER + 5 + HEADER;
        data[second] ^= 1;
        let records = split(&data, b"MAGIC\n");
        assert_eq!(records.payloads.len(), 1);
        assert!(records.torn);
    }

    #[test]
    fn a_huge_length_is_corruption_not_an_allocation() {
        let mut data = b"MAGIC\n".to_vec();
        data.extend_from_slice(&u32::MAX.to_le_bytes());
        data.extend_from_slice(&[0; 8]);
        assert!(split(&data, b"MAGIC\n").payloads.is_empty());
    }

    /// The payloads of the log at `path`, every record accepted.
    fn read_all(path: &Path) -> (Vec<Vec<u8>>, bool) {
        let mut payloads = Vec::new();
        let (_, read_back) = LogFile::read(path, b"MAGIC\n", |p| {
            payloads.push(p.to_vec());
            true
        })
        .unwrap();
        (payloads, read_back.repaired)
    }

    #[test]
    fn a_refused_record_ends_the_log_and_the_next_append_replaces_it() {
        let dir = crate::build_log::tests::tempdir("record-refused");
        let path = dir.join("log");
        std::fs::write(&path, log(&[b"one", b"bad", b"three"])).unwrap();
        let (mut file, read_back) = LogFile::read(&path, b"MAGIC\n", |p| p != b"bad").unwrap();
        assert_eq!((read_back.applied, read_back.repaired), (1, true));
        file.append(&frames(&[b"four"])).unwrap();
        assert_eq!(
            read_all(&path),
            (vec![b"one".to_vec(), b"four".to_vec()], false)
        );
    }

    #[test]
    fn a_missing_log_is_created_at_the_first_append_only() {
        let dir = crate::build_log::tests::tempdir("record-missing");
        let path = dir.join("log");
        let (mut file, read_back) = LogFile::read(&path, b"MAGIC\n", |_| true).unwrap();
        assert_eq!((read_back.applied, read_back.repaired), (0, false));
        file.append(&[]).unwrap();
        assert!(!path.exists(), "nothing appended, nothing written");
        let one = frames(&[b"one"]);
        file.append(&one).unwrap();
        file.rewrite(&one).unwrap();
        file.append(&one).unwrap();
        assert_eq!(
            read_all(&path),
            (vec![b"one".to_vec(), b"one".to_vec()], false)
        );
    }

    #[test]
    fn another_magic_starts_over() {
        let records = split(b"# ninja log v5\n", b"MAGIC\n");
        assert_eq!((records.payloads.len(), records.valid_len), (0, 0));
    }
}
