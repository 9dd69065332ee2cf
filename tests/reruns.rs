//! Running a graph again: every run calls the task bodies anew and replaces
//! their outputs; a task that does not succeed leaves no output; graphs can
//! grow between runs, move between threads and change executors.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use common::{executor, watchdog};
use taskflow_engine::{
    CancelToken, Context, Error, FailurePolicy, Graph, Outcome, RunOptions, Task, TaskId,
};

fn keep_going() -> RunOptions {
    RunOptions::new().policy(FailurePolicy::KeepGoing)
}

#[test]
fn every_run_calls_the_bodies_again_and_replaces_outputs() {
    watchdog(|| {
        let mut graph = Graph::new();
        let mut calls = 0u64;
        let counter = graph.add(Task::new("counter", move |_: &Context<'_>| {
            calls += 1;
            Ok(calls)
        }));
        let scaled = graph.add(
            Task::new(
                "scaled",
                move |cx: &Context<'_>| Ok(cx.input(counter)? * 10),
            )
            .after(counter)
            .tag("other"),
        );
        let executor = executor(2);
        for run in 1..=5u64 {
            let report = executor.run(&mut graph).unwrap();
            assert!(report.is_success());
            assert_eq!(graph.output(counter), Some(&run));
            assert_eq!(graph.output(scaled), Some(&(run * 10)));
        }
    });
}

#[test]
fn a_task_that_does_not_succeed_later_leaves_no_output() {
    watchdog(|| {
        let mut graph = Graph::new();
        // Succeeds on odd calls, errs on even ones.
        let mut calls = 0u32;
        let flaky = graph.add(Task::new(
            "flaky",
            move |_: &Context<'_>| -> Result<u32, Error> {
                calls += 1;
                if calls % 2 == 0 {
                    Err(format!("call {calls} fails").into())
                } else {
                    Ok(calls)
                }
            },
        ));
        let mut panicky_calls = 0u32;
        let panicky = graph.add(Task::new("panicky", move |_: &Context<'_>| {
            panicky_calls += 1;
            if panicky_calls == 2 {
                panic!("second call panics");
            }
            Ok(panicky_calls)
        }));
        let dependent = graph.add(
            Task::new("dependent", move |cx: &Context<'_>| {
                Ok(cx.input(flaky)? + 100)
            })
            .after(flaky),
        );
        let mut steady_calls = 0u32;
        let steady = graph.add(Task::new("steady", move |_: &Context<'_>| {
            steady_calls += 1;
            Ok(steady_calls)
        }));
        let executor = executor(2);

        let report = executor.run_with(&mut graph, keep_going()).unwrap();
        assert!(report.is_success());
        assert_eq!(graph.output(flaky), Some(&1));
        assert_eq!(graph.output(panicky), Some(&1));
        assert_eq!(graph.output(dependent), Some(&101));
        assert_eq!(graph.output(steady), Some(&1));

        let report = executor.run_with(&mut graph, keep_going()).unwrap();
        assert!(matches!(report.outcome(flaky), Outcome::Failed(_)));
        assert!(matches!(report.outcome(panicky), Outcome::Failed(_)));
        assert!(matches!(report.outcome(dependent), Outcome::Skipped));
        assert_eq!(
            graph.output(flaky),
            None,
            "a failed task keeps no old output"
        );
        assert_eq!(
            graph.output(panicky),
            None,
            "a panicked task keeps no old output"
        );
        assert_eq!(
            graph.output(dependent),
            None,
            "a skipped task keeps no old output"
        );
        assert_eq!(graph.output(steady), Some(&2));

        let report = executor.run_with(&mut graph, keep_going()).unwrap();
        assert!(report.is_success(), "{report}");
        assert_eq!(graph.output(flaky), Some(&3));
        assert_eq!(graph.output(panicky), Some(&3));
        assert_eq!(graph.output(dependent), Some(&103));
        assert_eq!(graph.output(steady), Some(&3));

        // A cancelled run leaves no outputs either.
        let token = CancelToken::new();
        token.cancel();
        let report = executor
            .run_with(&mut graph, RunOptions::new().cancel_token(token))
            .unwrap();
        assert_eq!(report.cancelled(), 4);
        for id in [flaky, panicky, dependent, steady] {
            assert_eq!(graph.output(id), None);
        }
    });
}

#[test]
fn a_failed_run_does_not_poison_the_next_one() {
    watchdog(|| {
        let mut graph = Graph::new();
        let fail_next = Arc::new(AtomicUsize::new(1));
        let root = {
            let fail_next = Arc::clone(&fail_next);
            graph.add(Task::new(
                "root",
                move |_: &Context<'_>| -> Result<u32, Error> {
                    if fail_next.swap(0, Ordering::SeqCst) == 1 {
                        Err("first run fails".into())
                    } else {
                        Ok(1)
                    }
                },
            ))
        };
        let mut ids: Vec<TaskId<u32>> = vec![root];
        for index in 1..50usize {
            let before = ids[index - 1];
            let other = ids[index / 2];
            ids.push(
                graph.add(
                    Task::new("node", move |cx: &Context<'_>| {
                        Ok(cx.input(before)?
                            + if before == other {
                                0
                            } else {
                                *cx.input(other)?
                            })
                    })
                    .after(before)
                    .after(other)
                    .tag(if index % 3 == 0 { "x" } else { "y" }),
                ),
            );
        }
        let independent = graph.add(Task::new("independent", |_: &Context<'_>| Ok(0u32)));
        let executor = executor(2);
        let report = executor.run(&mut graph).unwrap();
        assert!(!report.is_success());
        assert_eq!(report.failed(), 1);
        assert_eq!(report.skipped(), 49);
        assert_eq!(
            report.succeeded() + report.cancelled(),
            1,
            "the independent task either ran before the failure or was cancelled: {report:?}"
        );
        // Every task runs again, as if the failed run had never happened.
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report:?}");
        assert_eq!(report.succeeded(), 51);
        assert!(graph.output(ids[49]).is_some());
        assert_eq!(graph.output(independent), Some(&0));
    });
}

#[test]
fn taken_outputs_come_back_on_the_next_run() {
    watchdog(|| {
        let mut graph = Graph::new();
        let text = graph.add(Task::new("text", |_: &Context<'_>| {
            Ok(String::from("hello"))
        }));
        let len = graph
            .add(Task::new("len", move |cx: &Context<'_>| Ok(cx.input(text)?.len())).after(text));
        let executor = executor(1);
        assert!(executor.run(&mut graph).unwrap().is_success());
        assert_eq!(graph.take_output(text).as_deref(), Some("hello"));
        assert_eq!(graph.take_output(len), Some(5));
        assert_eq!(graph.output(text), None);
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report:?}");
        assert_eq!(graph.output(text).map(String::as_str), Some("hello"));
        assert_eq!(graph.output(len), Some(&5));
    });
}

#[test]
fn graphs_can_grow_between_runs() {
    watchdog(|| {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = |name: &'static str, value: u64| {
            let calls = Arc::clone(&calls);
            Task::new(name, move |_: &Context<'_>| {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok(value)
            })
        };
        let mut graph = Graph::new();
        let a = graph.add(counted("a", 1));
        let b = graph.add(counted("b", 2).after(a));
        let executor = executor(2);
        assert!(executor.run(&mut graph).unwrap().is_success());
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        // A new task after an old one, and an old one after a new one.
        let c = graph.add(
            Task::new("c", move |cx: &Context<'_>| Ok(cx.input(a)? + cx.input(b)?))
                .after(a)
                .after(b)
                .tag("new"),
        );
        let d = graph.add(counted("d", 4));
        graph.precede(d, a).unwrap();
        let e = graph.add(Task::new("e", move |cx: &Context<'_>| Ok(cx.input(c)? * 100)).after(c));
        assert_eq!(graph.len(), 5);
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report:?}");
        assert_eq!(report.succeeded(), 5);
        assert_eq!(calls.load(Ordering::SeqCst), 5);
        assert_eq!(graph.output(c), Some(&3));
        assert_eq!(graph.output(e), Some(&300));
        assert_eq!(graph.output(d), Some(&4));

        // Adding an edge between existing tasks also takes effect.
        let f = graph.add(Task::new(
            "f",
            move |cx: &Context<'_>| Ok(*cx.input(e)? + 1),
        ));
        graph.precede(e, f).unwrap();
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report:?}");
        assert_eq!(graph.output(f), Some(&301));
    });
}

#[test]
fn a_graph_moves_between_threads_and_executors() {
    watchdog(|| {
        let mut graph = Graph::new();
        let mut calls = 0u32;
        let counter = graph.add(Task::new("counter", move |cx: &Context<'_>| {
            calls += 1;
            Ok((calls, cx.tag().clone()))
        }));
        let first = executor(1);
        assert!(first.run(&mut graph).unwrap().is_success());
        assert_eq!(graph.output(counter).unwrap().0, 1);
        let graph = thread::spawn(move || {
            let second = executor(3);
            let report = second.run(&mut graph).unwrap();
            assert!(report.is_success());
            graph
        })
        .join()
        .unwrap();
        assert_eq!(graph.output(counter).unwrap().0, 2);
        drop(first);
    });
}

#[test]
fn hundreds_of_reruns_stay_correct() {
    watchdog(|| {
        let mut graph = Graph::new();
        let mut seed = 0u64;
        let source = graph.add(Task::new("source", move |_: &Context<'_>| {
            seed += 1;
            Ok(seed)
        }));
        let branches: Vec<TaskId<u64>> = (0..16u64)
            .map(|k| {
                graph.add(
                    Task::new("branch", move |cx: &Context<'_>| Ok(cx.input(source)? + k))
                        .after(source)
                        .tag(if k % 2 == 0 { "even" } else { "odd" }),
                )
            })
            .collect();
        let inputs = branches.clone();
        let total = graph.add(
            Task::new("total", move |cx: &Context<'_>| {
                inputs
                    .iter()
                    .map(|&id| cx.input(id).copied())
                    .sum::<Result<u64, Error>>()
            })
            .after_all(branches),
        );
        let executor = executor(2);
        for run in 1..=300u64 {
            let report = executor.run(&mut graph).unwrap();
            assert!(report.is_success(), "run {run}: {report:?}");
            assert_eq!(graph.output(total), Some(&(16 * run + 120)), "run {run}");
        }
    });
}

/// A graph with a hub (a task with more successors than the engine walks to
/// check a read) checks reads of the hub through a sorted list of the hub's
/// successors, kept as the graph grows. A task added after a run, with no
/// dependencies, must still be refused a read of the hub; a task added
/// after the hub must read it.
#[test]
fn a_task_added_after_a_run_reads_a_hub_only_if_it_declared_it() {
    watchdog(|| {
        let mut graph = Graph::new();
        let hub: TaskId<u32> = graph.add(Task::new("hub", |_: &Context<'_>| Ok(7)));
        for _ in 0..40 {
            graph.add(Task::new("spoke", move |cx: &Context<'_>| Ok(*cx.input(hub)?)).after(hub));
        }
        let executor = executor(2);
        assert!(executor.run(&mut graph).unwrap().is_success());

        let intruder = graph.add(Task::new("intruder", move |cx: &Context<'_>| {
            Ok(*cx.input(hub)?)
        }));
        let report = executor.run_with(&mut graph, keep_going()).unwrap();
        match report.outcome(intruder) {
            Outcome::Failed(taskflow_engine::TaskError::Error(error)) => assert!(
                matches!(
                    error.downcast_ref::<taskflow_engine::InputError>(),
                    Some(taskflow_engine::InputError::NotADependency { .. })
                ),
                "{error}"
            ),
            other => panic!("the intruder must be refused with an InputError: {other:?}"),
        }
        assert_eq!(report.failed(), 1, "{report}");

        // A dependent of the hub added after the intruder reads it.
        let late = graph
            .add(Task::new("late", move |cx: &Context<'_>| Ok(*cx.input(hub)? + 1)).after(hub));
        let report = executor.run_with(&mut graph, keep_going()).unwrap();
        assert_eq!(report.failed(), 1, "only the intruder fails: {report}");
        assert_eq!(graph.output(late), Some(&8));
    });
}

/// A hub whose edges are declared with `precede`, out of index order and
/// between runs, lets exactly its successors read it.
#[test]
fn a_hub_built_out_of_order_lets_exactly_its_successors_read_it() {
    watchdog(|| {
        let mut graph = Graph::new();
        let hub: TaskId<u32> = graph.add(Task::new("hub", |_: &Context<'_>| Ok(7)));
        let readers: Vec<TaskId<u32>> = (0..60)
            .map(|_| {
                graph.add(Task::new("reader", move |cx: &Context<'_>| {
                    Ok(*cx.input(hub)?)
                }))
            })
            .collect();
        // Every reader but the fifth, in a scrambled order, 40 before the
        // first run and the rest after it.
        let mut order: Vec<usize> = (0..60).filter(|&reader| reader != 5).collect();
        order.sort_by_key(|&reader| (reader * 37) % 61);
        let executor = executor(2);
        for (declared, &reader) in order.iter().enumerate() {
            if declared == 40 {
                let report = executor.run_with(&mut graph, keep_going()).unwrap();
                assert_eq!(
                    report.failed(),
                    20,
                    "the readers without an edge yet: {report}"
                );
            }
            graph.precede(hub, readers[reader]).unwrap();
        }
        let report = executor.run_with(&mut graph, keep_going()).unwrap();
        assert_eq!(report.failed(), 1, "only the fifth reader: {report}");
        assert!(matches!(report.outcome(readers[5]), Outcome::Failed(_)));
        for (index, &reader) in readers.iter().enumerate() {
            let expected = (index != 5).then_some(&7);
            assert_eq!(graph.output(reader), expected, "reader {index}");
        }
    });
}

/// What a graph derives as it grows (whether every edge points forward,
/// whether a cycle check passed, the ranges of sources each tag scans) stays
/// right when tasks are added between runs: on a lone worker, which runs an
/// all-forward graph in index order, and on two.
#[test]
fn tasks_added_between_runs_keep_the_graphs_derived_state_right() {
    watchdog(|| {
        for workers in [1, 2] {
            let executor = executor(workers);
            let calls = Arc::new(AtomicUsize::new(0));
            let counted = |name: &'static str, value: u64| {
                let calls = Arc::clone(&calls);
                Task::new(name, move |_: &Context<'_>| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Ok(value)
                })
            };
            let sum = |name: &'static str, inputs: Vec<TaskId<u64>>| {
                let (calls, reads) = (Arc::clone(&calls), inputs.clone());
                Task::new(name, move |cx: &Context<'_>| {
                    calls.fetch_add(1, Ordering::SeqCst);
                    reads
                        .iter()
                        .map(|&id| cx.input(id).copied())
                        .sum::<Result<u64, Error>>()
                })
                .after_all(inputs)
            };
            let mut graph = Graph::new();
            let a = graph.add(counted("a", 1));
            let b = graph.add(sum("b", vec![a]));
            assert!(executor.run(&mut graph).unwrap().is_success());

            // Forward edges only: a new source far after the first one, and
            // a task after old and new ones.
            let c = graph.add(counted("c", 10));
            let d = graph.add(sum("d", vec![b, c]));
            let report = executor.run(&mut graph).unwrap();
            assert!(report.is_success(), "{workers} workers: {report}");
            assert_eq!(graph.output(d), Some(&11), "{workers} workers");

            // A backward edge: `a` now waits for a new source `e`, so the
            // first source is a source no more and the graph is checked for
            // cycles (and passes).
            let e = graph.add(counted("e", 100));
            graph.precede(e, a).unwrap();
            let report = executor.run(&mut graph).unwrap();
            assert!(report.is_success(), "{workers} workers: {report}");

            // Tasks added after the check: a source on a new tag and a task
            // after everything, neither of which can close a cycle.
            let f = graph.add(counted("f", 1000).tag("late"));
            let g = graph.add(sum("g", vec![d, e, f]));
            calls.store(0, Ordering::SeqCst);
            let report = executor.run(&mut graph).unwrap();
            assert!(report.is_success(), "{workers} workers: {report}");
            assert_eq!(calls.load(Ordering::SeqCst), 7, "every task runs once");
            assert_eq!(graph.output(g), Some(&1111), "{workers} workers");

            // A cycle closed after tasks were added is still found.
            graph.precede(g, e).unwrap();
            assert!(matches!(
                executor.run(&mut graph),
                Err(taskflow_engine::GraphError::Cycle { .. })
            ));
        }
    });
}
