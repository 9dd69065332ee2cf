//! Cancellation: a token cancelled before or during a run, or by a task of
//! the run itself, stops new tasks from starting; running tasks finish with
//! the outcome they return, and the run returns as soon as they do.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

#[cfg(target_os = "linux")]
use common::thread_cpu_time;
use common::{Signal, executor, wait_until, watchdog};
use taskflow_engine::{
    CancelToken, Context, Error, FailurePolicy, Graph, Outcome, RunOptions, Task, TaskError, TaskId,
};

fn counted(calls: &Arc<AtomicUsize>, value: u32) -> Task<'static, u32> {
    let calls = Arc::clone(calls);
    Task::new("counted", move |_: &Context<'_>| {
        calls.fetch_add(1, Ordering::SeqCst);
        Ok(value)
    })
}

fn options(token: &CancelToken, policy: FailurePolicy) -> RunOptions {
    RunOptions::new().policy(policy).cancel_token(token.clone())
}

#[test]
fn token_cancelled_before_the_run_starts_no_task() {
    watchdog(|| {
        for policy in [FailurePolicy::FailFast, FailurePolicy::KeepGoing] {
            let calls = Arc::new(AtomicUsize::new(0));
            let mut graph = Graph::new();
            let mut ids: Vec<TaskId<u32>> = Vec::new();
            for index in 0..50 {
                let mut task = counted(&calls, index).tag(if index % 2 == 0 { "a" } else { "b" });
                if index >= 10 {
                    task = task.after(ids[index as usize - 10]);
                }
                ids.push(graph.add(task));
            }
            let executor = executor(2);
            // A first, uncancelled run leaves outputs...
            assert!(executor.run(&mut graph).unwrap().is_success());
            assert_eq!(calls.load(Ordering::SeqCst), 50);
            assert_eq!(graph.output(ids[49]), Some(&49));

            let token = CancelToken::new();
            token.cancel();
            let report = executor
                .run_with(&mut graph, options(&token, policy))
                .unwrap();
            assert_eq!(
                calls.load(Ordering::SeqCst),
                50,
                "{policy:?}: no task may run"
            );
            assert!(!report.is_success());
            assert_eq!(report.cancelled(), 50, "{policy:?}: {report:?}");
            assert_eq!(report.succeeded() + report.failed() + report.skipped(), 0);
            for id in &ids {
                assert!(matches!(report.outcome(*id), Outcome::Cancelled));
                // ...which a cancelled run does not leave behind.
                assert_eq!(graph.output(*id), None, "{policy:?}");
            }
        }
    });
}

#[test]
fn token_cancelled_during_the_run_stops_new_tasks() {
    watchdog(|| {
        let calls = Arc::new(AtomicUsize::new(0));
        let token = CancelToken::new();
        let started = Signal::new();
        let mut graph = Graph::new();
        // `waiter` runs until it sees the cancellation, then succeeds;
        // `grumpy`, on another pool, fails once it sees it.
        let waiter = {
            let started = Arc::clone(&started);
            graph.add(Task::new("waiter", move |cx: &Context<'_>| {
                started.raise();
                wait_until("the cancellation", || cx.is_cancelled())?;
                Ok("saw it")
            }))
        };
        let grumpy_started = Signal::new();
        let grumpy = graph.add(
            Task::new("grumpy", {
                let started = Arc::clone(&grumpy_started);
                move |cx: &Context<'_>| -> Result<&str, Error> {
                    started.raise();
                    wait_until("the cancellation", || cx.is_cancelled())?;
                    Err("cancelled, and said so".into())
                }
            })
            .tag("other"),
        );
        let mut chain = Vec::new();
        let mut previous: taskflow_engine::TaskRef = waiter.into();
        for index in 0..20 {
            let id = graph.add(counted(&calls, index).after(previous));
            chain.push(id);
            previous = id.into();
        }
        let below_grumpy = graph.add(counted(&calls, 99).after(grumpy).tag("other"));

        let executor = executor(2);
        let report = thread::scope(|scope| {
            let run = scope
                .spawn(|| executor.run_with(&mut graph, options(&token, FailurePolicy::KeepGoing)));
            started.wait().expect("the waiter starts");
            grumpy_started.wait().expect("grumpy starts");
            token.cancel();
            run.join().unwrap()
        })
        .unwrap();

        assert!(
            matches!(report.outcome(waiter), Outcome::Succeeded),
            "{report:?}"
        );
        assert!(matches!(
            report.outcome(grumpy),
            Outcome::Failed(TaskError::Error(_))
        ));
        assert!(matches!(report.outcome(below_grumpy), Outcome::Skipped));
        for id in &chain {
            assert!(
                matches!(report.outcome(*id), Outcome::Cancelled),
                "{report:?}"
            );
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            0,
            "no task starts after the cancel"
        );
        assert_eq!(report.cancelled(), 20);
        assert!(!report.is_success());
        // A task that saw the cancellation and returned Ok keeps its output.
        assert_eq!(graph.output(waiter), Some(&"saw it"));
    });
}

#[test]
fn task_that_cancels_its_own_run_finishes_normally() {
    watchdog(|| {
        for policy in [FailurePolicy::FailFast, FailurePolicy::KeepGoing] {
            let calls = Arc::new(AtomicUsize::new(0));
            let token = CancelToken::new();
            let mut graph = Graph::new();
            let canceller = {
                let token = token.clone();
                graph.add(Task::new("canceller", move |cx: &Context<'_>| {
                    let before = cx.is_cancelled();
                    token.cancel();
                    Ok((42, before, cx.is_cancelled()))
                }))
            };
            let first = graph.add(counted(&calls, 1).after(canceller));
            let second = graph.add(counted(&calls, 2).after(first).tag("x"));
            let report = executor(2)
                .run_with(&mut graph, options(&token, policy))
                .unwrap();
            assert!(
                matches!(report.outcome(canceller), Outcome::Succeeded),
                "{policy:?}: {report:?}"
            );
            assert_eq!(graph.output(canceller), Some(&(42, false, true)));
            assert!(matches!(report.outcome(first), Outcome::Cancelled));
            assert!(matches!(report.outcome(second), Outcome::Cancelled));
            assert_eq!(calls.load(Ordering::SeqCst), 0);
            assert!(!report.is_success());
            assert_eq!((report.succeeded(), report.cancelled()), (1, 2));
        }
    });
}

#[test]
fn task_that_cancels_and_fails_has_its_dependents_skipped() {
    watchdog(|| {
        let calls = Arc::new(AtomicUsize::new(0));
        let token = CancelToken::new();
        let mut graph = Graph::new();
        let watcher_started = Signal::new();
        let failing = {
            let (token, watcher_started) = (token.clone(), Arc::clone(&watcher_started));
            graph.add(
                Task::new("failing", move |_: &Context<'_>| -> Result<u32, Error> {
                    watcher_started.wait()?;
                    token.cancel();
                    Err("cancelled and failed".into())
                })
                .tag("a"),
            )
        };
        let below_failing = graph.add(counted(&calls, 1).after(failing));
        let watcher = graph.add(
            Task::new("watcher", move |cx: &Context<'_>| {
                watcher_started.raise();
                wait_until("the cancellation", || cx.is_cancelled())?;
                Ok(7)
            })
            .tag("b"),
        );
        let below_watcher = graph.add(counted(&calls, 2).after(watcher));
        let report = executor(1)
            .run_with(&mut graph, options(&token, FailurePolicy::KeepGoing))
            .unwrap();
        assert!(matches!(report.outcome(failing), Outcome::Failed(_)));
        assert!(
            matches!(report.outcome(below_failing), Outcome::Skipped),
            "a task whose dependency failed is skipped, not cancelled: {report:?}"
        );
        assert!(matches!(report.outcome(watcher), Outcome::Succeeded));
        assert!(matches!(report.outcome(below_watcher), Outcome::Cancelled));
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn cancelled_run_returns_once_the_running_tasks_return() {
    watchdog(|| {
        // 400 sources on a pool of 2. Each task that starts waits until the
        // run is cancelled, so exactly two start (one per worker) before the
        // cancel; none may start after it. Were the others run, each would
        // take 100 ms: 40 s in all, far past the watchdog.
        const SOURCES: usize = 400;
        let calls = Arc::new(AtomicUsize::new(0));
        let two_running = Signal::new();
        let token = CancelToken::new();
        let mut graph = Graph::new();
        for _ in 0..SOURCES {
            let (calls, two_running) = (Arc::clone(&calls), Arc::clone(&two_running));
            graph.add(Task::new("slow", move |cx: &Context<'_>| {
                if calls.fetch_add(1, Ordering::SeqCst) + 1 == 2 {
                    two_running.raise();
                }
                if !cx.is_cancelled() {
                    wait_until("the cancellation", || cx.is_cancelled())?;
                } else {
                    thread::sleep(Duration::from_millis(100));
                }
                Ok(())
            }));
        }
        let executor = executor(2);
        let report = thread::scope(|scope| {
            let run = scope
                .spawn(|| executor.run_with(&mut graph, options(&token, FailurePolicy::FailFast)));
            two_running.wait().expect("both workers start a task");
            token.cancel();
            run.join().unwrap()
        })
        .unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(report.succeeded(), 2);
        assert_eq!(report.cancelled(), SOURCES - 2);
    });
}

#[test]
fn cancelled_token_stays_cancelled_for_later_runs() {
    watchdog(|| {
        let calls = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        let only = graph.add(counted(&calls, 5));
        let executor = executor(1);
        let token = CancelToken::new();
        token.cancel();
        for _ in 0..2 {
            let report = executor
                .run_with(&mut graph, RunOptions::new().cancel_token(token.clone()))
                .unwrap();
            assert!(matches!(report.outcome(only), Outcome::Cancelled));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        // A fresh token, or none, runs the graph again.
        let fresh = CancelToken::new();
        let report = executor
            .run_with(&mut graph, RunOptions::new().cancel_token(fresh.clone()))
            .unwrap();
        assert!(report.is_success());
        assert!(!fresh.is_cancelled(), "a run does not cancel its token");
        assert!(executor.run(&mut graph).unwrap().is_success());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(graph.output(only), Some(&5));
    });
}

#[test]
fn is_cancelled_is_false_in_an_undisturbed_run() {
    watchdog(|| {
        let mut graph = Graph::new();
        let token = CancelToken::new();
        let first = graph.add(Task::new("first", |cx: &Context<'_>| Ok(cx.is_cancelled())));
        let second = graph.add(
            Task::new("second", |cx: &Context<'_>| Ok(cx.is_cancelled()))
                .after(first)
                .tag("t"),
        );
        let report = executor(2)
            .run_with(&mut graph, RunOptions::new().cancel_token(token.clone()))
            .unwrap();
        assert!(report.is_success());
        assert_eq!(graph.output(first), Some(&false));
        assert_eq!(graph.output(second), Some(&false));
        assert!(!token.is_cancelled());
    });
}

#[test]
fn a_task_that_returns_cancelled_ends_cancelled_and_its_dependents_skipped() {
    watchdog(|| {
        use taskflow_engine::Cancelled;
        for workers in [1, 2] {
            let mut graph = Graph::new();
            let gives_up = graph.add(Task::new("gives up", |_| -> Result<u32, Error> {
                Err(Cancelled.into())
            }));
            let below =
                graph.add(Task::new("below", move |cx| Ok(*cx.input(gives_up)?)).after(gives_up));
            let other = graph.add(Task::new("other", |_| Ok(1u32)));
            let after_other =
                graph.add(Task::new("after other", move |cx| Ok(*cx.input(other)?)).after(other));
            let report = executor(workers).run(&mut graph).unwrap();
            assert!(
                matches!(report.outcome(gives_up), Outcome::Cancelled),
                "{report}"
            );
            assert!(
                matches!(report.outcome(below), Outcome::Skipped),
                "{report}"
            );
            assert!(
                report.outcome(after_other).is_success(),
                "not a failure: the run goes on"
            );
            assert_eq!(
                (
                    report.cancelled(),
                    report.skipped(),
                    report.failed(),
                    report.succeeded()
                ),
                (1, 1, 0, 2)
            );
            assert!(!report.is_success());
            assert!(graph.output(gives_up).is_none());
        }
    });
}

#[test]
fn child_tokens_are_cancelled_with_their_parent_and_not_the_reverse() {
    watchdog(|| {
        let parent = CancelToken::new();
        let child = parent.child();
        let grandchild = child.child();
        let sibling = parent.child();
        child.cancel();
        assert!(child.is_cancelled() && grandchild.is_cancelled());
        assert!(!parent.is_cancelled() && !sibling.is_cancelled());
        parent.cancel();
        assert!(sibling.is_cancelled());
        assert!(parent.child().is_cancelled(), "born of a cancelled parent");

        // A run given a child stops when the parent is cancelled.
        let parent = CancelToken::new();
        let started = Signal::new();
        let mut graph = Graph::new();
        let seen = Arc::clone(&started);
        let running = graph.add(Task::new("running", move |cx| {
            seen.raise();
            wait_until("the parent's cancel", || cx.is_cancelled())?;
            Ok(())
        }));
        let next = graph.add(Task::new("next", |_| Ok(())).after(running));
        let stopper = parent.clone();
        let waiter = Arc::clone(&started);
        let canceller = thread::spawn(move || {
            waiter.wait().unwrap();
            stopper.cancel();
        });
        let options = RunOptions::new().cancel_token(parent.child());
        let report = executor(1).run_with(&mut graph, options).unwrap();
        canceller.join().unwrap();
        assert!(report.outcome(running).is_success());
        assert!(matches!(report.outcome(next), Outcome::Cancelled));
    });
}

#[test]
fn wait_timeout_returns_on_cancel_or_timeout_without_spinning() {
    watchdog(|| {
        let token = CancelToken::new();
        let started = std::time::Instant::now();
        assert!(!token.wait_timeout(Duration::from_millis(30)));
        assert!(
            started.elapsed() >= Duration::from_millis(30),
            "waited the whole timeout"
        );

        // A waiter on a grandchild is woken by a cancel of the root.
        let child = token.child().child();
        let waiter = thread::spawn(move || child.wait_timeout(Duration::from_secs(60)));
        thread::sleep(Duration::from_millis(20));
        token.cancel();
        assert!(
            waiter.join().unwrap(),
            "woken by the cancel, long before its timeout"
        );
        assert!(
            token.wait_timeout(Duration::ZERO),
            "already cancelled: at once"
        );

        // A timeout too long for the clock waits until the cancel.
        let token = CancelToken::new();
        let waiting = token.clone();
        let waiter = thread::spawn(move || waiting.wait_timeout(Duration::MAX));
        thread::sleep(Duration::from_millis(20));
        token.cancel();
        assert!(waiter.join().unwrap());

        // A task that waits for its run's token, instead of polling.
        let token = CancelToken::new();
        let mut graph = Graph::new();
        let inner = token.clone();
        let waits = graph.add(Task::new("waits", move |_| {
            if inner.wait_timeout(Duration::from_secs(60)) {
                Err(taskflow_engine::Cancelled.into())
            } else {
                Ok(())
            }
        }));
        let stopper = token.clone();
        let canceller = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            stopper.cancel();
        });
        let report = executor(1)
            .run_with(&mut graph, RunOptions::new().cancel_token(token))
            .unwrap();
        canceller.join().unwrap();
        assert!(
            matches!(report.outcome(waits), Outcome::Cancelled),
            "{report}"
        );
    });
}

#[test]
fn a_deadline_cancels_what_has_not_started_and_running_tasks_see_it() {
    watchdog(|| {
        let deadline = std::time::Instant::now() + Duration::from_millis(50);
        let mut graph = Graph::new();
        let first = graph.add(Task::new("first", |cx| {
            // Sees the deadline pass while it runs.
            wait_until("the deadline", || cx.is_cancelled())?;
            Ok(())
        }));
        let second = graph.add(Task::new("second", |_| Ok(())).after(first));
        let report = executor(1)
            .run_with(&mut graph, RunOptions::new().deadline(deadline))
            .unwrap();
        assert!(std::time::Instant::now() >= deadline);
        assert!(report.outcome(first).is_success(), "{report}");
        assert!(matches!(report.outcome(second), Outcome::Cancelled));

        let mut graph = Graph::new();
        let never = graph.add(Task::new("never", |_| Ok(())));
        let report = executor(2)
            .run_with(
                &mut graph,
                RunOptions::new().deadline(std::time::Instant::now()),
            )
            .unwrap();
        assert!(matches!(report.outcome(never), Outcome::Cancelled));
    });
}

/// A wait sleeps: 300 ms of waiting in `wait_timeout` and in
/// `Context::wait_cancelled` cost the waiting thread far less CPU than
/// spinning or polling would (a poll every few milliseconds would still
/// wake the thread about a hundred times).
#[cfg(target_os = "linux")]
#[test]
fn waits_cost_no_cpu_while_they_wait() {
    watchdog(|| {
        let wait = Duration::from_millis(300);
        let token = CancelToken::new();
        let before = thread_cpu_time();
        assert!(!token.wait_timeout(wait));
        let used = thread_cpu_time() - before;
        assert!(
            used < Duration::from_millis(20),
            "wait_timeout used {used:?} of CPU in {wait:?}"
        );

        let mut graph = Graph::new();
        let used = graph.add(Task::new("waits", move |cx| {
            let before = thread_cpu_time();
            assert!(!cx.wait_cancelled(wait), "nothing stops this run");
            Ok(thread_cpu_time() - before)
        }));
        assert!(executor(1).run(&mut graph).unwrap().is_success());
        let used = *graph.output(used).unwrap();
        assert!(
            used < Duration::from_millis(20),
            "wait_cancelled used {used:?} of CPU in {wait:?}"
        );
    });
}

#[test]
fn wait_cancelled_wakes_at_the_deadline() {
    watchdog(|| {
        let deadline = std::time::Instant::now() + Duration::from_millis(50);
        let mut graph = Graph::new();
        let woke = graph.add(Task::new("waits", |cx| Ok(cx.wait_cancelled(WAIT_LONG))));
        let report = executor(1)
            .run_with(&mut graph, RunOptions::new().deadline(deadline))
            .unwrap();
        assert!(report.is_success(), "{report}");
        assert_eq!(
            graph.output(woke),
            Some(&true),
            "woken by the deadline, not the timeout"
        );
        assert!(std::time::Instant::now() >= deadline);
    });
}

/// Longer than the watchdog: a wait that only a stop can end in time.
const WAIT_LONG: Duration = Duration::from_secs(3600);

#[test]
fn a_cancelled_error_wrapped_in_another_error_still_ends_cancelled() {
    watchdog(|| {
        #[derive(Debug)]
        struct Wrapper(taskflow_engine::Cancelled);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("step gave up")
            }
        }
        impl std::error::Error for Wrapper {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let mut graph = Graph::new();
        let wrapped = graph.add(Task::new("wrapped", |_| -> Result<(), Error> {
            Err(Wrapper(taskflow_engine::Cancelled).into())
        }));
        let report = executor(1).run(&mut graph).unwrap();
        assert!(
            matches!(report.outcome(wrapped), Outcome::Cancelled),
            "{report}"
        );
    });
}
