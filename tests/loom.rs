//! Model checks of the scheduling protocol with loom.
//!
//! Run with
//!
//! ```text
//! RUSTFLAGS="--cfg taskflow_loom" cargo test --release --test loom
//! ```
//!
//! Under `taskflow_loom` every atomic, lock, condition variable, thread and
//! `UnsafeCell` of the engine is loom's (see `src/sync.rs`), and the work
//! queues are a loom-visible stand-in with the same behaviour as the real
//! ones (LIFO pop and FIFO steal for a pool of several workers, FIFO for a
//! pool's only worker; see `src/runtime/queue.rs`). The models below drive the engine's own
//! public API, so loom explores the real executor, workers, sleep/wake
//! protocol and completion protocol, each on the smallest graph and thread
//! count that can show its race.
//!
//! Each model states its preemption bound (loom's `LOOM_MAX_PREEMPTIONS`;
//! the bound in the code wins over the environment variable). Most run at
//! bound 3, where the largest explore 41,000 to 51,000 executions in 2.5 to
//! 5 s here. Models whose extra locks, pools or runs make bound 3 cost
//! hundreds of thousands of executions run at bound 2, where they still
//! catch their planted bugs: the spawn models with three tasks on two
//! workers (14 and 15), those with every worker of a pool waiting (18, 19
//! and 23), the cancel's limit model (20, about 101,000 executions in 10 to
//! 16 s), the nested run's woken task (22, about 37,000), the swept run
//! (24, about 5,000), the sibling dependency (26, about 7,500; 264,000
//! at bound 3) and the inbox made on demand (27, about 3,500).
//! With `--nocapture` every model prints its execution count and time.
//!
//! `scripts/loom-mutants.sh` shows that the models bite: it plants known
//! bugs (`src/mutant.rs`, chosen by `TASKFLOW_MUTANT`) and fails unless the model meant to
//! catch each one fails.
#![cfg(taskflow_loom)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use taskflow_engine::{
    CancelToken, Context, Executor, FailurePolicy, Graph, Limit, Outcome, RunOptions, Task, TaskId,
};

/// Explores every interleaving of `body` with at most `preemptions`
/// preemptions, and prints how many executions that took (run with
/// `--nocapture` to see them).
fn check(preemptions: usize, body: impl Fn() + Sync + Send + 'static) {
    let executions = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&executions);
    let started = std::time::Instant::now();
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(preemptions);
    builder.check(move || {
        counter.fetch_add(1, Ordering::Relaxed);
        body();
    });
    eprintln!(
        "loom: {} executions at preemption bound {preemptions} in {:.1?}",
        executions.load(Ordering::Relaxed),
        started.elapsed()
    );
}

fn executor(workers: usize) -> Executor {
    Executor::builder()
        .workers_per_tag(workers)
        .build()
        .expect("an executor with non-zero pools builds")
}

/// A task returning `value`, counting its runs in `runs` (a plain std atomic:
/// loom runs one thread at a time, and keeping it out of the model keeps the
/// model small).
fn counted<T: Send + Sync + Clone + 'static>(
    name: &'static str,
    value: T,
    runs: &Arc<AtomicUsize>,
) -> Task<'static, T> {
    let runs = Arc::clone(runs);
    Task::new(name, move |_: &Context<'_>| {
        runs.fetch_add(1, Ordering::Relaxed);
        Ok(value.clone())
    })
}

/// Model 1: a diamond on two workers of one tag. Every task runs once, after
/// its dependencies (the sum proves the inputs were there), and the run
/// completes.
#[test]
fn diamond_on_two_workers() {
    check(3, || {
        let runs = Arc::new(AtomicUsize::new(0));
        let executor = executor(2);
        let mut graph = Graph::new();
        let top = graph.add(counted("top", 1u32, &runs));
        let left = graph.add(sum_of("left", &[top], 10, &runs));
        let right = graph.add(sum_of("right", &[top], 100, &runs));
        let bottom = graph.add(sum_of("bottom", &[left, right], 0, &runs));
        let report = executor.run(&mut graph).expect("the diamond is acyclic");
        assert!(report.is_success(), "{report:?}");
        assert_eq!(
            runs.load(Ordering::Relaxed),
            4,
            "every task runs exactly once"
        );
        assert_eq!(graph.output(bottom), Some(&112));
    });
}

/// A task that adds `extra` to the outputs of `inputs`, which it runs after.
fn sum_of(
    name: &'static str,
    inputs: &[TaskId<u32>],
    extra: u32,
    runs: &Arc<AtomicUsize>,
) -> Task<'static, u32> {
    let runs = Arc::clone(runs);
    let reads = inputs.to_vec();
    Task::new(name, move |cx: &Context<'_>| {
        runs.fetch_add(1, Ordering::Relaxed);
        let mut sum = extra;
        for &input in &reads {
            sum += *cx.input(input)?;
        }
        Ok(sum)
    })
    .after_all(inputs.iter().copied())
}

/// Model 2: the caller submits while the only worker is falling asleep. The
/// pool starts with the run, so its worker's first search and sleep race
/// with the caller's push: a lost wake-up leaves the caller blocked forever,
/// which loom reports as a deadlock.
#[test]
fn submit_while_the_worker_falls_asleep() {
    check(3, || {
        let executor = executor(1);
        let mut graph = Graph::new();
        let only = graph.add(Task::new("only", |_: &Context<'_>| Ok(7u8)));
        let report = executor.run(&mut graph).expect("one task is a valid graph");
        assert!(report.is_success());
        assert_eq!(graph.output(only), Some(&7));
    });
}

/// Model 3: a task on one tag readies a task on another tag, whose worker
/// sleeps (or is falling asleep): the cross-tag hand-off must wake it.
#[test]
fn cross_tag_hand_off_wakes_the_other_pool() {
    check(3, || {
        let executor = executor(1);
        let mut graph = Graph::new();
        let produce = graph.add(Task::new("produce", |_: &Context<'_>| Ok(20u32)).tag("io"));
        let consume = graph.add(
            Task::new(
                "consume",
                move |cx: &Context<'_>| Ok(cx.input(produce)? + 1),
            )
            .tag("cpu")
            .after(produce),
        );
        let report = executor.run(&mut graph).expect("a chain is a valid graph");
        assert!(report.is_success(), "{report:?}");
        assert_eq!(graph.output(consume), Some(&21));
    });
}

/// Model 4: outputs written by two tasks on two workers and read by their
/// joint dependent. The only order between a writer on one worker and the
/// reader on the other is the pending-counter hand-off; loom's `UnsafeCell`
/// reports the read as a race if that order is missing.
#[test]
fn output_hand_off_between_workers() {
    check(3, || {
        let executor = executor(2);
        let mut graph = Graph::new();
        let left = graph.add(Task::new("left", |_: &Context<'_>| Ok(vec![1u8, 2])));
        let right = graph.add(Task::new("right", |_: &Context<'_>| Ok(vec![3u8])));
        let join = graph.add(
            Task::new("join", move |cx: &Context<'_>| {
                Ok(cx.input(left)?.len() + cx.input(right)?.len())
            })
            .after(left)
            .after(right),
        );
        let report = executor.run(&mut graph).expect("a join is a valid graph");
        assert!(report.is_success(), "{report:?}");
        assert_eq!(graph.output(join), Some(&3));
    });
}

/// Model 5: a cancel from another thread races the completion of a chain.
/// Every task ends exactly one of: ran and succeeded, or never ran and
/// cancelled; nothing runs after a cancelled task, and the run returns.
#[test]
fn cancel_races_a_completion() {
    check(3, || {
        let executor = executor(1);
        let token = CancelToken::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        let first = graph.add(counted("first", (), &runs));
        let second = graph.add(counted("second", (), &runs).after(first));
        let canceller = {
            let token = token.clone();
            loom::thread::spawn(move || token.cancel())
        };
        let report = executor
            .run_with(&mut graph, RunOptions::new().cancel_token(token))
            .expect("a chain is a valid graph");
        canceller.join().expect("the canceller does not panic");
        let ran = runs.load(Ordering::Relaxed);
        assert_eq!(report.succeeded(), ran, "{report:?}");
        assert_eq!(report.cancelled(), 2 - ran, "{report:?}");
        assert_eq!(report.failed() + report.skipped(), 0);
        if ran == 1 {
            assert!(report.outcome(first).is_success(), "a chain runs in order");
            assert!(matches!(report.outcome(second), Outcome::Cancelled));
        }
    });
}

/// Model 6: under fail-fast, a failure on one worker races a sibling that is
/// starting on the other. The sibling either ran (and succeeded) or never
/// started (and is cancelled); the failure's dependent is skipped.
#[test]
fn fail_fast_failure_races_a_starting_sibling() {
    check(3, || {
        let executor = executor(2);
        let sibling_runs = Arc::new(AtomicUsize::new(0));
        let dependent_runs = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        let failing = graph.add(Task::new("failing", |_: &Context<'_>| -> Result<(), _> {
            Err("boom".into())
        }));
        let sibling = graph.add(counted("sibling", (), &sibling_runs));
        let dependent = graph.add(counted("dependent", (), &dependent_runs).after(failing));
        let report = executor
            .run_with(
                &mut graph,
                RunOptions::new().policy(FailurePolicy::FailFast),
            )
            .expect("a valid graph");
        assert!(matches!(report.outcome(failing), Outcome::Failed(_)));
        assert!(matches!(report.outcome(dependent), Outcome::Skipped));
        let dependent_ran = dependent_runs.load(Ordering::Relaxed);
        assert_eq!(dependent_ran, 0, "the dependent of a failure never runs");
        let sibling_ran = sibling_runs.load(Ordering::Relaxed);
        match report.outcome(sibling) {
            Outcome::Succeeded => assert_eq!(sibling_ran, 1),
            Outcome::Cancelled => assert_eq!(sibling_ran, 0),
            other => panic!("the sibling ended {other:?}"),
        }
    });
}

/// Model 7: two threads run different graphs on one executor at once; both
/// complete with their own outputs.
#[test]
fn two_runs_on_one_executor() {
    check(3, || {
        let executor = Arc::new(executor(1));
        let other = {
            let executor = Arc::clone(&executor);
            loom::thread::spawn(move || {
                let mut graph = Graph::new();
                let task = graph.add(Task::new("other", |_: &Context<'_>| Ok(2u8)));
                let report = executor.run(&mut graph).expect("a valid graph");
                assert!(report.is_success());
                graph.take_output(task)
            })
        };
        let mut graph = Graph::new();
        let task = graph.add(Task::new("mine", |_: &Context<'_>| Ok(1u8)));
        let report = executor.run(&mut graph).expect("a valid graph");
        assert!(report.is_success());
        assert_eq!(graph.take_output(task), Some(1));
        assert_eq!(other.join().expect("the other run does not panic"), Some(2));
    });
}

/// Model 8: dropping the executor while its workers sleep (or are falling
/// asleep) stops and joins them; a missed shutdown is a deadlock.
#[test]
fn drop_while_workers_sleep() {
    check(3, || {
        let executor = Executor::builder()
            .tag_workers("idle", 2)
            .build()
            .expect("two workers build");
        drop(executor);
    });
}

/// A waker that unparks the loom thread that polls.
struct Unpark(loom::thread::Thread);

impl std::task::Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Model 9: a submitted run is polled as a future while its worker finishes
/// it. The poller either sees the run done or leaves its waker where the
/// finisher takes it; a lost wake-up leaves the poller parked forever, which
/// loom reports as a deadlock.
#[test]
fn polled_run_wakes_its_poller() {
    check(3, || {
        use std::future::Future;
        use std::task::{Context as Poller, Poll, Waker};

        let executor = executor(1);
        let mut graph = Graph::new();
        let only = graph.add(Task::new("only", |_: &Context<'_>| Ok(5u8)));
        let mut handle = executor.submit(graph, RunOptions::new());
        let waker = Waker::from(Arc::new(Unpark(loom::thread::current())));
        let mut poller = Poller::from_waker(&waker);
        let (mut graph, report) = loop {
            match std::pin::Pin::new(&mut handle).poll(&mut poller) {
                Poll::Ready(done) => break done,
                Poll::Pending => loom::thread::park(),
            }
        };
        assert!(report.is_success(), "{report:?}");
        assert_eq!(graph.take_output(only), Some(5));
    });
}

/// Model 10: a handle dropped while its run is in flight races the worker
/// that finishes the run: whichever comes second frees the run and its
/// graph, exactly once, and dropping the executor waits for the run.
#[test]
fn dropped_handle_races_the_finish() {
    check(3, || {
        struct CountsDrop(Arc<AtomicUsize>);
        impl Drop for CountsDrop {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
        let drops = Arc::new(AtomicUsize::new(0));
        let guard = CountsDrop(Arc::clone(&drops));
        let executor = executor(1);
        let mut graph = Graph::new();
        graph.add(Task::new("only", move |_: &Context<'_>| {
            let _keep = &guard;
            Ok(())
        }));
        drop(executor.submit(graph, RunOptions::new()));
        drop(executor);
        assert_eq!(drops.load(Ordering::Relaxed), 1, "the graph was freed once");
    });
}

/// Model 11: a thread waits on a child token while another cancels the
/// parent: the waiter must wake (a lost wake-up is a deadlock, since loom's
/// timed waits never time out).
#[test]
fn cancel_wakes_a_waiting_child() {
    check(3, || {
        let parent = CancelToken::new();
        let child = parent.child();
        let waiter =
            loom::thread::spawn(move || child.wait_timeout(std::time::Duration::from_secs(3600)));
        parent.cancel();
        assert!(waiter.join().expect("the waiter does not panic"));
    });
}

/// Model 12: a ready task never waits for a busy worker while another worker
/// of its pool sleeps. `root` readies `first` and `second`; its worker runs
/// `first` itself and queues `second`, and `first` blocks until `second` has
/// started, which only the peer can do. Meanwhile the peer may take the
/// other source (`other`, split off onto the same deque) and fall asleep. If
/// the push of `second` does not wake it, every thread blocks: a deadlock.
#[test]
fn a_queued_task_wakes_the_sleeping_peer() {
    check(3, || {
        let executor = executor(2);
        let started = Arc::new((loom::sync::Mutex::new(false), loom::sync::Condvar::new()));
        let mut graph = Graph::new();
        let root = graph.add(Task::new("root", |_: &Context<'_>| Ok(())));
        graph.add(Task::new("other", |_: &Context<'_>| Ok(())));
        let waits = Arc::clone(&started);
        graph.add(
            Task::new("first", move |_: &Context<'_>| {
                let (lock, changed) = &*waits;
                let mut started = lock.lock().unwrap();
                while !*started {
                    started = changed.wait(started).unwrap();
                }
                Ok(())
            })
            .after(root),
        );
        graph.add(
            Task::new("second", move |_: &Context<'_>| {
                let (lock, changed) = &*started;
                *lock.lock().unwrap() = true;
                changed.notify_all();
                Ok(())
            })
            .after(root),
        );
        let report = executor.run(&mut graph).expect("a valid graph");
        assert!(report.is_success(), "{report:?}");
    });
}

/// Model 13: the same invariant for jobs a steal moves. `root` readies
/// `quick`, which its worker runs itself, and queues `waiting` and
/// `awaited`; the peer steals both at once (a batch steal takes the older
/// half, rounded up) and runs `waiting`, which blocks until `awaited` has
/// started. The first worker, done with `quick`, may search while the batch
/// is between the two deques and fall asleep. If the thief does not wake it
/// for the job it holds back, every thread blocks: a deadlock.
#[test]
fn a_stolen_batch_wakes_the_sleeping_peer() {
    check(3, || {
        let executor = executor(2);
        let started = Arc::new((loom::sync::Mutex::new(false), loom::sync::Condvar::new()));
        let mut graph = Graph::new();
        let root = graph.add(Task::new("root", |_: &Context<'_>| Ok(())));
        graph.add(Task::new("quick", |_: &Context<'_>| Ok(())).after(root));
        let signals = Arc::clone(&started);
        graph.add(
            Task::new("awaited", move |_: &Context<'_>| {
                let (lock, changed) = &*signals;
                *lock.lock().unwrap() = true;
                changed.notify_all();
                Ok(())
            })
            .after(root),
        );
        graph.add(
            Task::new("waiting", move |_: &Context<'_>| {
                let (lock, changed) = &*started;
                let mut started = lock.lock().unwrap();
                while !*started {
                    started = changed.wait(started).unwrap();
                }
                Ok(())
            })
            .after(root),
        );
        let report = executor.run(&mut graph).expect("a valid graph");
        assert!(report.is_success(), "{report:?}");
    });
}

/// A value one task writes and another reads, in loom's `UnsafeCell`, so
/// that loom reports the read as a race unless the engine ordered it after
/// the write.
#[derive(Default)]
struct Handed(loom::cell::UnsafeCell<u32>);

// SAFETY: every access goes through loom's checked `with`/`with_mut`, which
// reports the accesses that are not ordered.
unsafe impl Sync for Handed {}

impl Handed {
    fn write(&self, value: u32) {
        // SAFETY: loom checks that no access races with this one.
        self.0.with_mut(|cell| unsafe { *cell = value });
    }

    fn read(&self) -> u32 {
        // SAFETY: as above.
        self.0.with(|cell| unsafe { *cell })
    }
}

/// Model 14 (spawn): a child finishes on one worker while its parent's
/// body returns on the other, without a join. Whichever of the two ends
/// the parent's subtree releases the dependent, which must see what the
/// child wrote: the subtree's AcqRel decrements are the only order between
/// them.
#[test]
fn a_child_finishes_while_its_parent_returns() {
    check(2, || {
        let executor = executor(2);
        let handed = Arc::new(Handed::default());
        let mut graph = Graph::new();
        let written = Arc::clone(&handed);
        let parent = graph.add(Task::new("parent", move |cx: &Context<'_>| {
            let written = Arc::clone(&written);
            cx.spawn(Task::new("child", move |_: &Context<'_>| {
                written.write(7);
                Ok(())
            }))?;
            Ok(())
        }));
        let dependent = graph
            .add(Task::new("dependent", move |_: &Context<'_>| Ok(handed.read())).after(parent));
        let report = executor.run(&mut graph).expect("a valid graph");
        assert!(report.is_success(), "{report:?}");
        assert_eq!(report.len(), 3);
        assert_eq!(graph.output(dependent), Some(&7));
    });
}

/// Model 15 (spawn): the last descendant to end, a grandchild on the
/// other worker, releases the parent's static dependent, which reads the
/// parent's output: it must not start before the parent's body returned,
/// nor miss the grandchild's write.
#[test]
fn the_last_descendant_releases_a_static_dependent() {
    check(2, || {
        let executor = executor(2);
        let handed = Arc::new(Handed::default());
        let mut graph = Graph::new();
        let written = Arc::clone(&handed);
        let parent = graph.add(Task::new("parent", move |cx: &Context<'_>| {
            let written = Arc::clone(&written);
            cx.spawn(Task::new("child", move |cx: &Context<'_>| {
                let written = Arc::clone(&written);
                cx.spawn(Task::new("grandchild", move |_: &Context<'_>| {
                    written.write(5);
                    Ok(())
                }))?;
                Ok(())
            }))?;
            Ok(10u32)
        }));
        let dependent = graph.add(
            Task::new("dependent", move |cx: &Context<'_>| {
                Ok(cx.input(parent)? + handed.read())
            })
            .after(parent),
        );
        let report = executor.run(&mut graph).expect("a valid graph");
        assert!(report.is_success(), "{report:?}");
        assert_eq!(report.len(), 4);
        assert_eq!(graph.output(dependent), Some(&15));
    });
}

/// Model 16 (join): a parent joins a child that runs on another tag's
/// worker, so the join's look at the count and its wait race with the
/// child's end and its signal. A lost signal leaves the join waiting
/// forever: a deadlock. After the join the parent reads the child's output.
#[test]
fn join_races_a_child_completion() {
    check(3, || {
        let executor = executor(1);
        let mut graph = Graph::new();
        let parent = graph.add(
            Task::new("parent", |cx: &Context<'_>| {
                let child =
                    cx.spawn(Task::new("child", |_: &Context<'_>| Ok(3u32)).tag("other"))?;
                cx.join()?;
                Ok(*cx.input(child)? + 1)
            })
            .tag("home"),
        );
        let report = executor.run(&mut graph).expect("a valid graph");
        assert!(report.is_success(), "{report:?}");
        assert_eq!(graph.output(parent), Some(&4));
    });
}

/// Model 17 (nested run): a task runs a graph from inside itself, on a
/// pool of one worker; the nested graph has a task of the worker's own tag,
/// which the waiting worker runs itself, and one of another tag, which the
/// other pool runs. The waiting worker must find the run finished however
/// the two end: it counts what it finished before it waits, and the run's
/// completion wakes it.
#[test]
fn a_helping_worker_finds_the_awaited_run_finished() {
    check(3, || {
        let executor = Arc::new(executor(1));
        let inner = Arc::clone(&executor);
        let mut graph = Graph::new();
        let outer = graph.add(
            Task::new("outer", move |_: &Context<'_>| {
                let mut nested = Graph::new();
                let here = nested.add(Task::new("here", |_: &Context<'_>| Ok(1u32)).tag("home"));
                let there = nested.add(Task::new("there", |_: &Context<'_>| Ok(2u32)).tag("other"));
                let report = inner.run(&mut nested)?;
                assert!(report.is_success(), "{report:?}");
                Ok(nested.output(here).unwrap() + nested.output(there).unwrap())
            })
            .tag("home"),
        );
        let report = executor.run(&mut graph).expect("a valid graph");
        assert!(report.is_success(), "{report:?}");
        assert_eq!(graph.output(outer), Some(&3));
    });
}

/// Model 18 (every worker waits): two pools of one worker, each running a
/// task that joins a child of the other's tag. A child then waits in a pool
/// whose only worker waits; the push of it must reach that blocked wait
/// (or the wait's last look must find it), else both joins wait for ever:
/// a deadlock.
#[test]
fn crossed_joins_on_one_worker_pools() {
    check(2, || {
        let executor = executor(1);
        let mut graph = Graph::new();
        let left = graph.add(
            Task::new("left", |cx: &Context<'_>| {
                let child =
                    cx.spawn(Task::new("left child", |_: &Context<'_>| Ok(1u32)).tag("b"))?;
                cx.join()?;
                Ok(*cx.input(child)?)
            })
            .tag("a"),
        );
        let right = graph.add(
            Task::new("right", |cx: &Context<'_>| {
                let child =
                    cx.spawn(Task::new("right child", |_: &Context<'_>| Ok(2u32)).tag("a"))?;
                cx.join()?;
                Ok(*cx.input(child)?)
            })
            .tag("b"),
        );
        let report = executor.run(&mut graph).expect("a valid graph");
        assert!(report.is_success(), "{report:?}");
        assert_eq!(
            (graph.output(left), graph.output(right)),
            (Some(&1), Some(&2))
        );
    });
}

/// Model 19 (every worker waits): the only worker of pool `a` waits in a
/// join for a child on pool `b`, and that child waits until a task of
/// another run, on pool `a`, has run. That task, given to `a` by another
/// thread, has nobody but the waiting worker to run it: the push must
/// reach the blocked wait (or its last look must find the task), else
/// every thread waits: a deadlock.
#[test]
fn a_foreign_run_reaches_a_pool_whose_workers_wait() {
    check(2, || {
        let executor = Arc::new(executor(1));
        let flag = Arc::new((loom::sync::Mutex::new(false), loom::sync::Condvar::new()));
        let other = {
            let (executor, flag) = (Arc::clone(&executor), Arc::clone(&flag));
            loom::thread::spawn(move || {
                let mut graph = Graph::new();
                graph.add(
                    Task::new("raises", move |_: &Context<'_>| {
                        let (lock, changed) = &*flag;
                        *lock.lock().unwrap() = true;
                        changed.notify_all();
                        Ok(())
                    })
                    .tag("a"),
                );
                assert!(
                    executor
                        .run(&mut graph)
                        .expect("a valid graph")
                        .is_success()
                );
            })
        };
        let mut graph = Graph::new();
        graph.add(
            Task::new("waits", move |cx: &Context<'_>| {
                let flag = Arc::clone(&flag);
                cx.spawn(
                    Task::new("blocked child", move |_: &Context<'_>| {
                        let (lock, changed) = &*flag;
                        let mut raised = lock.lock().unwrap();
                        while !*raised {
                            raised = changed.wait(raised).unwrap();
                        }
                        Ok(())
                    })
                    .tag("b"),
                )?;
                cx.join()
            })
            .tag("a"),
        );
        let report = executor.run(&mut graph).expect("a valid graph");
        assert!(report.is_success(), "{report:?}");
        other.join().unwrap();
    });
}

/// Model 20: a limit's acquire and release race a cancel. Two runs share a
/// `Limit::new(1)` on one executor of two workers. The other run's `holder`
/// takes the permit (or waits for it), cancels this run and then waits
/// until this run has returned. This run's `waiter` either gets the permit
/// first, sees the cancel before it looks at the limit, or parks behind the
/// holder, and then the cancel must take it out of the limit: a waiter left
/// parked is never woken, the holder never returns, and loom reports the
/// deadlock. Either way the limit ends full with nothing waiting.
#[test]
fn a_cancel_frees_a_task_parked_behind_another_run() {
    check(2, || {
        let executor = Arc::new(executor(2));
        let limit = Limit::new(1);
        let token = CancelToken::new();
        let returned = Arc::new((loom::sync::Mutex::new(false), loom::sync::Condvar::new()));
        let other = {
            let (executor, limit, token, returned) = (
                Arc::clone(&executor),
                limit.clone(),
                token.clone(),
                Arc::clone(&returned),
            );
            loom::thread::spawn(move || {
                let mut graph = Graph::new();
                let holder = graph.add(
                    Task::new("holder", move |_: &Context<'_>| {
                        token.cancel();
                        let (lock, changed) = &*returned;
                        let mut returned = lock.lock().unwrap();
                        while !*returned {
                            returned = changed.wait(returned).unwrap();
                        }
                        Ok(())
                    })
                    .limit(&limit),
                );
                let report = executor.run(&mut graph).expect("a valid graph");
                report.outcome(holder).is_success()
            })
        };
        let runs = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        let waiter = graph.add(counted("waiter", (), &runs).limit(&limit));
        let report = executor
            .run_with(&mut graph, RunOptions::new().cancel_token(token))
            .expect("a valid graph");
        {
            let (lock, changed) = &*returned;
            *lock.lock().unwrap() = true;
            changed.notify_all();
        }
        assert!(other.join().expect("the other run does not panic"));
        match report.outcome(waiter) {
            Outcome::Succeeded => assert_eq!(runs.load(Ordering::Relaxed), 1),
            Outcome::Cancelled => assert_eq!(runs.load(Ordering::Relaxed), 0),
            other => panic!("the waiter ended {other:?}"),
        }
        assert_eq!((limit.available(), limit.waiting()), (1, 0));
    });
}

/// A flag one loom thread raises and another blocks on.
#[derive(Default)]
struct Flag {
    raised: loom::sync::Mutex<bool>,
    changed: loom::sync::Condvar,
}

impl Flag {
    fn raise(&self) {
        *self.raised.lock().unwrap() = true;
        self.changed.notify_all();
    }

    fn wait(&self) {
        let mut raised = self.raised.lock().unwrap();
        while !*raised {
            raised = self.changed.wait(raised).unwrap();
        }
    }
}

/// Model 21: a permit wakes a task of a run that is stopped before a
/// worker picks the task up. A `Limit::new(1)` is held by the `holder` of
/// run `H` (pool `h`, one worker). Run `S`'s `waiter` and then run `B`'s
/// `other` wait for it on the default pool (one worker, which takes the
/// runs' tokens in the order they came); `B`'s `signal`, ranked after
/// `other`, then lets the holder return. Its release wakes the waiter (out
/// of the queue, holding nothing), and `H`'s `canceller`, after the holder,
/// cancels `S`. When the cancel comes before the default pool's worker
/// picks the waiter up, its eviction does not find the waiter, which ends
/// cancelled without the permit and must pass its wake-up on to `other`: a
/// wake-up dropped there leaves the permit free and `other` parked for
/// ever, `B` never returns, and loom reports the deadlock.
#[test]
fn a_woken_task_of_a_stopped_run_passes_its_wake_up_on() {
    check(3, || {
        let executor = Executor::builder()
            .workers_per_tag(1)
            .tag_workers("h", 1)
            .build()
            .expect("an executor with non-zero pools builds");
        let limit = Limit::new(1);
        let token = CancelToken::new();
        let (holding, both_wait) = (Arc::new(Flag::default()), Arc::new(Flag::default()));
        let mut held = Graph::new();
        let holder = {
            let (holding, both_wait) = (Arc::clone(&holding), Arc::clone(&both_wait));
            held.add(
                Task::new("holder", move |_: &Context<'_>| {
                    holding.raise();
                    both_wait.wait();
                    Ok(())
                })
                .tag("h")
                .limit(&limit),
            )
        };
        let cancelled = token.clone();
        held.add(
            Task::new("canceller", move |_: &Context<'_>| {
                cancelled.cancel();
                Ok(())
            })
            .tag("h")
            .after(holder),
        );
        let mut stopped = Graph::new();
        let waiter = stopped.add(Task::new("waiter", |_: &Context<'_>| Ok(())).limit(&limit));
        let mut going = Graph::new();
        let other = going.add(
            Task::new("other", |_: &Context<'_>| Ok(()))
                .limit(&limit)
                .priority(1),
        );
        going.add(Task::new("signal", move |_: &Context<'_>| {
            both_wait.raise();
            Ok(())
        }));
        let holding_run = executor.submit(held, RunOptions::new());
        holding.wait();
        let stopping = executor.submit(stopped, RunOptions::new().cancel_token(token));
        let running = executor.submit(going, RunOptions::new());
        let (_, report) = running.wait();
        assert!(report.outcome(other).is_success(), "{report:?}");
        let (_, report) = stopping.wait();
        assert!(
            matches!(
                report.outcome(waiter),
                Outcome::Succeeded | Outcome::Cancelled
            ),
            "{report:?}"
        );
        assert!(holding_run.wait().1.is_success());
        assert_eq!((limit.available(), limit.waiting()), (1, 0));
    });
}

/// Model 22: a task of a nested run woken by a limit goes back to the
/// wait that runs it. `nests` (default pool, two workers) runs a graph of
/// one task `n` that needs a `Limit::new(1)`, which `holder` (pool `h`)
/// may take first; the pool's other worker runs `busy`, which blocks until
/// `n` ran. When `n` waits for the holder's permit, the release wakes it
/// while the worker that waits for the nested run blocks, serving only its
/// wait's own inbox, and the peer is inside `busy`: a token for `n` pushed
/// into the pool's injector (the planted bug `woken_to_injector`) reaches
/// nobody who can run it, and loom reports the deadlock. Sent to the
/// inbox of the nested run's wait, it is run there.
#[test]
fn a_nested_runs_woken_task_goes_back_to_its_waiting_worker() {
    check(2, || {
        let executor = Arc::new(
            Executor::builder()
                .workers_per_tag(2)
                .tag_workers("h", 1)
                .build()
                .expect("an executor with non-zero pools builds"),
        );
        let limit = Limit::new(1);
        let ran = Arc::new(Flag::default());
        let mut graph = Graph::new();
        graph.add(
            Task::new("holder", |_: &Context<'_>| Ok(()))
                .tag("h")
                .limit(&limit),
        );
        let nests = {
            let (executor, limit, ran) = (Arc::clone(&executor), limit.clone(), Arc::clone(&ran));
            graph.add(
                Task::new("nests", move |_: &Context<'_>| {
                    let mut nested = Graph::new();
                    let ran = Arc::clone(&ran);
                    nested.add(
                        Task::new("n", move |_: &Context<'_>| {
                            ran.raise();
                            Ok(())
                        })
                        .limit(&limit),
                    );
                    let report = executor.run(&mut nested)?;
                    assert!(report.is_success(), "{report:?}");
                    Ok(())
                })
                // Taken by the first worker that pops a token of the pool.
                .priority(1),
            )
        };
        let busy = graph.add(Task::new("busy", move |_: &Context<'_>| {
            ran.wait();
            Ok(())
        }));
        let report = executor.run(&mut graph).expect("a valid graph");
        assert!(report.outcome(nests).is_success(), "{report:?}");
        assert!(report.outcome(busy).is_success(), "{report:?}");
        assert_eq!((limit.available(), limit.waiting()), (1, 0));
    });
}

/// Model 23 (every worker blocks): two pools of one worker, `a` and `b`.
/// Z(b) spawns X(a) and joins; X spawns Rb(b) and Y(a) and joins; Y spawns
/// Yb(b) and joins; Rb spawns Ra(a) and joins. In the schedule where Rb
/// starts on `b`'s worker inside Z's join before Yb is spawned, Yb (which
/// Y's join needs) is published into Z's inbox, under Rb's join on the same
/// stack, which does not cover it. Only a blocked wait that takes work from
/// the pool's announced inboxes while every worker of the pool blocks can
/// run it; else every join waits for ever: a deadlock.
#[test]
fn a_wait_takes_work_buried_in_another_waits_inbox() {
    check(2, || {
        let executor = executor(1);
        let mut graph = Graph::new();
        graph.add(
            Task::new("Z", |cx: &Context<'_>| {
                cx.spawn(
                    Task::new("X", |cx: &Context<'_>| {
                        cx.spawn(
                            Task::new("Rb", |cx: &Context<'_>| {
                                cx.spawn(Task::new("Ra", |_: &Context<'_>| Ok(())).tag("a"))?;
                                cx.join()
                            })
                            .tag("b"),
                        )?;
                        cx.spawn(
                            Task::new("Y", |cx: &Context<'_>| {
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
        let report = executor.run(&mut graph).expect("a valid graph");
        assert!(report.is_success(), "{report:?}");
        assert_eq!(report.len(), 6);
    });
}

/// Model 24: a run swept in index order by two workers (see
/// `src/runtime/sweep/`), one task per chunk under loom. The last task
/// reads the output of the first, which the other worker may have run in
/// another chunk; the only order between them is then the first worker's
/// published position (`Release`) and the reader's look at it
/// (`Acquire`), so loom's `UnsafeCell` reports the read as a race if that
/// order is missing (the planted bug `sweep_relaxed_progress`). Every task
/// runs once and the run completes, whichever worker sweeps what.
#[test]
fn a_swept_task_reads_an_output_of_another_chunk() {
    check(2, || {
        let runs = Arc::new(AtomicUsize::new(0));
        let executor = executor(2);
        let mut graph = Graph::new();
        let first = graph.add(counted("first", 40u32, &runs));
        for _ in 0..3 {
            graph.add(counted("filler", (), &runs));
        }
        let last = graph.add(sum_of("last", &[first], 2, &runs));
        let report = executor.run(&mut graph).expect("a forward graph is valid");
        assert!(report.is_success(), "{report:?}");
        assert_eq!(runs.load(Ordering::Relaxed), 5, "every task runs once");
        assert_eq!(graph.output(last), Some(&42));
    });
}

/// Model 25 (spawn onto the spawner's deque): a body on one of two workers
/// spawns a child, which goes onto that worker's own deque, and then blocks
/// until the child has run, without a `join`, so only the other worker can
/// run it. That worker may have fallen asleep before the push; if the push
/// wakes nobody (the planted bug `own_child_unannounced`), every thread
/// blocks: a deadlock.
#[test]
fn a_child_on_the_spawners_deque_is_stolen() {
    check(3, || {
        let executor = executor(2);
        let ran = Arc::new((loom::sync::Mutex::new(false), loom::sync::Condvar::new()));
        let mut graph = Graph::new();
        graph.add(Task::new("parent", move |cx: &Context<'_>| {
            let sets = Arc::clone(&ran);
            cx.spawn(Task::new("child", move |_: &Context<'_>| {
                let (lock, changed) = &*sets;
                *lock.lock().unwrap() = true;
                changed.notify_all();
                Ok(())
            }))?;
            let (lock, changed) = &*ran;
            let mut ran = lock.lock().unwrap();
            while !*ran {
                ran = changed.wait(ran).unwrap();
            }
            Ok(())
        }));
        let report = executor.run(&mut graph).expect("a valid graph");
        assert!(report.is_success(), "{report:?}");
        assert_eq!(report.len(), 2);
    });
}

/// Model 26 (sibling dependencies): a parent spawns `first`, which the
/// other worker may steal and end at once, and then `second`, which names
/// `first` and reads its output. The spawn's mark of `first` as awaited
/// and `first`'s end race on one word: whichever comes second must see the
/// other, else `second` is never released (the planted bug
/// `awaited_unmarked`: the run never completes, a deadlock) or reads the
/// output before it was written.
#[test]
fn a_sibling_ends_while_a_child_names_it() {
    check(2, || {
        let executor = executor(2);
        let mut graph = Graph::new();
        let parent = graph.add(Task::new("parent", |cx: &Context<'_>| {
            let first = cx.spawn(Task::new("first", |_: &Context<'_>| Ok(40u32)))?;
            let second = cx.spawn(
                Task::new("second", move |cx: &Context<'_>| Ok(*cx.input(first)? + 2)).after(first),
            )?;
            cx.join()?;
            Ok(*cx.input(second)?)
        }));
        let report = executor.run(&mut graph).expect("a valid graph");
        assert!(report.is_success(), "{report:?}");
        assert_eq!(graph.output(parent), Some(&42));
    });
}

/// Model 27 (an inbox made on demand): `parent`, on pool `a`, spawns
/// `child` on pool `b` and returns without a join; `child` spawns
/// `grandchild` on `a`, which queues in the inbox of its nearest ancestor
/// on `a`, `parent`, made then by `b`'s worker while `parent`'s worker
/// closes it. Whichever comes second must see the other: the grandchild is
/// then forwarded to `a`'s queues, or queued there at once. If the close
/// does not look (the planted bug `inbox_close_unchecked`), the inbox made
/// meanwhile is never forwarded nor freed: loom reports its `Arc` leaked
/// (the grandchild itself is still found, through the inbox's
/// announcement on its pool).
#[test]
fn a_grandchild_queues_for_a_returning_grandparent() {
    check(2, || {
        let executor = executor(1);
        let mut graph = Graph::new();
        let parent = graph.add(
            Task::new("parent", |cx: &Context<'_>| {
                cx.spawn(
                    Task::new("child", |cx: &Context<'_>| {
                        cx.spawn(Task::new("grandchild", |_: &Context<'_>| Ok(())).tag("a"))?;
                        Ok(())
                    })
                    .tag("b"),
                )?;
                Ok(())
            })
            .tag("a"),
        );
        // On `b`: a graph of two tags is not exclusive, so `parent`'s
        // body return closes its subtree's inbox instead of joining.
        graph.add(
            Task::new("after", |_: &Context<'_>| Ok(()))
                .tag("b")
                .after(parent),
        );
        let report = executor.run(&mut graph).expect("a valid graph");
        assert!(report.is_success(), "{report:?}");
        assert_eq!(report.len(), 4);
    });
}
