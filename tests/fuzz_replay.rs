//! Replays the fuzz targets' scenarios on stable Rust, without libFuzzer: the
//! committed corpus and regression inputs under `fuzz/`, then a few thousand
//! inputs from a seeded PRNG, each through the same decoder and oracle as
//! `cargo fuzz run` uses (the files under `tests/fuzz_scenarios/`, which the
//! fuzz crate includes by path too). Every crash the fuzzer ever found stays
//! a test this way.
//!
//! The published package ships `tests/` but not `fuzz/` (the corpus is
//! megabytes of fuzzer output, and the fuzz crate is not published). In a
//! packaged copy, recognised by `fuzz/Cargo.toml` being absent, the replay
//! says on stderr that the committed inputs were not replayed and runs the
//! generated inputs alone; in the repository a missing corpus fails.
//!
//! Inputs that reproduce a known engine bug are listed in [`KNOWN_BUGS`]:
//! they are still run and reported, but do not fail the test. A run that
//! hangs is turned into an abort by the watchdog in
//! `tests/fuzz_scenarios/common.rs`, which names the input, so CI fails
//! instead of hanging.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[allow(dead_code, unreachable_pub)]
#[path = "fuzz_scenarios/common.rs"]
mod common;

#[allow(dead_code, unreachable_pub)]
#[path = "fuzz_scenarios/run_graph/mod.rs"]
mod run_graph;

#[allow(dead_code, unreachable_pub)]
#[path = "fuzz_scenarios/build_graph.rs"]
mod build_graph;

#[allow(dead_code, unreachable_pub)]
#[path = "fuzz_scenarios/steer_graph.rs"]
mod steer_graph;

/// Inputs that reproduce a known, not yet fixed engine bug: (target, file
/// name under `fuzz/regressions/<target>/`, what goes wrong). The replay runs
/// them and prints whether they still fail, but does not fail for them.
/// Remove an entry once the bug is fixed.
const KNOWN_BUGS: &[(&str, &str, &str)] = &[];

/// Generated inputs per target: fewer in debug builds, which are slower.
const GENERATED: usize = if cfg!(debug_assertions) { 600 } else { 3000 };

type Check = fn(&[u8]) -> Result<(), String>;

/// Runs `check` on `data`, turning a panic that escapes it (one in the
/// engine's own code on the calling thread) into a failure, so that the
/// other inputs still run and a known bug that panics can be quarantined.
fn check_catching(check: Check, data: &[u8]) -> Result<(), String> {
    std::panic::catch_unwind(|| check(data)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|message| (*message).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-string payload".to_owned());
        Err(format!("the check panicked: {message}"))
    })
}

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `fuzz/<kind>/<target>/`, sorted by name.
fn inputs(kind: &str, target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = fuzz_dir().join(kind).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<(String, Vec<u8>)> = entries
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.is_file())
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let data = std::fs::read(&path).expect("a readable input file");
            (name, data)
        })
        .collect();
    files.sort();
    files
}

/// Whether this is a packaged copy of the crate, which has no `fuzz/`.
fn is_packaged_copy() -> bool {
    !fuzz_dir().join("Cargo.toml").is_file()
}

fn replay(target: &str, check: Check, seed: u64) {
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut known = 0;
    let corpus = inputs("corpus", target);
    let regressions = inputs("regressions", target);
    if is_packaged_copy() {
        // Straight to the process's stderr: the test harness captures
        // `eprintln!` and shows it only for a failing test, and this must be
        // seen by whoever runs the tests of a packaged copy.
        writeln!(
            std::io::stderr(),
            "NOT REPLAYED: {target}: {} has no fuzz crate (a packaged copy of \
             taskflow-engine); its committed corpus and regression inputs were NOT \
             replayed, only {GENERATED} generated inputs. Run the tests in the \
             repository for the full replay.",
            env!("CARGO_MANIFEST_DIR")
        )
        .expect("write to stderr");
    } else {
        assert!(
            !corpus.is_empty(),
            "no committed corpus under {}",
            fuzz_dir().join("corpus").join(target).display()
        );
    }
    for (kind, files) in [("corpus", &corpus), ("regressions", &regressions)] {
        for (name, data) in files {
            let result = check_catching(check, data);
            let bug = KNOWN_BUGS
                .iter()
                .find(|(bug_target, file, _)| *bug_target == target && file == name);
            match (result, bug) {
                (Ok(()), None) => {}
                (Ok(()), Some((_, _, what))) => println!(
                    "KNOWN BUG did not reproduce this time: fuzz/{kind}/{target}/{name}: {what}"
                ),
                (Err(failure), Some((_, _, what))) => {
                    known += 1;
                    println!(
                        "KNOWN BUG (quarantined) reproduced: fuzz/{kind}/{target}/{name}: {what}\n{failure}"
                    );
                }
                (Err(failure), None) => {
                    failures.push(format!("fuzz/{kind}/{target}/{name}:\n{failure}"))
                }
            }
        }
    }
    let mut generator = common::SplitMix64::new(seed);
    for case in 0..GENERATED {
        let data = generator.bytes(640);
        if let Err(failure) = check_catching(check, &data) {
            failures.push(format!(
                "generated case {case} (seed {seed:#x}), input {data:02x?}:\n{failure}"
            ));
        }
    }
    println!(
        "{target}: replayed {} corpus and {} regression inputs and {GENERATED} generated ones \
         in {:.1?}; {} failed, {known} known bugs",
        corpus.len(),
        regressions.len(),
        started.elapsed(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} {target} inputs failed the oracle:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn run_graph_corpus_and_generated_inputs_pass_the_oracle() {
    replay("run_graph", run_graph::check_bytes, 0x7a5c_f10e_0001);
}

#[test]
fn build_graph_corpus_and_generated_inputs_pass_the_oracle() {
    replay("build_graph", build_graph::check_bytes, 0x7a5c_f10e_0002);
}

#[test]
fn steer_graph_corpus_and_generated_inputs_pass_the_oracle() {
    replay("steer_graph", steer_graph::check_bytes, 0x7a5c_f10e_0003);
}
