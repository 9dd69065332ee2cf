//! Processing a spawned task, and the end of a subtree: running its body
//! (or recording why not), marking its end, releasing the siblings that
//! wait for it, and counting it in its parent's subtree, up the tree ("A
//! subtree ends" in [`crate::runtime::spawn`]), as methods of the [`Run`].

use std::panic::{self, AssertUnwindSafe};

use crate::observe::TaskEvent;
use crate::results::error::{Panic, TaskError};
use crate::results::report::Outcome;
use crate::runtime::context::Context;
use crate::runtime::job::Job;
use crate::runtime::run::{Run, is_cancelled};
use crate::runtime::spawn::inbox::Forward;
use crate::runtime::spawn::nodes::{AWAITED, ENDED, ENDED_POISONED, Node};
use crate::runtime::spawn::subtree::{Owner, Subtree};
use crate::runtime::state::{
    CANCELLED, CANCELLED_ITSELF, FAILED, PENDING_MASK, POISONED, SKIPPED, SUCCEEDED, poisons,
    recorded,
};
use crate::runtime::worker::WorkerThread;
use crate::sync::atomic::Ordering;

impl Run<'_> {
    /// After the body of the graph's task `task` returned having spawned
    /// (`subtree`): steps 1 and 3 of "A subtree ends". Returns a successor
    /// to process next, as `release_successors` does, if the subtree ended.
    #[cold]
    #[inline(never)]
    pub(crate) fn after_spawning_body(
        &self,
        task: u32,
        outcome: u32,
        subtree: &Subtree,
        worker: &WorkerThread,
    ) -> Option<u32> {
        if self.exclusive {
            // Module docs: an implicit join keeps the release on this thread.
            let settled = self.join_in_order(outcome, subtree, worker);
            return self.release_successors(task, settled, worker);
        }
        self.close_inbox(subtree, || Forward::Pool, worker);
        if !subtree.body_returned(poisons(outcome)) {
            return None;
        }
        let settled = if subtree.poisons() { SKIPPED } else { outcome };
        self.release_successors(task, settled, worker)
    }

    /// Processes the spawned task `node`, which `worker` owns: runs it (or
    /// records why not), and ends its subtree if it can.
    pub(crate) fn process_node(&self, node: u32, worker: &WorkerThread) {
        let entry = self.spawn.nodes.get(node);
        // ORDERING: Relaxed: the hand-off that gave this worker the node
        // synchronised with every writer of the word.
        let poisoned = entry.pending.load(Ordering::Relaxed) & POISONED != 0;
        let (outcome, subtree) = if poisoned {
            self.node_did_not_run(node, SKIPPED, worker)
        } else if self.is_stopped() {
            self.node_did_not_run(node, CANCELLED, worker)
        } else {
            self.run_node_body(node, entry, worker)
        };
        // ORDERING: Relaxed: read after the subtree's end or the run's
        // completion, which the AcqRel decrements below order after this.
        entry.outcome.store(recorded(outcome), Ordering::Relaxed);
        let poison = poisons(outcome);
        match subtree {
            None => self.node_ended(node, poison, worker),
            Some(subtree) => {
                self.close_inbox(subtree, || self.forward_for(subtree), worker);
                if subtree.body_returned(poison) {
                    self.node_ended(node, subtree.poisons(), worker);
                }
            }
        }
    }

    fn node_did_not_run(
        &self,
        node: u32,
        outcome: u32,
        worker: &WorkerThread,
    ) -> (u32, Option<&Subtree>) {
        let (count, seen) = if outcome == SKIPPED {
            (&self.spawn.skipped, Outcome::Skipped)
        } else {
            (&self.spawn.cancelled, Outcome::Cancelled)
        };
        // ORDERING: Relaxed: read after the run's completion.
        count.fetch_add(1, Ordering::Relaxed);
        if let Some(observers) = self.observers() {
            observers.task_finished(&TaskEvent::spawned(self, node, worker.index()), &seen);
        }
        (outcome, None)
    }

    fn run_node_body(
        &self,
        node: u32,
        entry: &Node,
        worker: &WorkerThread,
    ) -> (u32, Option<&Subtree>) {
        let cx = Context::spawned(self, node, worker.index());
        let observers = self.observers();
        let started = observers.map(|observers| {
            let started = TaskEvent::spawned(self, node, worker.index());
            observers.task_started(&started);
            started
        });
        let result = entry.body.with_mut(|body| {
            // SAFETY: this worker owns the node: nothing else reads or
            // writes its body until its end is published.
            let body = unsafe { (*body).erased_mut() };
            panic::catch_unwind(AssertUnwindSafe(|| body.run(&cx)))
        });
        let seen = match result {
            Ok(Ok(())) => Outcome::Succeeded,
            Ok(Err(error)) if is_cancelled(&*error) => Outcome::Cancelled,
            Ok(Err(error)) => Outcome::Failed(TaskError::Error(error)),
            Err(payload) => Outcome::Failed(TaskError::Panicked(Panic::new(payload))),
        };
        if let (Some(observers), Some(started)) = (observers, &started) {
            observers.task_finished(&started.finished(), &seen);
        }
        let outcome = match seen {
            Outcome::Succeeded => SUCCEEDED,
            Outcome::Cancelled => {
                // ORDERING: Relaxed: read after the run's completion.
                self.spawn.cancelled.fetch_add(1, Ordering::Relaxed);
                CANCELLED_ITSELF
            }
            Outcome::Failed(error) => self.node_failed(node, error),
            Outcome::Skipped => unreachable!("a task whose body ran is not skipped"),
        };
        // SAFETY: see `Context::subtree`: owned by the run.
        (
            outcome,
            cx.subtree().map(|subtree| unsafe { subtree.as_ref() }),
        )
    }

    fn node_failed(&self, node: u32, error: TaskError) -> u32 {
        self.spawn.failures.lock().push((node, error));
        self.stop_if_fail_fast();
        FAILED
    }

    /// Step 2 and 3 of "A subtree ends", in a loop up the tree.
    fn node_ended(&self, node: u32, poison: bool, worker: &WorkerThread) {
        let (mut node, mut poison) = (node, poison);
        loop {
            let entry = self.spawn.nodes.get(node);
            // SAFETY: a node's parent subtree outlives it.
            let parent = unsafe { entry.parent.as_ref() };
            let mark = if poison {
                ENDED | ENDED_POISONED
            } else {
                ENDED
            };
            // ORDERING: AcqRel: Release publishes the subtree's effects to
            // whoever reads the mark (a join's look, a sibling that names
            // this node); Acquire takes in the waiting entries of the
            // siblings that marked the word before.
            if entry.end.fetch_or(mark, Ordering::AcqRel) & AWAITED != 0 {
                for sibling in parent.take_waiting_for(node) {
                    self.release_sibling(sibling, poison, worker);
                }
            }
            if !parent.child_ended(poison) {
                return;
            }
            poison = parent.poisons();
            match parent.owner {
                Owner::Spawned(owner) => node = owner,
                Owner::Static(task) => return self.release_deferred(task, poison, worker),
            }
        }
    }

    /// A dependency of the spawned task `sibling` ended.
    fn release_sibling(&self, sibling: u32, poison: bool, worker: &WorkerThread) {
        let word = &self.spawn.nodes.get(sibling).pending;
        if poison {
            // ORDERING: Relaxed: the AcqRel decrement below is later in the
            // word's modification order.
            word.fetch_or(POISONED, Ordering::Relaxed);
        }
        // ORDERING: AcqRel: Release publishes this task's output to the
        // sibling's owner; Acquire, in the decrement that reaches zero,
        // takes in every dependency's (as in `Run::take_ownership`).
        if word.fetch_sub(1, Ordering::AcqRel) & PENDING_MASK == 1 {
            self.publish_node(sibling, Some(worker));
        }
    }

    /// Step 3 for a task of the graph whose subtree ended after its body
    /// returned: releases its static successors from whichever worker
    /// ended it, publishing each owned one to its own pool.
    fn release_deferred(&self, task: u32, poison: bool, worker: &WorkerThread) {
        debug_assert!(!self.exclusive, "an exclusive run joins at body return");
        for successor in self.graph.table.successors(task) {
            if self.take_ownership(successor, poison) {
                let pool = &self.pools[self.graph.table.tag(successor) as usize];
                self.publish_to_pool(pool, Job::task(self, successor), Some(worker));
            }
        }
    }
}
