//! [`Completion`]: how a run counts its finished work and tells its caller
//! that the last of it finished.
//!
//! A run's work is counted in units: one per task, processed, plus one per
//! task index in the source ranges its pools scan (a pool finds its source
//! tasks by scanning a range of indices, see [`crate::job`]). Every queued
//! job stands for at least one unfinished unit, so a run whose units are all
//! counted has no job left anywhere.
//!
//! Workers do not count each unit on this shared counter. Each keeps a
//! private [`Batch`](crate::worker) of the units it finished for one run and
//! subtracts it here only when it runs out of local work or turns to another
//! run, so a run costs one shared atomic operation per batch, not per task.
//! The count that reaches zero wakes the caller.
//!
//! The completion lives in an `Arc` apart from the run: a worker that holds a
//! batch holds a clone, so after its subtraction, which may let the caller
//! return and free the run, it touches only memory it co-owns.

use crate::sync::atomic::{AtomicUsize, Ordering};
use crate::sync::{Condvar, Mutex};

/// The finish line of one run.
#[derive(Debug)]
pub(crate) struct Completion {
    /// Units of work not yet counted as finished.
    remaining: AtomicUsize,
    done: Mutex<bool>,
    signal: Condvar,
}

impl Completion {
    pub(crate) fn new(units: usize) -> Self {
        Completion {
            remaining: AtomicUsize::new(units),
            done: Mutex::new(false),
            signal: Condvar::new(),
        }
    }

    /// Counts `units` more units as finished, and wakes the caller if they
    /// were the last.
    pub(crate) fn finish(&self, units: usize) {
        // ORDERING: AcqRel. Release publishes every effect of the counted
        // tasks (outputs, outcome words, failures); Acquire, in the
        // subtraction that reaches zero, takes in every other worker's
        // Release, and the mutex below hands all of it to the caller.
        let before = self.remaining.fetch_sub(units, Ordering::AcqRel);
        debug_assert!(before >= units, "more work finished than the run has");
        if before == units {
            *self.done.lock() = true;
            self.signal.notify_all();
        }
    }

    /// Blocks until every unit was counted as finished.
    pub(crate) fn wait(&self) {
        let mut done = self.done.lock();
        while !*done {
            done = self.signal.wait(done);
        }
    }
}
