//! Submitted runs: `Executor::submit` returns at once; the handle waits,
//! cancels, detaches when dropped, and is a future that an async runtime
//! awaits without blocking its thread.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use common::{Signal, WAIT, executor, watchdog};
use taskflow_engine::{
    CancelToken, Executor, FailurePolicy, Graph, GraphError, Outcome, RunOptions, Task,
};

#[test]
fn submit_returns_at_once_and_wait_gives_the_graph_back() {
    watchdog(|| {
        let executor = executor(2);
        let release = Signal::new();
        let mut graph = Graph::new();
        let gate = Arc::clone(&release);
        let first = graph.add(Task::new("gated", move |_| {
            gate.wait()?;
            Ok(20)
        }));
        let second =
            graph.add(Task::new("second", move |cx| Ok(cx.input(first)? + 1)).after(first));
        let handle = executor.submit(graph, RunOptions::new());
        // `submit` returned while the first task is blocked.
        assert!(!handle.is_finished());
        release.raise();
        let (mut graph, report) = handle.wait();
        assert!(report.is_success(), "{report}");
        assert_eq!(graph.take_output(second), Some(21));
        // The graph comes back runnable.
        release.raise();
        assert!(executor.run(&mut graph).unwrap().is_success());
    });
}

#[test]
fn awaiting_a_run_does_not_block_the_runtime_thread() {
    watchdog(|| {
        // One thread for the whole runtime: if awaiting the handle blocked
        // it, the sender below could never run, and the task that waits for
        // its message would fail after WAIT.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime");
        let executor = executor(1);
        let (sender, receiver) = mpsc::channel::<u32>();
        let mut graph = Graph::new();
        let received = graph.add(Task::new("receive", move |_| {
            Ok(receiver.recv_timeout(WAIT)?)
        }));
        let (mut graph, report) = runtime.block_on(async {
            let handle = executor.submit(graph, RunOptions::new());
            let sender = tokio::spawn(async move { sender.send(7).expect("the task listens") });
            let outcome = handle.await;
            sender.await.expect("the sender ran");
            outcome
        });
        assert!(report.is_success(), "{report}");
        assert_eq!(graph.take_output(received), Some(7));
    });
}

#[test]
fn many_runs_in_flight_are_awaited_together() {
    watchdog(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime");
        let executor = Arc::new(executor(2));
        let total: u64 = runtime.block_on(async {
            // Each handle is awaited by a task of its own, so that many
            // wakers are registered at once.
            let tasks: Vec<_> = (0..32u64)
                .map(|round| {
                    let mut graph = Graph::new();
                    let mut last = graph.add(Task::new("start", move |_| Ok(round)));
                    for _ in 0..10 {
                        last = graph
                            .add(Task::new("step", move |cx| Ok(cx.input(last)? + 1)).after(last));
                    }
                    let handle = executor.submit(graph, RunOptions::new());
                    tokio::spawn(async move {
                        let (mut graph, report) = handle.await;
                        assert!(report.is_success(), "{report}");
                        graph.take_output(last).expect("the chain ran")
                    })
                })
                .collect();
            let mut total = 0;
            for task in tasks {
                total += task.await.expect("the awaiting task does not panic");
            }
            total
        });
        assert_eq!(total, (0..32u64).map(|round| round + 10).sum::<u64>());
    });
}

#[test]
fn cancel_stops_the_run_and_only_that_run() {
    watchdog(|| {
        // Two runs under one caller token: cancelling one handle leaves the
        // other (and the token) alone.
        let executor = executor(2);
        let token = CancelToken::new();
        let release = Signal::new();
        let submit_one = |gate: Arc<Signal>| {
            let mut graph = Graph::new();
            let first = graph.add(Task::new("gated", move |cx| {
                gate.wait()?;
                Ok(cx.is_cancelled())
            }));
            let next = graph.add(Task::new("next", |_| Ok(())).after(first));
            let handle = executor.submit(graph, RunOptions::new().cancel_token(token.clone()));
            (handle, first, next)
        };
        let (cancelled, _, cancelled_next) = submit_one(Arc::clone(&release));
        let (kept, kept_first, kept_next) = submit_one(Arc::clone(&release));
        cancelled.cancel();
        release.raise();
        let (_, report) = cancelled.wait();
        assert!(
            matches!(report.outcome(cancelled_next), Outcome::Cancelled),
            "{report}"
        );
        let (graph, report) = kept.wait();
        assert!(report.is_success(), "the other run is untouched: {report}");
        assert_eq!(graph.output(kept_first), Some(&false));
        assert!(report.outcome(kept_next).is_success());
        assert!(!token.is_cancelled());
    });
}

#[test]
fn cancel_wakes_a_task_that_waits_for_its_run_to_stop() {
    watchdog(|| {
        let executor = executor(1);
        let started = Signal::new();
        let caller_token = CancelToken::new();
        let mut graph = Graph::new();
        let seen = Arc::clone(&started);
        let waiting = graph.add(Task::new("waits for cancel", move |cx| {
            seen.raise();
            if !cx.wait_cancelled(WAIT) {
                return Err("not woken by the handle's cancel".into());
            }
            Ok(())
        }));
        let later = graph.add(Task::new("later", |_| Ok(())).after(waiting));
        let options = RunOptions::new().cancel_token(caller_token.clone());
        let handle = executor.submit(graph, options);
        started.wait().unwrap();
        handle.cancel();
        let (_, report) = handle.wait();
        assert!(report.outcome(waiting).is_success(), "{report}");
        assert!(matches!(report.outcome(later), Outcome::Cancelled));
        assert!(
            !caller_token.is_cancelled(),
            "the handle cancels a child of the caller's token"
        );
    });
}

#[test]
fn a_dropped_handle_detaches_and_the_executor_waits_for_the_run() {
    watchdog(|| {
        let executor = executor(2);
        let release = Signal::new();
        let ran = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicUsize::new(0));
        struct CountsDrop(Arc<AtomicUsize>);
        impl Drop for CountsDrop {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let mut graph = Graph::new();
        for _ in 0..8 {
            let (gate, ran, guard) = (
                Arc::clone(&release),
                Arc::clone(&ran),
                CountsDrop(Arc::clone(&dropped)),
            );
            graph.add(Task::new("detached", move |_| {
                let _keep = &guard;
                gate.wait()?;
                ran.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }));
        }
        drop(executor.submit(graph, RunOptions::new()));
        assert_eq!(dropped.load(Ordering::SeqCst), 0, "the run goes on");
        release.raise();
        // Dropping the executor waits for the detached run.
        drop(executor);
        assert_eq!(ran.load(Ordering::SeqCst), 8);
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            8,
            "the finisher dropped the graph"
        );
    });
}

#[test]
fn a_graph_that_cannot_run_is_reported_and_given_back() {
    watchdog(|| {
        let executor = executor(1);
        let mut graph = Graph::new();
        let a = graph.add(Task::new("a", |_| Ok(())));
        let b = graph.add(Task::new("b", |_| Ok(())).after(a));
        graph.precede(b, a).unwrap();
        let (graph, report) = executor.submit(graph, RunOptions::new()).wait();
        assert!(matches!(
            report.graph_error(),
            Some(GraphError::Cycle { .. })
        ));
        assert!(!report.is_success());
        assert_eq!(report.cancelled(), 2);
        assert_eq!(graph.len(), 2);
        assert!(report.to_string().contains("cycle"), "{report}");

        let (_, empty) = executor.submit(Graph::new(), RunOptions::new()).wait();
        assert!(empty.is_success() && empty.graph_error().is_none());
    });
}

#[test]
fn submitted_failures_follow_the_policy() {
    watchdog(|| {
        let executor = executor(2);
        let mut graph = Graph::new();
        let bad = graph.add(Task::new("bad", |_| -> Result<(), _> { Err("bad")? }));
        let below = graph.add(Task::new("below", |_| Ok(())).after(bad));
        let fine = graph.add(Task::new("fine", |_| Ok(())));
        let options = RunOptions::new().policy(FailurePolicy::KeepGoing);
        let (_, report) = executor.submit(graph, options).wait();
        assert!(report.outcome(bad).error().is_some());
        assert!(matches!(report.outcome(below), Outcome::Skipped));
        assert!(report.outcome(fine).is_success());
    });
}

#[test]
fn an_empty_submitted_graph_is_done_at_once() {
    watchdog(|| {
        let executor = Executor::builder().workers_per_tag(1).build().unwrap();
        let handle = executor.submit(Graph::new(), RunOptions::new());
        assert!(handle.is_finished());
        let (_, report) = handle.wait();
        assert!(report.is_success());
        drop(executor);
    });
}

/// A waker whose `wake` panics.
struct PanickingWaker;

impl std::task::Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("the waker panicked");
    }
}

#[test]
fn a_panicking_waker_does_not_kill_the_worker() {
    watchdog(|| {
        use std::future::Future;
        use std::task::{Context as Poller, Waker};

        let executor = executor(1);
        let release = Signal::new();
        let gate = Arc::clone(&release);
        let mut graph = Graph::new();
        graph.add(Task::new("gated", move |_| gate.wait()));
        let mut handle = executor.submit(graph, RunOptions::new());
        let waker = Waker::from(Arc::new(PanickingWaker));
        let pending = std::pin::Pin::new(&mut handle).poll(&mut Poller::from_waker(&waker));
        assert!(pending.is_pending(), "the task waits for the signal");
        release.raise();
        let (_, report) = handle.wait();
        assert!(report.is_success(), "{report}");
        // The only worker survived the panic: it runs the next graph.
        let mut graph = Graph::new();
        let after = graph.add(Task::new("after", |_| Ok(1)));
        assert!(executor.run(&mut graph).unwrap().is_success());
        assert_eq!(graph.output(after), Some(&1));
    });
}

#[test]
fn polling_a_handle_after_ready_panics() {
    watchdog(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime");
        let executor = executor(1);
        let mut handle = executor.submit(Graph::new(), RunOptions::new());
        runtime.block_on(async {
            let (_, report) = (&mut handle).await;
            assert!(report.is_success());
        });
        let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            runtime.block_on(async { (&mut handle).await })
        }));
        let message = again.expect_err("a second poll panics");
        assert!(
            message
                .downcast_ref::<&str>()
                .is_some_and(|text| text.contains("polled after it returned Ready")),
            "the documented message"
        );
    });
}

#[test]
fn the_last_executor_handle_dropped_inside_a_task_does_not_hang() {
    watchdog(|| {
        let stops = Arc::new(AtomicUsize::new(0));
        let stopped = Arc::clone(&stops);
        let executor = Arc::new(
            Executor::builder()
                .workers_per_tag(1)
                .on_thread_stop(move |_, _| {
                    stopped.fetch_add(1, Ordering::SeqCst);
                })
                .build()
                .unwrap(),
        );
        let (done, finished) = mpsc::channel();
        let mut graph = Graph::new();
        let holder = std::sync::Mutex::new(Some(Arc::clone(&executor)));
        graph.add(Task::new("drops the executor", move |_| {
            // The last `Arc<Executor>` goes away on its own worker.
            drop(holder.lock().unwrap().take());
            done.send(()).expect("the test listens");
            Ok(())
        }));
        let handle = executor.submit(graph, RunOptions::new());
        drop(executor);
        finished.recv_timeout(WAIT).expect("the task ran");
        let (_, report) = handle.wait();
        assert!(report.is_success(), "{report}");
        // The last owner (the handle's run) stopped the pool when it ended.
        common::wait_until("the worker to stop", || stops.load(Ordering::SeqCst) == 1).unwrap();
    });
}

#[test]
fn a_detached_graph_that_owns_the_executor_does_not_hang() {
    watchdog(|| {
        let executor = Arc::new(executor(1));
        let release = Signal::new();
        let gate = Arc::clone(&release);
        let mut graph = Graph::new();
        let owner = Arc::clone(&executor);
        graph.add(Task::new("owns the executor", move |_| {
            let _keep = &owner;
            gate.wait()
        }));
        // The graph holds the last `Arc<Executor>` once both handles go: the
        // worker that finishes the run drops the graph, and with it the
        // executor, on that very worker.
        drop(executor.submit(graph, RunOptions::new()));
        drop(executor);
        release.raise();
    });
}
