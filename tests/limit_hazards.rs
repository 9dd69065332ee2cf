//! Limits where they are easiest to get wrong: tasks that wait for a
//! permit while nested runs, other executors, deadlines and fail-fast
//! stops need it. Each of these deadlocked or returned late before the
//! rule that a waiting task holds nothing, and the watchdog turns a hang
//! into a failure.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Signal, executor, wait_until, watchdog};
use taskflow_engine::{
    Context, Error, Executor, FailurePolicy, Graph, Limit, Outcome, RunHandle, RunOptions, Task,
};

/// Runs a one-task graph whose task has `limit`, on the pool `inner` of
/// `executor`; `Err` if that task did not succeed.
fn run_nested(executor: &Executor, limit: &Limit) -> Result<(), Error> {
    let mut inner = Graph::new();
    let task = inner.add(
        Task::new("inner", |_: &Context<'_>| Ok(()))
            .tag("inner")
            .limit(limit),
    );
    let report = executor.run(&mut inner).expect("a valid graph");
    if report.outcome(task).is_success() {
        Ok(())
    } else {
        Err("the nested task failed".into())
    }
}

/// `P` has limits `b` (taken first) and `a`; `a` is held by `O`, so `P`
/// waits. While it waits, `O` runs a nested graph whose one task needs `b`,
/// which no running body holds: it must get it (a task waiting at `a` that
/// kept `b` would make it wait for ever).
#[test]
fn a_task_waiting_at_one_limit_holds_none_of_the_others() {
    watchdog(|| {
        let b = Limit::new(1); // made first: taken first
        let a = Limit::new(1);
        let executor = Arc::new(
            Executor::builder()
                .workers_per_tag(3)
                .tag_workers("inner", 1)
                .build()
                .unwrap(),
        );
        let mut graph = Graph::new();
        let outer = {
            let (executor, a_seen, b_used) = (Arc::clone(&executor), a.clone(), b.clone());
            graph.add(
                Task::new("O", move |_: &Context<'_>| {
                    wait_until("P waiting at a", || a_seen.waiting() == 1)?;
                    if b_used.available() != 1 {
                        return Err("the waiting P holds b".into());
                    }
                    run_nested(&executor, &b_used)
                })
                .limit(&a),
            )
        };
        let watched = a.clone();
        let opener = graph.add(Task::new("opener", move |_: &Context<'_>| {
            wait_until("O holds a", || watched.available() == 0)
        }));
        graph.add(
            Task::new("P", |_: &Context<'_>| Ok(()))
                .limit(&a)
                .limit(&b)
                .after(opener),
        );
        let report = executor.run(&mut graph).unwrap();
        assert!(report.outcome(outer).is_success(), "{report:?}");
        assert!(report.is_success(), "{report:?}");
        assert_eq!((a.available(), b.available()), (1, 1));
    });
}

/// `H` holds the permit while `T` (of the outer pool) and `B`'s nested task
/// wait for it. When `H` returns, its permit wakes `T`, but both workers of
/// the outer pool are busy with `B` and `O`, which wait for nested tasks
/// needing the same permit. A woken task holds nothing until a worker
/// picks it up, so `O`'s nested task takes the free permit and everything
/// finishes (a permit handed to the queued `T` deadlocked this).
#[test]
fn a_permit_is_not_held_by_a_woken_task_that_waits_for_a_worker() {
    watchdog(|| {
        let limit = Limit::new(1);
        let executor = Arc::new(
            Executor::builder()
                .workers_per_tag(2)
                .tag_workers("inner", 2)
                .build()
                .unwrap(),
        );
        let mut graph = Graph::new();
        let watched = limit.clone();
        let holder = graph.add(
            Task::new("H", move |_: &Context<'_>| {
                wait_until("T and B's nested task waiting", || watched.waiting() == 2)
            })
            .limit(&limit),
        );
        graph.add(Task::new("T", |_: &Context<'_>| Ok(())).limit(&limit));
        let nest = |name: &'static str| {
            let (executor, limit) = (Arc::clone(&executor), limit.clone());
            Task::new(name, move |_: &Context<'_>| run_nested(&executor, &limit))
        };
        graph.add(nest("B"));
        graph.add(nest("O").after(holder));
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report:?}");
        assert_eq!((limit.available(), limit.waiting()), (1, 0));
    });
}

/// A graph of one holder that keeps `limit`'s only permit until `release`
/// is raised.
fn holder_until(limit: &Limit, release: &Arc<Signal>) -> Graph<'static> {
    let mut holder = Graph::new();
    let release = Arc::clone(release);
    holder.add(Task::new("holder", move |_: &Context<'_>| release.wait()).limit(limit));
    holder
}

/// A limit of one permit, held by a run submitted to `executor` until the
/// returned signal is raised; returns once the permit is held.
fn permit_held_elsewhere(executor: &Executor) -> (Limit, Arc<Signal>, RunHandle) {
    let limit = Limit::new(1);
    let release = Signal::new();
    let holding = executor.submit(holder_until(&limit, &release), RunOptions::new());
    wait_until("the holder's permit", || limit.available() == 0).unwrap();
    (limit, release, holding)
}

/// Lets the holder of [`permit_held_elsewhere`] go: its run succeeds and
/// the limit ends full, with nothing waiting.
fn release_holder(limit: &Limit, release: &Signal, holding: RunHandle) {
    release.raise();
    let (_, holder_report) = holding.wait();
    assert!(holder_report.is_success(), "{holder_report:?}");
    assert_eq!((limit.available(), limit.waiting()), (1, 0));
}

/// A run past its deadline whose task waits for a permit that another run
/// holds returns at its deadline, without waiting for that permit: the
/// holder lets go only after the run returned, so a run that waited for
/// the permit would never return.
#[test]
fn a_deadline_takes_waiting_tasks_out_at_the_deadline() {
    watchdog(|| {
        let executor = executor(2);
        let (limit, release, holding) = permit_held_elsewhere(&executor);
        let mut graph = Graph::new();
        let waiter = graph.add(Task::new("w", |_: &Context<'_>| Ok(())).limit(&limit));
        let deadline = Instant::now() + Duration::from_millis(50);
        let report = executor
            .run_with(&mut graph, RunOptions::new().deadline(deadline))
            .unwrap();
        assert!(Instant::now() >= deadline);
        assert!(
            matches!(report.outcome(waiter), Outcome::Cancelled),
            "{report:?}"
        );
        assert_eq!(limit.waiting(), 0);
        release_holder(&limit, &release, holding);
    });
}

/// The same for a submitted run whose handle waits for it.
#[test]
fn a_submitted_run_waited_for_takes_waiting_tasks_out_at_its_deadline() {
    watchdog(|| {
        let executor = executor(2);
        let (limit, release, holding) = permit_held_elsewhere(&executor);
        let mut graph = Graph::new();
        let waiter = graph.add(Task::new("w", |_: &Context<'_>| Ok(())).limit(&limit));
        let deadline = Instant::now() + Duration::from_millis(50);
        let handle = executor.submit(graph, RunOptions::new().deadline(deadline));
        let (_, report) = handle.wait();
        assert!(
            matches!(report.outcome(waiter), Outcome::Cancelled),
            "{report:?}"
        );
        release_holder(&limit, &release, holding);
    });
}

/// One limit shared by runs on two executors: a release on one executor's
/// worker wakes a task of the other's run, which then runs on its own
/// executor; the limit is never exceeded and ends full.
#[test]
fn a_limit_across_two_executors() {
    watchdog(|| {
        let limit = Limit::new(1);
        let meter = common::Meter::new();
        let graph_of = |name: &str| {
            let mut graph = Graph::new();
            for index in 0..50 {
                let meter = Arc::clone(&meter);
                graph.add(
                    Task::new(format!("{name}{index}"), move |_: &Context<'_>| {
                        let _inside = meter.enter();
                        std::thread::sleep(Duration::from_micros(50));
                        Ok(())
                    })
                    .limit(&limit),
                );
            }
            graph
        };
        let (first, second) = (executor(2), executor(2));
        let one = first.submit(graph_of("one"), RunOptions::new());
        let two = second.submit(graph_of("two"), RunOptions::new());
        assert!(one.wait().1.is_success());
        assert!(two.wait().1.is_success());
        assert_eq!(meter.max(), 1);
        assert_eq!((limit.available(), limit.waiting()), (1, 0));
    });
}

/// An executor dropped while a task of a run submitted to it waits for a
/// permit that a run of another executor holds: the drop waits for that
/// run, which finishes once the other run lets go of the permit (whose
/// release wakes the waiting task from the other executor's worker), and
/// the dropped executor's pool outlives the wake-up.
#[test]
fn an_executor_dropped_while_its_task_waits() {
    watchdog(|| {
        let holders = executor(1);
        let (limit, release, holding) = permit_held_elsewhere(&holders);
        let waiters = executor(2);
        let mut graph = Graph::new();
        graph.add(Task::new("w", |_: &Context<'_>| Ok(())).limit(&limit));
        drop(waiters.submit(graph, RunOptions::new()));
        wait_until("w waiting", || limit.waiting() == 1).unwrap();
        let raise = {
            let release = Arc::clone(&release);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                release.raise();
            })
        };
        drop(waiters);
        raise.join().unwrap();
        assert!(holding.wait().1.is_success());
        assert_eq!((limit.available(), limit.waiting()), (1, 0));
    });
}

/// A task with two limits panics under fail-fast while tasks wait for
/// them: the run returns, the waiting tasks end cancelled without running,
/// and both limits are full.
#[test]
fn a_panic_under_fail_fast_while_holding_permits() {
    watchdog(|| {
        let wide = Limit::new(2); // taken first
        let narrow = Limit::new(1);
        let mut graph = Graph::new();
        let (watched, wide_watched) = (narrow.clone(), wide.clone());
        let panicking = graph.add(
            Task::new("panics", move |_: &Context<'_>| -> Result<(), _> {
                let waiting = || watched.waiting() + wide_watched.waiting() == 8;
                wait_until("8 waiting", waiting).unwrap();
                panic!("a task panics while it holds two permits")
            })
            .limit(&wide)
            .limit(&narrow),
        );
        let opener = {
            let watched = narrow.clone();
            graph.add(Task::new("opener", move |_: &Context<'_>| {
                wait_until("the narrow permit held", || watched.available() == 0)
            }))
        };
        let mut waiters = Vec::new();
        for index in 0..8 {
            let task = Task::new(format!("w{index}"), |_: &Context<'_>| Ok(()));
            waiters.push(graph.add(task.limit(&wide).limit(&narrow).after(opener)));
        }
        let options = RunOptions::new().policy(FailurePolicy::FailFast);
        let report = executor(3).run_with(&mut graph, options).unwrap();
        assert!(
            matches!(report.outcome(panicking), Outcome::Failed(_)),
            "{report:?}"
        );
        for task in waiters {
            assert!(
                matches!(report.outcome(task), Outcome::Cancelled),
                "{report:?}"
            );
        }
        assert_eq!((wide.available(), narrow.available()), (2, 1));
        assert_eq!((wide.waiting(), narrow.waiting()), (0, 0));
    });
}
