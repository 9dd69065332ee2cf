//! How the workers of one pool fall asleep when they find no work, and how a
//! thread that gives a pool work wakes them: without lost wake-ups, and
//! without a queued job waiting for a busy worker while another sleeps.
//!
//! # State
//!
//! Each pool has one [`Sleep`]: a mutex-guarded record of how many workers
//! are registered as asleep (`sleeping`), how many wake-ups were granted but
//! not yet taken (`tokens`) and whether the pool shuts down, plus an atomic
//! copy of `sleeping` ([`Sleep::sleepers`]) that pushers read without the
//! lock. A worker is *running* (processing jobs), *searching* (its own deque
//! is empty; it steals, spinning briefly), *registered* (counted in
//! `sleeping`, re-checking the queues under the lock) or *waiting* (on the
//! condition variable).
//!
//! # Falling asleep (worker `W` of pool `P`)
//!
//! 1. `W`'s own deque is empty and a brief spin of steals from `P`'s injector
//!    and `P`'s other workers found nothing.
//! 2. `W` locks the state. If the pool shuts down, `W` exits.
//! 3. `W` counts itself in `sleeping` and stores the new count in `sleepers`.
//! 4. `W` executes a `SeqCst` fence.
//! 5. `W` searches every queue of `P` once more, still holding the lock. If it
//!    finds a job it takes itself out of `sleeping` and runs the job.
//!    *Prevents the lost wake-up:* a job pushed before a pusher's fence
//!    (step 2 of "Waking" below) that came before `W`'s step-4 fence is
//!    visible here.
//! 6. Otherwise `W` waits on the condition variable, which releases the lock.
//!    Each time it wakes it takes a token if there is one and searches again
//!    (step 1); with no token it exits on shutdown or waits again (a spurious
//!    wake-up).
//!
//! # Waking (any thread that pushed jobs onto a queue of `P`)
//!
//! 1. Push the jobs.
//! 2. Execute a `SeqCst` fence.
//! 3. Load `sleepers`. If it is zero, stop: no worker can be past its step 4
//!    without seeing the push. *Why:* the two fences are totally ordered. If
//!    the pusher's came first, the sleeper's step 5 sees the push; if the
//!    sleeper's came first, this load sees its step-3 store.
//! 4. Otherwise lock the state, move up to one worker per pushed job from
//!    `sleeping` to `tokens`, update `sleepers` and notify that many waiters.
//!    The waker, not the woken worker, takes the worker out of `sleeping`, so
//!    that later pushes do not count a worker that is already being woken.
//!
//! Workers are anonymous in these counts: whichever waiter takes a token, the
//! invariant *waiting workers = `sleeping` + `tokens`* holds, so no worker
//! waits uncounted.
//!
//! # No ready job waits while a worker sleeps
//!
//! No lost wake-ups is a promise about progress. The protocol promises more,
//! for parallelism: **a job in a queue of `P` never waits for a busy worker
//! while a worker of `P` sleeps without being woken for it**, not even when
//! it sits on the deque of a worker that runs a long task (or a task that
//! waits for that very job). Every thread that puts jobs into a queue of `P`
//! therefore performs steps 2-4 of "Waking" right after, whatever the queue
//! held before:
//!
//! 1. the caller of a run, or a worker of another tag, pushing into `P`'s
//!    injector;
//! 2. a worker pushing onto its own deque: the ready successors it does not
//!    run itself, and the halves of a range of sources it splits off;
//! 3. a worker whose steal moved more jobs into its deque than the one it
//!    runs. *Prevents:* a batch steal takes the jobs off the victim before
//!    they appear in the thief's deque, so another worker (the victim
//!    itself, say) can search in between, find them in neither, and fall
//!    asleep while the thief runs the one it took (the loom model
//!    `a_stolen_batch_wakes_the_sleeping_peer` and the planted bug
//!    `keep_stolen_jobs`).
//!
//! Then, by the argument of "Waking" step 3, every worker of `P` that falls
//! asleep after a push either saw the job in its step-5 search or is counted
//! in the pusher's load of `sleepers` and woken.
//!
//! *Why at every push, not only onto an empty deque:* a worker falls asleep
//! only after its step-5 search found every queue of `P` empty, so it might
//! seem enough to wake sleepers for a push onto an empty deque only. But the
//! deque can empty between that check and the push: a thief takes the last
//! job meanwhile, searches once more, finds nothing and falls asleep, and
//! the push, onto a deque that did not look empty, wakes nobody. The job
//! then waits for the pusher to finish the task it runs next, for as long as
//! that task takes (the engine once did this; the loom model
//! `a_queued_task_wakes_the_sleeping_peer` and the planted bug
//! `stale_empty_check` check that it no longer does). Deciding at the push
//! leaves no such window; it costs one `SeqCst` fence per group of pushes.
//! A pool of one worker has nobody to wake and skips all of this.
//!
//! The invariant is about queued jobs, not about the work a worker holds
//! itself: the successor it runs next without queueing it, and the rest of
//! a walk over sources (more than one only after fast walks, and exposed to
//! a peer seen asleep; see [`crate::runtime::worker`]).
//!
//! # Shutdown
//!
//! The executor, which alone can shut a pool down and only when no run is in
//! progress, sets the flag under the lock and notifies every waiter. Workers
//! check the flag under the lock before registering and after every wake-up,
//! so none is left waiting.

use crate::mutant::planted;
use crate::sync::atomic::{AtomicUsize, Ordering, fence};
use crate::sync::{Condvar, Mutex};

/// The sleep/wake state of one pool (see the module docs for the protocol).
#[derive(Debug)]
pub(crate) struct Sleep {
    /// A copy of `State::sleeping`, written under the lock, read without it.
    sleepers: AtomicUsize,
    state: Mutex<State>,
    wake_up: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Workers registered as asleep and not yet chosen by a waker.
    sleeping: usize,
    /// Wake-ups granted and not yet taken by a waiting worker.
    tokens: usize,
    /// Set once, when the executor shuts the pool down.
    shutdown: bool,
}

/// How a worker's attempt to sleep ended.
#[derive(Debug)]
pub(crate) enum Slumber<J> {
    /// The re-check under the lock found this job; the worker did not sleep.
    Found(J),
    /// The worker slept and was woken; it should search for work again.
    Woken,
    /// The pool shuts down; the worker should exit.
    Shutdown,
}

impl Sleep {
    pub(crate) fn new() -> Self {
        Sleep {
            sleepers: AtomicUsize::new(0),
            state: Mutex::new(State::default()),
            wake_up: Condvar::new(),
        }
    }

    /// Falling asleep, steps 2-6. `search` looks through every queue of the
    /// pool once.
    pub(crate) fn sleep<J>(&self, search: impl FnOnce() -> Option<J>) -> Slumber<J> {
        let mut state = self.state.lock();
        if state.shutdown {
            return Slumber::Shutdown;
        }
        state.sleeping += 1;
        // ORDERING: Relaxed: the step-4 fence below orders this store before
        // the re-check, which is all the protocol needs of it.
        self.sleepers.store(state.sleeping, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        // The planted bug `lost_wakeup` skips step 5; the loom models must
        // then find a lost wake-up (scripts/loom-mutants.sh).
        if !planted("lost_wakeup") {
            if let Some(job) = search() {
                state.sleeping -= 1;
                // ORDERING: Relaxed: only ever read as a hint to take the lock.
                self.sleepers.store(state.sleeping, Ordering::Relaxed);
                return Slumber::Found(job);
            }
        }
        loop {
            state = self.wake_up.wait(state);
            if state.tokens > 0 {
                state.tokens -= 1;
                return Slumber::Woken;
            }
            if state.shutdown {
                state.sleeping -= 1;
                return Slumber::Shutdown;
            }
        }
    }

    /// Whether some worker of the pool is registered as asleep: a hint, for
    /// deciding whether to expose work early.
    pub(crate) fn has_sleepers(&self) -> bool {
        // ORDERING: Relaxed: a hint only; a stale answer costs at most a
        // missed chance to hand work over early.
        self.sleepers.load(Ordering::Relaxed) > 0
    }

    /// Waking, steps 2-4, after `jobs` jobs were pushed onto the pool.
    pub(crate) fn notify(&self, jobs: usize) {
        fence(Ordering::SeqCst);
        // ORDERING: Relaxed: the fence above orders the pushes before this
        // load (see step 3).
        if self.sleepers.load(Ordering::Relaxed) == 0 {
            return;
        }
        self.wake(jobs);
    }

    #[cold]
    fn wake(&self, jobs: usize) {
        let mut state = self.state.lock();
        let woken = jobs.min(state.sleeping);
        state.sleeping -= woken;
        state.tokens += woken;
        // ORDERING: Relaxed: only ever read as a hint to take the lock.
        self.sleepers.store(state.sleeping, Ordering::Relaxed);
        for _ in 0..woken {
            self.wake_up.notify_one();
        }
    }

    /// Tells every worker of the pool to exit.
    pub(crate) fn shut_down(&self) {
        let mut state = self.state.lock();
        state.shutdown = true;
        self.wake_up.notify_all();
    }
}
