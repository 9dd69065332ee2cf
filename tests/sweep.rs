//! Runs swept in index order by several workers (`src/runtime/sweep/`):
//! graphs whose edges all point forward, on one tag of two workers, with
//! enough tasks to be swept. Every task runs once, after every one of its
//! dependencies, and reads their outputs across chunks; failures, fail-fast,
//! cancellation, spawned tasks, nested runs and two runs at once on one
//! executor behave as on every other path. Each test runs under the
//! watchdog.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use common::{Rng, executor, watchdog};
use taskflow_engine::{
    CancelToken, Context, Error, FailurePolicy, Graph, Outcome, RunOptions, Task, TaskId,
};

/// More than the fewest tasks a run needs to be swept.
const TASKS: usize = 3000;

/// The dependencies of each task of a random forward graph: near ones (the
/// tasks just before, as in a chain or a grid), far ones, or none, mixed
/// by `seed`.
fn forward_dependencies(seed: u64, tasks: usize) -> Vec<Vec<usize>> {
    let mut rng = Rng::new(seed);
    (0..tasks)
        .map(|task| {
            if task == 0 {
                return Vec::new();
            }
            let mut dependencies: Vec<usize> = (0..rng.below(4))
                .map(|_| match rng.below(3) {
                    0 => task - 1 - rng.below(task.min(3)),
                    1 => task - 1 - rng.below(task.min(600)),
                    _ => rng.below(task),
                })
                .collect();
            dependencies.sort_unstable();
            dependencies.dedup();
            dependencies
        })
        .collect()
}

/// What task `task` returns: its index plus its dependencies' outputs.
fn expected_outputs(dependencies: &[Vec<usize>]) -> Vec<u64> {
    let mut outputs: Vec<u64> = Vec::with_capacity(dependencies.len());
    for (task, inputs) in dependencies.iter().enumerate() {
        let sum = inputs
            .iter()
            .map(|&input| outputs[input])
            .fold(0u64, u64::wrapping_add);
        outputs.push((task as u64).wrapping_add(sum) % 1_000_003);
    }
    outputs
}

/// The graph of `dependencies`: each task sums its inputs (read with
/// `Context::input`) and stamps when it started and ended, from one clock
/// shared by all tasks.
struct Stamped {
    graph: Graph<'static>,
    ids: Vec<TaskId<u64>>,
    started: Arc<Vec<AtomicU64>>,
    ended: Arc<Vec<AtomicU64>>,
    runs: Arc<Vec<AtomicUsize>>,
}

fn stamped(dependencies: &[Vec<usize>]) -> Stamped {
    let tasks = dependencies.len();
    let clock = Arc::new(AtomicU64::new(1));
    let started: Arc<Vec<AtomicU64>> = Arc::new((0..tasks).map(|_| AtomicU64::new(0)).collect());
    let ended: Arc<Vec<AtomicU64>> = Arc::new((0..tasks).map(|_| AtomicU64::new(0)).collect());
    let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..tasks).map(|_| AtomicUsize::new(0)).collect());
    let mut graph = Graph::new();
    let mut ids: Vec<TaskId<u64>> = Vec::with_capacity(tasks);
    for (task, inputs) in dependencies.iter().enumerate() {
        let inputs: Vec<TaskId<u64>> = inputs.iter().map(|&input| ids[input]).collect();
        let (clock, started, ended, runs) = (
            Arc::clone(&clock),
            Arc::clone(&started),
            Arc::clone(&ended),
            Arc::clone(&runs),
        );
        let reads = inputs.clone();
        let body = move |cx: &Context<'_>| -> Result<u64, Error> {
            started[task].store(clock.fetch_add(1, Ordering::SeqCst), Ordering::SeqCst);
            runs[task].fetch_add(1, Ordering::SeqCst);
            let mut sum = 0u64;
            for &input in &reads {
                sum = sum.wrapping_add(*cx.input(input)?);
            }
            ended[task].store(clock.fetch_add(1, Ordering::SeqCst), Ordering::SeqCst);
            Ok((task as u64).wrapping_add(sum) % 1_000_003)
        };
        ids.push(graph.add(Task::new("stamped", body).after_all(inputs)));
    }
    Stamped {
        graph,
        ids,
        started,
        ended,
        runs,
    }
}

/// Every task ran once in the last run, after each of its dependencies
/// ended, and returned what its inputs say.
fn check_run(stamped: &Stamped, dependencies: &[Vec<usize>], expected: &[u64], run: usize) {
    for (task, inputs) in dependencies.iter().enumerate() {
        assert_eq!(
            stamped.runs[task].load(Ordering::SeqCst),
            run,
            "task {task} ran once per run"
        );
        let started = stamped.started[task].load(Ordering::SeqCst);
        for &input in inputs {
            let ended = stamped.ended[input].load(Ordering::SeqCst);
            assert!(
                ended < started,
                "task {task} started ({started}) before its dependency {input} ended ({ended})"
            );
        }
        assert_eq!(
            stamped.graph.output(stamped.ids[task]),
            Some(&expected[task])
        );
    }
}

#[test]
fn every_task_runs_once_after_its_dependencies_on_random_forward_graphs() {
    watchdog(|| {
        let executor = executor(2);
        for seed in 0..6 {
            let dependencies = forward_dependencies(seed, TASKS + seed as usize * 517);
            let expected = expected_outputs(&dependencies);
            let mut stamped = stamped(&dependencies);
            for run in 1..=3 {
                let report = executor.run(&mut stamped.graph).unwrap();
                assert!(report.is_success(), "{report}");
                check_run(&stamped, &dependencies, &expected, run);
            }
        }
    });
}

/// Far dependencies only: the shape the sweep shares between workers when a
/// peer is free, with outputs read across chunks (the bodies do no work, so
/// whether the second worker takes part depends on the moment).
#[test]
fn outputs_cross_chunks_on_a_graph_of_far_dependencies() {
    watchdog(|| {
        let executor = executor(2);
        let mut rng = Rng::new(42);
        let dependencies: Vec<Vec<usize>> = (0..TASKS)
            .map(|task| {
                let mut inputs: Vec<usize> = (0..rng.below(5))
                    .filter(|_| task > 0)
                    .map(|_| rng.below(task))
                    .collect();
                inputs.sort_unstable();
                inputs.dedup();
                inputs
            })
            .collect();
        let expected = expected_outputs(&dependencies);
        let mut stamped = stamped(&dependencies);
        for run in 1..=4 {
            let report = executor.run(&mut stamped.graph).unwrap();
            assert!(report.is_success(), "{report}");
            check_run(&stamped, &dependencies, &expected, run);
        }
    });
}

/// A graph of `TASKS` tasks where every task after the first 100 depends
/// on one of the first 100; task `failing` fails (panics if `panics`).
fn graph_with_a_failure(failing: usize, panics: bool) -> (Graph<'static>, Vec<TaskId<()>>) {
    let mut graph = Graph::new();
    let mut ids: Vec<TaskId<()>> = Vec::new();
    for task in 0..TASKS {
        let body = move |_: &Context<'_>| -> Result<(), Error> {
            if task == failing {
                if panics {
                    panic!("task {task} panics");
                }
                return Err("task fails".into());
            }
            Ok(())
        };
        let mut new = Task::new(format!("task {task}"), body);
        if task >= 100 {
            new = new.after(ids[task % 100]);
        }
        ids.push(graph.add(new));
    }
    (graph, ids)
}

#[test]
fn a_panic_skips_its_dependents_and_nothing_else_under_keep_going() {
    watchdog(|| {
        let executor = executor(2);
        let (mut graph, ids) = graph_with_a_failure(7, true);
        for _ in 0..2 {
            let options = RunOptions::new().policy(FailurePolicy::KeepGoing);
            let report = executor.run_with(&mut graph, options).unwrap();
            for (task, &id) in ids.iter().enumerate() {
                let outcome = report.outcome(id);
                match task {
                    7 => assert!(matches!(outcome, Outcome::Failed(_)), "{outcome:?}"),
                    task if task >= 100 && task % 100 == 7 => {
                        assert!(
                            matches!(outcome, Outcome::Skipped),
                            "task {task}: {outcome:?}"
                        )
                    }
                    task => assert!(
                        matches!(outcome, Outcome::Succeeded),
                        "task {task}: {outcome:?}"
                    ),
                }
            }
            assert_eq!(report.failed(), 1);
            assert_eq!(report.skipped(), (TASKS - 100) / 100);
        }
    });
}

#[test]
fn fail_fast_stops_a_swept_run() {
    watchdog(|| {
        let executor = executor(2);
        let (mut graph, ids) = graph_with_a_failure(150, false);
        let report = executor.run(&mut graph).unwrap();
        assert_eq!(report.failed(), 1);
        assert!(matches!(report.outcome(ids[150]), Outcome::Failed(_)));
        for (task, &id) in ids.iter().enumerate() {
            let outcome = report.outcome(id);
            if task < 100 {
                assert!(
                    matches!(outcome, Outcome::Succeeded),
                    "task {task}: {outcome:?}"
                );
            } else if task > 150 + 2 * 256 {
                // Past the chunks in flight when the failure stopped the run.
                assert!(
                    matches!(outcome, Outcome::Cancelled | Outcome::Skipped),
                    "task {task}: {outcome:?}"
                );
            }
        }
        assert_eq!(report.len(), TASKS);
        // The next run starts afresh.
        let options = RunOptions::new().policy(FailurePolicy::KeepGoing);
        let report = executor.run_with(&mut graph, options).unwrap();
        assert_eq!((report.failed(), report.cancelled()), (1, 0));
    });
}

#[test]
fn a_cancel_from_a_task_cancels_the_rest_of_a_swept_run() {
    watchdog(|| {
        let executor = executor(2);
        let token = CancelToken::new();
        let ran = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        let mut previous: Option<TaskId<()>> = None;
        for task in 0..TASKS {
            let (token, ran) = (token.clone(), Arc::clone(&ran));
            let body = move |_: &Context<'_>| -> Result<(), Error> {
                ran.fetch_add(1, Ordering::SeqCst);
                if task == 1000 {
                    token.cancel();
                }
                Ok(())
            };
            let mut new = Task::new("task", body);
            if task % 3 == 0 {
                if let Some(previous) = previous {
                    new = new.after(previous);
                }
            }
            let id = graph.add(new);
            previous = Some(id);
        }
        let options = RunOptions::new().cancel_token(token.clone());
        let report = executor.run_with(&mut graph, options).unwrap();
        let ran = ran.load(Ordering::SeqCst);
        assert!(
            ran > 1000 && ran < TASKS,
            "the cancel stopped the run: {ran} ran"
        );
        assert_eq!(report.succeeded(), ran);
        assert_eq!(report.cancelled(), TASKS - ran);
    });
}

/// A swept task that spawns: its dependents, far and near, run only after
/// its children ended, and read the children's effects.
#[test]
fn dependents_of_a_spawning_task_wait_for_its_children() {
    watchdog(|| {
        let executor = executor(2);
        let done = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        let mut parents: Vec<TaskId<()>> = Vec::new();
        for task in 0..TASKS {
            let done = Arc::clone(&done);
            let new = if task % 500 == 0 {
                Task::new("parent", move |cx: &Context<'_>| -> Result<(), Error> {
                    for _ in 0..3 {
                        let done = Arc::clone(&done);
                        cx.spawn(Task::new("child", move |_: &Context<'_>| {
                            std::thread::sleep(std::time::Duration::from_millis(2));
                            done.fetch_add(1, Ordering::SeqCst);
                            Ok(())
                        }))?;
                    }
                    Ok(())
                })
            } else {
                let parent = *parents.last().unwrap();
                let generation = parents.len();
                Task::new("dependent", move |_: &Context<'_>| -> Result<(), Error> {
                    let ended = done.load(Ordering::SeqCst);
                    assert!(ended >= 3 * generation, "{ended} children ended");
                    Ok(())
                })
                .after(parent)
            };
            let id = graph.add(new);
            if task % 500 == 0 {
                parents.push(id);
            }
        }
        for _ in 0..2 {
            let report = executor.run(&mut graph).unwrap();
            assert!(report.is_success(), "{report}");
            assert_eq!(done.load(Ordering::SeqCst), 3 * parents.len());
            done.store(0, Ordering::SeqCst);
        }
    });
}

/// Swept runs at once on one executor, from two threads, and the same graph
/// run from inside a task of another (a nested run, which takes the
/// counting path: nested runs are not swept).
#[test]
fn swept_runs_at_once_and_nested_complete() {
    watchdog(|| {
        let executor = Arc::new(executor(2));
        let dependencies = forward_dependencies(9, TASKS);
        let expected = Arc::new(expected_outputs(&dependencies));
        let dependencies = Arc::new(dependencies);
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (executor, dependencies, expected) = (
                    Arc::clone(&executor),
                    Arc::clone(&dependencies),
                    Arc::clone(&expected),
                );
                std::thread::spawn(move || {
                    let mut stamped = stamped(&dependencies);
                    for run in 1..=3 {
                        let report = executor.run(&mut stamped.graph).unwrap();
                        assert!(report.is_success(), "{report}");
                        check_run(&stamped, &dependencies, &expected, run);
                    }
                })
            })
            .collect();
        let inner = Arc::clone(&executor);
        let mut outer = Graph::new();
        let nested = outer.add(Task::new("outer", move |_: &Context<'_>| {
            let mut stamped = stamped(&dependencies);
            let report = inner.run(&mut stamped.graph)?;
            assert!(report.is_success(), "{report}");
            check_run(&stamped, &dependencies, &expected, 1);
            Ok(stamped.graph.output(*stamped.ids.last().unwrap()).copied())
        }));
        for task in 1..TASKS {
            outer.add(Task::new("filler", move |_: &Context<'_>| Ok(task)));
        }
        let report = executor.run(&mut outer).unwrap();
        assert!(report.is_success(), "{report}");
        assert!(outer.output(nested).unwrap().is_some());
        for thread in threads {
            thread.join().unwrap();
        }
    });
}

/// A task of a swept run blocks until a run it submitted to the same
/// executor has run, while the other worker's sweeper waits for that task
/// (tasks 2001 to 2599 depend on it). The waiting sweeper must give its
/// thread back to the pool, which then runs the submitted run's task: a
/// sweeper that slept at the gate instead held the only free worker, and
/// the run hung.
#[test]
fn a_sweeper_waiting_for_a_blocked_task_leaves_its_worker_to_the_pool() {
    watchdog(|| {
        let executor = Arc::new(executor(2));
        let mut graph = Graph::new();
        let mut ids: Vec<TaskId<u64>> = Vec::new();
        for task in 0..TASKS {
            let added = if task == 2000 {
                let executor = Arc::clone(&executor);
                Task::new("blocks", move |_: &Context<'_>| {
                    // Lets the other worker's sweeper reach the dependents
                    // of this task; the run must end however the two meet.
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    let mut other = Graph::new();
                    let one = other.add(Task::new("other run", |_: &Context<'_>| Ok(1u64)));
                    let (other, report) = executor.submit(other, RunOptions::new()).wait();
                    assert!(report.is_success(), "{report}");
                    Ok(*other.output(one).unwrap())
                })
            } else if (2001..2600).contains(&task) {
                let blocker = ids[2000];
                Task::new("needs the blocked task", move |cx: &Context<'_>| {
                    Ok(*cx.input(blocker)?)
                })
                .after(blocker)
            } else {
                Task::new("free", |_: &Context<'_>| {
                    let started = std::time::Instant::now();
                    while started.elapsed() < std::time::Duration::from_micros(10) {}
                    Ok(1u64)
                })
            };
            ids.push(graph.add(added));
        }
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        assert!(ids.iter().all(|&id| graph.output(id) == Some(&1)));
    });
}

/// The sweep is shared: on far dependencies with bodies of a few
/// microseconds, the second worker takes part (in at least one of up to 20
/// runs, so that a moment when the other core is busy cannot fail the
/// test, while a sweep that never invites a helper does), and every task
/// still runs after its dependencies.
#[test]
fn a_second_worker_takes_part_in_a_sweep_of_far_dependencies() {
    watchdog(|| {
        let executor = executor(2);
        let mut rng = Rng::new(7);
        let mut graph = Graph::new();
        let mut ids: Vec<TaskId<u64>> = Vec::new();
        for task in 0..TASKS {
            let inputs: Vec<TaskId<u64>> = (0..rng.below(3))
                .filter(|_| task > 0)
                .map(|_| ids[rng.below(task / 2 + 1)])
                .collect();
            let reads = inputs.clone();
            let mut added = Task::new("far", move |cx: &Context<'_>| {
                let started = std::time::Instant::now();
                while started.elapsed() < std::time::Duration::from_micros(5) {}
                let mut sum = 1u64;
                for &input in &reads {
                    sum = sum.wrapping_add(*cx.input(input)?);
                }
                Ok(sum * 4 + cx.worker_index() as u64 % 2)
            });
            for input in inputs {
                added = added.after(input);
            }
            ids.push(graph.add(added));
        }
        let shared = (0..20).any(|_| {
            let report = executor.run(&mut graph).unwrap();
            assert!(report.is_success(), "{report}");
            let on_odd = ids
                .iter()
                .filter(|&&id| graph.output(id).unwrap() % 2 == 1)
                .count();
            on_odd > 0 && on_odd < TASKS
        });
        assert!(shared, "20 swept runs never used the second worker");
    });
}
