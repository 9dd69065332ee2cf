//! Which commands run at once and which starts first: pools are engine
//! limits on one pool of `-j` workers, and the critical path, weighed by
//! the build log's last durations, picks the ready edge to start.
//!
//! Nothing here is timed. What runs at once is counted by the meter of
//! `support/meter.rs`; start orders are read from a file each command
//! appends its name to, where either only one command runs at a time
//! (`-j1`) or the commands that must come later wait for a marker that the
//! one that must come first leaves (and fail after 20 s without it).

mod support;

use std::path::Path;

use support::meter::*;
use support::*;
use taskflow_ninja::build_log::{self, BuildLog, Entry};

/// Writes a build log in `dir` that says each of `outputs` took its
/// duration in ms last time (under a command hash no edge has, so every
/// edge is still dirty).
fn log_durations(dir: &Path, outputs: &[(&str, u32)]) {
    let mut log = BuildLog::read(&dir.join(build_log::FILE_NAME)).unwrap();
    for &(output, ms) in outputs {
        let entry = Entry {
            hash: 0,
            start_ms: 0,
            end_ms: ms,
            mtime: 1,
        };
        log.record(&[output], entry).unwrap();
    }
}

/// The names in `dir`'s `started` file, in the order the commands wrote them.
fn started(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("started"))
        .expect("the commands' start log")
        .lines()
        .map(str::to_string)
        .collect()
}

/// A chain of three edges that took a second each last time, and twenty
/// short edges that must wait until the chain's first edge has started: at
/// `-j2` they would take both workers and time out unless the chain's first
/// edge is among the first two to start. The manifest names the short edges
/// first, so the plan's order alone would start two of them.
#[test]
fn at_j2_the_slow_chain_starts_before_the_short_edges() {
    let dir = tempdir("critical-chain");
    let shorts: Vec<String> = (0..20).map(|i| format!("s{i}")).collect();
    let mut manifest = String::from(
        "rule short
  command = sh wait.sh $out
rule chain
  command = echo $out >> started && touch chain.started && touch $out
",
    );
    for short in &shorts {
        manifest += &format!("build {short}: short\n");
    }
    manifest += "build c1: chain\nbuild c2: chain c1\nbuild c3: chain c2\n";
    manifest += &format!("build all: phony {} c3\ndefault all\n", shorts.join(" "));
    let wait = r#"tries=0
until [ -e chain.started ]; do
  tries=$((tries + 1))
  if [ $tries -gt 2000 ]; then
    echo "$1: the chain's first edge never started" >&2
    exit 1
  fi
  sleep 0.01
done
echo "$1" >> started
touch "$1"
"#;
    write(&dir, &[("build.ninja", &manifest), ("wait.sh", wait)]);
    log_durations(&dir, &[("c1", 1000), ("c2", 1000), ("c3", 1000)]);

    let out = run(&dir, OURS, &["-j2"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let order = started(&dir);
    assert_eq!(order.len(), 23, "{order:?}");
    // Every short edge wrote its name only after c1 wrote its own.
    assert_eq!(order[0], "c1", "{order:?}");
    let at = |name: &str| order.iter().position(|n| n == name).unwrap();
    assert!(at("c1") < at("c2") && at("c2") < at("c3"), "{order:?}");
}

/// On one worker the start order is exact. `a` (100 ms last time) leads to
/// `a2` (1 ms), and `b` took 50 ms: once `a` ends, `b`'s path (50) is
/// longer than `a2`'s (1), so `b` starts before `a2`, although `a2` became
/// ready just then (an engine without the critical path runs a finished
/// task's successor first).
#[test]
fn at_j1_a_ready_edge_on_a_longer_path_starts_before_a_new_successor() {
    let dir = tempdir("critical-successor");
    write(
        &dir,
        &[(
            "build.ninja",
            "rule r
  command = echo $out >> started && touch $out
build a: r
build a2: r a
build b: r
build all: phony a2 b
default all
",
        )],
    );
    log_durations(&dir, &[("a", 100), ("a2", 1), ("b", 50)]);
    let out = run(&dir, OURS, &["-j1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(started(&dir), ["a", "b", "a2"]);
}

/// Edges without a build log entry weigh 1 each: the longest chain by
/// count starts first (ninja 1.12's rule), here at `-j1` again.
#[test]
fn without_a_build_log_the_longest_chain_by_count_starts_first() {
    let dir = tempdir("critical-unlogged");
    write(
        &dir,
        &[(
            "build.ninja",
            "rule r
  command = echo $out >> started && touch $out
build single: r
build c1: r
build c2: r c1
build all: phony single c2
default all
",
        )],
    );
    let out = run(&dir, OURS, &["-j1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(started(&dir)[0], "c1");
}

/// A metered manifest: `count` edges in each of `pools` (name, depth; a
/// depth of 0 is the default pool), each command waiting for `want` at once.
fn pooled_manifest(dir: &Path, pools: &[(&str, usize)], count: usize, want: usize) -> String {
    let mut manifest = String::new();
    for &(pool, depth) in pools {
        if depth > 0 && pool != "console" {
            manifest += &format!("pool {pool}\n  depth = {depth}\n");
        }
        manifest += &format!("rule in_{pool}\n  command = {} $out\n", meter(dir, want));
        if depth > 0 {
            manifest += &format!("  pool = {pool}\n");
        }
        for i in 0..count {
            manifest += &format!("build {pool}{i}: in_{pool}\n");
        }
    }
    manifest
}

/// Runs `manifest` (metered in `dir`) with `-j jobs`; what ran at most at once.
fn most_at_once_with(dir: &Path, manifest: &str, jobs: &str, commands: usize) -> usize {
    write(dir, &[("build.ninja", manifest)]);
    let out = run(dir, OURS, &["-j", jobs]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    most_at_once(dir, commands)
}

#[test]
fn a_pool_runs_at_most_its_depth_under_a_larger_j() {
    let dir = metered_dir("pool-depth");
    let manifest = pooled_manifest(&dir, &[("two", 2)], 6, 2);
    assert_eq!(most_at_once_with(&dir, &manifest, "8", 6), 2);
}

#[test]
fn the_console_pool_runs_one_command_at_a_time() {
    let dir = metered_dir("pool-console");
    let manifest = pooled_manifest(&dir, &[("console", 1)], 4, 1);
    assert_eq!(most_at_once_with(&dir, &manifest, "4", 4), 1);
}

/// Two pools of depth 2 and the default pool, at `-j3`: 3 at once in all
/// (the pools' depths add up to more), and 3 do run at once.
#[test]
fn j_bounds_the_commands_of_all_pools_together() {
    let dir = metered_dir("pool-across");
    let manifest = pooled_manifest(&dir, &[("p", 2), ("q", 2), ("plain", 0)], 4, 3);
    assert_eq!(most_at_once_with(&dir, &manifest, "3", 12), 3);
}
