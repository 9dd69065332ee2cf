//! Limits: a task holds one permit of each of its limits while its body
//! runs (`Limit`, `Task::limit`).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Meter, Rendezvous, Signal, executor, wait_until, watchdog};
use taskflow_engine::{
    CancelToken, Context, Executor, FailurePolicy, Graph, Limit, Outcome, RunOptions, Task,
};

/// A task that holds `meter` while it spins for about `micros`.
fn metered(name: String, meter: &Arc<Meter>, micros: u64) -> Task<'static, ()> {
    let meter = Arc::clone(meter);
    Task::new(name, move |_: &Context<'_>| {
        let _inside = meter.enter();
        std::thread::sleep(Duration::from_micros(micros));
        Ok(())
    })
}

/// A `Limit::new(1)` shared by the tasks of two tags of two workers each,
/// in two runs at once: never two of its tasks at once, and every permit is
/// back after.
#[test]
fn a_limit_of_one_across_two_tags_and_two_runs_never_runs_two_at_once() {
    watchdog(|| {
        let executor = Arc::new(
            Executor::builder()
                .tag_workers("cc", 2)
                .tag_workers("link", 2)
                .build()
                .unwrap(),
        );
        let limit = Limit::new(1);
        let meter = Meter::new();
        let runs: Vec<_> = (0..2)
            .map(|run| {
                let (executor, limit, meter) =
                    (Arc::clone(&executor), limit.clone(), Arc::clone(&meter));
                std::thread::spawn(move || {
                    let mut graph = Graph::new();
                    for index in 0..60 {
                        let tag = if index % 2 == 0 { "cc" } else { "link" };
                        let name = format!("r{run}t{index}");
                        graph.add(metered(name, &meter, 100).tag(tag).limit(&limit));
                    }
                    executor.run(&mut graph).unwrap()
                })
            })
            .collect();
        for run in runs {
            let report = run.join().unwrap();
            assert!(report.is_success(), "{report:?}");
        }
        assert_eq!(meter.max(), 1, "two tasks of a limit of one ran at once");
        assert_eq!((limit.available(), limit.waiting()), (1, 0));
    });
}

/// A limit of three lets three tasks run at once (they meet), and no more.
#[test]
fn a_limit_of_three_runs_three_at_once_and_no_more() {
    watchdog(|| {
        let limit = Limit::new(3);
        let meet = Rendezvous::new(3);
        let meter = Meter::new();
        let mut graph = Graph::new();
        for index in 0..3 {
            let (meet, meter) = (Arc::clone(&meet), Arc::clone(&meter));
            graph.add(
                Task::new(format!("meets{index}"), move |_: &Context<'_>| {
                    let _inside = meter.enter();
                    meet.meet()
                })
                .limit(&limit),
            );
        }
        for index in 0..30 {
            graph.add(metered(format!("t{index}"), &meter, 50).limit(&limit));
        }
        let report = executor(5).run(&mut graph).unwrap();
        assert!(report.is_success(), "{report:?}");
        assert_eq!(meter.max(), 3);
        assert_eq!(limit.available(), 3);
    });
}

/// A task with two limits holds both; tasks that share either are kept
/// apart, and tasks that take the limits in any order of `Task::limit`
/// calls do not deadlock (limits are taken in one global order).
#[test]
fn tasks_with_several_limits_hold_each_and_never_deadlock() {
    watchdog(|| {
        let (memory, disk) = (Limit::new(2), Limit::new(1));
        let (memory_meter, disk_meter) = (Meter::new(), Meter::new());
        let mut graph = Graph::new();
        for index in 0..80 {
            let (memory_meter, disk_meter) = (Arc::clone(&memory_meter), Arc::clone(&disk_meter));
            let uses_disk = index % 3 != 0;
            let task = Task::new(format!("t{index}"), move |_: &Context<'_>| {
                let _memory = memory_meter.enter();
                let _disk = uses_disk.then(|| disk_meter.enter());
                std::thread::sleep(Duration::from_micros(50));
                Ok(())
            });
            graph.add(match (uses_disk, index % 2 == 0) {
                (false, _) => task.limit(&memory),
                (true, true) => task.limit(&memory).limit(&disk),
                (true, false) => task.limit(&disk).limit(&memory).limit(&disk),
            });
        }
        let report = executor(4).run(&mut graph).unwrap();
        assert!(report.is_success(), "{report:?}");
        assert!(memory_meter.max() <= 2, "{}", memory_meter.max());
        assert_eq!(disk_meter.max(), 1);
        assert_eq!((memory.available(), disk.available()), (2, 1));
    });
}

/// 1,000 tasks wait on a `Limit::new(1)` that another run's task holds.
/// Every release wakes exactly one of them: the limit counts 1,000
/// wake-ups (`Limit::handoffs`: waiting tasks taken out of the queue to try
/// again; nothing else takes a permit here, so no woken task loses it and
/// is woken twice), and each woken task finds one fewer waiting than the
/// one before it. Permits go first come, first served.
#[test]
fn a_thousand_waiters_wake_one_per_release() {
    watchdog(|| {
        let executor = executor(2);
        let limit = Limit::new(1);
        let started = Signal::new();
        let mut holder = Graph::new();
        {
            let (started, watched) = (Arc::clone(&started), limit.clone());
            holder.add(
                Task::new("holder", move |_: &Context<'_>| {
                    started.raise();
                    wait_until("1,000 parked waiters", || watched.waiting() == 1000)
                })
                .limit(&limit),
            );
        }
        let holding = executor.submit(holder, RunOptions::new());
        started.wait().unwrap();
        let handoffs_before = limit.handoffs();
        let seen: Arc<Mutex<Vec<(usize, usize)>>> = Arc::default();
        let mut graph = Graph::new();
        for index in 0..1000 {
            let (seen, watched) = (Arc::clone(&seen), limit.clone());
            graph.add(
                Task::new(format!("w{index}"), move |_: &Context<'_>| {
                    seen.lock().unwrap().push((index, watched.waiting()));
                    Ok(())
                })
                .limit(&limit),
            );
        }
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report:?}");
        let (_, holder_report) = holding.wait();
        assert!(holder_report.is_success(), "{holder_report:?}");
        let wakeups = limit.handoffs() - handoffs_before;
        eprintln!("1,000 waiters on Limit::new(1): {wakeups} hand-offs (wake-ups)");
        assert_eq!(wakeups, 1000, "one wake-up per release");
        let seen = seen.lock().unwrap();
        let expected: Vec<(usize, usize)> = (0..1000).map(|index| (index, 999 - index)).collect();
        assert_eq!(
            *seen, expected,
            "each release woke exactly one waiter, oldest first"
        );
        assert_eq!((limit.available(), limit.waiting()), (1, 0));
    });
}

/// After a fail-fast stop, every limit is full again, nothing waits, and
/// the run returned: tasks that were waiting for a permit end cancelled
/// without running.
#[test]
fn every_limit_is_full_after_a_fail_fast_stop() {
    watchdog(|| {
        // `wide` is made first, so it is taken first: a task that finds
        // `narrow` full has taken a permit of `wide` and must give it back
        // before it waits.
        let wide = Limit::new(2);
        let narrow = Limit::new(1);
        let ran = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        for index in 0..40 {
            let ran = Arc::clone(&ran);
            graph.add(
                Task::new(
                    format!("t{index}"),
                    move |_: &Context<'_>| -> Result<(), _> {
                        ran.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_micros(200));
                        if index == 3 {
                            return Err("boom".into());
                        }
                        Ok(())
                    },
                )
                .limit(&narrow)
                .limit(&wide),
            );
        }
        let options = RunOptions::new().policy(FailurePolicy::FailFast);
        let report = executor(4).run_with(&mut graph, options).unwrap();
        assert_eq!(report.failed(), 1, "{report:?}");
        assert_eq!(
            report.succeeded() + report.failed(),
            ran.load(Ordering::SeqCst)
        );
        assert_eq!(report.cancelled(), 40 - ran.load(Ordering::SeqCst));
        assert!(report.cancelled() > 0, "the failure stopped the run early");
        assert_eq!((narrow.available(), wide.available()), (1, 2));
        assert_eq!((narrow.waiting(), wide.waiting()), (0, 0));
    });
}

/// A cancel returns a run whose tasks wait behind a permit that another
/// run's long task holds (Taskflow's issue 732 hangs here): they end
/// cancelled without running, the other run is unaffected, and every
/// permit is back once it is done.
#[test]
fn a_cancel_returns_a_run_parked_behind_another_runs_task() {
    watchdog(|| {
        let executor = executor(2);
        let limit = Limit::new(1);
        let (started, release) = (Signal::new(), Signal::new());
        let mut holder = Graph::new();
        {
            let (started, release) = (Arc::clone(&started), Arc::clone(&release));
            holder.add(
                Task::new("long", move |_: &Context<'_>| {
                    started.raise();
                    release.wait()
                })
                .limit(&limit),
            );
        }
        let holding = executor.submit(holder, RunOptions::new());
        started.wait().unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        for index in 0..10 {
            let ran = Arc::clone(&ran);
            let task = Task::new(format!("w{index}"), move |_: &Context<'_>| {
                ran.fetch_add(1, Ordering::SeqCst);
                Ok(())
            });
            graph.add(task.limit(&limit));
        }
        let token = CancelToken::new();
        let waiting = executor.submit(graph, RunOptions::new().cancel_token(token.child()));
        wait_until("10 parked tasks", || limit.waiting() == 10).unwrap();
        token.cancel();
        let (_, report) = waiting.wait();
        assert_eq!(report.cancelled(), 10, "{report:?}");
        assert_eq!(ran.load(Ordering::SeqCst), 0);
        assert_eq!(limit.waiting(), 0);
        release.raise();
        let (_, held) = holding.wait();
        assert!(held.is_success(), "{held:?}");
        assert_eq!(limit.available(), 1);
    });
}

/// A cancel from a task of the run itself, while its other tasks wait for
/// the permit it holds, ends them cancelled and gives the permit back.
#[test]
fn a_cancel_from_the_holder_frees_its_own_runs_waiters() {
    watchdog(|| {
        let limit = Limit::new(1);
        let token = CancelToken::new();
        let mut graph = Graph::new();
        let first = {
            let (token, watched) = (token.clone(), limit.clone());
            graph.add(
                Task::new("canceller", move |_: &Context<'_>| {
                    wait_until("5 parked tasks", || watched.waiting() == 5)?;
                    token.cancel();
                    Ok(())
                })
                .limit(&limit),
            )
        };
        // The waiters become ready only once the canceller holds the permit.
        let watched = limit.clone();
        let opener = graph.add(Task::new("opener", move |_: &Context<'_>| {
            wait_until("the canceller's permit", || watched.available() == 0)
        }));
        for index in 0..5 {
            let waiter = Task::new(format!("w{index}"), |_: &Context<'_>| Ok(()));
            graph.add(waiter.limit(&limit).after(opener));
        }
        let options = RunOptions::new().cancel_token(token);
        let report = executor(2).run_with(&mut graph, options).unwrap();
        assert!(report.outcome(first).is_success(), "{report:?}");
        assert_eq!(report.cancelled(), 5, "{report:?}");
        assert_eq!((limit.available(), limit.waiting()), (1, 0));
    });
}

/// A run past its deadline, whose tasks wait for the permit its own task
/// holds, takes them out (at the deadline, or at that task's release,
/// whichever its caller sees first): they end cancelled without running,
/// and the permit is free again.
#[test]
fn a_deadline_withdraws_waiting_tasks_behind_its_own_holder() {
    watchdog(|| {
        let limit = Limit::new(1);
        let deadline = std::time::Instant::now() + Duration::from_millis(300);
        let mut graph = Graph::new();
        let holder = {
            let watched = limit.clone();
            graph.add(
                Task::new("holder", move |_: &Context<'_>| {
                    wait_until("5 parked tasks", || watched.waiting() == 5)?;
                    wait_until("the deadline", || std::time::Instant::now() > deadline)
                })
                .limit(&limit),
            )
        };
        let watched = limit.clone();
        let opener = graph.add(Task::new("opener", move |_: &Context<'_>| {
            wait_until("the holder's permit", || watched.available() == 0)
        }));
        let ran = Arc::new(AtomicUsize::new(0));
        for index in 0..5 {
            let ran = Arc::clone(&ran);
            let waiter = Task::new(format!("w{index}"), move |_: &Context<'_>| {
                ran.fetch_add(1, Ordering::SeqCst);
                Ok(())
            });
            graph.add(waiter.limit(&limit).after(opener));
        }
        let options = RunOptions::new().deadline(deadline);
        let report = executor(2).run_with(&mut graph, options).unwrap();
        assert!(report.outcome(holder).is_success(), "{report:?}");
        assert_eq!(
            (report.cancelled(), ran.load(Ordering::SeqCst)),
            (5, 0),
            "{report:?}"
        );
        assert_eq!((limit.available(), limit.waiting()), (1, 0));
    });
}

/// A task whose body panics gives its permits back: the tasks after it
/// run, and the limit is full at the end.
#[test]
fn permits_come_back_after_a_panic() {
    watchdog(|| {
        let limit = Limit::new(1);
        let mut graph = Graph::new();
        let panicking = graph.add(
            Task::new("panics", |_: &Context<'_>| -> Result<(), _> {
                panic!("a task panics while it holds a permit")
            })
            .limit(&limit),
        );
        let mut others = Vec::new();
        for index in 0..8 {
            others.push(
                graph.add(Task::new(format!("t{index}"), |_: &Context<'_>| Ok(())).limit(&limit)),
            );
        }
        let options = RunOptions::new().policy(FailurePolicy::KeepGoing);
        let report = executor(3).run_with(&mut graph, options).unwrap();
        assert!(matches!(report.outcome(panicking), Outcome::Failed(_)));
        for task in others {
            assert!(report.outcome(task).is_success(), "{report:?}");
        }
        assert_eq!(limit.available(), 1);
    });
}

/// A task (without the limit) that runs a nested graph of limited tasks on
/// the same executor, among other limited tasks of the outer run: the
/// outer tasks waiting for a permit hold no worker, so the nested run gets
/// its permits and both finish.
#[test]
fn a_limit_does_not_deadlock_with_a_nested_run() {
    watchdog(|| {
        let executor = Arc::new(executor(3));
        let limit = Limit::new(1);
        let meter = Meter::new();
        let mut graph = Graph::new();
        for index in 0..20 {
            graph.add(metered(format!("outer{index}"), &meter, 100).limit(&limit));
        }
        {
            let (executor, limit, meter) =
                (Arc::clone(&executor), limit.clone(), Arc::clone(&meter));
            graph.add(Task::new("nests", move |_: &Context<'_>| {
                let mut inner = Graph::new();
                for index in 0..10 {
                    inner.add(metered(format!("inner{index}"), &meter, 100).limit(&limit));
                }
                let report = executor.run(&mut inner)?;
                if report.is_success() {
                    Ok(())
                } else {
                    Err(format!("{report:?}").into())
                }
            }));
        }
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report:?}");
        assert_eq!(meter.max(), 1);
        assert_eq!(limit.available(), 1);
    });
}

/// A limit must have a permit.
#[test]
#[should_panic(expected = "a limit needs at least one permit")]
fn a_limit_of_no_permits_is_refused() {
    let _ = Limit::new(0);
}

/// The names and signatures issue 10 fixes, checked at compile time.
#[test]
fn the_surface_of_priorities_weights_and_limits() {
    fn shared<T: Clone + Send + Sync + std::fmt::Debug + 'static>() {}
    shared::<Limit>();
    let _: fn(usize) -> Limit = Limit::new;
    let _: fn(Task<'static, ()>, &Limit) -> Task<'static, ()> = Task::limit;
    let _: fn(Task<'static, ()>, i32) -> Task<'static, ()> = Task::priority;
    let _: fn(Task<'static, ()>, u64) -> Task<'static, ()> = Task::weight;
    let _: fn(RunOptions, bool) -> RunOptions = RunOptions::critical_path;
    let limit = Limit::new(2);
    let clone = limit.clone();
    assert_eq!(limit, clone, "a clone is the same limit");
    assert_ne!(limit, Limit::new(2));
    assert_eq!(
        (clone.permits(), clone.available(), clone.waiting()),
        (2, 2, 0)
    );
}
