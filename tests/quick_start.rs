//! The README's quick start, verbatim, so that it cannot rot. It reads
//! `a.txt` from the working directory, so the test first moves into a fresh
//! directory holding one (this file is its own test binary, so changing the
//! directory affects no other test).

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
    use taskflow_engine::{Context, Executor, Graph, Task};

    let mut graph = Graph::new();
    let read = graph.add(Task::new("read a.txt", |_: &Context<'_>| Ok(std::fs::read("a.txt")?)).tag("io"));
    let size = graph.add(
        Task::new("measure a.txt", move |cx: &Context<'_>| Ok(cx.input(read)?.len()))
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
