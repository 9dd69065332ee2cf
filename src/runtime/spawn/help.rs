//! How a waiting worker helps: the loop of "Waiting" in
//! [`crate::runtime::spawn`], and the one place a worker's batch is set
//! aside while it processes jobs inside a task; and how far a worker's
//! stack lets waits nest on it.

use std::ptr::NonNull;

use crate::mutant::planted;
use crate::results::error::GraphError;
use crate::runtime::job::{Job, Work};
use crate::runtime::run::Run;
use crate::runtime::spawn::inbox::{Found, Inbox};
use crate::runtime::spawn::subtree::Subtree;
use crate::runtime::worker::WorkerThread;
use crate::sync::Arc;
use crate::sync::atomic::{Ordering, fence};

/// The stack a wait leaves free below it before it helps: the larger of
/// 256 KiB and an eighth of the worker's stack. A wait with less room left
/// is refused with [`GraphError::WaitTooDeep`] instead of helping, so that
/// nested helping cannot overflow the worker's stack. Each level of a task
/// that runs a graph from inside itself costs about 3.4 KiB of it (measured
/// in a release build, nested runs 100 deep on one worker): the default
/// worker stack ([`DEFAULT_WORKER_STACK`](crate::runtime::threads::DEFAULT_WORKER_STACK),
/// 16 MiB) holds about 4,000 such levels, a 1 MiB one about 200.
pub(crate) fn stack_margin(stack_size: usize) -> usize {
    (256 << 10).max(stack_size / 8)
}

/// Where the calling thread's stack is now: the address of a local (the
/// stack grows downwards on every platform the crate supports).
#[inline(never)]
pub(crate) fn stack_position() -> usize {
    let marker = 0u8;
    std::hint::black_box(&raw const marker) as usize
}

/// The part of a worker's stack that is known: where it started (an
/// address near the top, taken when the thread began) and its size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stack {
    pub(crate) base: usize,
    pub(crate) size: usize,
}

impl Stack {
    /// The calling thread's stack, of `size` bytes, seen from its start.
    pub(crate) fn here(size: usize) -> Self {
        Stack {
            base: stack_position(),
            size,
        }
    }

    /// Whether the calling thread (the one this stack belongs to) has at
    /// least [`stack_margin`] left.
    fn has_room(&self) -> bool {
        let used = self.base.saturating_sub(stack_position());
        self.size.saturating_sub(used) >= stack_margin(self.size)
    }
}

/// How far up the tree [`OwnWork::DescendantsOf`] looks for the awaited
/// subtree: a job deeper below it is left to the wait's fall-back, so that
/// a look costs a few steps however deep the tree is.
const ANCESTRY_LOOK: usize = 16;

/// Which jobs on top of a waiting worker's own deque are the wait's own
/// work (see [`WorkerThread::serve_until`]).
#[derive(Clone, Copy, Debug)]
pub(crate) enum OwnWork<'a> {
    /// Spawned descendants of this subtree, its children most often
    /// (looked for up to [`ANCESTRY_LOOK`] levels up).
    DescendantsOf(&'a Subtree),
    /// Every spawned task of this run: for the implicit join of a task of
    /// an exclusive run on the in-order path, whose subtree holds every
    /// spawned task of the run that has not ended (its worker runs the
    /// graph's tasks one after another, each joined before the next).
    NodesOf(NonNull<Run<'static>>),
}

/// What a wait's look at the top of its worker's deque found.
enum Look {
    /// A job of its own work, taken off the deque.
    Own(Job),
    /// Nothing: the look is tried again after the next job (a job the wait
    /// runs may push more of its own work there).
    Empty,
    /// Another job, left on top: the wait stops looking there.
    NotOwn,
}

impl OwnWork<'_> {
    /// Whether `job` is this wait's own work.
    fn owns(&self, job: &Job) -> bool {
        let Work::Spawned(node) = job.work() else {
            return false;
        };
        match *self {
            OwnWork::NodesOf(run) => job.run() == run,
            OwnWork::DescendantsOf(awaited) => {
                // SAFETY: a queued job's run is alive until the job's unit
                // is counted, which is after it is processed.
                let run = unsafe { job.run().as_ref() };
                // SAFETY: a node's parent subtree, and every ancestor's,
                // outlives the node.
                let mut at = Some(unsafe { run.node_parent(node).as_ref() });
                for _ in 0..ANCESTRY_LOOK {
                    match at {
                        Some(subtree) if std::ptr::eq(subtree, awaited) => return true,
                        Some(subtree) => at = subtree.parent(),
                        None => return false,
                    }
                }
                false
            }
        }
    }
}

impl WorkerThread {
    /// Whether a wait on this worker may still help (see [`stack_margin`]).
    pub(crate) fn may_help(&self) -> bool {
        self.stack.has_room()
    }

    /// Serves `inbox` until `done()` holds (module docs of
    /// [`crate::runtime::spawn`], "Waiting"): processes its jobs, counts
    /// what it finished before each check, and otherwise blocks.
    ///
    /// Called from inside a task this worker runs, whose own unit of work
    /// is not yet counted: so the batch set aside here, and the flushes of
    /// the helping batches, cannot let that task's run complete under the
    /// frames that borrow it.
    ///
    /// # Errors
    ///
    /// [`GraphError::WaitTooDeep`], waiting for nothing, if the worker's
    /// stack has too little room left to help ([`stack_margin`]).
    pub(crate) fn help_until(
        &self,
        inbox: &Arc<Inbox>,
        awaited: Option<&Subtree>,
        own: Option<OwnWork<'_>>,
        done: impl Fn() -> bool,
    ) -> Result<(), GraphError> {
        if !self.may_help() {
            return Err(GraphError::WaitTooDeep);
        }
        self.serve_until(inbox, awaited, own, done);
        Ok(())
    }

    /// [`help_until`](WorkerThread::help_until) without the look at the
    /// stack, for a wait whose caller looked already (a nested run, before
    /// it started) or that cannot be refused (the implicit join of an
    /// exclusive run, whose body returned: see `Run::join_in_order`).
    ///
    /// `own`, for a wait for a subtree, says which jobs on this worker's
    /// own deque are its work: the waiting body queued its children of this
    /// pool there (see `Run::publish_spawned`), on top of older work, and so
    /// did its descendants that ran on this worker, and the wait takes them
    /// back, newest first, after its inbox's jobs, until the top of the
    /// deque is not its own (then the wait stops looking there). Own
    /// work can be left below that top (under a job run outside the wait by
    /// `run_outside_the_wait`, or under a descendant deeper than
    /// [`ANCESTRY_LOOK`]) or pushed after the look stopped; the pool's
    /// thieves and this wait's fall-back run it. The caller passes `None`
    /// where the body's pushes did not go there (it ran inside a wait, in a
    /// run that is not exclusive).
    ///
    /// `awaited` is the subtree the wait is for, if any: the wait registers
    /// in its count while it blocks (see [`Subtree::enter_wait`]), so that
    /// a child's end signals it then, and only then.
    pub(crate) fn serve_until(
        &self,
        inbox: &Arc<Inbox>,
        awaited: Option<&Subtree>,
        mut own: Option<OwnWork<'_>>,
        done: impl Fn() -> bool,
    ) {
        let outer_batch = self.batch.take();
        let outer_finished = self.finished.replace(0);
        let outer_target = self.help_target.replace(Some(NonNull::from(inbox)));
        let pool = self.pool();
        if self.help_depth.get() == 0 {
            pool.count_waiting(true);
        }
        self.help_depth.set(self.help_depth.get() + 1);
        loop {
            if let Some(job) = inbox.take_for_owner() {
                self.process_job(job);
                continue;
            }
            if let Some(work) = own {
                match self.take_own_work(work) {
                    Look::Own(job) => {
                        self.process_job(job);
                        continue;
                    }
                    Look::Empty => {}
                    Look::NotOwn => own = None,
                }
            }
            // Count what was finished, so that an awaited run whose last
            // units this worker holds can complete. (The planted bug
            // `help_waits_before_flush` does not; the loom model
            // `a_helping_worker_finds_the_awaited_run_finished` must then
            // find the wait stuck.)
            if !planted("help_waits_before_flush") {
                self.flush();
            }
            // A satisfied wait returns before it looks for work outside it.
            if done() {
                break;
            }
            // Block: registered first, then one more look (see
            // `Pool::nudge_waits`).
            // Signals from here on end the wait below (a nudge after the
            // look that follows, say).
            // Registered in the awaited count before the look at the
            // signals: a child's end after it signals, one before it is
            // seen by `done` (see `Subtree::wait`).
            if let Some(subtree) = awaited {
                subtree.enter_wait();
            }
            let seen = inbox.signals();
            let every_blocked = pool.block_in(inbox);
            fence(Ordering::SeqCst);
            if pool.all_waiting() {
                if let Some(job) = pool.take_for_wait(self.index(), self.local(), every_blocked) {
                    pool.unblock(inbox);
                    if let Some(subtree) = awaited {
                        subtree.leave_wait();
                    }
                    self.run_outside_the_wait(job);
                    continue;
                }
            }
            let found = inbox.wait_for_owner(seen, &done);
            pool.unblock(inbox);
            if let Some(subtree) = awaited {
                subtree.leave_wait();
            }
            match found {
                Found::Job(job) => self.process_job(job),
                Found::Done => break,
                Found::Signaled => {}
            }
        }
        if planted("help_waits_before_flush") {
            self.flush();
        }
        self.help_depth.set(self.help_depth.get() - 1);
        if self.help_depth.get() == 0 {
            pool.count_waiting(false);
        }
        self.help_target.set(outer_target);
        self.batch.replace(outer_batch);
        self.finished.set(outer_finished);
    }

    /// The newest job of this worker's own deque if it is the wait's own
    /// `work`; else what was found, with the deque as it was.
    fn take_own_work(&self, work: OwnWork<'_>) -> Look {
        let Some(job) = self.local().pop_newest() else {
            return Look::Empty;
        };
        if work.owns(&job) {
            return Look::Own(job);
        }
        self.local().push(job);
        // Back where it was; a thief that looked while it was out may have
        // gone to sleep, so the push is announced as any other.
        self.pool().pushed_local(1);
        Look::NotOwn
    }

    /// Runs a job of the pool's own queues, outside the current wait's
    /// work: what it pushes goes onto the worker's deque, not into the
    /// wait's inbox.
    fn run_outside_the_wait(&self, job: Job) {
        let target = self.help_target.replace(None);
        self.process_job(job);
        self.help_target.set(target);
    }
}
