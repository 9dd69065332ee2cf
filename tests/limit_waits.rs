//! Limits and waits that help: a task woken by a returned permit while the
//! workers of its pool wait inside tasks (nested runs, joins), and a wait
//! that needs a permit its own caller holds. Every test runs under the
//! watchdog: a hang is a failure.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{wait_until, watchdog};
use taskflow_engine::{Context, Error, Executor, Graph, GraphError, Limit, Task};

/// An executor with `cpu` workers for the default tag and one for `io`.
fn executor_of(cpu: usize) -> Arc<Executor> {
    Arc::new(
        Executor::builder()
            .workers_per_tag(cpu)
            .tag_workers("io", 1)
            .build()
            .expect("an executor"),
    )
}

/// A task on `io` that takes `limit`'s only permit and keeps it until
/// `waiting` tasks wait for it.
fn holder(limit: &Limit, waiting: usize) -> Task<'static, ()> {
    let watched = limit.clone();
    Task::new("holder", move |_: &Context<'_>| {
        wait_until("tasks waiting for the permit", || {
            watched.waiting() == waiting
        })
    })
    .tag("io")
    .limit(limit)
}

/// A task of the default tag that ends once `limit`'s permit is held: the
/// tasks after it start only then.
fn opener(limit: &Limit) -> Task<'static, ()> {
    let watched = limit.clone();
    Task::new("opener", move |_: &Context<'_>| {
        wait_until("the holder's permit", || watched.available() == 0)
    })
}

/// Runs, on `executor`, a graph of one task of the default tag that needs
/// `limit` and raises `ran`; fails unless it succeeded.
fn run_nested(executor: &Executor, limit: &Limit, ran: &Arc<AtomicBool>) -> Result<(), Error> {
    let mut inner = Graph::new();
    let ran = Arc::clone(ran);
    inner.add(
        Task::new("nested", move |_: &Context<'_>| {
            ran.store(true, Ordering::SeqCst);
            Ok(())
        })
        .limit(limit),
    );
    let report = executor.run(&mut inner)?;
    if report.is_success() {
        Ok(())
    } else {
        Err(format!("the nested run failed: {report:?}").into())
    }
}

/// A task that, once `limit`'s permit is held, runs [`run_nested`].
fn nests(
    name: &str,
    executor: &Arc<Executor>,
    limit: &Limit,
    ran: &Arc<AtomicBool>,
) -> Task<'static, ()> {
    let (executor, limit, ran) = (Arc::clone(executor), limit.clone(), Arc::clone(ran));
    Task::new(name.to_owned(), move |_: &Context<'_>| {
        wait_until("the holder's permit", || limit.available() == 0)?;
        run_nested(&executor, &limit, &ran)
    })
}

/// The nested run's task waits for the permit on the worker that runs the
/// nested graph, while the pool's other worker is busy until that task
/// ran. The returned permit wakes the nested task, which must go back to
/// the wait that covers it (the nested run's own queue on that worker):
/// sent to the pool's ordinary queue, only the busy worker could take it,
/// and that worker waits for it (it gave up after the rendezvous timeout,
/// failing the run, before the fix).
#[test]
fn a_nested_runs_woken_task_goes_back_to_its_waiting_worker() {
    watchdog(|| {
        let executor = executor_of(2);
        let limit = Limit::new(1);
        let ran = Arc::new(AtomicBool::new(false));
        let mut graph = Graph::new();
        graph.add(holder(&limit, 1));
        graph.add(nests("nests", &executor, &limit, &ran));
        let seen = Arc::clone(&ran);
        graph.add(Task::new("busy", move |_: &Context<'_>| {
            wait_until("the nested task ran", || seen.load(Ordering::SeqCst))
        }));
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report:?}");
        assert_eq!((limit.available(), limit.waiting()), (1, 0));
    });
}

/// Every worker of the pool waits in a nested run whose task waits behind
/// an outer task `T` of the same pool for the one permit: the returned
/// permit wakes `T` while no worker of its pool is free, and a blocked
/// wait must run it (then each nested task in turn).
#[test]
fn a_woken_task_runs_while_every_worker_of_its_pool_waits_in_nested_runs() {
    for workers in [1, 2] {
        watchdog(move || {
            let executor = executor_of(workers);
            let limit = Limit::new(1);
            let mut graph = Graph::new();
            // T, then one nested task per worker, wait for the holder.
            graph.add(holder(&limit, 1 + workers));
            let open = graph.add(opener(&limit));
            // T starts first (on one worker, strictly so), and waits.
            graph.add(
                Task::new("T", |_: &Context<'_>| Ok(()))
                    .limit(&limit)
                    .priority(1)
                    .after(open),
            );
            let flags: Vec<_> = (0..workers)
                .map(|_| Arc::new(AtomicBool::new(false)))
                .collect();
            for (index, ran) in flags.iter().enumerate() {
                let (executor, limit, ran) =
                    (Arc::clone(&executor), limit.clone(), Arc::clone(ran));
                graph.add(
                    Task::new(format!("nests{index}"), move |_: &Context<'_>| {
                        // After T waits, so that the nested tasks queue behind it.
                        wait_until("T waiting", || limit.waiting() >= 1)?;
                        run_nested(&executor, &limit, &ran)
                    })
                    .after(open),
                );
            }
            let report = executor.run(&mut graph).unwrap();
            assert!(report.is_success(), "{workers} workers: {report:?}");
            assert!(flags.iter().all(|ran| ran.load(Ordering::SeqCst)));
            assert_eq!((limit.available(), limit.waiting()), (1, 0));
        });
    }
}

/// The pool's only worker joins a child that runs a nested graph whose
/// task waits behind an outer task `T` of the same pool for the permit:
/// the worker blocks in a nested run inside a join, and must still run
/// the woken `T` and then the woken nested task.
#[test]
fn a_woken_task_runs_while_the_only_worker_joins() {
    watchdog(|| {
        let executor = executor_of(1);
        let limit = Limit::new(1);
        let ran = Arc::new(AtomicBool::new(false));
        let mut graph = Graph::new();
        graph.add(holder(&limit, 2));
        let open = graph.add(opener(&limit));
        // T starts first (on one worker, strictly so), and waits.
        graph.add(
            Task::new("T", |_: &Context<'_>| Ok(()))
                .limit(&limit)
                .priority(1)
                .after(open),
        );
        let (nested_executor, nested_limit, nested_ran) =
            (Arc::clone(&executor), limit.clone(), Arc::clone(&ran));
        graph.add(
            Task::new("joins", move |cx: &Context<'_>| {
                wait_until("T waiting", || nested_limit.waiting() >= 1)?;
                let (executor, limit, ran) = (
                    Arc::clone(&nested_executor),
                    nested_limit.clone(),
                    Arc::clone(&nested_ran),
                );
                cx.spawn(Task::new("child", move |_: &Context<'_>| {
                    run_nested(&executor, &limit, &ran)
                }))?;
                cx.join()
            })
            .after(open),
        );
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report:?}");
        assert!(ran.load(Ordering::SeqCst));
        assert_eq!((limit.available(), limit.waiting()), (1, 0));
    });
}

/// Spawned tasks are not steered: a child given a priority, a weight or a
/// limit is refused at once with `GraphError::SteeredSpawn`, naming the
/// child and the setting, and nothing is added; a child without them is
/// spawned as usual, and the run goes on.
#[test]
fn a_spawned_task_with_a_priority_a_weight_or_a_limit_is_refused() {
    watchdog(|| {
        let limit = Limit::new(1);
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut graph = Graph::new();
        let parent = {
            let (limit, seen) = (limit.clone(), Arc::clone(&seen));
            graph.add(Task::new("parent", move |cx: &Context<'_>| {
                let child = |name: &'static str| Task::new(name, |_: &Context<'_>| Ok(()));
                for refused in [
                    child("prioritised").priority(3),
                    child("weighed").weight(40),
                    child("limited").limit(&limit),
                    // The first setting in the order priority, weight, limit.
                    child("all three").limit(&limit).weight(2).priority(-1),
                ] {
                    match cx.spawn(refused) {
                        Err(error @ GraphError::SteeredSpawn { .. }) => {
                            seen.lock().unwrap().push(error.to_string());
                        }
                        other => return Err(format!("not refused: {other:?}").into()),
                    }
                }
                // The defaults set explicitly are no steering.
                cx.spawn(child("plain").priority(0).weight(1))?;
                cx.join()
            }))
        };
        let report = common::executor(2).run(&mut graph).unwrap();
        assert!(report.outcome(parent).is_success(), "{report:?}");
        assert_eq!(
            report.len(),
            2,
            "only the plain child was added: {report:?}"
        );
        assert_eq!(
            *seen.lock().unwrap(),
            [
                "the spawned task `prioritised` has a priority, which only tasks of the graph can have",
                "the spawned task `weighed` has a weight, which only tasks of the graph can have",
                "the spawned task `limited` has a limit, which only tasks of the graph can have",
                "the spawned task `all three` has a priority, which only tasks of the graph can have",
            ]
        );
        assert_eq!((limit.available(), limit.waiting()), (1, 0));
    });
}

/// The refusal's fields, for a caller that matches on them.
#[test]
fn a_refused_spawn_names_the_task_and_the_setting() {
    watchdog(|| {
        let limit = Limit::new(2);
        let mut graph = Graph::new();
        let parent = graph.add(Task::new("parent", move |cx: &Context<'_>| {
            match cx.spawn(Task::new("link", |_: &Context<'_>| Ok(())).limit(&limit)) {
                Err(GraphError::SteeredSpawn { task, setting }) => {
                    assert_eq!((task.as_str(), setting), ("link", "limit"));
                    Ok(())
                }
                other => Err(format!("not refused: {other:?}").into()),
            }
        }));
        let report = common::executor(1).run(&mut graph).unwrap();
        assert!(report.outcome(parent).is_success(), "{report:?}");
        assert_eq!(report.len(), 1);
    });
}

/// Runs, on `executor`, a graph of one task named `name` that needs
/// `limit`, and returns the run's error, if any (the task must succeed
/// otherwise).
fn run_needing(executor: &Executor, limit: &Limit, name: &'static str) -> Option<GraphError> {
    let mut inner = Graph::new();
    inner.add(Task::new(name, |_: &Context<'_>| Ok(())).limit(limit));
    match executor.run(&mut inner) {
        Ok(report) => {
            assert!(report.is_success(), "{report:?}");
            None
        }
        Err(error) => Some(error),
    }
}

/// A task that holds a limit's only permit runs a graph whose task needs
/// the same limit: that task could never start (the caller keeps the
/// permit until the run returns), so the run is refused at once with a
/// typed error that names the task, instead of hanging; the permit is
/// back after the run.
#[test]
fn a_nested_run_needing_a_permit_its_caller_holds_is_refused() {
    for workers in [1, 2] {
        watchdog(move || {
            let executor = Arc::new(common::executor(workers));
            let limit = Limit::new(1);
            let refusal = Arc::new(std::sync::Mutex::new(None));
            let mut graph = Graph::new();
            let (inner, held, seen) = (Arc::clone(&executor), limit.clone(), Arc::clone(&refusal));
            graph.add(
                Task::new("holder", move |_: &Context<'_>| {
                    *seen.lock().unwrap() = run_needing(&inner, &held, "link");
                    Ok(())
                })
                .limit(&limit),
            );
            let report = executor.run(&mut graph).unwrap();
            assert!(report.is_success(), "{report:?}");
            let refusal = refusal.lock().unwrap().take();
            match &refusal {
                Some(GraphError::LimitHeldByCaller { task }) => assert_eq!(task, "link"),
                other => panic!("not refused: {other:?}"),
            }
            assert_eq!(
                refusal.unwrap().to_string(),
                "the task `link` needs a limit whose every permit its caller holds while it \
                 waits for the run: it could never start"
            );
            assert_eq!((limit.available(), limit.waiting()), (1, 0));
        });
    }
}

/// With a permit left that the caller does not hold, the nested task
/// takes it: only a limit held entirely by the waiting tasks is refused.
#[test]
fn a_nested_run_takes_a_permit_its_caller_does_not_hold() {
    watchdog(|| {
        let executor = Arc::new(common::executor(2));
        let limit = Limit::new(2);
        let refusal = Arc::new(std::sync::Mutex::new(Some(GraphError::ForeignTask)));
        let mut graph = Graph::new();
        let (inner, held, seen) = (Arc::clone(&executor), limit.clone(), Arc::clone(&refusal));
        graph.add(
            Task::new("holder", move |_: &Context<'_>| {
                *seen.lock().unwrap() = run_needing(&inner, &held, "link");
                Ok(())
            })
            .limit(&limit),
        );
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report:?}");
        assert!(refusal.lock().unwrap().is_none(), "{refusal:?}");
        assert_eq!(limit.available(), 2);
    });
}

/// The permits that wait for a run add up through nested runs and across
/// threads: `outer` holds one permit of a `Limit::new(2)` and runs a graph
/// whose task `middle`, on another tag (so another worker's thread), holds
/// the other and runs a graph that needs the limit: both holders wait for
/// it, so it is refused. A `middle` without the limit, whose nested task
/// then finds a permit free, runs it.
#[test]
fn the_holds_of_every_waiting_caller_count() {
    for middle_holds in [true, false] {
        watchdog(move || {
            let executor = Arc::new(common::executor(1));
            let limit = Limit::new(2);
            let refusal = Arc::new(std::sync::Mutex::new(Some(GraphError::ForeignTask)));
            let mut graph = Graph::new();
            let (inner, held, seen) = (Arc::clone(&executor), limit.clone(), Arc::clone(&refusal));
            graph.add(
                Task::new("outer", move |_: &Context<'_>| {
                    let mut middle_graph = Graph::new();
                    let (innermost, needed, seen) =
                        (Arc::clone(&inner), held.clone(), Arc::clone(&seen));
                    let middle = Task::new("middle", move |_: &Context<'_>| {
                        *seen.lock().unwrap() = run_needing(&innermost, &needed, "link");
                        Ok(())
                    })
                    .tag("other");
                    middle_graph.add(if middle_holds {
                        middle.limit(&held)
                    } else {
                        middle
                    });
                    let report = inner.run(&mut middle_graph)?;
                    if report.is_success() {
                        Ok(())
                    } else {
                        Err(format!("{report:?}").into())
                    }
                })
                .limit(&limit),
            );
            let report = executor.run(&mut graph).unwrap();
            assert!(report.is_success(), "{report:?}");
            let refusal = refusal.lock().unwrap().take();
            if middle_holds {
                assert!(
                    matches!(&refusal, Some(GraphError::LimitHeldByCaller { task }) if task == "link"),
                    "{refusal:?}"
                );
            } else {
                assert!(refusal.is_none(), "{refusal:?}");
            }
            assert_eq!((limit.available(), limit.waiting()), (2, 0));
        });
    }
}

/// A task that holds the only permit joins a child that runs a graph
/// needing the limit. On a pool of one worker the child runs on the
/// joining worker, above the waiting holder on its stack, so the run is
/// refused as for a run started by the holder itself. (On another worker
/// it is not seen: see `Limit`'s docs.)
#[test]
fn a_joined_child_on_the_holders_worker_cannot_run_a_graph_needing_its_permit() {
    watchdog(|| {
        let executor = Arc::new(common::executor(1));
        let limit = Limit::new(1);
        let refusal = Arc::new(std::sync::Mutex::new(None));
        let mut graph = Graph::new();
        let (inner, held, seen) = (Arc::clone(&executor), limit.clone(), Arc::clone(&refusal));
        graph.add(
            Task::new("holder", move |cx: &Context<'_>| {
                let (inner, held, seen) = (Arc::clone(&inner), held.clone(), Arc::clone(&seen));
                cx.spawn(Task::new("child", move |_: &Context<'_>| {
                    *seen.lock().unwrap() = run_needing(&inner, &held, "link");
                    Ok(())
                }))?;
                cx.join()
            })
            .limit(&limit),
        );
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report:?}");
        let refusal = refusal.lock().unwrap().take();
        assert!(
            matches!(&refusal, Some(GraphError::LimitHeldByCaller { task }) if task == "link"),
            "{refusal:?}"
        );
        assert_eq!((limit.available(), limit.waiting()), (1, 0));
    });
}

/// A task whose limit is full waits without holding a worker: on a pool
/// of one worker, `T` (first, by priority) waits for the holder's permit,
/// and the worker runs `other` meanwhile, which the holder waits for
/// before it lets the permit go.
#[test]
fn a_waiting_task_leaves_its_only_worker_to_other_work() {
    watchdog(|| {
        let executor = executor_of(1);
        let limit = Limit::new(1);
        let other_ran = Arc::new(AtomicBool::new(false));
        let mut graph = Graph::new();
        let (watched, seen) = (limit.clone(), Arc::clone(&other_ran));
        graph.add(
            Task::new("holder", move |_: &Context<'_>| {
                wait_until("T waiting and `other` run", || {
                    watched.waiting() == 1 && seen.load(Ordering::SeqCst)
                })
            })
            .tag("io")
            .limit(&limit),
        );
        let open = graph.add(opener(&limit));
        let waiter = graph.add(
            Task::new("T", |_: &Context<'_>| Ok(()))
                .limit(&limit)
                .priority(1)
                .after(open),
        );
        let ran = Arc::clone(&other_ran);
        graph.add(
            Task::new("other", move |_: &Context<'_>| {
                ran.store(true, Ordering::SeqCst);
                Ok(())
            })
            .after(open),
        );
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report:?}");
        assert!(report.outcome(waiter).is_success());
        assert_eq!((limit.available(), limit.waiting()), (1, 0));
    });
}
