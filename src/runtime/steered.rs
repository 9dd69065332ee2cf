//! The path of a steered run's tasks (see [`crate::steer`] and "Steered
//! runs" in [`crate::runtime::run`]): how the run starts, what a token's
//! worker does with it, and how a steered task hands its successors on.

use crate::runtime::job::Job;
use crate::runtime::run::Run;
use crate::runtime::state::{POISONED, poisons};
use crate::runtime::worker::WorkerThread;
use crate::steer::admission::{Admitted, SteeredRun};
use crate::sync::atomic::Ordering;

impl<'g> Run<'g> {
    /// [`start`](Run::start) for a steered run: every source goes into its
    /// pool's ordered queue, and only then are their tokens pushed (see
    /// [`crate::steer`]), so that the first token finds the best source.
    pub(in crate::runtime) fn start_steered(&self, steered: &SteeredRun<'_>) {
        let mut sources = vec![0usize; self.pools.len()];
        for (tag, bounds) in self.graph.source_bounds.iter().enumerate() {
            for task in bounds.clone() {
                if self.is_source(task, tag as u32) {
                    steered.queue(tag as u32, task);
                    sources[tag] += 1;
                }
            }
        }
        for (pool, &count) in self.pools.iter().zip(&sources) {
            for _ in 0..count {
                self.inject(pool, Job::ready(self));
            }
        }
    }

    /// Processes the task a steered run's token took (see [`crate::steer`]):
    /// steps 1 and 2 as in [`process`](Run::process), then gives back the
    /// task's permits, then step 3: every owned successor goes into its
    /// pool's ordered queue and a token for it into that pool; none is
    /// processed directly. (A steered run has no other jobs than tokens, so
    /// this is the one place its tasks pass; `process` has no steering test.)
    pub(crate) fn process_steered(&self, admitted: Admitted, worker: &WorkerThread) {
        let steered = self.steered().expect("only a steered run has tokens");
        let task = admitted.task;
        let slot = self.graph.table.slot(task);
        // ORDERING: Relaxed, both: as in `process`.
        let poisoned = slot.pending.load(Ordering::Relaxed) & POISONED != 0;
        slot.pending
            .store(self.graph.table.in_degree(task), Ordering::Relaxed);
        let settled = self.settle(task, poisoned, worker);
        let mut outcome = settled.outcome;
        steered.settled(admitted);
        if let Some(subtree) = settled.spawned {
            // A steered task that spawned: its children take the unsteered
            // path, and it joins them here, on its worker, before its
            // successors are released (the steered path has no deferred
            // release; see `crate::runtime::spawn`).
            // SAFETY: a subtree is owned by the run until it ends.
            outcome = self.join_in_order(outcome, unsafe { subtree.as_ref() }, worker);
        }
        let poison = poisons(outcome);
        let own_tag = self.graph.table.tag(task);
        let mut pushed = 0;
        for successor in self.graph.table.successors(task) {
            if !self.take_ownership(successor, poison) {
                continue;
            }
            let tag = self.graph.table.tag(successor);
            steered.queue(tag, successor);
            if tag == own_tag {
                worker.push_local(Job::ready(self));
                pushed += 1;
            } else {
                self.inject(&self.pools[tag as usize], Job::ready(self));
            }
        }
        if pushed > 0 {
            worker.pool().pushed_local(pushed);
        }
    }

    /// The steering state of a steered run.
    pub(crate) fn steered(&self) -> Option<&SteeredRun<'g>> {
        self.steered.as_deref()
    }

    /// What `worker` does with a token of this steered run: the task to
    /// process, or `None` if it parked (see [`crate::steer`]).
    pub(crate) fn admit_ready(&self, worker: &WorkerThread) -> Option<Admitted> {
        let steered = self.steered().expect("only a steered run has tokens");
        steered.admit_next(self, self.tag_of(worker.pool()))
    }
}
