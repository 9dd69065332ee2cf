//! Miri-sized tests of the engine's unsafe code: the arena of task bodies,
//! the output slots and their hand-off between workers, jobs pointing at a
//! run, and the completion that outlives it.
//!
//! They run natively with the rest of the suite and, scaled down, under Miri,
//! whose aliasing and data-race checks are the point:
//!
//! ```text
//! MIRIFLAGS="-Zmiri-tree-borrows -Zmiri-permissive-provenance -Zmiri-ignore-leaks -Zmiri-many-seeds=0..4" \
//!     cargo +nightly miri test --lib --test miri
//! ```
//!
//! Each seed makes Miri pick thread interleavings and weak-memory outcomes
//! differently. The other flags are for crossbeam-epoch, under
//! crossbeam-deque: it breaks Stacked Borrows' rules but not Tree Borrows'
//! (crossbeam PR 996), casts integers to pointers, and keeps deferred garbage
//! in a global collector at exit (see `.ci/run`). Iteration counts shrink under `cfg(miri)`, where every
//! operation costs thousands of times more.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{executor, watchdog_for};
use taskflow_engine::{
    CancelToken, Context, Executor, FailurePolicy, Graph, Outcome, RunOptions, Task, TaskId,
};

/// Repetitions of each scenario: every repetition is a fresh interleaving.
const ROUNDS: usize = if cfg!(miri) { 2 } else { 50 };

/// The watchdog's limit: generous, because Miri and ThreadSanitizer run
/// these tests many times slower than native code.
const LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

/// Width of the fan-out scenario: enough to split source ranges and steal.
const WIDTH: usize = if cfg!(miri) { 12 } else { 400 };

/// A diamond whose outputs are heap values, on two workers: the dependents
/// read their inputs on whichever worker they land.
#[test]
fn outputs_cross_workers_in_a_diamond() {
    watchdog_for(LIMIT, || {
        let executor = executor(2);
        for round in 0..ROUNDS {
            let mut graph = Graph::new();
            let top = graph.add(Task::new("top", move |_: &Context<'_>| Ok(vec![round; 3])));
            let left = graph.add(
                Task::new("left", move |cx: &Context<'_>| Ok(cx.input(top)?.len() + 1)).after(top),
            );
            let right = graph.add(
                Task::new("right", move |cx: &Context<'_>| {
                    Ok(cx.input(top)?.iter().sum::<usize>())
                })
                .after(top),
            );
            let bottom = graph.add(
                Task::new("bottom", move |cx: &Context<'_>| {
                    Ok(format!("{}-{}", cx.input(left)?, cx.input(right)?))
                })
                .after_all([left, right]),
            );
            let report = executor.run(&mut graph).expect("a diamond is acyclic");
            assert!(report.is_success(), "{report:?}");
            assert_eq!(graph.take_output(bottom), Some(format!("4-{}", 3 * round)));
        }
    });
}

/// Many sources feeding one sink, on two workers: the source range is split
/// and stolen, and the sink reads every source's output.
#[test]
fn fan_in_reads_every_source() {
    watchdog_for(LIMIT, || {
        let executor = executor(2);
        let mut graph = Graph::new();
        let sources: Vec<TaskId<usize>> = (0..WIDTH)
            .map(|index| graph.add(Task::new("source", move |_: &Context<'_>| Ok(index))))
            .collect();
        let reads = sources.clone();
        let sink = graph.add(
            Task::new("sink", move |cx: &Context<'_>| {
                reads
                    .iter()
                    .map(|&source| cx.input(source).copied())
                    .sum::<Result<usize, _>>()
            })
            .after_all(sources.iter().copied()),
        );
        for _ in 0..ROUNDS.min(4) {
            let report = executor.run(&mut graph).expect("a fan-in is acyclic");
            assert!(report.is_success(), "{report:?}");
            assert_eq!(graph.output(sink), Some(&(WIDTH * (WIDTH - 1) / 2)));
        }
    });
}

/// Sources of two tags interleaved by index, with more workers than sources
/// of either tag: each pool scans a range of indices that holds the other
/// tag's sources too, and splits it into pieces with no source of its own.
/// Such a piece must still keep the run alive until it is scanned (a bug
/// once freed the run under a queued piece; Miri reports that as a
/// use-after-free).
#[test]
fn interleaved_sources_of_two_tags() {
    watchdog_for(LIMIT, || {
        let executor = executor(2);
        let mut graph = Graph::new();
        let tasks: Vec<TaskId<usize>> = (0..if cfg!(miri) { 6 } else { 64 })
            .map(|index| {
                let tag = if index % 2 == 0 { "even" } else { "odd" };
                graph.add(Task::new("source", move |_: &Context<'_>| Ok(index)).tag(tag))
            })
            .collect();
        for _ in 0..ROUNDS {
            let report = executor.run(&mut graph).expect("no edges, no cycle");
            assert!(report.is_success(), "{report:?}");
            for (index, &task) in tasks.iter().enumerate() {
                assert_eq!(graph.output(task), Some(&index));
            }
        }
    });
}

/// A chain that alternates between two tags: every hand-off crosses pools
/// through an injector.
#[test]
fn outputs_cross_pools() {
    watchdog_for(LIMIT, || {
        let executor = executor(1);
        let mut graph = Graph::new();
        let mut previous = graph.add(Task::new("start", |_: &Context<'_>| Ok(1u64)).tag("a"));
        for step in 0..if cfg!(miri) { 6 } else { 100 } {
            let input = previous;
            previous = graph.add(
                Task::new("step", move |cx: &Context<'_>| Ok(cx.input(input)? + 3))
                    .tag(if step % 2 == 0 { "b" } else { "a" })
                    .after(input),
            );
        }
        let steps: u64 = if cfg!(miri) { 6 } else { 100 };
        for _ in 0..ROUNDS.min(4) {
            let report = executor.run(&mut graph).expect("a chain is acyclic");
            assert!(report.is_success(), "{report:?}");
            assert_eq!(graph.output(previous), Some(&(1 + 3 * steps)));
        }
    });
}

/// Failures, panics and skips: outputs of tasks that did not succeed are
/// dropped, on the worker, while other tasks run.
#[test]
fn failures_and_panics_clear_outputs() {
    watchdog_for(LIMIT, || {
        let executor = executor(2);
        let fail = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        let flaky = {
            let fail = Arc::clone(&fail);
            graph.add(Task::new("flaky", move |_: &Context<'_>| {
                match fail.load(Ordering::Relaxed) {
                    0 => Ok(vec![1u8]),
                    1 => Err("refused".into()),
                    _ => panic!("flaky panicked"),
                }
            }))
        };
        let dependent = graph.add(
            Task::new("dependent", move |cx: &Context<'_>| {
                Ok(cx.input(flaky)?.clone())
            })
            .after(flaky),
        );
        let bystander = graph.add(Task::new("bystander", |_: &Context<'_>| {
            Ok(String::from("ok"))
        }));
        for mode in [0, 1, 2, 0] {
            fail.store(mode, Ordering::Relaxed);
            let options = RunOptions::new().policy(FailurePolicy::KeepGoing);
            let report = executor.run_with(&mut graph, options).expect("valid graph");
            assert!(report.outcome(bystander).is_success());
            assert_eq!(graph.output(bystander).map(String::as_str), Some("ok"));
            if mode == 0 {
                assert!(report.is_success(), "{report:?}");
                assert_eq!(graph.output(dependent), Some(&vec![1]));
            } else {
                assert!(matches!(report.outcome(flaky), Outcome::Failed(_)));
                assert!(matches!(report.outcome(dependent), Outcome::Skipped));
                assert_eq!(graph.output(flaky), None);
                assert_eq!(graph.output(dependent), None);
            }
        }
    });
}

/// A task cancels its own run while a sibling may be starting: the rest is
/// cancelled and the run returns.
#[test]
fn cancel_from_inside_a_task() {
    watchdog_for(LIMIT, || {
        let executor = executor(2);
        for _ in 0..ROUNDS {
            let token = CancelToken::new();
            let mut graph = Graph::new();
            let canceller = {
                let token = token.clone();
                graph.add(Task::new("canceller", move |_: &Context<'_>| {
                    token.cancel();
                    Ok(1u8)
                }))
            };
            let later = graph.add(Task::new("later", |_: &Context<'_>| Ok(2u8)).after(canceller));
            let report = executor
                .run_with(&mut graph, RunOptions::new().cancel_token(token))
                .expect("valid graph");
            assert!(report.outcome(canceller).is_success());
            assert!(matches!(report.outcome(later), Outcome::Cancelled));
            assert_eq!(graph.output(canceller), Some(&1));
            assert_eq!(graph.output(later), None);
        }
    });
}

/// Two threads run different graphs on one executor at once, then the
/// executor is dropped while its workers sleep.
#[test]
fn concurrent_runs_then_drop() {
    watchdog_for(LIMIT, || {
        let executor = Arc::new(
            Executor::builder()
                .workers_per_tag(2)
                .build()
                .expect("builds"),
        );
        let runners: Vec<_> = (0..2)
            .map(|runner| {
                let executor = Arc::clone(&executor);
                std::thread::spawn(move || {
                    for round in 0..ROUNDS {
                        let mut graph = Graph::new();
                        let first = graph.add(Task::new("first", move |_: &Context<'_>| {
                            Ok(runner * 100 + round)
                        }));
                        let second = graph.add(
                            Task::new("second", move |cx: &Context<'_>| Ok(*cx.input(first)? + 1))
                                .after(first),
                        );
                        let report = executor.run(&mut graph).expect("valid graph");
                        assert!(report.is_success());
                        assert_eq!(graph.take_output(second), Some(runner * 100 + round + 1));
                    }
                })
            })
            .collect();
        for runner in runners {
            runner.join().expect("a runner does not panic");
        }
        drop(executor);
    });
}

/// Submitted runs: a graph moved into a heap submission and handed back by
/// `wait`, and one whose handle is dropped mid-run so that the finishing
/// worker frees it; the executor's drop waits for the detached one.
#[test]
fn submitted_runs_waited_for_and_detached() {
    watchdog_for(LIMIT, || {
        let executor = executor(2);
        for round in 0..ROUNDS {
            let mut graph = Graph::new();
            let text = graph.add(Task::new("text", move |_| Ok(format!("round {round}"))));
            let len = graph.add(Task::new("len", move |cx| Ok(cx.input(text)?.len())).after(text));
            let (mut graph, report) = executor.submit(graph, RunOptions::new()).wait();
            assert!(report.is_success(), "{report:?}");
            assert_eq!(graph.take_output(len), Some(format!("round {round}").len()));

            let mut detached = Graph::new();
            for index in 0..4 {
                detached.add(Task::new("detached", move |_| Ok(vec![index; 8])));
            }
            drop(executor.submit(detached, RunOptions::new()));
        }
        drop(executor);
    });
}

/// Scoped bodies: closures that borrow the caller's heap data, read on
/// both workers.
#[test]
fn scoped_bodies_borrow_the_callers_data() {
    watchdog_for(LIMIT, || {
        let data: Vec<String> = (0..WIDTH).map(|index| index.to_string()).collect();
        let executor = executor(2);
        let mut graph = Graph::new();
        let lengths: Vec<TaskId<usize>> = data
            .iter()
            .map(|text| graph.add(Task::new("len", move |_| Ok(text.len()))))
            .collect();
        let inputs = lengths.clone();
        let total = graph.add(
            Task::new("total", move |cx| {
                inputs
                    .iter()
                    .try_fold(0, |sum, &id| Ok(sum + cx.input(id)?))
            })
            .after_all(lengths),
        );
        assert!(executor.run(&mut graph).unwrap().is_success());
        let expected: usize = data.iter().map(String::len).sum();
        assert_eq!(graph.output(total), Some(&expected));
    });
}

/// Spawned tasks on two workers: heap outputs written by children and read
/// by a sibling that named them and by the parent after its join, a child
/// of another tag, a grandchild the parent never joins, and a static
/// dependent released by whichever descendant ends last. Under Miri this
/// checks the node table, the subtree hand-offs and the helping join.
#[test]
fn spawned_outputs_cross_workers() {
    watchdog_for(LIMIT, || {
        let executor = executor(2);
        let mut graph = Graph::new();
        let parent = graph.add(Task::new("parent", |cx: &Context<'_>| {
            let left = cx.spawn(Task::new("left", |_: &Context<'_>| Ok(vec![1u32, 2])))?;
            let right =
                cx.spawn(Task::new("right", |_: &Context<'_>| Ok(vec![3u32])).tag("other"))?;
            let both = cx.spawn(
                Task::new("both", move |cx: &Context<'_>| {
                    cx.spawn(Task::new("grandchild", |_: &Context<'_>| {
                        Ok(String::from("g"))
                    }))?;
                    Ok(cx.input(left)?.len() + cx.input(right)?.len())
                })
                .after_all([left.task_ref(), right.task_ref()]),
            )?;
            cx.join()?;
            Ok(*cx.input(both)? + cx.input(left)?.iter().sum::<u32>() as usize)
        }));
        let after = graph.add(
            Task::new("after", move |cx: &Context<'_>| Ok(*cx.input(parent)? * 10)).after(parent),
        );
        for _ in 0..ROUNDS {
            let report = executor.run(&mut graph).expect("a valid graph");
            assert!(report.is_success(), "{report}");
            assert_eq!(report.len(), 6);
            assert_eq!(graph.output(after), Some(&60));
        }
    });
}

/// A graph cleared and rebuilt in the memory it kept: bodies inline in the
/// arena's chunks and one too large for them (an allocation of its own),
/// with heap outputs, on two workers; the old bodies and outputs are dropped
/// by `clear`, the new ones land in the reused chunks.
#[test]
fn a_cleared_graph_reuses_its_memory_for_new_bodies() {
    watchdog_for(LIMIT, || {
        let executor = executor(2);
        let dropped = Arc::new(());
        let mut graph = Graph::new();
        for round in 0..ROUNDS {
            graph.clear();
            assert_eq!(Arc::strong_count(&dropped), 1, "round {round}");
            let held = Arc::clone(&dropped);
            let small = graph.add(Task::new("small", move |_: &Context<'_>| {
                Ok(vec![Arc::strong_count(&held); 3])
            }));
            let padding = [round as u8; 256];
            let large = graph.add(
                Task::new("large", move |cx: &Context<'_>| {
                    Ok(cx.input(small)?.len() + usize::from(padding[255]))
                })
                .after(small),
            );
            let last = graph.add(
                Task::new("last", move |cx: &Context<'_>| Ok(*cx.input(large)? * 2)).after(large),
            );
            assert!(executor.run(&mut graph).unwrap().is_success());
            assert_eq!(graph.output(last), Some(&((3 + round % 256) * 2)));
        }
        graph.clear();
        assert_eq!(Arc::strong_count(&dropped), 1);
    });
}
