//! Scoped graphs: task bodies borrow the caller's data, as
//! `std::thread::scope` lets threads borrow, because a run returns only
//! after every task has finished. The compile errors that keep this sound
//! are doctests in `src/compile_fail.rs`.

mod common;

use std::sync::Mutex;

use common::{executor, watchdog};
use taskflow_engine::{Context, Error, Graph, Task, TaskBody};

#[test]
fn bodies_borrow_data_that_outlives_the_graph() {
    watchdog(|| {
        let dir = std::env::temp_dir().join(format!("taskflow-scoped-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let paths: Vec<std::path::PathBuf> = (0..3).map(|i| dir.join(format!("{i}.txt"))).collect();
        for (index, path) in paths.iter().enumerate() {
            std::fs::write(path, "x".repeat(index + 1)).unwrap();
        }
        let log = Mutex::new(Vec::new());
        {
            // The issue's own example: a closure that borrows `paths`.
            let mut graph = Graph::new();
            let first = graph.add(Task::new("read", |_| Ok(std::fs::read(&paths[0])?)));
            assert!(executor(1).run(&mut graph).unwrap().is_success());
            assert_eq!(graph.output(first).map(Vec::len), Some(1));
        }
        {
            let mut graph = Graph::new();
            let reads: Vec<_> = paths
                .iter()
                .map(|path| {
                    graph.add(Task::new("read", move |_| Ok(std::fs::read(path)?)).tag("io"))
                })
                .collect();
            let log = &log;
            let inputs = reads.clone();
            let total = graph.add(
                Task::new("total", move |cx| {
                    let mut total = 0;
                    for &read in &inputs {
                        total += cx.input(read)?.len();
                    }
                    log.lock().unwrap().push(total);
                    Ok(total)
                })
                .after_all(reads),
            );
            let report = executor(2).run(&mut graph).unwrap();
            assert!(report.is_success(), "{report}");
            assert_eq!(graph.output(total), Some(&6));
        }
        // The graph is gone; the borrowed data is still the caller's.
        assert_eq!(log.into_inner().unwrap(), [6]);
        std::fs::remove_dir_all(&dir).unwrap();
    });
}

/// A `TaskBody` type with a borrowed field.
struct Sum<'a> {
    numbers: &'a [u64],
}

impl TaskBody for Sum<'_> {
    type Output = u64;

    fn run(&mut self, _: &Context<'_>) -> Result<u64, Error> {
        Ok(self.numbers.iter().sum())
    }
}

#[test]
fn task_body_types_borrow_too_and_reruns_see_the_borrowed_data() {
    watchdog(|| {
        let numbers: Vec<u64> = (1..=100).collect();
        let mut counter = 0u32;
        let mut graph = Graph::new();
        let sum = graph.add(Task::from_body("sum", Sum { numbers: &numbers }));
        let count = graph.add(Task::new("count", |_| {
            // A mutable borrow of the caller's counter: the body is FnMut
            // and runs once per run.
            counter += 1;
            Ok(())
        }));
        let executor = executor(1);
        for _ in 0..3 {
            assert!(executor.run(&mut graph).unwrap().is_success());
        }
        assert_eq!(graph.output(sum), Some(&5050));
        assert!(graph.output(count).is_some());
        drop(graph);
        assert_eq!(counter, 3);
    });
}
