//! Tasks that add tasks: `Context::spawn` and `Context::join`, one test per
//! row of the semantics they promise, each under the watchdog.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::tasks::{counting, reading_count};
use common::{Meter, Signal, executor, keep_going, watchdog};
use taskflow_engine::{
    CancelToken, Context, Executor, Graph, GraphError, JoinError, Outcome, RunOptions, Task, TaskId,
};

/// The example of the issue and the README: a scan spawns compiles on
/// their own tag, joins them and passes on their outputs.
#[test]
fn a_scan_spawns_compiles_and_a_link_reads_the_scan() {
    watchdog(|| {
        let mut graph = Graph::new();
        let scan = graph.add(Task::new("scan src/", |cx: &Context<'_>| {
            let mut objects = Vec::new();
            for file in ["a.c", "b.c", "c.c"] {
                objects.push(
                    cx.spawn(
                        Task::new(format!("compile {file}"), move |_: &Context<'_>| {
                            Ok(format!("{file}.o"))
                        })
                        .tag("cpu"),
                    )?,
                );
            }
            cx.join()?;
            objects
                .iter()
                .map(|&object| cx.input(object).cloned())
                .collect::<Result<Vec<String>, _>>()
        }));
        let link = graph.add(
            Task::new("link", move |cx: &Context<'_>| {
                Ok(cx.input(scan)?.join(" "))
            })
            .after(scan),
        );
        let report = Executor::new().run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        assert_eq!(report.len(), 5);
        assert_eq!(
            graph.output(link).map(String::as_str),
            Some("a.c.o b.c.o c.c.o")
        );
    });
}

/// Row "the parent's dependents": they start only after the parent's body
/// returned and every descendant finished, without any join.
#[test]
fn dependents_wait_for_the_whole_subtree_without_a_join() {
    watchdog(|| {
        let finished = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        let counted = Arc::clone(&finished);
        let parent = graph.add(Task::new("parent", move |cx: &Context<'_>| {
            for _ in 0..20 {
                let counted = Arc::clone(&counted);
                cx.spawn(Task::new("child", move |cx: &Context<'_>| {
                    cx.spawn(counting("grandchild", &counted, Duration::from_millis(1)))?;
                    Ok(())
                }))?;
            }
            Ok(())
        }));
        let dependent = graph.add(reading_count("dependent", &finished).after(parent));
        for workers in [1, 2, 4] {
            finished.store(0, Ordering::SeqCst);
            let report = executor(workers).run(&mut graph).unwrap();
            assert!(report.is_success(), "{report}");
            assert_eq!(report.len(), 42);
            assert_eq!(graph.output(dependent), Some(&20), "at {workers} workers");
        }
    });
}

/// Row "a child fails or panics": it is reported by name with its own
/// message, its siblings run (KeepGoing), the sibling that named it and
/// the parent's dependents are skipped.
#[test]
fn a_child_panic_is_reported_by_name_while_its_siblings_finish() {
    watchdog(|| {
        let mut graph = Graph::new();
        let ran = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&ran);
        let handles = Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = Arc::clone(&handles);
        let parent = graph.add(Task::new("parent", move |cx: &Context<'_>| {
            let broken = cx.spawn(Task::new(
                "broken child",
                |_: &Context<'_>| -> Result<u8, _> { panic!("the child's own message") },
            ))?;
            let after_broken =
                cx.spawn(Task::new("after broken", |_: &Context<'_>| Ok(())).after(broken))?;
            let mut fine = Vec::new();
            for _ in 0..5 {
                fine.push(cx.spawn(counting("fine", &counted, Duration::ZERO))?);
            }
            kept.lock()
                .unwrap()
                .extend([broken.task_ref(), after_broken.task_ref()]);
            let refused = cx.join().unwrap_err();
            let refused = refused.downcast_ref::<JoinError>().expect("a JoinError");
            assert_eq!(
                refused.names().collect::<Vec<_>>(),
                ["broken child", "after broken"]
            );
            Ok(())
        }));
        let dependent = graph.add(Task::new("dependent", |_: &Context<'_>| Ok(())).after(parent));
        let report = executor(2).run_with(&mut graph, keep_going()).unwrap();
        assert_eq!(ran.load(Ordering::SeqCst), 5, "every other sibling ran");
        assert_eq!(report.len(), 9);
        assert_eq!(
            (report.succeeded(), report.failed(), report.skipped()),
            (6, 1, 2)
        );
        let handles = handles.lock().unwrap();
        let (task, name, error) = report.failures().next().unwrap();
        assert_eq!((task, name), (handles[0], "broken child"));
        assert!(
            error.to_string().contains("the child's own message"),
            "{error}"
        );
        assert!(matches!(report.outcome(handles[1]), Outcome::Skipped));
        assert!(matches!(report.outcome(dependent), Outcome::Skipped));
        assert!(report.outcome(parent).is_success());
    });
}

/// Row "a child fails" under FailFast: the run stops as for any failure;
/// children not started end cancelled.
#[test]
fn a_failing_child_stops_a_fail_fast_run() {
    watchdog(|| {
        let mut graph = Graph::new();
        let parent = graph.add(Task::new("parent", |cx: &Context<'_>| {
            cx.spawn(Task::new("fails", |_: &Context<'_>| -> Result<(), _> {
                Err("bad")?
            }))?;
            // Wait for the failure to stop the run before spawning more.
            assert!(cx.wait_cancelled(common::WAIT));
            for _ in 0..3 {
                cx.spawn(Task::new("too late", |_: &Context<'_>| Ok(())))?;
            }
            Ok(())
        }));
        let dependent = graph.add(Task::new("dependent", |_: &Context<'_>| Ok(())).after(parent));
        let report = executor(2).run(&mut graph).unwrap();
        assert_eq!(
            (report.failed(), report.cancelled(), report.skipped()),
            (1, 3, 1)
        );
        assert!(matches!(report.outcome(dependent), Outcome::Skipped));
    });
}

/// Row "the parent fails after spawning": its children still finish, its
/// dependents are skipped.
#[test]
fn a_parent_that_fails_after_spawning_lets_its_children_finish() {
    watchdog(|| {
        let mut graph = Graph::new();
        let ran = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&ran);
        let parent = graph.add(Task::new(
            "parent",
            move |cx: &Context<'_>| -> Result<(), _> {
                for _ in 0..4 {
                    cx.spawn(counting("child", &counted, Duration::ZERO))?;
                }
                Err("the parent gives up")?
            },
        ));
        let dependent = graph.add(Task::new("dependent", |_: &Context<'_>| Ok(())).after(parent));
        let report = executor(2).run_with(&mut graph, keep_going()).unwrap();
        assert_eq!(ran.load(Ordering::SeqCst), 4);
        assert_eq!(
            (report.succeeded(), report.failed(), report.skipped()),
            (4, 1, 1)
        );
        assert!(matches!(report.outcome(dependent), Outcome::Skipped));
    });
}

/// Row "cancellation": children see the run's token; those not started
/// when the run stops end cancelled.
#[test]
fn a_cancelled_run_with_children_in_flight() {
    watchdog(|| {
        let token = CancelToken::new();
        let started = Signal::new();
        let mut graph = Graph::new();
        let (cancel, seen) = (token.clone(), Arc::clone(&started));
        graph.add(Task::new("parent", move |cx: &Context<'_>| {
            let seen = Arc::clone(&seen);
            // In flight: waits for the cancellation.
            cx.spawn(
                Task::new("waits", move |cx: &Context<'_>| -> Result<(), _> {
                    seen.raise();
                    if cx.wait_cancelled(common::WAIT) {
                        return Err(taskflow_engine::Cancelled.into());
                    }
                    Err("never cancelled")?
                })
                .tag("other"),
            )?;
            started.wait()?;
            cancel.cancel();
            for _ in 0..10 {
                cx.spawn(Task::new("not started", |_: &Context<'_>| Ok(())))?;
            }
            Ok(())
        }));
        let report = executor(2)
            .run_with(&mut graph, RunOptions::new().cancel_token(token))
            .unwrap();
        assert_eq!(report.len(), 12);
        assert_eq!(
            (report.succeeded(), report.cancelled(), report.failed()),
            (1, 11, 0)
        );
    });
}

/// Row "outputs": a sibling that named a child reads it; a child may read
/// its parent's declared dependency; nothing else reads a child's output.
#[test]
fn outputs_flow_to_siblings_that_named_them_and_to_the_parent_after_join() {
    watchdog(|| {
        let mut graph = Graph::new();
        let base = graph.add(Task::new("base", |_: &Context<'_>| Ok(40u32)));
        let total = graph.add(
            Task::new("parent", move |cx: &Context<'_>| {
                let first = cx.spawn(
                    Task::new("first", move |cx: &Context<'_>| Ok(cx.input(base)? + 1)).after(base),
                )?;
                let second = cx.spawn(
                    Task::new("second", move |cx: &Context<'_>| Ok(cx.input(first)? + 1))
                        .after(first),
                )?;
                let nosy = cx.spawn(Task::new("nosy", move |cx: &Context<'_>| {
                    Ok(cx.input(first).is_err())
                }))?;
                assert!(cx.input(second).is_err(), "not readable before the join");
                cx.join()?;
                assert_eq!(
                    cx.input(nosy).ok(),
                    Some(&true),
                    "nosy could not read `first`"
                );
                Ok(*cx.input(second)?)
            })
            .after(base),
        );
        let report = executor(2).run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        assert_eq!(graph.output(total), Some(&42));
    });
}

/// `spawn` refuses a dependency that is neither an earlier sibling nor a
/// declared dependency of the parent, at once, adding nothing.
#[test]
fn spawn_refuses_foreign_dependencies() {
    watchdog(|| {
        let mut other = Graph::new();
        let foreign = other.add(Task::new("foreign", |_: &Context<'_>| Ok(())));
        let mut graph = Graph::new();
        let undeclared = graph.add(Task::new("undeclared", |_: &Context<'_>| Ok(())));
        let stolen: Arc<std::sync::Mutex<Option<TaskId<()>>>> = Arc::default();
        let keep = Arc::clone(&stolen);
        let first = graph.add(Task::new("first", move |cx: &Context<'_>| {
            *keep.lock().unwrap() = Some(cx.spawn(Task::new("a child", |_: &Context<'_>| Ok(())))?);
            Ok(())
        }));
        let check = Arc::clone(&stolen);
        graph.add(
            Task::new("second", move |cx: &Context<'_>| {
                let cousin = check.lock().unwrap().expect("the first ran before");
                for refused in [foreign.task_ref(), undeclared.task_ref(), cousin.task_ref()] {
                    let task = Task::new("refused", |_: &Context<'_>| Ok(())).after(refused);
                    assert!(matches!(cx.spawn(task), Err(GraphError::ForeignTask)));
                }
                Ok(())
            })
            .after(first),
        );
        let report = executor(1).run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        assert_eq!(report.len(), 4, "nothing refused was added");
    });
}

/// Row "a re-run": the next run calls the parent again, which spawns
/// afresh; a handle of the earlier run names nothing in the new report.
#[test]
fn spawned_tasks_belong_to_one_run() {
    watchdog(|| {
        let handles: Arc<std::sync::Mutex<Vec<TaskId<u32>>>> = Arc::default();
        let kept = Arc::clone(&handles);
        let mut graph = Graph::new();
        graph.add(Task::new("parent", move |cx: &Context<'_>| {
            kept.lock()
                .unwrap()
                .push(cx.spawn(Task::new("child", |_: &Context<'_>| Ok(7u32)))?);
            Ok(())
        }));
        let executor = executor(2);
        let first = executor.run(&mut graph).unwrap();
        let second = executor.run(&mut graph).unwrap();
        let handles = handles.lock().unwrap();
        assert_eq!((first.len(), second.len(), handles.len()), (2, 2, 2));
        assert!(first.outcome(handles[0]).is_success());
        assert!(second.outcome(handles[1]).is_success());
        assert!(first.get(handles[1]).is_none() && second.get(handles[0]).is_none());
        assert_eq!(
            second.iter().nth(1).map(|(task, _)| task),
            Some(handles[1].task_ref())
        );
    });
}

/// Row "join on a worker": a pool of one worker joins children of its own
/// tag, a second join with nothing new returns at once with the same
/// answer.
#[test]
fn a_one_worker_pool_joins_children_on_its_own_tag() {
    watchdog(|| {
        let mut graph = Graph::new();
        let sum = graph.add(Task::new("parent", |cx: &Context<'_>| {
            let children: Vec<TaskId<u64>> = (1..=100u64)
                .map(|n| cx.spawn(Task::new("child", move |_: &Context<'_>| Ok(n))))
                .collect::<Result<_, _>>()?;
            cx.join()?;
            cx.join()?;
            children
                .iter()
                .map(|&child| cx.input(child).copied())
                .sum::<Result<u64, _>>()
        }));
        graph.add(Task::new("elsewhere", |_: &Context<'_>| Ok(())).tag("io"));
        let report = executor(1).run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        assert_eq!(graph.output(sum), Some(&5050));
    });
}

/// Row "stack depth": a chain of 100,000 children, each spawning the next,
/// ends without growing the stack, on one worker and on two.
#[test]
fn a_spawn_chain_of_100_000_does_not_grow_the_stack() {
    fn link(left: u32, count: Arc<AtomicUsize>) -> Task<'static, ()> {
        Task::new("link", move |cx: &Context<'_>| {
            count.fetch_add(1, Ordering::Relaxed);
            if left > 0 {
                cx.spawn(link(left - 1, Arc::clone(&count)))?;
            }
            Ok(())
        })
    }
    watchdog(|| {
        for workers in [1, 2] {
            let count = Arc::new(AtomicUsize::new(0));
            let mut graph = Graph::new();
            let start = Arc::clone(&count);
            let root = graph.add(Task::new("root", move |cx: &Context<'_>| {
                cx.spawn(link(99_999, Arc::clone(&start)))?;
                Ok(())
            }));
            let seen = Arc::clone(&count);
            let after = graph.add(
                Task::new("after", move |_: &Context<'_>| {
                    Ok(seen.load(Ordering::Relaxed))
                })
                .after(root),
            );
            let report = executor(workers).run(&mut graph).unwrap();
            assert!(report.is_success(), "{report}");
            assert_eq!(report.len(), 100_002);
            assert_eq!(graph.output(after), Some(&100_000));
        }
    });
}

/// A recursive binary fan-out of 2^16 spawned tasks, each joining its two
/// children and adding their sums: the sum is checked.
#[test]
fn a_recursive_fan_out_of_2_pow_16_sums_correctly() {
    fn range_sum(low: u64, high: u64) -> Task<'static, u64> {
        Task::new("range", move |cx: &Context<'_>| {
            if high - low == 1 {
                return Ok(low);
            }
            let middle = low + (high - low) / 2;
            let left = cx.spawn(range_sum(low, middle))?;
            let right = cx.spawn(range_sum(middle, high))?;
            cx.join()?;
            Ok(cx.input(left)? + cx.input(right)?)
        })
    }
    watchdog(|| {
        const LEAVES: u64 = 1 << 15;
        for workers in [1, 2, 3] {
            let mut graph = Graph::new();
            let root = graph.add(Task::new("root", |cx: &Context<'_>| {
                let all = cx.spawn(range_sum(0, LEAVES))?;
                cx.join()?;
                Ok(*cx.input(all)?)
            }));
            let report = executor(workers).run(&mut graph).unwrap();
            assert!(report.is_success(), "{report}");
            // 2^16 - 1 spawned tasks of the tree, and the root.
            assert_eq!(report.len(), 1 << 16);
            assert_eq!(graph.output(root), Some(&(LEAVES * (LEAVES - 1) / 2)));
        }
    });
}

/// Row "tag limits while helping": a pool never runs more bodies at once
/// than it has workers (a helping worker counts as one, its wait being in
/// a body that does not run meanwhile), and no worker runs another tag's
/// task.
#[test]
fn helping_keeps_tag_limits() {
    watchdog(|| {
        let (cpu, io) = (Meter::new(), Meter::new());
        let mut graph = Graph::new();
        let (outer_cpu, outer_io) = (Arc::clone(&cpu), Arc::clone(&io));
        graph.add(
            Task::new("parent", move |cx: &Context<'_>| {
                for n in 0..64 {
                    let (meter, tag) = if n % 2 == 0 {
                        (Arc::clone(&outer_cpu), "cpu")
                    } else {
                        (Arc::clone(&outer_io), "io")
                    };
                    cx.spawn(
                        Task::new("leaf", move |cx: &Context<'_>| {
                            let _inside = meter.enter();
                            std::thread::sleep(Duration::from_micros(200));
                            assert_eq!(cx.tag().as_str(), tag);
                            let thread = std::thread::current();
                            let on = thread.name().unwrap_or_default();
                            assert!(on.starts_with(&format!("taskflow-{tag}-")), "{on}");
                            Ok(())
                        })
                        .tag(tag),
                    )?;
                }
                cx.join()?;
                Ok(())
            })
            .tag("cpu"),
        );
        let executor = Executor::builder()
            .tag_workers("cpu", 2)
            .tag_workers("io", 1)
            .build()
            .unwrap();
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        assert!(
            cpu.max() <= 2,
            "at most 2 cpu leaves at once: {}",
            cpu.max()
        );
        assert!(io.max() <= 1, "at most 1 io leaf at once: {}", io.max());
    });
}

/// Row "waiting": a join with nothing it may help with sleeps, using no
/// CPU, until its child (on another pool) ends.
#[cfg(target_os = "linux")]
#[test]
fn a_blocked_join_costs_no_cpu() {
    use common::thread_cpu_time;
    watchdog(|| {
        let mut graph = Graph::new();
        let spent = graph.add(Task::new("parent", |cx: &Context<'_>| {
            cx.spawn(
                Task::new("slow", |_: &Context<'_>| {
                    std::thread::sleep(Duration::from_millis(300));
                    Ok(())
                })
                .tag("io"),
            )?;
            let before = thread_cpu_time();
            cx.join()?;
            Ok(thread_cpu_time() - before)
        }));
        let report = executor(1).run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        let spent = *graph.output(spent).unwrap();
        assert!(
            spent < Duration::from_millis(30),
            "the join spun: {spent:?} of CPU in 300 ms"
        );
    });
}

/// Two pools of one worker, each running a task that joins a child on the
/// other's tag, both joining at once: each child waits in a pool whose
/// only worker waits. A pool whose every worker waits lets a blocked wait
/// run such work, so both joins end.
#[test]
fn crossed_joins_on_two_one_worker_pools_end() {
    watchdog(|| {
        let both_spawned = common::Rendezvous::new(2);
        let mut graph = Graph::new();
        for (home, away) in [("a", "b"), ("b", "a")] {
            let both_spawned = Arc::clone(&both_spawned);
            graph.add(
                Task::new("crossed", move |cx: &Context<'_>| {
                    let child =
                        cx.spawn(Task::new("child", |_: &Context<'_>| Ok(1u32)).tag(away))?;
                    both_spawned.meet()?;
                    cx.join()?;
                    Ok(*cx.input(child)?)
                })
                .tag(home),
            );
        }
        let report = executor(1).run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        assert_eq!(report.len(), 4);
    });
}

/// A task of one tag joins a child of another tag whose own child runs
/// back on the first tag: on a pool of one worker only the joining worker
/// can run that grandchild, and it does (it queues with its nearest
/// ancestor of its tag).
#[test]
fn a_join_runs_a_grandchild_of_its_own_tag_under_a_child_of_another() {
    watchdog(|| {
        let mut graph = Graph::new();
        graph.add(
            Task::new("cpu parent", |cx: &Context<'_>| {
                cx.spawn(
                    Task::new("io child", |cx: &Context<'_>| {
                        cx.spawn(Task::new("cpu grandchild", |_: &Context<'_>| Ok(())).tag("cpu"))?;
                        Ok(())
                    })
                    .tag("io"),
                )?;
                cx.join()
            })
            .tag("cpu"),
        );
        let report = executor(1).run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        assert_eq!(report.len(), 3);
    });
}

/// A parent spawns a chain of 300,000 siblings, each `after` the one
/// before, and joins: the end of each releases the next in constant time
/// (a table of waiting siblings scanned at every end made this quadratic:
/// over a minute instead of a fraction of a second; reviewer's test).
#[test]
fn a_chain_of_300_000_spawned_siblings_ends_in_linear_time() {
    watchdog(|| {
        const LINKS: usize = 300_000;
        let ran = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&ran);
        let mut graph = Graph::new();
        graph.add(Task::new("parent", move |cx: &Context<'_>| {
            let mut previous = None;
            for _ in 0..LINKS {
                let counted = Arc::clone(&counted);
                let mut link = Task::new("link", move |_: &Context<'_>| {
                    counted.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                });
                if let Some(previous) = previous {
                    link = link.after(previous);
                }
                previous = Some(cx.spawn(link)?);
            }
            cx.join()?;
            Ok(())
        }));
        let report = executor(1).run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        assert_eq!(report.len(), LINKS + 1);
        assert_eq!(ran.load(Ordering::Relaxed), LINKS);
    });
}
