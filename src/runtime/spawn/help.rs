//! How a waiting worker helps: the loop of "Waiting" in
//! [`crate::runtime::spawn`], and the one place a worker's batch is set
//! aside while it processes jobs inside a task.

use std::ptr::NonNull;

use crate::runtime::spawn::inbox::{Found, Inbox};
use crate::runtime::worker::WorkerThread;
use crate::sync::Arc;

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
        self.help_depth.set(self.help_depth.get() + 1);
        loop {
            match inbox.take_for_owner() {
                Some(job) => self.process_job(job),
                None => {
                    // Count what was finished, so that an awaited run whose
                    // last units this worker holds can complete. (The
                    // planted bug `taskflow_mutant = "help_waits_before_flush"`
                    // does not; the loom model
                    // `a_helping_worker_finds_the_awaited_run_finished` must
                    // then find the wait stuck.)
                    #[cfg(not(taskflow_mutant = "help_waits_before_flush"))]
                    self.flush();
                    match inbox.wait_for_owner(&done) {
                        Found::Job(job) => self.process_job(job),
                        Found::Done => break,
                    }
                }
            }
        }
        #[cfg(taskflow_mutant = "help_waits_before_flush")]
        self.flush();
        self.help_depth.set(self.help_depth.get() - 1);
        self.help_target.set(outer_target);
        self.batch.replace(outer_batch);
    }
}
