//! A meter of what runs at once: every metered command goes through
//! `meter.sh`, which under `flock` counts itself in and out and logs each
//! count, so the log's largest count is the most commands that ran at
//! once. A metered command then waits until the meter has seen the
//! expected number at once (a marker directory), at most 20 s: so a test
//! passes only if the bound is reached and never exceeded, and no timing
//! decides that it passes.

use std::path::{Path, PathBuf};

use super::{tempdir, write};

/// `sh meter.sh DIR WANT [OUT]`: counts itself in DIR while it runs, waits
/// until WANT have run at once, touches OUT.
pub const METER: &str = r#"d=$1
exec 9>>"$d/lock"
flock 9
n=$(( $(cat "$d/running") + 1 ))
echo $n > "$d/running"
echo "start $n" >> "$d/log"
mkdir -p "$d/reached-$n"
flock -u 9
tries=0
until [ -d "$d/reached-$2" ]; do
  tries=$((tries + 1))
  if [ $tries -gt 2000 ]; then
    echo "meter: $2 commands never ran at once" >&2
    exit 1
  fi
  sleep 0.01
done
flock 9
n=$(( $(cat "$d/running") - 1 ))
echo $n > "$d/running"
echo "end $n" >> "$d/log"
flock -u 9
if [ -n "$3" ]; then touch "$3"; fi
"#;

/// A fresh directory with the meter in it, at zero.
pub fn metered_dir(name: &str) -> PathBuf {
    let dir = tempdir(name);
    write(&dir, &[("meter.sh", METER), ("running", "0\n")]);
    dir
}

/// The shell words that run the meter of `dir`, waiting for `want` at once.
pub fn meter(dir: &Path, want: usize) -> String {
    format!("sh {0}/meter.sh {0} {want}", dir.display())
}

/// The most commands the meter of `dir` saw at once, after checking that
/// `commands` went through it, in and out.
pub fn most_at_once(dir: &Path, commands: usize) -> usize {
    let log = std::fs::read_to_string(dir.join("log")).expect("the meter's log");
    let counts = |what: &str| -> Vec<usize> {
        log.lines()
            .filter_map(|line| line.strip_prefix(what))
            .map(|n| n.trim().parse().unwrap())
            .collect()
    };
    let (starts, ends) = (counts("start "), counts("end "));
    assert_eq!(
        (starts.len(), ends.len()),
        (commands, commands),
        "every command counted in and out:\n{log}"
    );
    assert_eq!(ends.last(), Some(&0), "{log}");
    starts.into_iter().max().unwrap()
}

/// A manifest of `count` metered commands, each waiting for `want` at once.
pub fn metered_manifest(dir: &Path, count: usize, want: usize) -> String {
    let mut manifest = format!("rule meter\n  command = {} $out\n", meter(dir, want));
    for i in 0..count {
        manifest += &format!("build m{i}: meter\n");
    }
    manifest
}
