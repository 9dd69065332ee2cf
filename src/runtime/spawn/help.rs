//! How a waiting worker helps: the loop of "Waiting" in
//! [`crate::runtime::spawn`], and the one place a worker's batch is set
//! aside while it processes jobs inside a task.

use std::ptr::NonNull;

use crate::runtime::spawn::inbox::{Found, Inbox};
use crate::runtime::worker::WorkerThread;
use crate::sync::Arc;
use crate::sync::atomic::{Ordering, fence};

/// The most waits one worker helps in, nested on its stack. A deeper wait
/// blocks without helping (its work is then left to the pool's other
/// workers), so that nested helping cannot overflow the worker's stack:
/// each level of a task that runs a graph from inside itself costs about
/// 3.4 KiB of it (measured in a release build, nested runs 100 deep on one
/// worker), so this many levels take about 7 MiB of the default worker
/// stack ([`DEFAULT_WORKER_STACK`](crate::runtime::threads::DEFAULT_WORKER_STACK),
/// 16 MiB), leaving the rest to the tasks' own frames.
pub(crate) const MAX_HELP_DEPTH: usize = 2048;

impl WorkerThread {
    /// Whether a wait on this worker may still help (see [`MAX_HELP_DEPTH`]).
    pub(crate) fn may_help(&self) -> bool {
        self.help_depth.get() < MAX_HELP_DEPTH
    }

    /// Serves `inbox` until `done()` holds (module docs of
    /// [`crate::runtime::spawn`], "Waiting"): processes its jobs, counts
    /// what it finished before each check, and otherwise blocks.
    ///
    /// Called from inside a task this worker runs, whose own unit of work
    /// is not yet counted: so the batch set aside here, and the flushes of
    /// the helping batches, cannot let that task's run complete under the
    /// frames that borrow it.
    pub(crate) fn help_until(&self, inbox: &Arc<Inbox>, done: impl Fn() -> bool) {
        if !self.may_help() {
            return inbox.block_until(done);
        }
        let outer_batch = self.batch.take();
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
            // Count what was finished, so that an awaited run whose last
            // units this worker holds can complete. (The planted bug
            // `taskflow_mutant = "help_waits_before_flush"` does not; the
            // loom model `a_helping_worker_finds_the_awaited_run_finished`
            // must then find the wait stuck.)
            #[cfg(not(taskflow_mutant = "help_waits_before_flush"))]
            self.flush();
            // Block: registered first, then one more look (see
            // `Pool::nudge_waits`).
            pool.block_in(inbox);
            fence(Ordering::SeqCst);
            if pool.all_waiting() {
                if let Some(job) = pool.take_for_wait(self.index(), self.local()) {
                    pool.unblock(inbox);
                    self.run_outside_the_wait(job);
                    continue;
                }
            }
            let found = inbox.wait_for_owner(&done);
            pool.unblock(inbox);
            match found {
                Found::Job(job) => self.process_job(job),
                Found::Done => break,
                Found::Signaled => {}
            }
        }
        #[cfg(taskflow_mutant = "help_waits_before_flush")]
        self.flush();
        self.help_depth.set(self.help_depth.get() - 1);
        if self.help_depth.get() == 0 {
            pool.count_waiting(false);
        }
        self.help_target.set(outer_target);
        self.batch.replace(outer_batch);
    }

    /// Runs a job of the pool's own queues, outside the current wait's
    /// work: what it pushes goes onto the worker's deque, not into the
    /// wait's inbox.
    fn run_outside_the_wait(&self, job: crate::runtime::job::Job) {
        let target = self.help_target.replace(None);
        self.process_job(job);
        self.help_target.set(target);
    }
}
