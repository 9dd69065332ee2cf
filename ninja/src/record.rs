//! The framing both logs share: a magic line, then records of
//! `[payload length: u32 LE][xxh3 of the payload: u64 LE][payload]`.
//!
//! A record is appended with one `write` of the whole frame, so a crash can
//! only leave the last record torn: short, or with a checksum that does not
//! match. Reading stops at the first such record and reports how many bytes
//! were good; the writer truncates the file there before it appends, so a
//! torn tail costs that one record, never the log.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use xxhash_rust::xxh3::xxh3_64;

const HEADER: usize = 12;
/// Larger payloads are refused as corrupt rather than allocated.
const MAX_PAYLOAD: usize = 1 << 24;

/// The payloads of a log's intact records, and the length they cover.
#[derive(Debug, Default)]
pub struct Records {
    pub payloads: Vec<(usize, usize)>,
    /// Bytes of the file that are the magic and intact records.
    pub valid_len: u64,
    /// Whether anything after `valid_len` was dropped.
    pub torn: bool,
}

/// Splits `data` (a whole log) into its intact records. A file with the
/// wrong magic yields none and a `valid_len` of 0: it is started over.
pub fn split(data: &[u8], magic: &[u8]) -> Records {
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

/// Opens a log to append after its `valid_len` intact bytes: truncates a
/// torn tail, and writes the magic into a new (or started-over) file.
pub fn open_append(path: &Path, magic: &[u8], valid_len: u64) -> io::Result<File> {
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

/// Replaces the log at `path` with `magic` and `frames` (already framed),
/// through a temporary file renamed over it, so a crash leaves the old log
/// or the new one.
pub fn rewrite(path: &Path, magic: &[u8], frames: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("recompact");
    {
        let mut file = File::create(&tmp)?;
        file.write_all(magic)?;
        file.write_all(frames)?;
        file.sync_data()?;
    }
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(payloads: &[&[u8]]) -> Vec<u8> {
        let mut data = b"MAGIC\n".to_vec();
        for p in payloads {
            frame(p, &mut data);
        }
        data
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

    #[test]
    fn another_magic_starts_over() {
        let records = split(b"# ninja log v5\n", b"MAGIC\n");
        assert_eq!((records.payloads.len(), records.valid_len), (0, 0));
    }
}
