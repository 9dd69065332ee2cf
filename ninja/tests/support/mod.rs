//! Shared by the integration tests: fresh directories, running a binary
//! with a watchdog, and finding the real ninja.

#![allow(dead_code)]

pub mod meter;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const OURS: &str = env!("CARGO_BIN_EXE_taskflow-ninja");

/// A fresh, empty directory for one test.
pub fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tfninja-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The real ninja, or None after a loud SKIPPED line.
pub fn ninja(test: &str) -> Option<&'static str> {
    let found = Command::new("ninja")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!("SKIPPED: {test}: ninja is not installed (apt-get install ninja-build)");
        return None;
    }
    Some("ninja")
}

/// `bin args` in `dir`, with none of the variables that change what the
/// tools print or which jobserver they use.
pub fn command(dir: &Path, bin: &str, args: &[&str]) -> Command {
    let mut command = Command::new(bin);
    command
        .args(args)
        .current_dir(dir)
        .env_remove("NINJA_STATUS")
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs `command`, failing the test after `limit` (a watchdog).
pub fn output_within(mut command: Command, limit: Duration) -> Output {
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {command:?}: {e}"));
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("watchdog: {command:?} ran over {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs `bin args` in `dir`, failing the test after `limit` (a watchdog).
pub fn run_in(dir: &Path, bin: &str, args: &[&str], limit: Duration) -> Output {
    output_within(command(dir, bin, args), limit)
}

pub fn run(dir: &Path, bin: &str, args: &[&str]) -> Output {
    run_in(dir, bin, args, Duration::from_secs(120))
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The commands a `-v` build printed, without their `[n/m] ` prefixes, sorted.
pub fn commands_run(stdout: &[u8]) -> Vec<String> {
    let mut lines: Vec<String> = text(stdout)
        .lines()
        .filter(|l| l.starts_with('['))
        .filter_map(|l| l.split_once("] ").map(|(_, c)| c.to_string()))
        .collect();
    lines.sort();
    lines
}

pub fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, content) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, content).unwrap();
    }
}
