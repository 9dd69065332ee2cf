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
            let handles: Vec<_> = (0..32u64)
                .map(|round| {
                    let mut graph = Graph::new();
                    let mut last = graph.add(Task::new("start", move |_| Ok(round)));
                    for _ in 0..10 {
                        last = graph
                            .add(Task::new("step", move |cx| Ok(cx.input(last)? + 1)).after(last));
                    }
                    (last, executor.submit(graph, RunOptions::new()))
                })
                .collect();
            let mut total = 0;
            for (last, handle) in handles {
                let (mut graph, report) = handle.await;
                assert!(report.is_success(), "{report}");
                total += graph.take_output(last).expect("the chain ran");
            }
            total
        });
        assert_eq!(total, (0..32u64).map(|round| round + 10).sum::<u64>());
    });
}

#[test]
fn cancel_stops_the_run_and_only_that_run() {
    watchdog(|| {
        let executor = executor(1);
        let started = Signal::new();
        let caller_token = CancelToken::new();
        let mut graph = Graph::new();
        let seen = Arc::clone(&started);
        let waiting = graph.add(Task::new("waits for cancel", move |cx| {
            seen.raise();
            common::wait_until("the run to be cancelled", || cx.is_cancelled())?;
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
fn an_executor_dropped_with_nothing_submitted_does_not_wait() {
    watchdog(|| {
        let executor = Executor::builder().workers_per_tag(1).build().unwrap();
        let (_, report) = executor.submit(Graph::new(), RunOptions::new()).wait();
        assert!(report.is_success());
        drop(executor);
    });
}
