//! Pools: sizes and their errors, a pool of N running N tasks at once and
//! never more (across concurrent runs), one pool per tag, thread names,
//! pinning, sharing an executor between threads, and dropping it.

mod common;

use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use common::{Meter, Rendezvous, Signal, executor, watchdog};
use taskflow_engine::{BuildError, Context, Error, Executor, Graph, Tag, Task, TaskId};

/// `count` tasks on `tag` that all meet at one rendezvous; each outputs its
/// worker index and thread name.
fn meeting_tasks(
    graph: &mut Graph,
    tag: &'static str,
    count: usize,
) -> Vec<TaskId<(usize, String)>> {
    let meet = Rendezvous::new(count);
    (0..count)
        .map(|_| {
            let meet = Arc::clone(&meet);
            graph.add(
                Task::new("meet", move |cx: &Context<'_>| {
                    meet.meet()?;
                    let name = thread::current().name().unwrap_or("").to_owned();
                    Ok((cx.worker_index(), name))
                })
                .tag(tag),
            )
        })
        .collect()
}

#[test]
fn zero_workers_is_a_build_error() {
    watchdog(|| {
        let cases: Vec<(&str, Option<&str>, Result<Executor, BuildError>)> = vec![
            (
                "workers_per_tag(0)",
                None,
                Executor::builder().workers_per_tag(0).build(),
            ),
            (
                "tag_workers(x, 0)",
                Some("x"),
                Executor::builder().tag_workers("x", 0).build(),
            ),
            (
                "workers_per_tag(2).tag_workers(x, 0)",
                Some("x"),
                Executor::builder()
                    .workers_per_tag(2)
                    .tag_workers("x", 0)
                    .build(),
            ),
            (
                "workers_per_tag(0).tag_workers(x, 2)",
                None,
                Executor::builder()
                    .workers_per_tag(0)
                    .tag_workers("x", 2)
                    .build(),
            ),
            (
                "tag_workers(String, 0)",
                Some("y"),
                Executor::builder()
                    .tag_workers(String::from("y"), 0)
                    .tag_workers("z", 1)
                    .build(),
            ),
        ];
        for (what, zero_tag, result) in cases {
            match result {
                Err(BuildError::ZeroWorkers { tag }) => {
                    assert_eq!(tag.as_ref().map(Tag::as_str), zero_tag, "{what}");
                    let message = BuildError::ZeroWorkers { tag }.to_string();
                    assert!(
                        message.contains(zero_tag.unwrap_or("workers_per_tag")),
                        "{what}: {message}"
                    );
                }
                Err(other) => panic!("{what}: expected ZeroWorkers, got {other:?}"),
                Ok(executor) => panic!("{what} must be refused, built {executor:?}"),
            }
        }
        // A later setting replaces an earlier one.
        assert!(
            Executor::builder()
                .workers_per_tag(0)
                .workers_per_tag(1)
                .build()
                .is_ok()
        );
        assert!(
            Executor::builder()
                .tag_workers("x", 0)
                .tag_workers("x", 1)
                .build()
                .is_ok()
        );
    });
}

#[test]
fn a_pool_of_n_runs_n_tasks_at_once() {
    watchdog(|| {
        for workers in [1, 2, 4] {
            let executor = executor(workers);
            let mut graph = Graph::new();
            let ids = meeting_tasks(&mut graph, "default", workers);
            let report = executor.run(&mut graph).unwrap();
            assert!(report.is_success(), "pool of {workers}: {report}");
            let indices: HashSet<usize> =
                ids.iter().map(|id| graph.output(*id).unwrap().0).collect();
            assert_eq!(indices, (0..workers).collect(), "pool of {workers}");
        }
    });
}

#[test]
fn tag_workers_and_workers_per_tag_size_their_pools() {
    watchdog(|| {
        let executor = Executor::builder()
            .workers_per_tag(3)
            .tag_workers("wide", 5)
            .tag_workers("narrow", 1)
            .build()
            .unwrap();
        let mut graph = Graph::new();
        let wide = meeting_tasks(&mut graph, "wide", 5);
        // A tag seen for the first time gets `workers_per_tag` workers.
        let fresh = meeting_tasks(&mut graph, "fresh", 3);
        let plain = meeting_tasks(&mut graph, "default", 3);
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        for (ids, tag, size) in [
            (&wide, "wide", 5),
            (&fresh, "fresh", 3),
            (&plain, "default", 3),
        ] {
            let names: HashSet<String> = ids
                .iter()
                .map(|id| graph.output(*id).unwrap().1.clone())
                .collect();
            let expected: HashSet<String> =
                (0..size).map(|i| format!("taskflow-{tag}-{i}")).collect();
            assert_eq!(names, expected, "tag {tag}");
        }

        // The narrow pool runs one task at a time, however many are ready.
        let meter = Meter::new();
        let mut graph = Graph::new();
        for _ in 0..20 {
            let meter = Arc::clone(&meter);
            graph.add(
                Task::new("narrow", move |cx: &Context<'_>| {
                    let _inside = meter.enter();
                    // A task that runs for a while, so that overlaps would show.
                    thread::sleep(Duration::from_millis(1));
                    Ok(cx.worker_index())
                })
                .tag("narrow"),
            );
        }
        assert!(executor.run(&mut graph).unwrap().is_success());
        assert_eq!(meter.max(), 1);
    });
}

/// Work for [`pools_never_exceed_their_size_across_concurrent_runs`]: a task
/// that meets the other run's `start` task, then `tasks` measured tasks on
/// each of `tags`, all after it.
fn measured_graph(
    start: &Arc<Rendezvous>,
    meters: &[(&'static str, Arc<Meter>, usize)],
    tasks: usize,
    wrong_workers: &Arc<AtomicUsize>,
) -> Graph<'static> {
    let mut graph = Graph::new();
    let start = {
        let start = Arc::clone(start);
        graph.add(Task::new("start", move |_: &Context<'_>| start.meet()))
    };
    for (tag, meter, size) in meters {
        for _ in 0..tasks {
            let (meter, size, wrong) = (Arc::clone(meter), *size, Arc::clone(wrong_workers));
            graph.add(
                Task::new("measured", move |cx: &Context<'_>| {
                    let _inside = meter.enter();
                    if cx.worker_index() >= size {
                        wrong.fetch_add(1, Ordering::SeqCst);
                    }
                    // A task that runs for a while, so that overlaps would show.
                    thread::sleep(Duration::from_millis(1));
                    Ok(())
                })
                .tag(*tag)
                .after(start),
            );
        }
    }
    graph
}

#[test]
fn pools_never_exceed_their_size_across_concurrent_runs() {
    watchdog(|| {
        let executor = Arc::new(
            Executor::builder()
                .workers_per_tag(2)
                .tag_workers("solo", 1)
                .tag_workers("trio", 3)
                .build()
                .unwrap(),
        );
        let meters: Vec<(&'static str, Arc<Meter>, usize)> = vec![
            ("default", Meter::new(), 2),
            ("solo", Meter::new(), 1),
            ("trio", Meter::new(), 3),
        ];
        let wrong_workers = Arc::new(AtomicUsize::new(0));
        // The two runs' start tasks meet, so both runs are in progress at once
        // and their measured tasks compete for the same pools.
        let start = Rendezvous::new(2);
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let executor = Arc::clone(&executor);
                let mut graph = measured_graph(&start, &meters, 30, &wrong_workers);
                thread::spawn(move || executor.run(&mut graph).unwrap())
            })
            .collect();
        for run in runs {
            let report = run.join().unwrap();
            assert!(report.is_success(), "{report}");
            assert_eq!(report.succeeded(), 1 + 3 * 30);
        }
        for (tag, meter, size) in &meters {
            assert!(
                meter.max() <= *size,
                "pool {tag} of {size} workers ran {} tasks at once",
                meter.max()
            );
        }
        assert_eq!(wrong_workers.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn each_tag_has_its_own_pool_and_thread_names() {
    watchdog(|| {
        // Each pool has one worker; "io" blocks until "cpu" signals, which is
        // possible only if the two tags run on different threads.
        let executor = executor(1);
        let signal = Signal::new();
        let mut graph = Graph::new();
        let io = {
            let signal = Arc::clone(&signal);
            graph.add(
                Task::new("io", move |cx: &Context<'_>| {
                    signal.wait()?;
                    Ok((
                        cx.tag().clone(),
                        thread::current().name().map(str::to_owned),
                    ))
                })
                .tag("io"),
            )
        };
        let cpu = {
            let signal = Arc::clone(&signal);
            graph.add(
                Task::new("cpu", move |cx: &Context<'_>| {
                    signal.raise();
                    Ok((
                        cx.tag().clone(),
                        thread::current().name().map(str::to_owned),
                    ))
                })
                .tag(String::from("cpu")),
            )
        };
        let untagged = graph.add(Task::new("untagged", |cx: &Context<'_>| {
            Ok((
                cx.tag().clone(),
                thread::current().name().map(str::to_owned),
            ))
        }));
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        assert_eq!(
            graph.output(io).unwrap(),
            &(Tag::from("io"), Some(String::from("taskflow-io-0")))
        );
        assert_eq!(
            graph.output(cpu).unwrap(),
            &(Tag::from("cpu"), Some(String::from("taskflow-cpu-0")))
        );
        assert_eq!(
            graph.output(untagged).unwrap(),
            &(Tag::DEFAULT, Some(String::from("taskflow-default-0")))
        );
    });
}

#[test]
fn tasks_never_run_on_the_callers_thread() {
    watchdog(|| {
        let caller = thread::current().id();
        let mut graph = Graph::new();
        let ids: Vec<TaskId<bool>> = (0..100)
            .map(|_| {
                graph.add(Task::new("where", move |_: &Context<'_>| {
                    Ok(thread::current().id() == caller)
                }))
            })
            .collect();
        assert!(executor(2).run(&mut graph).unwrap().is_success());
        assert!(ids.iter().all(|id| graph.output(*id) == Some(&false)));
    });
}

#[test]
fn pinned_workers_run_graphs() {
    watchdog(|| {
        for pin in [true, false] {
            let executor = Executor::builder()
                .workers_per_tag(2)
                .tag_workers("other", 1)
                .pin_workers(pin)
                .build()
                .unwrap();
            let mut graph = Graph::new();
            let first = meeting_tasks(&mut graph, "default", 2)[0];
            let other = graph.add(
                Task::new("other", move |cx: &Context<'_>| Ok(cx.input(first)?.0 + 10))
                    .tag("other")
                    .after(first),
            );
            let report = executor.run(&mut graph).unwrap();
            assert!(report.is_success(), "pin {pin}: {report}");
            // The two default-tag tasks met, so both workers ran at once;
            // the other tag's task read the first one's output.
            let (worker, _) = graph.output(first).unwrap();
            assert!(*worker < 2, "pin {pin}: worker index {worker}");
            assert_eq!(*graph.output(other).unwrap(), worker + 10, "pin {pin}");
        }
    });
}

/// `Executor::new()` sizes pools from one budget of as many threads as the
/// machine has cores: a graph with one new tag gets them all; the new tags
/// of one run share what is left equally; a tag first seen after the budget
/// is spent gets one worker. (Before the budget, every tag got every core:
/// four tags on 64 cores started 256 threads.)
#[test]
fn default_pools_share_one_thread_budget() {
    watchdog(|| {
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        let alone = Executor::new();
        assert_eq!(alone.workers("default"), cores, "before any pool started");
        let mut graph = Graph::new();
        meeting_tasks(&mut graph, "default", cores);
        assert!(alone.run(&mut graph).unwrap().is_success());
        assert_eq!(alone.workers("default"), cores);
        assert_eq!(alone.workers("late"), 1, "the budget is spent");

        let shared = Executor::default();
        let half = (cores / 2).max(1);
        let mut graph = Graph::new();
        meeting_tasks(&mut graph, "io", half);
        meeting_tasks(&mut graph, "cpu", half);
        let report = shared.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        assert_eq!((shared.workers("io"), shared.workers("cpu")), (half, half));
        let mut graph = Graph::new();
        meeting_tasks(&mut graph, "late", 1);
        assert!(shared.run(&mut graph).unwrap().is_success());
        assert_eq!(
            shared.workers("late"),
            cores.saturating_sub(2 * half).max(1)
        );

        // An explicit size is not taken from the budget.
        let sized = Executor::builder().tag_workers("io", 3).build().unwrap();
        assert_eq!(sized.workers("io"), 3);
        assert_eq!(sized.workers("cpu"), cores);
    });
}

thread_local! {
    /// Set on a worker thread by a task; its drop runs when the thread exits.
    static EXIT_WITNESS: RefCell<Option<ExitWitness>> = const { RefCell::new(None) };
}

struct ExitWitness(Arc<AtomicUsize>);

impl Drop for ExitWitness {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn dropping_the_executor_joins_its_threads() {
    watchdog(|| {
        let exited = Arc::new(AtomicUsize::new(0));
        let executor = Executor::builder()
            .workers_per_tag(3)
            .tag_workers("side", 2)
            .build()
            .unwrap();
        // Every worker of both pools installs a witness in its thread-local
        // storage: the meetings make each task run on a different worker.
        let mut graph = Graph::new();
        for (tag, count) in [("default", 3), ("side", 2)] {
            let meet = Rendezvous::new(count);
            for _ in 0..count {
                let (meet, exited) = (Arc::clone(&meet), Arc::clone(&exited));
                graph.add(
                    Task::new("witness", move |_: &Context<'_>| -> Result<(), Error> {
                        EXIT_WITNESS.with(|witness| {
                            *witness.borrow_mut() = Some(ExitWitness(Arc::clone(&exited)))
                        });
                        meet.meet()
                    })
                    .tag(tag),
                );
            }
        }
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        assert_eq!(
            exited.load(Ordering::SeqCst),
            0,
            "no worker exits during use"
        );
        drop(executor);
        // The threads were joined: each ran its thread-local destructors
        // before `drop` returned.
        assert_eq!(
            exited.load(Ordering::SeqCst),
            5,
            "drop returned before every worker exited"
        );
        // The graph outlives the executor and can run on another one.
        assert!(common::executor(1).run(&mut graph).is_ok());
    });
}

#[test]
fn dropping_an_idle_or_unused_executor_returns_promptly() {
    watchdog(|| {
        drop(Executor::new());
        drop(executor(4));
        drop(
            Executor::builder()
                .tag_workers("a", 2)
                .tag_workers("b", 3)
                .build()
                .unwrap(),
        );
        let executor = executor(2);
        let mut graph = Graph::new();
        graph.add(Task::new("t", |_: &Context<'_>| Ok(())).tag("lazy"));
        assert!(executor.run(&mut graph).unwrap().is_success());
        // Let the workers fall asleep for real before dropping.
        thread::sleep(Duration::from_millis(50));
        drop(executor);
    });
}

#[test]
fn an_executor_shared_by_threads_runs_their_graphs_at_once() {
    watchdog(|| {
        const THREADS: usize = 4;
        const RUNS: usize = 40;
        let executor = Arc::new(
            Executor::builder()
                .workers_per_tag(2)
                .tag_workers("meet", THREADS)
                .build()
                .unwrap(),
        );
        // The first run of every thread has a task that meets the others: all
        // threads have a run in progress on the executor at the same time.
        let meet = Rendezvous::new(THREADS);
        let threads: Vec<_> = (0..THREADS)
            .map(|thread_index| {
                let (executor, meet) = (Arc::clone(&executor), Arc::clone(&meet));
                thread::spawn(move || {
                    for run in 0..RUNS {
                        let mut graph = Graph::new();
                        let base = (thread_index * 1000 + run) as u64;
                        let source = graph
                            .add(Task::new("source", move |_: &Context<'_>| Ok(base)).tag("a"));
                        let doubles: Vec<TaskId<u64>> = (0..8)
                            .map(|k| {
                                graph.add(
                                    Task::new("double", move |cx: &Context<'_>| {
                                        Ok(cx.input(source)? * 2 + k)
                                    })
                                    .tag(if k % 2 == 0 { "a" } else { "b" })
                                    .after(source),
                                )
                            })
                            .collect();
                        let inputs = doubles.clone();
                        let sum = graph.add(
                            Task::new("sum", move |cx: &Context<'_>| {
                                let mut sum = 0;
                                for &id in &inputs {
                                    sum += *cx.input(id)?;
                                }
                                Ok(sum)
                            })
                            .after_all(doubles),
                        );
                        // A tag of this thread only: its pool starts on the
                        // first run, while the other threads start theirs.
                        let own_tag = Tag::from(format!("fresh-{thread_index}"));
                        let expected_tag = own_tag.clone();
                        let own = graph.add(
                            Task::new("own", move |cx: &Context<'_>| {
                                Ok(*cx.tag() == expected_tag && *cx.input(sum)? > 0)
                            })
                            .tag(own_tag)
                            .after(sum),
                        );
                        if run == 0 {
                            let meet = Arc::clone(&meet);
                            graph.add(
                                Task::new("meet", move |_: &Context<'_>| meet.meet()).tag("meet"),
                            );
                        }
                        let report = executor.run(&mut graph).unwrap();
                        assert!(
                            report.is_success(),
                            "thread {thread_index} run {run}: {report}"
                        );
                        assert_eq!(graph.take_output(sum), Some(16 * base + 28));
                        assert_eq!(graph.output(own), Some(&true));
                    }
                })
            })
            .collect();
        for handle in threads {
            handle.join().unwrap();
        }
    });
}

#[test]
fn many_small_runs_never_lose_a_wake_up() {
    watchdog(|| {
        // Thousands of short runs that hand work between pools: a lost
        // wake-up leaves a run waiting forever and trips the watchdog.
        let executor = Arc::new(
            Executor::builder()
                .workers_per_tag(2)
                .tag_workers("single", 1)
                .build()
                .unwrap(),
        );
        let failures = Arc::new(Mutex::new(Vec::new()));
        let threads: Vec<_> = (0..2)
            .map(|thread_index| {
                let (executor, failures) = (Arc::clone(&executor), Arc::clone(&failures));
                thread::spawn(move || {
                    let mut graph = Graph::new();
                    let a = graph.add(Task::new("a", |_: &Context<'_>| Ok(1u32)));
                    let b = graph.add(
                        Task::new("b", move |cx: &Context<'_>| Ok(cx.input(a)? + 1))
                            .tag("single")
                            .after(a),
                    );
                    let c = graph.add(
                        Task::new("c", move |cx: &Context<'_>| Ok(cx.input(b)? + 1))
                            .tag("other")
                            .after(b),
                    );
                    let d = graph.add(
                        Task::new("d", move |cx: &Context<'_>| Ok(cx.input(c)? + cx.input(a)?))
                            .after(c)
                            .after(a),
                    );
                    for run in 0..1_500 {
                        let report = executor.run(&mut graph).unwrap();
                        if !report.is_success() || graph.output(d) != Some(&4) {
                            failures
                                .lock()
                                .unwrap()
                                .push(format!("thread {thread_index} run {run}: {report}"));
                        }
                    }
                })
            })
            .collect();
        for handle in threads {
            handle.join().unwrap();
        }
        assert!(
            failures.lock().unwrap().is_empty(),
            "{:?}",
            failures.lock().unwrap()
        );
    });
}

#[test]
fn a_tag_that_cannot_name_a_thread_as_is_still_gets_a_pool() {
    watchdog(|| {
        // Worker threads are named `taskflow-<tag>-<index>`, and a thread
        // name cannot hold a NUL byte; the engine escapes it rather than
        // panicking, so such a tag works like any other.
        let built = std::panic::catch_unwind(|| {
            Executor::builder()
                .tag_workers("bad\0tag", 1)
                .build()
                .map(drop)
        });
        assert!(
            matches!(built, Ok(Ok(()))),
            "ExecutorBuilder::build failed or panicked"
        );

        let executor = executor(1);
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut graph = Graph::new();
            let task = graph.add(
                Task::new("t", |cx: &Context<'_>| {
                    assert_eq!(cx.tag().as_str(), "also\0bad");
                    Ok(std::thread::current().name().map(str::to_owned))
                })
                .tag("also\0bad"),
            );
            let report = executor.run(&mut graph).expect("a valid graph");
            assert!(report.is_success(), "{report:?}");
            graph.take_output(task).flatten()
        }));
        let thread_name = ran.expect("Executor::run panicked");
        assert_eq!(thread_name.as_deref(), Some("taskflow-also\\0bad-0"));
        // Either way the executor stays usable.
        let mut graph = Graph::new();
        graph.add(Task::new("t", |_: &Context<'_>| Ok(())));
        assert!(executor.run(&mut graph).unwrap().is_success());
    });
}

#[test]
fn builder_names_threads_sizes_stacks_and_runs_start_and_stop_handlers() {
    watchdog(|| {
        let events = Arc::new(Mutex::new(Vec::<String>::new()));
        let (started, stopped) = (Arc::clone(&events), Arc::clone(&events));
        let executor = taskflow_engine::ExecutorBuilder::new()
            .workers_per_tag(2)
            .thread_name(|tag, index| format!("build-{tag}-{index}"))
            .stack_size(64 << 20)
            .on_thread_start(move |tag, index| {
                assert_eq!(
                    thread::current().name(),
                    Some(format!("build-{tag}-{index}").as_str())
                );
                started.lock().unwrap().push(format!("start {tag} {index}"));
            })
            .on_thread_stop(move |tag, index| {
                stopped.lock().unwrap().push(format!("stop {tag} {index}"));
            })
            .build()
            .unwrap();
        let mut graph = Graph::new();
        let name = graph.add(Task::new("name", |_| {
            Ok(thread::current().name().map(str::to_owned))
        }));
        // About 16 MiB of stack: far past the 2 MiB default, within 64.
        let deep = graph.add(Task::new("deep", |_| Ok(recurse(16 * 1024))).tag("deep"));
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        let name = graph.output(name).unwrap().clone().unwrap();
        assert!(
            name == "build-default-0" || name == "build-default-1",
            "{name}"
        );
        assert_eq!(graph.output(deep), Some(&(16 * 1024)));
        drop(executor);
        let mut events = events.lock().unwrap().clone();
        events.sort();
        assert_eq!(
            events,
            [
                "start deep 0",
                "start deep 1",
                "start default 0",
                "start default 1",
                "stop deep 0",
                "stop deep 1",
                "stop default 0",
                "stop default 1",
            ]
        );
    });
}

/// Recurses `depth` times with a kilobyte of stack per frame.
fn recurse(depth: usize) -> usize {
    let frame = std::hint::black_box([1u8; 1024]);
    if depth == 0 {
        return 0;
    }
    1 + recurse(depth - 1) + usize::from(frame[depth % 1024] - 1)
}

#[test]
fn a_panicking_thread_handler_leaves_the_worker_serving() {
    watchdog(|| {
        let stops = Arc::new(AtomicUsize::new(0));
        let stopped = Arc::clone(&stops);
        let executor = Executor::builder()
            .workers_per_tag(1)
            .on_thread_start(|_, _| panic!("the start handler panicked"))
            .on_thread_stop(move |_, _| {
                stopped.fetch_add(1, Ordering::SeqCst);
                panic!("the stop handler panicked")
            })
            .thread_name(|_, _| panic!("the naming handler panicked"))
            .build()
            .unwrap();
        let mut graph = Graph::new();
        let name = graph.add(Task::new("t", |_| {
            Ok(thread::current().name().map(str::to_owned))
        }));
        assert!(executor.run(&mut graph).unwrap().is_success());
        assert_eq!(
            graph.output(name).unwrap().as_deref(),
            Some("taskflow-default-0"),
            "the default name when naming panicked"
        );
        drop(executor);
        assert_eq!(
            stops.load(Ordering::SeqCst),
            1,
            "the stop handler ran, and panicked"
        );
    });
}

/// Pool sizes above `Executor::MAX_WORKERS` are refused by `build`, naming
/// the tag, the size and the maximum, before anything is allocated for them;
/// the maximum itself is accepted.
#[test]
fn absurd_pool_sizes_are_build_errors() {
    watchdog(|| {
        let max = Executor::MAX_WORKERS;
        let check = |what: String, tag: Option<&str>, workers: usize, result| match result {
            Err(BuildError::TooManyWorkers {
                tag: refused,
                workers: asked,
                max: limit,
            }) => {
                assert_eq!(refused.as_ref().map(Tag::as_str), tag, "{what}");
                assert_eq!((asked, limit), (workers, max), "{what}");
                let message = BuildError::TooManyWorkers {
                    tag: refused,
                    workers: asked,
                    max: limit,
                }
                .to_string();
                for part in [
                    tag.unwrap_or("workers_per_tag"),
                    &workers.to_string(),
                    &max.to_string(),
                ] {
                    assert!(message.contains(part), "{what}: {message}");
                }
            }
            Err(other) => panic!("{what}: expected TooManyWorkers, got {other:?}"),
            Ok(executor) => panic!("{what} must be refused, built {executor:?}"),
        };
        for workers in [usize::MAX, 1 << 36, 1_000_000, max + 1] {
            check(
                format!("tag_workers(x, {workers})"),
                Some("x"),
                workers,
                Executor::builder().tag_workers("x", workers).build(),
            );
            check(
                format!("workers_per_tag({workers})"),
                None,
                workers,
                Executor::builder().workers_per_tag(workers).build(),
            );
        }
        // The maximum is accepted (its pools start only when a graph needs
        // them), and the default size never exceeds it.
        let executor = Executor::builder().workers_per_tag(max).build().unwrap();
        assert_eq!(executor.workers("any"), max);
        assert!(Executor::new().workers("any") <= max);
    });
}

/// The cores in the calling thread's affinity mask.
#[cfg(target_os = "linux")]
fn cores_of_this_thread() -> Vec<usize> {
    let mut cores: Vec<usize> = core_affinity::get_core_ids()
        .expect("Linux reports a thread's cores")
        .into_iter()
        .map(|core| core.id)
        .collect();
    cores.sort_unstable();
    cores
}

/// `count` tasks on the default tag that meet, each reporting the cores its
/// worker may run on.
#[cfg(target_os = "linux")]
fn cores_of_workers(executor: &Executor, count: usize) -> Result<Vec<Vec<usize>>, Error> {
    let meet = Rendezvous::new(count);
    let mut graph = Graph::new();
    let ids: Vec<TaskId<Vec<usize>>> = (0..count)
        .map(|_| {
            let meet = Arc::clone(&meet);
            graph.add(Task::new("where", move |_: &Context<'_>| {
                meet.meet()?;
                Ok(cores_of_this_thread())
            }))
        })
        .collect();
    let report = executor.run(&mut graph)?;
    if !report.is_success() {
        return Err(report.to_string().into());
    }
    Ok(ids
        .iter()
        .map(|&id| graph.output(id).unwrap().clone())
        .collect())
}

/// Pools start on whichever thread first runs a graph with their tag, and a
/// new thread inherits its creator's affinity mask. Started from a task of a
/// pinned executor, an unpinned pool must still run on the process's cores,
/// an executor built there must still size its pools by them, and a pinned
/// one built there must spread its workers over all of them. (With a mask of
/// one core there is nothing to inherit wrongly, and the checks hold anyway.)
#[cfg(target_os = "linux")]
#[test]
fn workers_take_the_process_affinity_whatever_thread_starts_their_pool() {
    watchdog(|| {
        // Nothing pins the test threads: this is the process's mask.
        let process = cores_of_this_thread();
        let cores = process.len();
        let parallelism = thread::available_parallelism().map_or(1, |n| n.get());
        let pinned = Executor::builder()
            .workers_per_tag(1)
            .pin_workers(true)
            .build()
            .unwrap();
        // Built here; its pool starts inside the pinned executor's task.
        let unpinned = executor(2);
        let mut graph = Graph::new();
        let seen = graph.add(Task::new("on a pinned worker", move |_: &Context<'_>| {
            let outer = cores_of_this_thread();
            let lazy = cores_of_workers(&unpinned, 2)?;
            let default_size = Executor::new().workers("any");
            let spread = Executor::builder()
                .workers_per_tag(cores)
                .pin_workers(true)
                .build()?;
            let spread = cores_of_workers(&spread, cores)?;
            Ok((outer, lazy, default_size, spread))
        }));
        let report = pinned.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        let (outer, lazy, default_size, spread) = graph.output(seen).unwrap();
        assert_eq!(outer.len(), 1, "the outer worker is pinned");
        let mut wrong = Vec::new();
        if lazy.iter().any(|worker| worker != &process) {
            wrong.push(format!("unpinned workers run on {lazy:?}"));
        }
        if *default_size != parallelism {
            wrong.push(format!("Executor::new() made pools of {default_size}"));
        }
        let mut spread_over: Vec<usize> = spread.iter().flatten().copied().collect();
        spread_over.sort_unstable();
        if spread.iter().any(|worker| worker.len() != 1) || spread_over != process {
            wrong.push(format!("pinned workers run on {spread:?}"));
        }
        assert!(
            wrong.is_empty(),
            "started on a worker pinned to {outer:?}, with the process on {process:?} \
             and a parallelism of {parallelism}: {}",
            wrong.join("; ")
        );
    });
}

/// Counts the runs in which a task started, for another task to wait on.
#[derive(Default)]
struct Starts {
    count: Mutex<usize>,
    changed: std::sync::Condvar,
}

/// A ready task never waits for a busy worker while another worker of its
/// pool sleeps. `root` finishes with a long list of successors whose two
/// oldest edges lead to `first` and `second`: its worker runs `first` itself
/// and queues `second`, and the peer, during the long walk, takes the only
/// other job (`other`, split off the sources) and falls asleep. `first` then
/// waits for `second` to start, which it can only do on the peer: if the
/// push of `second` wakes nobody, `first` gives up after `WAIT` and fails
/// the run. (The walk is a million edges to one task, which it only counts
/// down: long enough for the peer to wake, steal and fall asleep again.)
#[test]
fn a_task_queued_behind_a_long_one_wakes_the_sleeping_peer() {
    watchdog(|| {
        const EDGES: usize = 1_000_000;
        let started = Arc::new(Starts::default());
        let mut graph = Graph::new();
        let root = graph.add(Task::new("root", |_: &Context<'_>| Ok(())));
        graph.add(Task::new("other", |_: &Context<'_>| Ok(())));
        let mut runs = 0;
        let waits = Arc::clone(&started);
        let first = graph.add(
            Task::new("first", move |_: &Context<'_>| -> Result<(), Error> {
                runs += 1;
                let deadline = std::time::Instant::now() + common::WAIT;
                let mut count = waits.count.lock().unwrap();
                while *count < runs {
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    if left.is_zero() {
                        return Err(format!(
                            "run {runs}: `second` did not start within {:?} while `first` ran",
                            common::WAIT
                        )
                        .into());
                    }
                    count = waits.changed.wait_timeout(count, left).unwrap().0;
                }
                Ok(())
            })
            .after(root),
        );
        let signals = Arc::clone(&started);
        graph.add(
            Task::new("second", move |_: &Context<'_>| {
                *signals.count.lock().unwrap() += 1;
                signals.changed.notify_all();
                Ok(())
            })
            .after(root),
        );
        // Newer edges of `root`, walked first: to a task that also waits for
        // `first`, so that the walk only counts it down.
        let counted_down =
            graph.add(Task::new("counted down", |_: &Context<'_>| Ok(())).after(first));
        for _ in 0..EDGES {
            graph.precede(root, counted_down).unwrap();
        }
        let executor = executor(2);
        for attempt in 1..=20 {
            let report = executor.run(&mut graph).unwrap();
            assert!(report.is_success(), "attempt {attempt}: {report}");
        }
    });
}
