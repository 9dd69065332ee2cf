//! A run started from inside a task of its own executor: how its caller,
//! a worker, waits for it by helping (see "Waiting" in
//! [`crate::runtime::spawn`]).

use std::ptr::NonNull;
use std::task::{Wake, Waker};

use crate::runtime::completion::Polled;
use crate::runtime::run::Run;
use crate::runtime::spawn::help::OwnWork;
use crate::runtime::spawn::inbox::Inbox;
use crate::runtime::spawn::subtree::Subtree;
use crate::runtime::state::{SKIPPED, poisons};
use crate::runtime::worker::WorkerThread;
use crate::sync::Arc;

/// Signals a waiting worker's inbox when the run it waits for completes.
struct SignalInbox(Arc<Inbox>);

impl Wake for SignalInbox {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.signal();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.signal();
    }
}

impl Run<'_> {
    /// Waits for this started run, whose jobs for the pool of `inbox` queue
    /// in `inbox`, by helping with them on the calling worker of that pool.
    pub(crate) fn help_until_complete(&self, inbox: &Arc<Inbox>) {
        let waker = Waker::from(std::sync::Arc::new(SignalInbox(Arc::clone(inbox))));
        if self.completion().poll(&waker) == Polled::Done {
            return;
        }
        let done = || self.completion().is_done();
        match WorkerThread::current() {
            Some(worker) if std::ptr::eq(worker.pool(), inbox.pool()) => {
                worker.serve_until(inbox, None, None, done);
            }
            _ => inbox.block_until(done),
        }
    }

    /// The implicit join of an exclusive run ([`crate::runtime::spawn`]):
    /// after the body of a task that spawned returned, waits for its
    /// children by helping, and returns how the task settles for its
    /// dependents (poisoning them if a descendant did not succeed).
    ///
    /// Not bounded by the worker's stack (`stack_margin`): its body
    /// returned, and nobody else may release its successors. A chain of
    /// spawns in an exclusive run nests one such wait per generation.
    #[cold]
    #[inline(never)]
    pub(crate) fn join_in_order(
        &self,
        outcome: u32,
        subtree: &Subtree,
        worker: &WorkerThread,
    ) -> u32 {
        // Only the in-order path runs the graph's tasks strictly one after
        // another: a regular or steered exclusive run may start another
        // task in this wait's fall-back, whose children are not this one's.
        let own = if self.runs_in_order() {
            Some(OwnWork::NodesOf(NonNull::from(self).cast()))
        } else {
            self.own_work_of(subtree, worker)
        };
        worker.serve_until(subtree.wait_inbox(), Some(subtree), own, || {
            subtree.children_ended()
        });
        let ended = subtree.body_returned(poisons(outcome));
        debug_assert!(ended, "every child ended before the implicit join returned");
        if subtree.poisons() { SKIPPED } else { outcome }
    }
}
