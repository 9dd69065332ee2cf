//! [`Completion`]: how a run counts its finished work and tells whoever
//! waits for it (a blocked caller, an async task's waker, or nobody: a
//! detached submission) that the last of it finished.
//!
//! A run's work is counted in units: one per task, processed, one per task
//! spawned while it runs (added before the spawned task is published, see
//! [`crate::runtime::spawn`]), plus one per
//! task index in the source ranges its pools scan (a pool finds its source
//! tasks by scanning a range of indices, see [`crate::runtime::job`]). Every queued
//! job stands for at least one unfinished unit, so a run whose units are all
//! counted has no job left anywhere.
//!
//! Workers do not count each unit on this shared counter. Each keeps a
//! private [`Batch`](crate::runtime::worker) of the units it finished for one run and
//! subtracts it here only when it runs out of local work or turns to another
//! run, so a run costs one shared atomic operation per batch, not per task.
//!
//! The completion lives in an `Arc` apart from the run: a worker that holds a
//! batch holds a clone, so after its subtraction, which may let the caller
//! return and free the run, it touches only memory it co-owns.
//!
//! # The finish line (under the completion's mutex)
//!
//! The subtraction that reaches zero locks the mutex, marks the run done,
//! takes what was left there, unlocks, and then, in this order: notifies
//! blocked waiters, wakes the registered [`Waker`], drops the detached
//! submission (see [`crate::runtime::submit`]) and releases the executor's
//! [`InFlight`] count, last, so that an executor dropped elsewhere, which
//! waits for that count, finds the submission (and the share of the
//! executor it holds) gone. The waker and the graph's destructors are user
//! code, run with panics caught, since a worker must not die of them; they
//! may drop the executor on this very worker, whose drop then does not wait
//! (see [`Executor`](crate::Executor)'s `Drop`). A poller ([`Completion::poll`]) and a detaching
//! handle ([`Completion::detach`]) look at `done` and leave their waker or
//! submission under the same lock, so each either sees the run done, and
//! handles it itself, or leaves what it left before the finisher takes it:
//! no wake-up and no submission is lost.

use std::task::Waker;

use crate::mutant::planted;
use crate::results::error::drop_panic_payload;
use crate::sync::atomic::{AtomicUsize, Ordering};
use crate::sync::{Arc, Condvar, Mutex};

/// The finish line of one run.
#[derive(Debug)]
pub(crate) struct Completion {
    /// Units of work not yet counted as finished.
    remaining: AtomicUsize,
    state: Mutex<State>,
    signal: Condvar,
}

/// What the finisher hands on, under the lock.
#[derive(Default)]
struct State {
    done: bool,
    /// The waker of the task that last polled a submitted run.
    waker: Option<Waker>,
    /// A submitted run whose handle was dropped before it finished: the
    /// finisher drops it.
    orphan: Option<Box<dyn Send>>,
    /// The executor's count of submitted runs in flight, released once the
    /// run finished.
    in_flight: Option<Arc<InFlight>>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("done", &self.done)
            .field("waker", &self.waker.is_some())
            .field("orphan", &self.orphan.is_some())
            .finish_non_exhaustive()
    }
}

/// Whether a submitted run was done when its handle looked.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Polled {
    Done,
    Pending,
}

impl Completion {
    /// The finish line of a run of `units` units of work; a run of none is
    /// done at once.
    pub(crate) fn new(units: usize) -> Self {
        Completion {
            remaining: AtomicUsize::new(units),
            state: Mutex::new(State {
                done: units == 0,
                ..State::default()
            }),
            signal: Condvar::new(),
        }
    }

    /// Counts `units` more units as finished, and crosses the finish line
    /// (module docs) if they were the last.
    pub(crate) fn finish(&self, units: usize) {
        // ORDERING: AcqRel. Release publishes every effect of the counted
        // tasks (outputs, outcome words, failures); Acquire, in the
        // subtraction that reaches zero, takes in every other worker's
        // Release, and the mutex below hands all of it to the caller.
        let before = self.remaining.fetch_sub(units, Ordering::AcqRel);
        debug_assert!(before >= units, "more work finished than the run has");
        if before != units {
            return;
        }
        let (waker, orphan, in_flight) = {
            let mut state = self.state.lock();
            state.done = true;
            (
                state.waker.take(),
                state.orphan.take(),
                state.in_flight.take(),
            )
        };
        self.signal.notify_all();
        if let Some(waker) = waker {
            guarded(|| waker.wake());
        }
        if let Some(orphan) = orphan {
            guarded(|| drop(orphan));
        }
        if let Some(in_flight) = in_flight {
            in_flight.release();
        }
    }

    /// Adds `units` units of work that did not exist when the run started:
    /// spawned tasks (see [`crate::runtime::spawn`]), or a steered task
    /// parking in a limit (see [`crate::steer`]). The caller holds a unit
    /// not yet counted (the spawning or parking task's), so the count is
    /// above zero and the run cannot be done.
    pub(crate) fn add(&self, units: usize) {
        // ORDERING: Relaxed: the caller's uncounted unit keeps the count above
        // zero, so no subtraction can reach zero before or because of this
        // one; the later AcqRel subtractions order it as any other unit.
        let before = self.remaining.fetch_add(units, Ordering::Relaxed);
        debug_assert!(before > 0, "a unit added to a run that is done");
    }

    /// Blocks until every unit was counted as finished, or until
    /// `deadline`; returns whether the run is done (under loom, which does
    /// not model time, it waits for the end).
    pub(crate) fn wait_until(&self, deadline: std::time::Instant) -> bool {
        let mut state = self.state.lock();
        while !state.done {
            let Some(remaining) = deadline.checked_duration_since(std::time::Instant::now()) else {
                return false;
            };
            if remaining.is_zero() {
                return false;
            }
            state = self.signal.wait_timeout(state, remaining);
        }
        true
    }

    /// Whether every unit was counted as finished.
    pub(crate) fn is_done(&self) -> bool {
        self.state.lock().done
    }

    /// Blocks until every unit was counted as finished.
    pub(crate) fn wait(&self) {
        let mut state = self.state.lock();
        while !state.done {
            state = self.signal.wait(state);
        }
    }

    /// Whether the run is done; if not, `waker` is woken once it is.
    pub(crate) fn poll(&self, waker: &Waker) -> Polled {
        let mut state = self.state.lock();
        if state.done {
            return Polled::Done;
        }
        // The planted bug `waker_outside_lock` leaves the waker after
        // unlocking, where the finisher may already have looked; the loom
        // models must then find the lost wake-up.
        if planted("waker_outside_lock") {
            drop(state);
            state = self.state.lock();
        }
        match &mut state.waker {
            Some(known) if known.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
        Polled::Pending
    }

    /// Leaves `submission` for the finisher to drop, or gives it back if
    /// the run is done already. A waker left by an earlier poll is dropped:
    /// nobody polls a detached run.
    pub(crate) fn detach(&self, submission: Box<dyn Send>) -> Option<Box<dyn Send>> {
        let (stale_waker, kept) = {
            let mut state = self.state.lock();
            let stale_waker = state.waker.take();
            // The planted bug `orphan_after_finish` leaves the submission
            // even when the run is done, where no finisher will come for
            // it; the loom models must then find it never freed.
            let kept = if state.done && !planted("orphan_after_finish") {
                Some(submission)
            } else {
                state.orphan = Some(submission);
                None
            };
            (stale_waker, kept)
        };
        // A waker's drop is user code: outside the lock.
        drop(stale_waker);
        kept
    }

    /// Counts the run in `in_flight` until it finishes.
    pub(crate) fn count_in(&self, in_flight: &Arc<InFlight>) {
        in_flight.acquire();
        let mut state = self.state.lock();
        if state.done {
            drop(state);
            in_flight.release();
        } else {
            state.in_flight = Some(Arc::clone(in_flight));
        }
    }
}

/// Runs user code on a worker with panics caught (module docs).
fn guarded(user_code: impl FnOnce()) {
    if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(user_code)) {
        drop_panic_payload(payload);
    }
}

/// How many submitted runs of an executor are in flight, so that dropping
/// the executor can wait for them before it shuts its pools down (a pool
/// that shut down with a job of a live run queued would strand it).
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    runs: Mutex<usize>,
    idle: Condvar,
}

impl InFlight {
    fn acquire(&self) {
        *self.runs.lock() += 1;
    }

    fn release(&self) {
        let mut runs = self.runs.lock();
        *runs -= 1;
        if *runs == 0 {
            self.idle.notify_all();
        }
    }

    /// Blocks until no submitted run is in flight.
    pub(crate) fn wait_idle(&self) {
        let mut runs = self.runs.lock();
        while *runs > 0 {
            runs = self.idle.wait(runs);
        }
    }
}
