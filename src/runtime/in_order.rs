//! The in-order path: an exclusive run (one tag, whose pool has one
//! worker) of a graph whose edges all go from lower to higher indices,
//! processed by its worker in index order with no counting at all.
//!
//! By the time the worker reaches a task, every dependency of it was
//! processed, by this same worker; it touches a successor's word only to
//! poison it. Index order is the order the graph was built in, and the
//! order its memory is laid out in. A task that spawned joins its subtree
//! on the worker before the next task (see [`crate::runtime::spawn`]).
//! A swept run ([`crate::runtime::sweep`]) processes each of its tasks the
//! same way, once the task's dependencies are done.

use crate::runtime::run::Run;
use crate::runtime::state::{POISONED, poisons};
use crate::runtime::worker::WorkerThread;
use crate::sync::atomic::Ordering;

impl Run<'_> {
    /// Processes `task` of a run processed in index order: an exclusive
    /// run (module docs), where every dependency of it was processed
    /// before by this same worker, or a swept run
    /// ([`crate::runtime::sweep`]), where its dependencies are done and
    /// visible.
    pub(crate) fn process_in_order(&self, task: u32, worker: &WorkerThread) {
        let slot = self.graph.table.slot(task);
        // ORDERING: Relaxed, both: in an exclusive run this worker is the
        // only thread that touches pending words; in a swept run every
        // poisoner of the word published its mark before the position the
        // sweeper read with Acquire, and nobody touches the word again this
        // run (the next run reaches it through a synchronising hand-off).
        let poisoned = slot.pending.load(Ordering::Relaxed) & POISONED != 0;
        if poisoned {
            // Only a poisoned word differs from the in-degree: nothing
            // decrements in index order.
            slot.pending
                .store(self.graph.table.in_degree(task), Ordering::Relaxed);
        }
        let settled = self.settle(task, poisoned, worker);
        let mut outcome = settled.outcome;
        if let Some(subtree) = settled.spawned {
            // SAFETY: a subtree is owned by the run until it ends.
            outcome = self.join_in_order(outcome, unsafe { subtree.as_ref() }, worker);
        }
        if poisons(outcome) {
            for successor in self.graph.table.successors(task) {
                // ORDERING: Relaxed: published by this worker's next steps
                // in an exclusive run, by the Release of this task's
                // position in a swept run; a read-modify-write, because in
                // a swept run another dependency of the successor may mark
                // it at once (a failure is rare: the cost of the
                // read-modify-write does not matter).
                self.graph
                    .table
                    .slot(successor)
                    .pending
                    .fetch_or(POISONED, Ordering::Relaxed);
            }
        }
    }
}

impl WorkerThread {
    /// Processes every task of an exclusive run, in index order.
    pub(crate) fn process_in_order(&self, run: &Run<'_>) {
        let tasks = run.task_count();
        for task in 0..tasks {
            run.process_in_order(task, self);
        }
        self.count_finished(tasks as usize);
    }
}
