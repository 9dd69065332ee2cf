//! Building graphs: handles of other graphs, cycles, duplicate and backward
//! edges, and what `run` refuses before any task starts.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use common::{executor, watchdog};
use taskflow_engine::{Context, Graph, GraphError, Task, TaskId, TaskRef};

/// A task that counts its calls in `calls`.
fn counting(name: &'static str, calls: &Arc<AtomicUsize>) -> Task<'static, ()> {
    let calls = Arc::clone(calls);
    Task::new(name, move |_: &Context<'_>| {
        calls.fetch_add(1, Ordering::SeqCst);
        Ok(())
    })
}

fn cycle_names(error: GraphError) -> Vec<String> {
    match error {
        GraphError::Cycle { mut tasks } => {
            tasks.sort();
            tasks
        }
        other => panic!("expected GraphError::Cycle, got {other:?}"),
    }
}

#[test]
fn len_and_is_empty_count_tasks() {
    let mut graph = Graph::new();
    assert!(graph.is_empty());
    assert_eq!(graph.len(), 0);
    let a = graph.add(Task::new("a", |_: &Context<'_>| Ok(1)));
    assert!(!graph.is_empty());
    assert_eq!(graph.len(), 1);
    graph.add(Task::new("b", |_: &Context<'_>| Ok(())).after(a));
    assert_eq!(graph.len(), 2);
}

#[test]
fn precede_refuses_a_task_of_another_graph_at_once() {
    watchdog(|| {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        let mut other = Graph::new();
        let mine = graph.add(counting("mine", &calls));
        let theirs = other.add(counting("theirs", &calls));

        assert!(matches!(
            graph.precede(theirs, mine),
            Err(GraphError::ForeignTask)
        ));
        assert!(matches!(
            graph.precede(mine, theirs),
            Err(GraphError::ForeignTask)
        ));
        // The refused edges left the graph unchanged: it still runs.
        let report = executor(1).run(&mut graph).unwrap();
        assert!(report.is_success());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn after_with_a_task_of_another_graph_fails_the_run_before_any_task_starts() {
    watchdog(|| {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut other = Graph::new();
        let theirs = other.add(counting("theirs", &calls));

        let mut graph = Graph::new();
        let first = graph.add(counting("first", &calls));
        // `add` accepts the foreign dependency without panicking...
        graph.add(counting("foreign", &calls).after(first).after(theirs));
        graph.add(counting("last", &calls).after(first));
        let executor = executor(2);
        // ...and `run` refuses the graph before running anything.
        let error = executor.run(&mut graph).unwrap_err();
        assert!(
            matches!(error, GraphError::ForeignTask),
            "expected ForeignTask, got {error:?}"
        );
        assert!(!error.to_string().is_empty());
        assert_eq!(calls.load(Ordering::SeqCst), 0, "no task may start");
        // Every later run is refused the same way.
        assert!(matches!(
            executor.run(&mut graph),
            Err(GraphError::ForeignTask)
        ));
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        // The other graph is unaffected.
        assert!(executor.run(&mut other).unwrap().is_success());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn after_all_with_a_task_of_another_graph_is_refused() {
    watchdog(|| {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut other = Graph::new();
        let theirs: TaskRef = other.add(counting("theirs", &calls)).into();
        let mut graph = Graph::new();
        let mine: TaskRef = graph.add(counting("mine", &calls)).into();
        graph.add(counting("both", &calls).after_all([mine, theirs]));
        assert!(matches!(
            executor(1).run(&mut graph),
            Err(GraphError::ForeignTask)
        ));
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn self_edge_is_a_cycle_of_one_task() {
    watchdog(|| {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        let before = graph.add(counting("before", &calls));
        let looped = graph.add(counting("looped", &calls).after(before));
        graph.add(counting("after", &calls).after(looped));
        graph.precede(looped, looped).unwrap();
        let error = executor(2).run(&mut graph).unwrap_err();
        let display = error.to_string();
        assert_eq!(cycle_names(error), ["looped"]);
        assert!(display.contains("looped"), "{display}");
        assert!(!display.contains("before"), "{display}");
        assert_eq!(calls.load(Ordering::SeqCst), 0, "no task may start");
    });
}

#[test]
fn cycle_names_exactly_the_tasks_on_it() {
    watchdog(|| {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        // upstream -> alpha -> beta -> gamma -> alpha, gamma -> downstream -> further;
        // bystander is unrelated.
        let upstream = graph.add(counting("upstream", &calls));
        let a = graph.add(counting("alpha", &calls).after(upstream));
        let b = graph.add(counting("beta", &calls).after(a));
        let c = graph.add(counting("gamma", &calls).after(b));
        let downstream = graph.add(counting("downstream", &calls).after(c));
        graph.add(counting("further", &calls).after(downstream));
        graph.add(counting("bystander", &calls));
        graph.precede(c, a).unwrap();

        let error = executor(2).run(&mut graph).unwrap_err();
        let display = error.to_string();
        assert_eq!(cycle_names(error), ["alpha", "beta", "gamma"]);
        for name in ["alpha", "beta", "gamma"] {
            assert!(display.contains(name), "{display}");
        }
        for name in ["upstream", "downstream", "further", "bystander"] {
            assert!(
                !display.contains(name),
                "{name} is not on the cycle: {display}"
            );
        }
        assert_eq!(calls.load(Ordering::SeqCst), 0, "no task may start");
    });
}

#[test]
fn several_cycles_are_all_named() {
    watchdog(|| {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        let x1 = graph.add(counting("x1", &calls));
        let x2 = graph.add(counting("x2", &calls).after(x1));
        let y1 = graph.add(counting("y1", &calls));
        let y2 = graph.add(counting("y2", &calls).after(y1));
        let y3 = graph.add(counting("y3", &calls).after(y2));
        let z = graph.add(counting("z", &calls));
        // Between the two cycles, on neither.
        let bridge = graph.add(counting("bridge", &calls).after(x2));
        graph.precede(bridge, y1).unwrap();
        graph.precede(x2, x1).unwrap();
        graph.precede(y3, y1).unwrap();
        graph.precede(z, z).unwrap();
        let error = executor(1).run(&mut graph).unwrap_err();
        assert_eq!(cycle_names(error), ["x1", "x2", "y1", "y2", "y3", "z"]);
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn cycle_reachable_only_through_other_tasks_is_found() {
    watchdog(|| {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        // Many acyclic tasks first; the cycle hangs below a long chain and
        // has no source of its own.
        let mut previous = graph.add(counting("chain", &calls));
        for _ in 0..1_000 {
            previous = graph.add(counting("chain", &calls).after(previous));
        }
        let p = graph.add(counting("p", &calls).after(previous));
        let q = graph.add(counting("q", &calls).after(p));
        let r = graph.add(counting("r", &calls).after(q));
        graph.add(counting("tail", &calls).after(r));
        graph.precede(r, q).unwrap();
        let error = executor(2).run(&mut graph).unwrap_err();
        assert_eq!(cycle_names(error), ["q", "r"]);
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn cycle_made_by_precede_after_a_successful_run_is_refused() {
    watchdog(|| {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        let a = graph.add(counting("a", &calls));
        let b = graph.add(counting("b", &calls).after(a));
        let executor = executor(2);
        assert!(executor.run(&mut graph).unwrap().is_success());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        graph.precede(b, a).unwrap();
        let error = executor.run(&mut graph).unwrap_err();
        assert_eq!(cycle_names(error), ["a", "b"]);
        assert_eq!(calls.load(Ordering::SeqCst), 2, "no task may start");
    });
}

#[test]
fn backward_edges_without_a_cycle_are_accepted_and_ordered() {
    watchdog(|| {
        // Tasks added in reverse order of execution, ordered with `precede`
        // only: "last" was added first and must run last.
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut graph = Graph::new();
        let middle_id: Arc<OnceLock<TaskId<u32>>> = Arc::new(OnceLock::new());
        let last = {
            let (log, middle) = (Arc::clone(&log), Arc::clone(&middle_id));
            graph.add(Task::new("last", move |cx: &Context<'_>| {
                log.lock().unwrap().push("last");
                Ok(cx.input(*middle.get().unwrap())? + 1)
            }))
        };
        let first_id: Arc<OnceLock<TaskId<u32>>> = Arc::new(OnceLock::new());
        let middle = {
            let (log, first) = (Arc::clone(&log), Arc::clone(&first_id));
            graph.add(Task::new("middle", move |cx: &Context<'_>| {
                log.lock().unwrap().push("middle");
                Ok(cx.input(*first.get().unwrap())? * 10)
            }))
        };
        middle_id.set(middle).unwrap();
        let first = {
            let log = Arc::clone(&log);
            graph.add(Task::new("first", move |_: &Context<'_>| {
                log.lock().unwrap().push("first");
                Ok(4u32)
            }))
        };
        first_id.set(first).unwrap();
        graph.precede(middle, last).unwrap();
        graph.precede(first, middle).unwrap();

        let report = executor(2).run(&mut graph).unwrap();
        assert!(report.is_success(), "{report:?}");
        assert_eq!(*log.lock().unwrap(), ["first", "middle", "last"]);
        assert_eq!(graph.output(last), Some(&41));
    });
}

#[test]
fn duplicate_edges_are_harmless() {
    watchdog(|| {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        let a = graph.add(Task::new("a", |_: &Context<'_>| Ok(5)));
        let b = {
            let calls = Arc::clone(&calls);
            graph.add(
                Task::new("b", move |cx: &Context<'_>| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Ok(cx.input(a)? + 1)
                })
                .after(a)
                .after(a)
                .after_all([a, a]),
            )
        };
        graph.precede(a, b).unwrap();
        graph.precede(a, b).unwrap();
        let executor = executor(2);
        for _ in 0..3 {
            let report = executor.run(&mut graph).unwrap();
            assert!(report.is_success());
        }
        assert_eq!(calls.load(Ordering::SeqCst), 3, "b runs once per run");
        assert_eq!(graph.output(b), Some(&6));
    });
}

#[test]
fn outputs_are_looked_up_by_the_handle_of_their_own_graph_only() {
    watchdog(|| {
        let mut graph = Graph::new();
        let mut other = Graph::new();
        let mine = graph.add(Task::new("same", |_: &Context<'_>| Ok(1u32)));
        let theirs = other.add(Task::new("same", |_: &Context<'_>| Ok(2u32)));
        assert_eq!(graph.output(mine), None, "no output before the first run");
        let executor = executor(1);
        assert!(executor.run(&mut graph).unwrap().is_success());
        assert!(executor.run(&mut other).unwrap().is_success());
        assert_eq!(graph.output(mine), Some(&1));
        assert_eq!(other.output(theirs), Some(&2));
        // Same index, other graph: never the wrong task's output.
        assert_eq!(graph.output(theirs), None);
        assert_eq!(other.take_output(mine), None);
        assert_eq!(graph.output(mine), Some(&1));
    });
}

#[test]
fn run_error_leaves_no_task_started_even_with_many_sources() {
    watchdog(|| {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        for _ in 0..500 {
            graph.add(counting("source", &calls).tag("elsewhere"));
        }
        let a = graph.add(counting("a", &calls));
        let b = graph.add(counting("b", &calls).after(a));
        graph.precede(b, a).unwrap();
        let result: Result<_, GraphError> = executor(2).run(&mut graph);
        assert!(matches!(result, Err(GraphError::Cycle { .. })));
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    });
}

/// A cleared graph is empty and builds and runs anew: tags, cycles and the
/// handles of its old tasks are forgotten, and every old body and output is
/// dropped.
#[test]
fn a_cleared_graph_forgets_its_tasks_and_runs_what_is_built_next() {
    watchdog(|| {
        let executor = executor(2);
        let drops = Arc::new(());
        let mut graph = Graph::new();
        let held = Arc::clone(&drops);
        let old = graph
            .add(Task::new("old", move |_: &Context<'_>| Ok(Arc::strong_count(&held))).tag("io"));
        let looped = graph.add(Task::new("loop", |_: &Context<'_>| Ok(())));
        graph.precede(looped, looped).unwrap();
        assert!(matches!(
            executor.run(&mut graph),
            Err(GraphError::Cycle { .. })
        ));
        graph.clear();
        assert!(graph.is_empty());
        assert_eq!(Arc::strong_count(&drops), 1, "the old body was dropped");
        assert_eq!(
            format!("{graph:?}"),
            "Graph { tasks: 0, tags: [], edges: 0, .. }"
        );

        let calls = Arc::new(AtomicUsize::new(0));
        let first = graph.add(counting("first", &calls));
        let second = graph.add(counting("second", &calls).after(first));
        assert!(matches!(
            graph.precede(old, second),
            Err(GraphError::ForeignTask)
        ));
        assert_eq!(graph.name(old), None, "an old handle names no task");
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success());
        assert_eq!((report.len(), calls.load(Ordering::SeqCst)), (2, 2));
        assert_eq!(graph.output(old), None);
        assert_eq!(graph.output(second), Some(&()));

        let stale = graph.add(Task::new("stale", |_: &Context<'_>| Ok(())).after(old));
        assert!(matches!(
            executor.run(&mut graph),
            Err(GraphError::ForeignTask)
        ));
        graph.clear();
        graph.add(Task::new("alone", |_: &Context<'_>| Ok(())));
        assert!(
            executor.run(&mut graph).unwrap().is_success(),
            "{stale:?} is gone"
        );
    });
}

/// Outputs are dropped by `clear` too, and a destructor that panics there
/// leaves the graph empty, with every other body and output dropped.
#[test]
fn clear_drops_outputs_and_survives_a_panicking_destructor() {
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("planted panic in a body's destructor");
        }
    }
    watchdog(|| {
        let executor = executor(1);
        let outputs = Arc::new(());
        let mut graph = Graph::new();
        for _ in 0..3 {
            let output = Arc::clone(&outputs);
            graph.add(Task::new("keeps", move |_: &Context<'_>| {
                Ok(Arc::clone(&output))
            }));
        }
        assert!(executor.run(&mut graph).unwrap().is_success());
        assert_eq!(
            Arc::strong_count(&outputs),
            7,
            "three bodies, three outputs"
        );
        graph.clear();
        assert_eq!(Arc::strong_count(&outputs), 1);

        let bodies = Arc::new(());
        let held = Arc::clone(&bodies);
        graph.add(Task::new("first", move |_: &Context<'_>| {
            Ok(Arc::strong_count(&held))
        }));
        let bomb = PanicsOnDrop;
        graph.add(Task::new("bomb", move |_: &Context<'_>| {
            std::hint::black_box(&bomb);
            Ok(())
        }));
        let held = Arc::clone(&bodies);
        graph.add(Task::new("last", move |_: &Context<'_>| {
            Ok(Arc::strong_count(&held))
        }));
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| graph.clear()));
        assert!(
            panicked.is_err(),
            "the destructor's panic reaches the caller"
        );
        assert!(graph.is_empty());
        assert_eq!(
            Arc::strong_count(&bodies),
            1,
            "the other bodies were dropped"
        );
        let again = graph.add(Task::new("again", |_: &Context<'_>| Ok(5)));
        assert!(executor.run(&mut graph).unwrap().is_success());
        assert_eq!(graph.output(again), Some(&5));
    });
}
