//! [`EndedChildren`]: the ends of children of one parent that a worker
//! counted and has not yet subtracted from the parent's subtree.
//!
//! Every child's end decrements its parent's `open` word (step 2 of "A
//! subtree ends" in [`crate::runtime::spawn`]). A parent that spawns many
//! children has them ended by every worker of its pool at once, while its
//! body keeps adding to the same word: one contended cache line per child.
//! So a worker that ends a child keeps the decrement, and adds the next
//! ends of children of the same parent to it, while the jobs it processes
//! are such children; it subtracts them in one read-modify-write
//! ([`Subtree::count_child_ends`]) before anything else:
//!
//! - before it processes a job that is not a child of that parent;
//! - before it counts its finished units
//!   ([`WorkerThread::flush`]), which it does when its own deque runs dry
//!   (before it steals or sleeps), before it turns to another run, and in
//!   every helping wait before that wait checks whether it is over;
//! - before a wait inside a task sets the worker's batch aside.
//!
//! *Why nothing is lost or stuck:* each child's own end mark (its end word,
//! and the release of siblings that name it) is still set at once; only
//! the count in the parent's word is late. The kept ends hold that count
//! above zero, so the parent's subtree cannot end while they are kept, and
//! the worker's batch holds the kept children's own units uncounted until
//! after the subtraction (every flush of the batch subtracts the kept ends
//! first), so the run is alive through the subtraction and the signal
//! that may follow it (step 4 of "A subtree ends"). A
//! `join` reads the children's marks, and the implicit join of an
//! exclusive run waits on the worker that keeps them, which subtracts
//! them before it checks. The subtraction that ends the subtree goes on up
//! the tree at once, as an unkept end does. A worker keeps the ends of
//! only one parent, and only across jobs that are that parent's children,
//! so no other work runs while ends are kept: a task that waits on
//! anything outside the engine (a lock, a channel) never starts on a worker
//! that keeps ends, but for a child of the same parent, which cannot be
//! waited for by anything the kept ends would release (the parent's
//! dependents wait for every child).

use std::ptr::NonNull;

use crate::mutant::planted;
use crate::runtime::job::{Job, Work};
use crate::runtime::run::Run;
use crate::runtime::spawn::subtree::Subtree;
use crate::runtime::worker::WorkerThread;

/// Kept ends of children of one parent (module docs).
#[derive(Debug, Clone, Copy)]
pub(crate) struct EndedChildren {
    run: NonNull<Run<'static>>,
    parent: NonNull<Subtree>,
    ends: u32,
    /// Whether one of them ended poisoned.
    poisons: bool,
}

impl WorkerThread {
    /// Keeps the end of a child of `parent`, a subtree of `run`, for a
    /// later subtraction (module docs), after subtracting the ends kept for
    /// another parent.
    pub(crate) fn keep_child_end(&self, run: &Run<'_>, parent: &Subtree, poisons: bool) {
        let run = NonNull::from(run).cast::<Run<'static>>();
        let parent = NonNull::from(parent);
        if let Some(kept) = self.ended.get() {
            if kept.parent == parent && kept.run == run {
                self.ended.set(Some(EndedChildren {
                    ends: kept.ends + 1,
                    poisons: kept.poisons || poisons,
                    ..kept
                }));
                return;
            }
            self.subtract_child_ends();
        }
        self.ended.set(Some(EndedChildren {
            run,
            parent,
            ends: 1,
            poisons,
        }));
    }

    /// Subtracts the kept ends, if any, before `job` is processed, unless
    /// it is a child of the same parent.
    pub(crate) fn subtract_child_ends_before(&self, job: &Job) {
        let Some(kept) = self.ended.get() else {
            return;
        };
        if let Work::Spawned(node) = job.work() {
            if job.run() == kept.run {
                // SAFETY: the kept ends' units keep their run alive
                // (module docs).
                let run = unsafe { kept.run.as_ref() };
                if run.node_parent(node) == kept.parent {
                    return;
                }
            }
        }
        self.subtract_child_ends();
    }

    /// Subtracts the kept ends, if any, from their parent's subtree, and
    /// ends it if they were the last thing open (going on up the tree).
    pub(crate) fn subtract_child_ends(&self) {
        // The planted bug `child_ends_kept` never subtracts kept ends but
        // for a new parent's; the loom model
        // `the_last_descendant_releases_a_static_dependent` must then find
        // the dependent never run.
        if planted("child_ends_kept") {
            return;
        }
        let Some(kept) = self.ended.take() else {
            return;
        };
        // SAFETY: the kept children's units are in this worker's batch,
        // not yet counted, so their run cannot complete before this
        // subtraction ends (module docs); a subtree lives as long as its
        // run.
        let (run, parent) = unsafe { (kept.run.as_ref(), kept.parent.as_ref()) };
        run.count_child_ends(parent, kept.ends, kept.poisons, self);
    }
}
