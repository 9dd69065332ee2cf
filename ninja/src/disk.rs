//! The file system as the build sees it: mtimes in nanoseconds, 0 for a
//! missing file (as ninja's `TimeStamp`), and the few writes a build makes.

use std::io;
use std::os::unix::fs::MetadataExt;

/// The mtime of `path` in ns since the epoch, 0 if it does not exist. A
/// path through something that is not a directory is missing too, as ninja
/// has it (ENOTDIR).
pub fn mtime(path: &str) -> io::Result<i64> {
    match std::fs::metadata(path) {
        Ok(meta) => {
            let ns = meta.mtime() * 1_000_000_000 + meta.mtime_nsec();
            // A file dated at the epoch exists: keep it apart from "missing".
            Ok(ns.max(1))
        }
        Err(e)
            if e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENOTDIR) =>
        {
            Ok(0)
        }
        Err(e) => Err(e),
    }
}

/// Creates the parent directories of `path`, as ninja does for outputs.
pub fn make_parent_dirs(path: &str) -> io::Result<()> {
    match std::path::Path::new(path).parent() {
        Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent),
        _ => Ok(()),
    }
}

/// Removes `path`; a missing file is not an error. Returns whether it was
/// there.
pub fn remove(path: &str) -> io::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}
