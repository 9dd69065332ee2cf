//! The README's quick start under a watchdog. The README's own doctest
//! (`readme_doctests` in `src/lib.rs`) compiles and runs the quick start as
//! written, but a doctest that hangs hangs `cargo test` with no word of
//! what; here the same code fails after 20 s, naming the test. That it is
//! the same code is checked too: the lines between the markers below must be
//! the README block's visible lines.
//!
//! The quick start reads `a.txt` from the working directory, so the test
//! first moves into a fresh directory holding one (this file is its own test
//! binary, so changing the directory affects no other test).

mod common;

#[test]
fn readme_quick_start_runs_as_written() {
    common::watchdog(|| quick_start().map_err(|error| error.to_string()))
        .expect("the quick start returned an error");
}

#[rustfmt::skip] // The quick start stays byte for byte as the README shows it.
fn quick_start() -> Result<(), Box<dyn std::error::Error>> {
    let directory = std::env::temp_dir().join(format!("taskflow-quick-start-{}", std::process::id()));
    std::fs::create_dir_all(&directory)?;
    std::fs::write(directory.join("a.txt"), b"twelve bytes")?;
    std::env::set_current_dir(&directory)?;

    // From README.md, "Quick start":
    use taskflow_engine::{Executor, Graph, Task};

    let mut graph = Graph::new();
    let read = graph.add(Task::new("read a.txt", |_| Ok(std::fs::read("a.txt")?)).tag("io"));
    let size = graph.add(
        Task::new("measure a.txt", move |cx| Ok(cx.input(read)?.len()))
            .tag("cpu")
            .after(read),
    );
    let executor = Executor::builder().workers_per_tag(2).pin_workers(true).build()?;
    let report = executor.run(&mut graph)?;      // Err only for a graph that cannot run (cycle, foreign task)
    assert!(report.is_success());
    let bytes: usize = graph.take_output(size).unwrap();
    // End of the quick start.

    assert_eq!(bytes, 12);
    std::fs::remove_dir_all(&directory)?;
    Ok(())
}

/// The code above, between its markers and without its indentation, is the
/// README's quick start without the lines hidden from readers (`# `).
#[test]
fn the_quick_start_above_is_the_readmes() {
    let readme = include_str!("../README.md");
    let block = readme
        .split_once("## Quick start\n\n```rust\n")
        .and_then(|(_, rest)| rest.split_once("\n```\n"))
        .expect("README.md has a Quick start section with a rust block")
        .0;
    let shown: Vec<&str> = block
        .lines()
        .filter(|line| !line.starts_with("# "))
        .collect();
    let source = include_str!("quick_start.rs");
    let copy = source
        .split_once("// From README.md, \"Quick start\":\n")
        .and_then(|(_, rest)| rest.split_once("\n    // End of the quick start."))
        .expect("the markers around the copy")
        .0;
    let copy: Vec<&str> = copy
        .lines()
        .map(|line| line.strip_prefix("    ").unwrap_or(line))
        .collect();
    assert_eq!(
        copy, shown,
        "tests/quick_start.rs no longer matches README.md"
    );
}
