//! Settling one task of the graph (step 2 of [`crate::runtime::run`]): its
//! body runs, observed or not, and its outcome is recorded; or it is marked
//! skipped or cancelled without running. Failures are kept for the report
//! and stop a fail-fast run. A body that spawned hands its subtree back to
//! the caller in the [`Settled`] it returns, in registers: a task that
//! spawns nothing costs one test of a null pointer.

use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;

use crate::observe::TaskEvent;
use crate::results::error::{Error, Panic, TaskError, drop_panic_payload};
use crate::results::report::Outcome;
use crate::runtime::context::Context;
use crate::runtime::options::FailurePolicy;
use crate::runtime::run::{Run, is_cancelled};
use crate::runtime::spawn::subtree::Subtree;
use crate::runtime::state::{CANCELLED, CANCELLED_ITSELF, FAILED, SKIPPED, SUCCEEDED, recorded};
use crate::runtime::worker::WorkerThread;
use crate::sync::atomic::{AtomicUsize, Ordering};

/// How a task of the graph settled.
#[derive(Debug, Clone, Copy)]
pub(in crate::runtime) struct Settled {
    /// An outcome code, or [`CANCELLED_ITSELF`].
    pub(in crate::runtime) outcome: u32,
    /// The subtree its body left, if it spawned: the caller ends it or
    /// joins it before it releases the task's successors (see
    /// [`crate::runtime::spawn`]). Owned by the run.
    pub(in crate::runtime) spawned: Option<NonNull<Subtree>>,
}

impl Settled {
    /// A task whose body spawned nothing, or did not run.
    fn alone(outcome: u32) -> Self {
        Settled {
            outcome,
            spawned: None,
        }
    }
}

impl Run<'_> {
    /// Runs `task`, or records why it does not run (a `poisoned` dependency,
    /// or a stopped run), stores its outcome code and returns how it
    /// settled.
    #[inline]
    pub(in crate::runtime) fn settle(
        &self,
        task: u32,
        poisoned: bool,
        worker: &WorkerThread,
    ) -> Settled {
        let settled = if poisoned {
            Settled::alone(self.did_not_run(task, worker.index(), &self.skipped, SKIPPED))
        } else if self.is_stopped() {
            Settled::alone(self.did_not_run(task, worker.index(), &self.cancelled, CANCELLED))
        } else if !self.observed {
            self.run_body(task, worker)
        } else {
            self.run_body_observed(task, worker)
        };
        // ORDERING: Relaxed: read only by the caller after completion, which
        // the worker's later AcqRel subtraction orders after this store.
        self.outcomes[task as usize].store(recorded(settled.outcome), Ordering::Relaxed);
        settled
    }

    /// Runs the task's body with panics caught.
    #[inline]
    fn run_body(&self, task: u32, worker: &WorkerThread) -> Settled {
        let (result, spawned) = self.call_body(task, worker);
        let outcome = match result {
            Ok(Ok(())) => SUCCEEDED,
            Ok(Err(error)) if is_cancelled(&*error) => self.cancelled_itself(),
            Ok(Err(error)) => self.fail(task, TaskError::Error(error)),
            Err(payload) => self.fail(task, TaskError::Panicked(Panic::new(payload))),
        };
        Settled { outcome, spawned }
    }

    /// [`run_body`](Run::run_body) between the observers' start and finish
    /// events. A failure's outcome is built before the observers see it and
    /// then moved into the run's failures.
    #[inline(never)]
    fn run_body_observed(&self, task: u32, worker: &WorkerThread) -> Settled {
        let started = TaskEvent::new(self, task, worker.index());
        self.observers.task_started(&started);
        let (result, spawned) = self.call_body(task, worker);
        let outcome = match result {
            Ok(Ok(())) => Outcome::Succeeded,
            Ok(Err(error)) if is_cancelled(&*error) => Outcome::Cancelled,
            Ok(Err(error)) => Outcome::Failed(TaskError::Error(error)),
            Err(payload) => Outcome::Failed(TaskError::Panicked(Panic::new(payload))),
        };
        self.observers.task_finished(&started.finished(), &outcome);
        let outcome = match outcome {
            Outcome::Succeeded => SUCCEEDED,
            Outcome::Failed(error) => self.fail(task, error),
            Outcome::Cancelled => self.cancelled_itself(),
            Outcome::Skipped => unreachable!("a task whose body ran is not skipped"),
        };
        Settled { outcome, spawned }
    }

    /// Calls the task's body with panics caught; returns what it returned,
    /// and its subtree if it spawned.
    #[inline]
    fn call_body(
        &self,
        task: u32,
        worker: &WorkerThread,
    ) -> (
        std::thread::Result<Result<(), Error>>,
        Option<NonNull<Subtree>>,
    ) {
        let cx = Context::new(self, task, worker.index());
        let result = self.graph.bodies[task as usize].with_mut(|body| {
            // SAFETY: this worker owns `task` (module docs), so nothing else
            // reads or writes its body until the AcqRel decrements that
            // follow; `&mut` for the duration of the call is exclusive.
            let body = unsafe { (*body).get_mut() };
            panic::catch_unwind(AssertUnwindSafe(|| body.run(&cx)))
        });
        (result, cx.subtree())
    }

    /// Records that the task ran and returned [`Cancelled`].
    fn cancelled_itself(&self) -> u32 {
        // ORDERING: Relaxed: as in `did_not_run`.
        self.cancelled.fetch_add(1, Ordering::Relaxed);
        CANCELLED_ITSELF
    }

    fn fail(&self, task: u32, error: TaskError) -> u32 {
        self.failures.lock().push((task, error));
        self.stop_if_fail_fast();
        FAILED
    }

    /// After a failure: stops the run under fail-fast.
    pub(crate) fn stop_if_fail_fast(&self) {
        if self.policy == FailurePolicy::FailFast {
            // ORDERING: Relaxed: see `is_stopped`.
            self.stopped.store(true, Ordering::Relaxed);
            // Wakes the run's tasks that wait for a stop.
            self.token.cancel();
        }
    }

    /// Records that `task` did not run (it ends `outcome`, counted in
    /// `count`; `worker` settled it), drops the output an earlier run left
    /// in it, and tells the observers.
    #[cold]
    fn did_not_run(&self, task: u32, worker: usize, count: &AtomicUsize, outcome: u32) -> u32 {
        // ORDERING: Relaxed: read by the caller after completion, which the
        // worker's later AcqRel subtraction orders after this increment.
        count.fetch_add(1, Ordering::Relaxed);
        self.graph.bodies[task as usize].with_mut(|body| {
            // SAFETY: as in `run_body`: this worker owns the task.
            let body = unsafe { (*body).get_mut() };
            // The output's destructor is user code. Should it panic, the task
            // still did not run, so its outcome stays; the panic is dropped.
            if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| body.clear_output())) {
                drop_panic_payload(payload);
            }
        });
        if self.observed {
            let seen = if outcome == SKIPPED {
                Outcome::Skipped
            } else {
                Outcome::Cancelled
            };
            self.observers
                .task_finished(&TaskEvent::new(self, task, worker), &seen);
        }
        outcome
    }
}
