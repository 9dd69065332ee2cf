//! Waits inside tasks at their edges: a join racing a spawn on another
//! thread of the same body, two threads joining at once, work a wait needs
//! queued under another wait, and waits nested past what the worker's stack
//! holds. Each under the watchdog.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::tasks::{counting, reading_count};
use common::{executor, keep_going, watchdog_for};
use taskflow_engine::{Context, Executor, Graph, GraphError, Task};

const LIMIT: Duration = Duration::from_secs(60);

/// One thread of a body spawns children one by one (each on another pool,
/// waiting until it ran), while another joins in a loop: every join covers
/// only children that ended, so none answers `Err` for children that all
/// succeed, and `input` after it reads only finished children.
#[test]
fn a_join_covers_only_children_spawned_before_it() {
    watchdog_for(LIMIT, || {
        let mut graph = Graph::new();
        let wrong = graph.add(Task::new("P", |cx: &Context<'_>| {
            let stop = AtomicBool::new(false);
            let wrong = AtomicUsize::new(0);
            std::thread::scope(|scope| {
                scope.spawn(|| {
                    for _ in 0..2000 {
                        let done = Arc::new(AtomicBool::new(false));
                        let flag = Arc::clone(&done);
                        cx.spawn(
                            Task::new("c", move |_: &Context<'_>| {
                                std::thread::sleep(Duration::from_micros(200));
                                flag.store(true, Ordering::SeqCst);
                                Ok(7u32)
                            })
                            .tag("b"),
                        )
                        .unwrap();
                        while !done.load(Ordering::SeqCst) {
                            std::thread::yield_now();
                        }
                    }
                    stop.store(true, Ordering::SeqCst);
                });
                scope.spawn(|| {
                    while !stop.load(Ordering::SeqCst) {
                        if cx.join().is_err() {
                            wrong.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                });
            });
            Ok(wrong.load(Ordering::SeqCst))
        }));
        let report = executor(1).run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        assert_eq!(
            graph.output(wrong),
            Some(&0),
            "a join answered Err for children that succeed"
        );
    });
}

/// Two threads of one body join at once: both return.
#[test]
fn two_threads_of_one_body_join_at_once() {
    watchdog_for(LIMIT, || {
        let mut graph = Graph::new();
        graph.add(Task::new("P", |cx: &Context<'_>| {
            cx.spawn(
                Task::new("slow", |_: &Context<'_>| {
                    std::thread::sleep(Duration::from_millis(200));
                    Ok(())
                })
                .tag("io"),
            )?;
            std::thread::scope(|scope| {
                let first = scope.spawn(|| cx.join().is_ok());
                let second = scope.spawn(|| cx.join().is_ok());
                assert!(first.join().unwrap() && second.join().unwrap());
            });
            Ok(())
        }));
        let report = executor(2).run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
    });
}

/// Two one-worker pools `a` and `b`. Z(b) spawns X(a) and joins; X spawns
/// Rb(b) and Y(a) and joins; Y spawns Yb(b) and joins; Rb spawns Ra(a) and
/// joins. Work a wait needs (Yb) sits in the inbox of an outer wait (Z's)
/// on the other pool's worker, which is inside a wait (Rb's) that does not
/// cover it: with every worker waiting, it must still be run.
#[test]
fn work_in_an_outer_inbox_of_the_other_pool_is_run() {
    watchdog_for(LIMIT, || {
        let mut graph = Graph::new();
        graph.add(
            Task::new("Z", |cx: &Context<'_>| {
                cx.spawn(
                    Task::new("X", |cx: &Context<'_>| {
                        cx.spawn(
                            Task::new("Rb", |cx: &Context<'_>| {
                                std::thread::sleep(Duration::from_millis(300));
                                cx.spawn(Task::new("Ra", |_: &Context<'_>| Ok(())).tag("a"))?;
                                cx.join()
                            })
                            .tag("b"),
                        )?;
                        cx.spawn(
                            Task::new("Y", |cx: &Context<'_>| {
                                std::thread::sleep(Duration::from_millis(100));
                                cx.spawn(Task::new("Yb", |_: &Context<'_>| Ok(())).tag("b"))?;
                                cx.join()
                            })
                            .tag("a"),
                        )?;
                        cx.join()
                    })
                    .tag("a"),
                )?;
                cx.join()
            })
            .tag("b"),
        );
        let report = executor(1).run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
    });
}

/// Nested runs `depth` deep from inside tasks of `executor`; each level's
/// answer is the depth below it, or the error that refused a level.
fn nest(executor: &Arc<Executor>, depth: usize) -> Result<usize, GraphError> {
    let mut graph = Graph::new();
    let inner = Arc::clone(executor);
    let level = graph.add(Task::new("level", move |_: &Context<'_>| {
        Ok(if depth == 0 {
            0
        } else {
            nest(&inner, depth - 1)? + 1
        })
    }));
    let report = executor.run(&mut graph)?;
    match report.outcome(level).error() {
        None => Ok(*graph.output(level).unwrap()),
        Some(error) => {
            // A level below was refused, and each level above passed it on.
            let text = format!("{error:?}");
            assert!(text.contains("WaitTooDeep"), "unexpected failure: {text}");
            Err(GraphError::WaitTooDeep)
        }
    }
}

/// Nested runs deeper than a 1 MiB worker stack holds, on a pool of one
/// worker: refused with `WaitTooDeep` at some level, not a stack overflow
/// and not a hang.
#[test]
fn nested_runs_past_a_small_stack_are_refused() {
    watchdog_for(LIMIT, || {
        let executor = Arc::new(
            Executor::builder()
                .workers_per_tag(1)
                .stack_size(1 << 20)
                .build()
                .unwrap(),
        );
        let inner = Arc::clone(&executor);
        let mut graph = Graph::new();
        let root = graph.add(Task::new("root", move |_: &Context<'_>| {
            Ok(nest(&inner, 5000).is_err())
        }));
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        assert_eq!(
            graph.output(root),
            Some(&true),
            "5,000 levels fit in 1 MiB?"
        );
    });
}

/// Joins nested past what a 1 MiB worker stack holds, on a pool of one
/// worker (each child spawns the next, a join at every level): a join is
/// refused with `WaitTooDeep` at some level, not a stack overflow and not
/// a hang.
#[test]
fn joins_past_a_small_stack_are_refused() {
    fn deeper(
        cx: &Context<'_>,
        depth: u32,
        refused: Arc<AtomicBool>,
    ) -> Result<(), taskflow_engine::Error> {
        if depth == 0 {
            return Ok(());
        }
        let below = Arc::clone(&refused);
        cx.spawn(Task::new("level", move |cx: &Context<'_>| {
            deeper(cx, depth - 1, Arc::clone(&below))
        }))?;
        // The join answers a JoinError for a child whose own join was
        // refused below, and WaitTooDeep where it is refused itself.
        if let Err(error) = cx.join() {
            if matches!(
                error.downcast_ref::<GraphError>(),
                Some(GraphError::WaitTooDeep)
            ) {
                refused.store(true, Ordering::SeqCst);
            }
            return Err(error);
        }
        Ok(())
    }
    watchdog_for(LIMIT, || {
        let executor = Executor::builder()
            .workers_per_tag(1)
            .stack_size(1 << 20)
            .build()
            .unwrap();
        let refused = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&refused);
        let mut graph = Graph::new();
        // A second tag keeps the run off the exclusive path, whose
        // implicit join is not bounded.
        graph.add(Task::new("other", |_: &Context<'_>| Ok(())).tag("io"));
        graph.add(Task::new("root", move |cx: &Context<'_>| {
            deeper(cx, 20_000, Arc::clone(&refused))
        }));
        let report = executor.run_with(&mut graph, keep_going()).unwrap();
        assert!(!report.is_success());
        assert!(seen.load(Ordering::SeqCst), "no join was refused: {report}");
    });
}

/// Spawning in a steered run (priorities and a limit): a steered parent
/// that spawns without joining releases its dependent only after its
/// children ended; one that joins reads its children; a parent holding a
/// limit's permit joins children while the limit's other task waits.
#[test]
fn spawning_in_a_steered_run() {
    watchdog_for(LIMIT, || {
        let ended = Arc::new(AtomicUsize::new(0));
        let limit = taskflow_engine::Limit::new(1);
        let mut graph = Graph::new();
        let counted = Arc::clone(&ended);
        let spawner = graph.add(
            Task::new("spawner", move |cx: &Context<'_>| {
                for _ in 0..4 {
                    cx.spawn(counting("child", &counted, Duration::from_millis(2)))?;
                }
                Ok(())
            })
            .priority(5)
            .limit(&limit),
        );
        let dependent = graph.add(reading_count("dependent", &ended).after(spawner));
        let joiner = graph.add(
            Task::new("joiner", |cx: &Context<'_>| {
                let child =
                    cx.spawn(Task::new("joined child", |_: &Context<'_>| Ok(20u32)).tag("io"))?;
                cx.join()?;
                Ok(*cx.input(child)? + 1)
            })
            .priority(1)
            .limit(&limit),
        );
        let report = executor(2).run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        assert_eq!(report.len(), 3 + 5);
        assert_eq!(graph.output(dependent), Some(&4));
        assert_eq!(graph.output(joiner), Some(&21));
        assert_eq!(limit.available(), 1);
    });
}
