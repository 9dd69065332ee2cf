//! [`Inbox`]: the queue of one wait's work on one pool, which the waiting
//! worker serves and the pool's other workers may steal from.
//!
//! An inbox belongs to a *wait*: a parent that spawned children (the
//! children of its own pool queue here, so that its [`join`] can run them),
//! or a run started from inside a task (its jobs for the waiting worker's
//! pool queue here, so that the nested [`Executor::run`] can run them). See
//! [`crate::runtime::spawn`] for the whole protocol; this module is its
//! queue:
//!
//! - **owner pops newest first** (depth first, like a worker's own deque);
//!   **thieves take oldest first**.
//! - **announced**: an inbox that turns from empty to non-empty is
//!   announced on its pool ([`Pool::announce`]) under its lock; a thief that
//!   takes a job and leaves jobs behind announces it again, under the lock.
//!   So every non-empty inbox has an announcement in its pool (stale ones,
//!   for inboxes emptied since, are dropped by whoever pops them), and
//!   searching a pool's announcements finds every job queued in its inboxes.
//!   Every push then wakes a sleeping worker of the pool, as every push onto
//!   a pool's queues does ([`crate::runtime::sleep`]).
//! - **forwarded**: when the owner's body returns, nobody will wait on the
//!   inbox any more. It is then forwarded, under its lock, to the inbox of
//!   the nearest waiting ancestor of the same pool or to the pool itself,
//!   its jobs move there, and later pushes follow the forward.
//! - **signalled**: a waiter reads the count of signals, then checks its
//!   condition, then waits on the inbox's condition variable, under its
//!   lock, only while it sees no job (the owner) and the same count. A push
//!   or a [`signal`](Inbox::signal) (the wait may be over) bumps the count
//!   or queues under the same lock and notifies every waiter, so no wake-up
//!   is lost, however many threads wait (the owner, and other threads of
//!   its body joining at the same time); each re-checks its condition
//!   after every signal.
//!
//! [`join`]: crate::Context::join
//! [`Executor::run`]: crate::Executor::run

use std::collections::VecDeque;
use std::ptr::NonNull;

use crate::mutant::planted;
use crate::runtime::job::Job;
use crate::runtime::pool::Pool;
use crate::sync::atomic::{AtomicBool, Ordering};
use crate::sync::{Arc, Condvar, Mutex};

/// One wait's queue of work on one pool (module docs).
#[derive(Debug)]
pub(crate) struct Inbox {
    /// The pool whose jobs queue here. It outlives the inbox's use: the run
    /// that uses the inbox holds the pool.
    pool: NonNull<Pool>,
    state: Mutex<State>,
    wake_up: Condvar,
    /// Whether the inbox may hold jobs: written under the lock after every
    /// change of its jobs, read without it by the owner's look
    /// ([`take_for_owner`](Inbox::take_for_owner)), which so takes no lock
    /// while its wait finds its work elsewhere (its deque). A hint only:
    /// every decision to block looks under the lock.
    holds_jobs: AtomicBool,
}

// SAFETY: `pool` is only read through `&Pool`, and `Pool` is `Sync`; the
// rest is `Sync` by itself.
unsafe impl Send for Inbox {}
// SAFETY: as above.
unsafe impl Sync for Inbox {}

#[derive(Debug, Default)]
struct State {
    jobs: VecDeque<Job>,
    /// Set once the owner will not wait any more: where pushes go instead.
    forward: Option<Forward>,
    /// How many threads wait on the condition variable: the owner, and
    /// other threads of the owner's body that join at the same time.
    waiters: usize,
    /// Counts the signals (a wait may be over): a waiter that saw it
    /// change re-checks its condition before waiting again.
    signals: u64,
}

/// Where a forwarded inbox's jobs go.
#[derive(Clone, Debug)]
pub(crate) enum Forward {
    /// Another inbox of the same pool.
    Inbox(Arc<Inbox>),
    /// The pool's ordinary queues (or the run's own inbox there).
    Pool,
}

/// What the owner of an inbox finds when it looks for work.
#[derive(Debug)]
pub(crate) enum Found {
    /// A job of its wait, taken off the inbox.
    Job(Job),
    /// The wait is over.
    Done,
    /// Signalled with neither: the caller looks around and waits again.
    Signaled,
}

impl Inbox {
    pub(crate) fn new(pool: &Pool) -> Self {
        Inbox {
            pool: NonNull::from(pool),
            state: Mutex::new(State::default()),
            wake_up: Condvar::new(),
            holds_jobs: AtomicBool::new(false),
        }
    }

    /// The pool whose jobs queue here.
    pub(crate) fn pool(&self) -> &Pool {
        // SAFETY: the pool outlives every use of the inbox (see `pool`).
        unsafe { self.pool.as_ref() }
    }

    /// Queues `job`, following forwards; returns the job if its place is
    /// the pool's own queues (the inbox, or one it forwards to, was
    /// forwarded to [`Forward::Pool`]).
    pub(crate) fn push(this: &Arc<Inbox>, job: Job) -> Result<(), Job> {
        Inbox::push_with(this, job, 1, |queue, job| queue.push_back(job))
    }

    /// Queues `jobs` (at least one), oldest first, as [`push`](Inbox::push)
    /// queues one, under one lock and with one wake-up; returns them if
    /// their place is the pool's own queues.
    pub(crate) fn push_all(this: &Arc<Inbox>, jobs: VecDeque<Job>) -> Result<(), VecDeque<Job>> {
        debug_assert!(!jobs.is_empty(), "a push queues a job");
        let pushed = jobs.len();
        Inbox::push_with(this, jobs, pushed, |queue, mut jobs| {
            if queue.is_empty() {
                *queue = jobs;
            } else {
                queue.append(&mut jobs);
            }
        })
    }

    /// The walk of [`push`](Inbox::push) and [`push_all`](Inbox::push_all):
    /// `queue` adds `jobs` (`pushed` of them) to the jobs of the first
    /// inbox on the way that is not forwarded.
    fn push_with<J>(
        this: &Arc<Inbox>,
        jobs: J,
        pushed: usize,
        queue: impl FnOnce(&mut VecDeque<Job>, J),
    ) -> Result<(), J> {
        // The inbox looked at, and the forward that keeps it alive once the
        // walk left `this` (no count is taken for `this` itself).
        let mut inbox = this;
        let mut held: Arc<Inbox>;
        loop {
            let next = {
                let mut state = inbox.state.lock();
                match &state.forward {
                    None => {
                        let was_empty = state.jobs.is_empty();
                        queue(&mut state.jobs, jobs);
                        inbox.note_jobs(&state);
                        if was_empty {
                            inbox.pool().announce(Arc::clone(inbox));
                        }
                        if state.waiters > 0 {
                            inbox.wake_up.notify_all();
                        }
                        drop(state);
                        // Every push wakes a sleeper of the pool
                        // (`crate::runtime::sleep`): a peer may steal it;
                        // and, when every worker of the pool waits, the
                        // blocked waits: the job may be one that only a
                        // wait's fall-back can reach (`Pool::take_for_wait`).
                        inbox.pool().sleep().notify(pushed);
                        inbox.pool().nudge_waits();
                        return Ok(());
                    }
                    Some(Forward::Pool) => return Err(jobs),
                    Some(Forward::Inbox(next)) => Arc::clone(next),
                }
            };
            held = next;
            inbox = &held;
        }
    }

    /// Tells the waiters that their wait may be over.
    pub(crate) fn signal(&self) {
        let mut state = self.state.lock();
        state.signals = state.signals.wrapping_add(1);
        if state.waiters > 0 {
            self.wake_up.notify_all();
        }
    }

    /// The owner's take: the newest job, if any.
    ///
    /// Looks at [`holds_jobs`](Inbox::holds_jobs) first, without the lock:
    /// a push it does not see yet is found by the owner's locked look
    /// before it blocks ([`wait_for_owner`](Inbox::wait_for_owner)), and
    /// every lock it takes in between (the count of signals) takes in the
    /// pusher's mark.
    pub(crate) fn take_for_owner(&self) -> Option<Job> {
        // ORDERING: Relaxed: a hint (see above); the job itself is taken
        // under the lock, which synchronises with its push.
        if !self.holds_jobs.load(Ordering::Relaxed) {
            return None;
        }
        let mut state = self.state.lock();
        let job = state.jobs.pop_back();
        self.note_jobs(&state);
        job
    }

    /// Marks whether the inbox holds jobs, under its lock (`state`).
    fn note_jobs(&self, state: &State) {
        // ORDERING: Relaxed: written under the lock, read as a hint (see
        // `take_for_owner`).
        self.holds_jobs
            .store(!state.jobs.is_empty(), Ordering::Relaxed);
    }

    /// The count of signals so far, read before a waiter's looks (at its
    /// condition, and for work): a signal after it is not missed.
    pub(crate) fn signals(&self) -> u64 {
        self.state.lock().signals
    }

    /// The owner's next job, or [`Found::Done`] once `done()` holds, or
    /// [`Found::Signaled`] for a signal since `seen` (read with
    /// [`signals`](Inbox::signals) before the caller's last look for work)
    /// with neither; blocks, using no CPU, until one of them. `done` must
    /// become true only with a [`signal`](Inbox::signal) after it.
    pub(crate) fn wait_for_owner(&self, seen: u64, done: impl Fn() -> bool) -> Found {
        if done() {
            return Found::Done;
        }
        let mut state = self.state.lock();
        let mut seen = seen;
        loop {
            if let Some(job) = state.jobs.pop_back() {
                self.note_jobs(&state);
                return Found::Job(job);
            }
            if state.signals != seen {
                return Found::Signaled;
            }
            // The planted bug `join_unlocked_check` unlocks between the
            // look at the signals and the wait, and forgets a signal that
            // came in between; the loom model
            // `join_races_a_child_completion` must then find the lost
            // wake-up (scripts/loom-mutants.sh).
            if planted("join_unlocked_check") {
                drop(state);
                state = self.state.lock();
                seen = state.signals;
            }
            state.waiters += 1;
            state = self.wake_up.wait(state);
            state.waiters -= 1;
        }
    }

    /// Blocks until `done()` holds, taking no job: for a wait off the
    /// inbox's pool (a thread that is not one of its workers), whose jobs
    /// the pool's workers take. Any number of threads may wait so at once.
    pub(crate) fn block_until(&self, done: impl Fn() -> bool) {
        loop {
            let seen = self.signals();
            if done() {
                return;
            }
            let mut state = self.state.lock();
            state.waiters += 1;
            while state.signals == seen {
                state = self.wake_up.wait(state);
            }
            state.waiters -= 1;
        }
    }

    /// A thief's take: the oldest job, announcing the inbox again if it
    /// keeps more (module docs).
    pub(crate) fn steal(this: &Arc<Inbox>) -> Option<Job> {
        let mut state = this.state.lock();
        let job = state.jobs.pop_front()?;
        this.note_jobs(&state);
        if !state.jobs.is_empty() {
            this.pool().announce(Arc::clone(this));
        }
        Some(job)
    }

    /// Forwards the inbox to `forward` (its owner will not wait any more)
    /// and returns the jobs it held, for the caller to queue there.
    pub(crate) fn close(&self, forward: Forward) -> VecDeque<Job> {
        let mut state = self.state.lock();
        state.forward = Some(forward);
        let jobs = std::mem::take(&mut state.jobs);
        self.note_jobs(&state);
        jobs
    }

    /// Where the inbox forwards to, or `None` while its owner may wait.
    pub(crate) fn forward(&self) -> Option<Forward> {
        self.state.lock().forward.clone()
    }
}
