//! [`RunHandle`]: a run started with [`Executor::submit`](crate::Executor::submit),
//! which does not block its caller, and can be waited for, cancelled, or
//! awaited as a [`Future`] on any async runtime.
//!
//! A blocking run lives on its caller's stack; a submitted one lives in a
//! [`Submission`] on the heap: the graph, boxed so that it stays in place,
//! and the run state that borrows it and that the run's jobs point at. The
//! submission is held through a raw pointer, not a `Box`, from the moment
//! its run starts: workers reach the run through pointers of their own, and
//! a `Box` would assert that it alone reaches what it points to (Miri's
//! Tree Borrows reports exactly that). It becomes a box again only to be
//! freed, once the run is done.
//!
//! Who frees it: the handle, once the run is done (after `wait`, a `poll`
//! that returned `Ready`, or a drop after the end); or, for a handle
//! dropped while the run is in flight, the worker that finishes the run
//! ([`Completion::detach`]). The executor counts submitted runs in flight
//! and waits for them when it is dropped, before it stops its pools.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context as TaskContext, Poll};

use crate::graph::Graph;
use crate::results::error::GraphError;
use crate::results::report::RunReport;
use crate::runtime::cancel::CancelToken;
use crate::runtime::completion::{Completion, InFlight, Polled};
use crate::runtime::run::Run;
use crate::sync::Arc;

/// A run in flight, started by [`Executor::submit`](crate::Executor::submit).
///
/// [`wait`](RunHandle::wait) blocks until it is over; `.await` waits without
/// blocking the thread (it is woken through the task's
/// [`Waker`](std::task::Waker), with no runtime of its own); both give the
/// graph back with the run's report. Dropping the handle detaches the run:
/// it goes on, and the graph is dropped when it ends.
///
/// A graph that cannot run (a cycle, a foreign dependency, too large, a
/// pool that cannot start) starts no task; its report says why in
/// [`RunReport::graph_error`] and counts every task `Cancelled`.
///
/// ```
/// use taskflow_engine::{Executor, Graph, RunOptions, Task};
///
/// let executor = Executor::new();
/// let mut graph = Graph::new();
/// let answer = graph.add(Task::new("answer", |_| Ok(42)));
/// let handle = executor.submit(graph, RunOptions::new());
/// // ... the caller does other work while the graph runs ...
/// let (mut graph, report) = handle.wait();
/// assert!(report.is_success());
/// assert_eq!(graph.take_output(answer), Some(42));
/// ```
#[must_use = "dropping a RunHandle detaches the run: its report is lost"]
pub struct RunHandle {
    state: HandleState,
    token: CancelToken,
}

enum HandleState {
    /// The run is in flight or done, and not yet taken: a leaked
    /// `Box<Submission>`, owned by the handle.
    Running(Running),
    /// The graph was refused before any task started.
    Refused(Box<Graph<'static>>, GraphError),
    /// The outcome was handed out (by `wait` or a `Ready` poll).
    Taken,
}

/// The submission of a run in flight: the pointer of a leaked box, which its
/// holder owns and frees (`into_parts`, or `Drop` after the run is done).
struct Running(NonNull<Submission>);

// SAFETY: `Running` owns the submission as a box would, and `Submission`
// is `Send`.
unsafe impl Send for Running {}

impl Running {
    fn completion(&self) -> &Arc<Completion> {
        // SAFETY: the submission is alive while its owner, `self`, is.
        // Shared access is sound while workers use the run: they reach it
        // only through shared references too (interior mutability).
        unsafe { &self.0.as_ref().completion }
    }

    /// Blocks until the run completed, taking its parked tasks out of their
    /// limits at its deadline (see [`Run::wait_for_completion`]).
    fn wait(&self) {
        // SAFETY: as in `completion`: the submission is alive while `self`
        // is, and the run is only read through a shared reference.
        let submission = unsafe { self.0.as_ref() };
        submission
            .run
            .as_ref()
            .expect("a running submission holds its run")
            .wait_for_completion();
    }

    /// The graph and the report of a run that is done.
    fn into_parts(self) -> (Graph<'static>, RunReport) {
        let pointer = self.0;
        std::mem::forget(self);
        // SAFETY: the run is done, so no worker reaches the submission any
        // more; the pointer is the leaked box's, owned by `self`, which was
        // just forgotten, so it is taken back exactly once.
        unsafe { Box::from_raw(pointer.as_ptr()) }.into_parts()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // SAFETY: as in `into_parts`. A `Running` is dropped only once its
        // run is done (module docs): by the handle after it saw the run
        // done, or by the finisher, through `Completion::detach`.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

/// A submitted run and the graph it borrows.
struct Submission {
    /// Declared first: dropped before `graph` is freed.
    run: Option<Run<'static>>,
    completion: Arc<Completion>,
    /// The graph, from a leaked box: owned here until `into_parts` hands it
    /// back (and takes it out), or freed in `Drop`.
    graph: Option<NonNull<Graph<'static>>>,
    /// What keeps the executor's pools alive until the run is over, and
    /// then dropped last (after `Drop` freed the run and the graph).
    _executor: std::sync::Arc<dyn Send + Sync>,
}

// SAFETY: a submission owns its graph (the pointer is a box's) and the run
// state that borrows it; moving both to another thread together is moving
// a `Graph`, which is `Send`, and a `Run`, whose shared parts are `Sync`
// (`Run`'s own safety comment). Nothing else reaches the graph while the run
// is in flight: the handle gives it back only once the run is done.
unsafe impl Send for Submission {}

/// Starts a run of `graph` on the heap and returns its handle: `prepare`
/// checks the graph and makes the run state (or says why it cannot run);
/// the run is counted in `in_flight` until it finishes, and `token` is the
/// one the handle cancels.
pub(crate) fn submit(
    graph: Graph<'static>,
    token: CancelToken,
    in_flight: &Arc<InFlight>,
    executor: std::sync::Arc<dyn Send + Sync>,
    prepare: impl FnOnce(&'static mut Graph<'static>) -> Result<Run<'static>, GraphError>,
) -> RunHandle {
    let graph = NonNull::from(Box::leak(Box::new(graph)));
    // SAFETY: `graph` came from a box just leaked, so it is valid and
    // unaliased. The `'static` borrow is one the submission bounds: the run
    // that holds it is dropped before the graph is freed (`Drop`,
    // `into_parts`), and nothing else reaches the graph meanwhile.
    let run = match prepare(unsafe { &mut *graph.as_ptr() }) {
        Ok(run) => run,
        Err(error) => {
            // SAFETY: the refused run left no borrow of the graph (the error
            // owns its data), which is still the leaked box's.
            let graph = unsafe { Box::from_raw(graph.as_ptr()) };
            return RunHandle {
                state: HandleState::Refused(graph, error),
                token,
            };
        }
    };
    let completion = Arc::clone(run.completion());
    let submission = Running(NonNull::from(Box::leak(Box::new(Submission {
        run: Some(run),
        completion,
        graph: Some(graph),
        _executor: executor,
    }))));
    submission.completion().count_in(in_flight);
    // SAFETY: the submission is alive and only read here (see
    // `Running::completion`).
    let run = unsafe { submission.0.as_ref() }
        .run
        .as_ref()
        .expect("just stored");
    // SAFETY: the run is in its final place inside the submission, which is
    // freed only once the run's completion is done: by the handle after it
    // saw the completion done, or by the finisher (`Completion::detach`).
    unsafe { run.start() };
    RunHandle {
        state: HandleState::Running(submission),
        token,
    }
}

impl Submission {
    /// The graph and the report of a run that is done.
    fn into_parts(mut self: Box<Self>) -> (Graph<'static>, RunReport) {
        let run = self.run.take().expect("a run is reported once");
        let report = run.into_report();
        let graph = self.graph.take().expect("the graph is handed back once");
        // SAFETY: the run that borrowed the graph is gone (reported just
        // above), and the pointer is the leaked box's, taken out of the
        // submission so that `Drop` does not free it again.
        (*unsafe { Box::from_raw(graph.as_ptr()) }, report)
    }
}

impl Drop for Submission {
    fn drop(&mut self) {
        // Only a run that is done is dropped (see the module docs): first
        // the run state, then the graph it borrowed. A run whose handle was
        // dropped still builds its report, for its observers'
        // `run_finished`.
        drop(self.run.take().map(Run::into_report));
        if let Some(graph) = self.graph.take() {
            // SAFETY: the pointer is the leaked box's and still owned here
            // (`into_parts` takes it out), and the run that borrowed the
            // graph was dropped just above.
            drop(unsafe { Box::from_raw(graph.as_ptr()) });
        }
    }
}

impl RunHandle {
    /// Blocks until the run is over and gives back the graph and its
    /// report. On a worker thread of the same executor this blocks the
    /// worker (see [`Executor`](crate::Executor)); called from a task of the
    /// run itself, it never returns.
    pub fn wait(mut self) -> (Graph<'static>, RunReport) {
        if let HandleState::Running(submission) = &self.state {
            submission.wait();
        }
        self.take()
    }

    /// Asks the run to stop, as a [`CancelToken`] given to
    /// [`RunOptions::cancel_token`](crate::RunOptions::cancel_token) would
    /// (a token given there is not cancelled by this). Returns at once.
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Whether the run is over (so that `wait` would not block).
    #[must_use]
    pub fn is_finished(&self) -> bool {
        match &self.state {
            HandleState::Running(submission) => submission.completion().is_done(),
            _ => true,
        }
    }

    /// The outcome of a run that is done.
    fn take(&mut self) -> (Graph<'static>, RunReport) {
        match std::mem::replace(&mut self.state, HandleState::Taken) {
            HandleState::Running(submission) => submission.into_parts(),
            HandleState::Refused(graph, error) => {
                let report = RunReport::refused(graph.id(), graph.len(), error);
                (*graph, report)
            }
            HandleState::Taken => panic!("a RunHandle was polled after it returned Ready"),
        }
    }
}

// SAFETY: the methods of `&RunHandle` (`cancel`, `is_finished`, `Debug`)
// touch only its token and its run's completion, which are `Sync`; the
// graph and the run state are reached only through `&mut self` or `self`.
unsafe impl Sync for RunHandle {}

impl Future for RunHandle {
    type Output = (Graph<'static>, RunReport);

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let HandleState::Running(submission) = &this.state {
            if submission.completion().poll(cx.waker()) == Polled::Pending {
                return Poll::Pending;
            }
        }
        Poll::Ready(this.take())
    }
}

impl Drop for RunHandle {
    fn drop(&mut self) {
        if let HandleState::Running(submission) =
            std::mem::replace(&mut self.state, HandleState::Taken)
        {
            let completion = Arc::clone(submission.completion());
            // Done already: the submission comes back and drops here.
            drop(completion.detach(Box::new(submission)));
        }
    }
}

impl fmt::Debug for RunHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunHandle")
            .field("finished", &self.is_finished())
            .finish_non_exhaustive()
    }
}
