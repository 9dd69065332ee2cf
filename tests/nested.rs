//! Runs started from inside a task of the same executor: they complete,
//! without deadlock, on a pool of one worker and a thousand levels deep;
//! and a satisfied wait returns at once while another worker's wait is
//! busy. Each test runs under the watchdog.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Signal, executor, watchdog};
use taskflow_engine::{Context, Executor, Graph, Task};

/// A graph of three tasks on `tag` that sum to 6.
fn small_graph(tag: &'static str) -> (Graph<'static>, taskflow_engine::TaskId<u32>) {
    let mut graph = Graph::new();
    let one = graph.add(Task::new("one", |_: &Context<'_>| Ok(1u32)).tag(tag));
    let two = graph.add(Task::new("two", |_: &Context<'_>| Ok(2u32)).tag(tag));
    let sum = graph.add(
        Task::new("sum", move |cx: &Context<'_>| {
            Ok(cx.input(one)? + cx.input(two)? + 3)
        })
        .tag(tag)
        .after_all([one, two]),
    );
    (graph, sum)
}

/// Runs [`small_graph`] on `executor` (on the default tag), checks that it
/// succeeded, and returns its sum.
fn run_small_graph(executor: &Executor) -> Result<u32, taskflow_engine::Error> {
    let (mut nested, sum) = small_graph("default");
    let report = executor.run(&mut nested)?;
    assert!(report.is_success(), "{report}");
    Ok(*nested.output(sum).unwrap())
}

/// Level `depth` of nested runs on `executor`: a graph whose task spawns a
/// child, runs level `depth - 1` from inside, joins, and adds the child's 1
/// to the answer below; with `io_task`, the graph has a second task on
/// another tag (which keeps the run off the exclusive path).
fn nested_level(
    executor: &Arc<Executor>,
    depth: u32,
    io_task: bool,
) -> Result<u32, taskflow_engine::Error> {
    if depth == 0 {
        return Ok(0);
    }
    let mut graph = Graph::new();
    let inner = Arc::clone(executor);
    let task = graph.add(Task::new("level", move |cx: &Context<'_>| {
        let child = cx.spawn(Task::new("child", |_: &Context<'_>| Ok(1u32)))?;
        let below = nested_level(&inner, depth - 1, io_task)?;
        cx.join()?;
        Ok(below + cx.input(child)?)
    }));
    if io_task {
        graph.add(Task::new("io", |_: &Context<'_>| Ok(0u32)).tag("io"));
    }
    let report = executor.run(&mut graph)?;
    assert!(report.is_success(), "{report}");
    Ok(*graph.output(task).unwrap())
}

/// Runs [`nested_level`] 1,000 deep from a task of a pool of one worker
/// (with `io_task`, beside a task on another tag) and checks the answer.
fn nested_runs_1000_deep(io_task: bool) {
    let executor = Arc::new(executor(1));
    let mut graph = Graph::new();
    let inner = Arc::clone(&executor);
    let top = graph.add(Task::new("top", move |_: &Context<'_>| {
        nested_level(&inner, 1000, io_task)
    }));
    if io_task {
        graph.add(Task::new("io", |_: &Context<'_>| Ok(0u32)).tag("io"));
    }
    let report = executor.run(&mut graph).unwrap();
    assert!(report.is_success(), "{report}");
    assert_eq!(graph.output(top), Some(&1000));
}

/// Spawns a quick child and joins it; returns how long the join took.
fn time_a_quick_join(cx: &Context<'_>) -> Result<Duration, taskflow_engine::Error> {
    cx.spawn(Task::new("quick child", |_: &Context<'_>| Ok(())))?;
    let began = Instant::now();
    cx.join()?;
    Ok(began.elapsed())
}

/// A satisfied join must return at once; 2 s is far above any scheduling
/// delay and far below the watchdog.
fn assert_prompt(took: Duration) {
    assert!(
        took < Duration::from_secs(2),
        "the satisfied join took {took:?}"
    );
}

/// Row "a nested run on a worker": a pool of one worker runs a task that
/// runs a graph on its own tag.
#[test]
fn a_one_worker_pool_runs_a_nested_graph_on_its_own_tag() {
    watchdog(|| {
        let executor = Arc::new(executor(1));
        let inner = Arc::clone(&executor);
        let mut graph = Graph::new();
        let outer = graph.add(Task::new("outer", move |_: &Context<'_>| {
            run_small_graph(&inner)
        }));
        // A second tag makes the outer run non-exclusive as well.
        graph.add(Task::new("io", |_: &Context<'_>| Ok(())).tag("io"));
        for _ in 0..3 {
            let report = executor.run(&mut graph).unwrap();
            assert!(report.is_success(), "{report}");
            assert_eq!(graph.output(outer), Some(&6));
        }
    });
}

/// Nested runs 1,000 deep on a pool of one worker: every level runs the
/// next from inside its task, and spawns a child it joins.
#[test]
fn nested_runs_1000_deep_on_one_worker() {
    watchdog(|| nested_runs_1000_deep(false));
}

/// Nested runs on several workers at once, with spawns inside: every run
/// completes, and the counts add up.
#[test]
fn many_nested_runs_on_a_shared_pool() {
    watchdog(|| {
        let executor = Arc::new(executor(3));
        let done = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        for _ in 0..24 {
            let (inner, done) = (Arc::clone(&executor), Arc::clone(&done));
            graph.add(Task::new("outer", move |cx: &Context<'_>| {
                let (inner2, done2) = (Arc::clone(&inner), Arc::clone(&done));
                cx.spawn(Task::new("child runs a graph", move |_: &Context<'_>| {
                    assert_eq!(run_small_graph(&inner2)?, 6);
                    done2.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                }))?;
                assert_eq!(run_small_graph(&inner)?, 6);
                done.fetch_add(1, Ordering::SeqCst);
                cx.join()
            }));
        }
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        assert_eq!(done.load(Ordering::SeqCst), 48);
    });
}

/// Row "a wait that is already satisfied": one worker joins a quick child
/// while its peer's join waits for a child that is busy until the first
/// join has returned. The first returns at once; it does not get stuck
/// under the busy one's work (the busy child waits for it, so if it did,
/// the test would hang and the watchdog would say so).
#[test]
fn a_satisfied_wait_returns_while_another_wait_is_busy() {
    watchdog(|| {
        let first_returned = Signal::new();
        let busy_started = Signal::new();
        let mut graph = Graph::new();
        let (released, started) = (Arc::clone(&first_returned), Arc::clone(&busy_started));
        graph.add(Task::new("busy parent", move |cx: &Context<'_>| {
            let (released, started) = (Arc::clone(&released), Arc::clone(&started));
            cx.spawn(Task::new("busy child", move |_: &Context<'_>| {
                started.raise();
                released.wait()
            }))?;
            cx.join()
        }));
        let (returned, started) = (Arc::clone(&first_returned), Arc::clone(&busy_started));
        let quick = graph.add(Task::new("quick parent", move |cx: &Context<'_>| {
            started.wait()?;
            let took = time_a_quick_join(cx)?;
            returned.raise();
            Ok(took)
        }));
        let report = executor(3).run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        assert_prompt(*graph.output(quick).unwrap());
    });
}

/// Row "a wait that is already satisfied", on a pool of one worker (plus
/// an `io` pool), where every worker waits whenever the join does: the
/// quick parent first submits a run whose task `busy`, on the same pool,
/// waits until the parent's join has returned; then it spawns a quick child
/// and joins. `busy` sits in the pool's own queues, which a wait of a pool
/// whose every worker waits may take; but the join is satisfied as soon as
/// it ran the quick child, and returns before it looks there. Had it
/// stacked `busy` above itself, `busy` would wait for it in vain.
#[test]
fn a_satisfied_wait_on_one_worker_returns_before_unrelated_work() {
    watchdog(|| {
        let executor = Arc::new(executor(1));
        let returned = Signal::new();
        let handle = Arc::new(std::sync::Mutex::new(None));
        let mut graph = Graph::new();
        let (inner, released, kept) = (
            Arc::clone(&executor),
            Arc::clone(&returned),
            Arc::clone(&handle),
        );
        let quick = graph.add(Task::new("quick parent", move |cx: &Context<'_>| {
            let mut unrelated = Graph::new();
            let released_busy = Arc::clone(&released);
            unrelated.add(Task::new("busy", move |_: &Context<'_>| {
                released_busy.wait()
            }));
            *kept.lock().unwrap() =
                Some(inner.submit(unrelated, taskflow_engine::RunOptions::new()));
            let took = time_a_quick_join(cx)?;
            released.raise();
            Ok(took)
        }));
        graph.add(Task::new("io", |_: &Context<'_>| Ok(())).tag("io"));
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        assert_prompt(*graph.output(quick).unwrap());
        let (_, busy) = handle.lock().unwrap().take().unwrap().wait();
        assert!(busy.is_success(), "{busy}");
    });
}

/// Nested runs 1,000 deep on a pool of one worker, off the exclusive path:
/// every level's graph has a second task on another tag, and each level
/// spawns a child it joins.
#[test]
fn nested_runs_1000_deep_on_one_worker_with_two_tags() {
    watchdog(|| nested_runs_1000_deep(true));
}

/// A run started from a task of another executor, and from a plain thread
/// while that executor's workers are busy, blocks plainly and completes.
#[test]
fn a_run_from_another_executors_task_blocks_plainly() {
    watchdog(|| {
        let inner = Arc::new(executor(1));
        let outer = executor(1);
        let mut graph = Graph::new();
        let nested_executor = Arc::clone(&inner);
        let sum = graph.add(Task::new("outer", move |_: &Context<'_>| {
            run_small_graph(&nested_executor)
        }));
        let report = outer.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        assert_eq!(graph.output(sum), Some(&6));
    });
}

/// The only worker of a pool waits in a join for a child of another pool,
/// which waits for a task of another run on the first pool: that task has
/// nobody but the waiting worker to run it, and it runs (a pool whose
/// every worker waits lets a blocked wait run such work).
#[test]
fn work_of_another_run_reaches_a_pool_whose_only_worker_waits() {
    watchdog(|| {
        let executor = Arc::new(executor(1));
        let raised = Signal::new();
        let joining = Signal::new();
        let mut graph = Graph::new();
        let (flag, started) = (Arc::clone(&raised), Arc::clone(&joining));
        graph.add(
            Task::new("waits", move |cx: &Context<'_>| {
                let flag = Arc::clone(&flag);
                cx.spawn(Task::new("blocked child", move |_: &Context<'_>| flag.wait()).tag("b"))?;
                started.raise();
                cx.join()
            })
            .tag("a"),
        );
        let other = {
            let (executor, raised, joining) = (
                Arc::clone(&executor),
                Arc::clone(&raised),
                Arc::clone(&joining),
            );
            std::thread::spawn(move || {
                joining.wait().unwrap();
                let mut graph = Graph::new();
                graph.add(
                    Task::new("raises", move |_: &Context<'_>| {
                        raised.raise();
                        Ok(())
                    })
                    .tag("a"),
                );
                executor.run(&mut graph).unwrap().is_success()
            })
        };
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        assert!(other.join().unwrap());
    });
}
