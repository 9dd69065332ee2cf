//! [`Limit`]: a counted set of permits shared by tasks of any run, tag and
//! executor, and the queue of tasks parked until a permit comes back.
//!
//! A limit is a semaphore whose waiters are not threads but parked tasks
//! ([`Parked`]): a task that finds its limit full is queued here and its
//! worker goes on with other work. Everything about a limit happens under
//! its one mutex, so each of these is one atomic step:
//!
//! - [`try_acquire`](Limit::try_acquire): take a free permit, if there is one.
//! - [`acquire_or_park`](Limit::acquire_or_park): take a free permit; else,
//!   if the task's run is stopped, refuse (the task must not wait); else
//!   queue the task (at the back, or at the front for a woken task that
//!   lost its permit to another). The stop is checked *under the lock*,
//!   which is what lets a cancel that arrives meanwhile find the task (see
//!   [`crate::steer`], "Parking and a cancel").
//! - [`release`](Limit::release): free the permit and take the oldest
//!   parked task out of the queue, to try again. The woken task holds
//!   nothing: it takes a permit, like any other task, only when a worker
//!   actually picks it up. One release wakes at most one task.
//! - [`pass_on`](Limit::pass_on): a woken task that gave up without taking
//!   this limit's permit (its run stopped, or another of its limits was
//!   full) passes its wake-up on: if a permit is free, the next parked task
//!   is taken out instead.
//! - [`evict`](Limit::evict): take out every task of one run, for a run
//!   that was stopped while they waited.
//!
//! Releasing, passing on and evicting only take tasks out of the queue;
//! what happens to them next (back to their pool's ordered queue) is the
//! caller's, done after the lock is dropped (see [`crate::steer::admission`]).

use std::collections::VecDeque;
use std::fmt;

use crate::mutant::planted;
use crate::steer::admission::Parked;
use crate::sync::{Arc, Mutex};

/// A cap on how many tasks run at once: each task given the limit with
/// [`Task::limit`](crate::Task::limit) holds one of its permits while its
/// body runs, like a pool with a depth in ninja.
///
/// A limit is shared by cloning it: every clone is the same set of
/// permits, across graphs, tags, runs and executors. A task whose limit is
/// full waits without holding a worker (the worker runs other ready work)
/// and starts when a permit comes back: when a holder's body returns,
/// fails or panics. Each returned permit wakes the oldest waiting task,
/// which takes a permit when a worker picks it up (another task may take
/// it first; the woken task then waits at the front again). A task with
/// several limits takes all of its permits or none: a waiting task holds
/// no permit. A run that is cancelled (or stops under fail-fast) takes its
/// waiting tasks out at once: they end cancelled without having held a
/// permit, and the run returns even while another run holds every permit.
/// A run past its [`deadline`](crate::RunOptions::deadline) does the same
/// at the deadline when its caller waits for it
/// ([`Executor::run`](crate::Executor::run) or
/// [`RunHandle::wait`](crate::RunHandle::wait)); a submitted run that
/// nobody waits for takes each waiting task out when a permit wakes it.
///
/// A task that holds a permit while its body waits for another task that
/// needs the same full limit deadlocks, as a thread that takes a mutex it
/// holds does; tasks that merely wait for a permit hold none. A run
/// started from the body ([`Executor::run`](crate::Executor::run)) that
/// needs a limit whose every permit is held so (by the calling task and
/// the tasks that wait for it) is refused at once with
/// [`GraphError::LimitHeldByCaller`](crate::GraphError::LimitHeldByCaller);
/// other such waits (a [`join`](crate::Context::join) of a child that runs
/// such a graph on another worker, a [`RunHandle::wait`](crate::RunHandle::wait)
/// for a submitted run, a cycle of holders each waiting for the others'
/// runs) are not detected.
///
/// ```
/// use taskflow_engine::{Executor, Graph, Limit, Task};
///
/// let links = Limit::new(1); // one link step at a time
/// let mut graph = Graph::new();
/// for name in ["app", "tests", "bench"] {
///     graph.add(Task::new(name, |_| Ok(())).limit(&links));
/// }
/// let report = Executor::builder().workers_per_tag(4).build()?.run(&mut graph)?;
/// assert!(report.is_success());
/// assert_eq!(links.available(), 1, "every permit is back after the run");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Limit {
    shared: Arc<Shared>,
}

struct Shared {
    /// Process-unique: tasks take their limits in the order of their ids,
    /// so that two tasks with the same limits cannot each hold one that the
    /// other waits for.
    id: u64,
    permits: usize,
    state: Mutex<State>,
}

struct State {
    /// Permits that nobody holds.
    available: usize,
    /// Tasks waiting for a permit, oldest first. A task parks only while
    /// `available` is 0; a permit freed while tasks wait wakes one of them.
    parked: VecDeque<Parked>,
    /// How many parked tasks were taken out of the queue to try again (by
    /// a release, or a wake-up passed on): the limit's wake-ups.
    wakeups: u64,
}

/// What [`Limit::acquire_or_park`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Acquired {
    /// The task holds one more permit.
    Permit,
    /// The limit was full and the task is queued: the limit holds it now.
    Parked,
    /// The limit was full and the task's run is stopped: the task was not
    /// queued, and holds no permit of this limit.
    Stopped,
}

impl Limit {
    /// A limit of `permits` permits, all free.
    ///
    /// # Panics
    ///
    /// If `permits` is 0: no task given such a limit could ever start.
    #[must_use]
    pub fn new(permits: usize) -> Limit {
        assert!(
            permits > 0,
            "Limit::new(0): a limit needs at least one permit, or its tasks could never start"
        );
        Limit {
            shared: Arc::new(Shared {
                id: crate::sync::next_unique_id().get(),
                permits,
                state: Mutex::new(State {
                    available: permits,
                    parked: VecDeque::new(),
                    wakeups: 0,
                }),
            }),
        }
    }

    /// The number of permits the limit was made with.
    #[must_use]
    pub fn permits(&self) -> usize {
        self.shared.permits
    }

    /// The number of permits nobody holds now: [`permits`](Limit::permits)
    /// once no task of any run holds one.
    #[must_use]
    pub fn available(&self) -> usize {
        self.shared.state.lock().available
    }

    /// The number of tasks waiting for a permit now.
    #[must_use]
    pub fn waiting(&self) -> usize {
        self.shared.state.lock().parked.len()
    }

    /// How many times, since the limit was made, a waiting task was woken:
    /// taken out of the queue to try for a permit again. A returned permit
    /// wakes at most one task; a woken task that gives up without taking
    /// the permit (its run stopped, or another of its limits is full)
    /// passes the wake-up to the next waiting task, which counts again.
    #[must_use]
    pub fn handoffs(&self) -> u64 {
        self.shared.state.lock().wakeups
    }

    /// The limit's process-unique id, the order tasks take limits in.
    pub(crate) fn id(&self) -> u64 {
        self.shared.id
    }

    /// Takes a free permit, if there is one.
    pub(crate) fn try_acquire(&self) -> bool {
        let mut state = self.shared.state.lock();
        if state.available == 0 {
            return false;
        }
        state.available -= 1;
        true
    }

    /// Takes a permit, or queues the task that `park` makes (at the front
    /// if `front`) unless `stopped` says its run is stopped (module docs).
    pub(crate) fn acquire_or_park(
        &self,
        park: impl FnOnce() -> Parked,
        stopped: impl FnOnce() -> bool,
        front: bool,
    ) -> Acquired {
        let mut state = self.shared.state.lock();
        if state.available > 0 {
            state.available -= 1;
            return Acquired::Permit;
        }
        // The planted bug `park_unchecked` queues the
        // task without looking at its run's stop: a cancel whose eviction
        // came just before then leaves it queued behind a permit that may
        // never come back; the loom model
        // `a_cancel_frees_a_task_parked_behind_another_run` must then find
        // the run that never returns (scripts/loom-mutants.sh).
        if !planted("park_unchecked") && stopped() {
            return Acquired::Stopped;
        }
        let parked = park();
        if front {
            state.parked.push_front(parked);
        } else {
            state.parked.push_back(parked);
        }
        Acquired::Parked
    }

    /// Gives a permit back, and takes the oldest parked task out of the
    /// queue to try again, if one waits: the caller sends it back to its
    /// pool. The woken task holds nothing.
    pub(crate) fn release(&self) -> Option<Parked> {
        let mut state = self.shared.state.lock();
        debug_assert!(
            state.available < self.shared.permits,
            "a permit released twice"
        );
        state.available += 1;
        state.wake_one()
    }

    /// For a woken task that gives up without this limit's permit: wakes
    /// the next parked task instead, if a permit is free (module docs).
    pub(crate) fn pass_on(&self) -> Option<Parked> {
        let mut state = self.shared.state.lock();
        if state.available == 0 {
            return None;
        }
        state.wake_one()
    }

    /// Takes every task of the run `run_id` out of the queue.
    pub(crate) fn evict(&self, run_id: u64) -> Vec<Parked> {
        let mut state = self.shared.state.lock();
        if state.parked.iter().all(|parked| parked.run_id() != run_id) {
            return Vec::new();
        }
        let (evicted, kept): (VecDeque<Parked>, VecDeque<Parked>) =
            std::mem::take(&mut state.parked)
                .into_iter()
                .partition(|parked| parked.run_id() == run_id);
        state.parked = kept;
        evicted.into()
    }
}

impl State {
    /// Takes the oldest parked task out of the queue, counting a wake-up.
    fn wake_one(&mut self) -> Option<Parked> {
        let parked = self.parked.pop_front()?;
        self.wakeups += 1;
        Some(parked)
    }
}

impl PartialEq for Limit {
    /// Two handles are equal when they are clones of one limit.
    fn eq(&self, other: &Limit) -> bool {
        self.shared.id == other.shared.id
    }
}

impl Eq for Limit {}

impl fmt::Debug for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.state.lock();
        f.debug_struct("Limit")
            .field("permits", &self.shared.permits)
            .field("available", &state.available)
            .field("waiting", &state.parked.len())
            .finish()
    }
}
