//! [`SteeredRun`]: the part of a run that orders its ready tasks and takes
//! their limits' permits; and [`Parked`], a task waiting in a limit.
//!
//! See [`crate::steer`] for the protocol: how a token finds its task, how a
//! task takes its permits or parks, how a release hands a permit on, and
//! how a stopped run's parked tasks come back.

use std::ptr::NonNull;

use crate::graph::GraphView;
use crate::mutant::planted;
use crate::runtime::cancel::{CancelHook, CancelToken};
use crate::runtime::job::Job;
use crate::runtime::pool::Pool;
use crate::runtime::run::Run;
use crate::runtime::spawn::inbox::Inbox;
use crate::steer::holding::{self, Holds, Mark};
use crate::steer::limit::{Acquired, Limit};
use crate::steer::ready::{ReadyKey, ReadyQueues};
use crate::steer::settings::Steering;
use crate::sync::Arc;
use crate::sync::atomic::{AtomicUsize, Ordering};

/// The steering state of one run: present only in a run of a graph with a
/// priority or a limit, or with [`critical_path`](crate::RunOptions::critical_path) on.
pub(crate) struct SteeredRun<'g> {
    settings: &'g Steering,
    ready: ReadyQueues,
    /// Each task's critical-path rank, if the run orders by it.
    ranks: Option<Box<[u64]>>,
    /// By task, 0, or 1 + the index (among the task's limits) of the limit
    /// that woke it: set by the waking thread before it queues the task,
    /// taken by the worker that admits it. Empty in a run without limits.
    woken: Box<[AtomicUsize]>,
    /// Every distinct limit of the graph's tasks (empty without limits).
    limits: Box<[Limit]>,
    /// Takes the run's parked tasks out of their limits when its token is
    /// cancelled (a fail-fast stop cancels it too); removed with the run.
    _evict_on_cancel: Option<CancelHook>,
    /// The permits held by the tasks that wait for this run (see
    /// [`crate::steer::holding`]): empty unless it runs from inside tasks
    /// that hold some.
    enclosing: Holds,
}

/// What a worker does with a token: the task it took, and whether that
/// task holds every permit of its limits (and gives them back when it
/// settles).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Admitted {
    pub(crate) task: u32,
    pub(crate) holding: bool,
    /// Where the thread's stack of holds was before the task was admitted,
    /// if it pushed onto it (see [`crate::steer::holding`]).
    held_from: Option<Mark>,
}

impl<'g> SteeredRun<'g> {
    /// The steering state of a run of `graph`, or `None` if nothing steers
    /// it (the run then takes the engine's ordinary path). A run waited for
    /// by tasks that hold permits (`enclosing`) is steered, so that its
    /// tasks tell the runs they start what they wait behind
    /// ([`crate::steer::holding`]).
    pub(crate) fn new(
        graph: &GraphView<'g>,
        critical_path: bool,
        enclosing: Holds,
        run_id: u64,
        token: &CancelToken,
    ) -> Option<Self> {
        let settings = graph.steering;
        let limited = settings.has_limits();
        if !(critical_path || settings.has_priorities() || limited || !enclosing.is_empty()) {
            return None;
        }
        let tasks = graph.names.len();
        let woken = if limited {
            (0..tasks).map(|_| AtomicUsize::new(0)).collect()
        } else {
            Box::default()
        };
        let limits: Box<[Limit]> = settings.distinct_limits().into();
        let evict_on_cancel = limited.then(|| {
            let limits = limits.clone();
            let watched = token.clone();
            token.on_cancel(Box::new(move || {
                if watched.is_cancelled() {
                    evict_all(&limits, run_id);
                }
            }))
        });
        Some(SteeredRun {
            settings,
            ready: ReadyQueues::new(graph.tags.len()),
            ranks: critical_path.then(|| settings.ranks(graph.table, graph.in_index_order)),
            woken,
            limits,
            _evict_on_cancel: evict_on_cancel,
            enclosing,
        })
    }

    /// Queues the ready `task` for the pool of `tag`; the caller pushes a
    /// token for it into that pool afterwards.
    pub(crate) fn queue(&self, tag: u32, task: u32) {
        let rank = self.ranks.as_ref().map_or(0, |ranks| ranks[task as usize]);
        self.ready
            .push(tag, ReadyKey::new(rank, self.settings.priority(task), task));
    }

    /// What a worker of the pool of `tag` does with a token: takes the best
    /// ready task and its permits. Returns the task to process now, or
    /// `None` if it parked in a limit (which holds it, and a unit of work
    /// it added for it, now). After `None` the caller must not touch the
    /// run except to count the token's own unit.
    pub(crate) fn admit_next(&self, run: &Run<'_>, tag: u32) -> Option<Admitted> {
        let task = self
            .ready
            .pop(tag)
            .expect("every token stands for a task queued before it");
        let holding = self.admit(run, tag, task)?;
        // What the task's body will wait behind, for the runs it starts.
        let held_from = (holding || !self.enclosing.is_empty()).then(|| {
            let limits = self.settings.limits(task);
            holding::enter(&self.enclosing, holding.then_some((run.id(), task, limits)))
        });
        Some(Admitted {
            task,
            holding,
            held_from,
        })
    }

    /// Takes the permits of the ready `task`, which a token chose: returns
    /// whether it holds them (`false` for a task without limits, or one
    /// that ends without running), or `None` if it parked.
    fn admit(&self, run: &Run<'_>, tag: u32, task: u32) -> Option<bool> {
        let limits = self.settings.limits(task);
        if limits.is_empty() {
            return Some(false);
        }
        // ORDERING: Relaxed: stored before the task was queued, under the
        // ready queue's mutex, which this worker's pop locked since.
        let woken = self.woken[task as usize].swap(0, Ordering::Relaxed);
        let woken_from = woken.checked_sub(1);
        if run.is_poisoned(task) || run.is_stopped() {
            // Skipped or cancelled without running: it takes no permit.
            give_up(limits, woken_from);
            return Some(false);
        }
        match acquire_all(run, tag, task, limits, woken_from) {
            Admission::Admitted => Some(true),
            Admission::Parked => None,
            Admission::Stopped => Some(false),
        }
    }

    /// After `task` settled (ran, or ended without running): gives back its
    /// permits, if it held them.
    pub(crate) fn settled(&self, admitted: Admitted) {
        if let Some(mark) = admitted.held_from {
            holding::leave(mark);
        }
        if admitted.holding {
            release(self.settings.limits(admitted.task));
        }
    }

    /// Takes every parked task of the run `run_id` out of every limit the
    /// graph uses and sends it back to its pool (for a run stopped by its
    /// deadline, see [`crate::steer`], "A deadline").
    pub(crate) fn evict(&self, run_id: u64) {
        evict_all(&self.limits, run_id);
    }

    /// Whether some task of the run has a limit.
    pub(crate) fn is_limited(&self) -> bool {
        !self.limits.is_empty()
    }
}

/// Takes a permit of each of `limits`, all or none: at the first full one,
/// gives back the permits taken so far and parks there (or, if a permit was
/// freed meanwhile, takes it and tries the others again). A task thus never
/// waits holding a permit, so tasks cannot deadlock over the order they
/// take limits in (module docs of [`crate::steer`], "Taking permits").
fn acquire_all(
    run: &Run<'_>,
    tag: u32,
    task: u32,
    limits: &[Limit],
    woken_from: Option<usize>,
) -> Admission {
    // The limit whose permit the task holds from the last attempt.
    let mut held: Option<usize> = None;
    'attempt: loop {
        for (index, limit) in limits.iter().enumerate() {
            if held == Some(index) || limit.try_acquire() {
                continue;
            }
            // Full: give back every permit the task holds (those before this
            // limit, and the one from the last attempt), then park here.
            release(&limits[..index]);
            if let Some(held) = held.take().filter(|&held| held > index) {
                release(std::slice::from_ref(&limits[held]));
            }
            let front = woken_from == Some(index);
            let park = || Parked::new(run, tag, task, index);
            match limits[index].acquire_or_park(park, || run.is_stopped(), front) {
                Acquired::Permit => {
                    held = Some(index);
                    continue 'attempt;
                }
                Acquired::Parked => {
                    // The task stands in this limit now; no permit was
                    // taken from the limit that woke it unless it parks
                    // there again.
                    if let Some(from) = woken_from.filter(|&from| from != index) {
                        pass_on(&limits[from]);
                    }
                    return Admission::Parked;
                }
                Acquired::Stopped => {
                    give_up(limits, woken_from);
                    return Admission::Stopped;
                }
            }
        }
        return Admission::Admitted;
    }
}

/// A woken task that ends its attempt without the permit of the limit that
/// woke it passes the wake-up on (see [`Limit::pass_on`]).
fn give_up(limits: &[Limit], woken_from: Option<usize>) {
    if let Some(from) = woken_from {
        pass_on(&limits[from]);
    }
}

/// How taking a task's permits ended.
enum Admission {
    /// It holds all of them.
    Admitted,
    /// It waits in a limit, which holds it now.
    Parked,
    /// Its run is stopped; it holds none.
    Stopped,
}

/// A task waiting in a limit for a permit. It holds no permit, and stands
/// for one unit of its run's work, added when it parked, which keeps the
/// run alive while it waits. It carries its pool, so that whoever sends it
/// back, on any thread and for a run of any executor, can still notify the
/// pool after the push, when the run (and the executor) may be gone.
/// Whoever takes it out of the limit's queue owns it and that unit.
#[derive(Debug)]
pub(crate) struct Parked {
    run: NonNull<Run<'static>>,
    pool: Arc<Pool>,
    run_id: u64,
    tag: u32,
    task: u32,
    /// Its limit's index among the task's limits.
    limit: usize,
}

// SAFETY: a parked task is a pointer to a `Run`, which is `Sync`, a shared
// pool, which is `Sync`, and integers; the thread that takes it out of its
// queue only uses `&Run`, and only before it pushes the task's token.
unsafe impl Send for Parked {}

impl Parked {
    /// A parked `task` of `run` for the limit at `limit`: adds the unit of
    /// work it stands for. Called under the limit's lock, by the worker
    /// that took the task's token, whose own unit is not counted yet and so
    /// keeps the run's count above zero while this one is added.
    fn new(run: &Run<'_>, tag: u32, task: u32, limit: usize) -> Self {
        run.completion().add(1);
        Parked {
            run: NonNull::from(run).cast(),
            pool: Arc::clone(run.pool(tag)),
            run_id: run.id(),
            tag,
            task,
            limit,
        }
    }

    pub(crate) fn run_id(&self) -> u64 {
        self.run_id
    }
}

/// Sends a task taken out of a limit's queue back to its pool: into its
/// ordered ready queue, then a token for it where the run's own jobs for
/// that pool go: the inbox of the wait of the worker that runs the run
/// from inside a task, if that worker is of this pool, else the pool's
/// injector (see [`crate::steer`], step 3). With `woken`, it was woken by
/// a release (or a wake-up passed on) of the limit it waited in, and
/// remembers that for its next attempt; else it was evicted for a stopped
/// run.
fn send_back(parked: Parked, woken: bool) {
    let Parked {
        run,
        pool,
        tag,
        task,
        limit,
        ..
    } = parked;
    let (job, helper) = {
        // SAFETY: a parked task stands for an unfinished unit of its run's
        // work, which the run cannot complete without: the run is alive
        // until the token pushed below was processed. This `&Run` is not
        // used after the push.
        let run = unsafe { run.as_ref() };
        let steered = run.steered().expect("a parked task's run is steered");
        if woken {
            // ORDERING: Relaxed: the queue's mutex publishes it (see
            // `admit_next`).
            steered.woken[task as usize].store(limit + 1, Ordering::Relaxed);
        }
        steered.queue(tag, task);
        // The planted bug `woken_to_injector` sends the token to the
        // injector even for a run whose waiting worker is of this pool:
        // that worker's wait does not look there while a peer of its pool
        // is busy, and the loom model
        // `a_nested_runs_woken_task_goes_back_to_its_waiting_worker` must
        // find the nested run never returning (scripts/loom-mutants.sh).
        let helper = if planted("woken_to_injector") {
            None
        } else {
            run.helper_on(&pool).cloned()
        };
        (Job::ready(run), helper)
    };
    // From the push on, the run may complete and its executor be dropped:
    // only the owned pool and the owned inbox are touched (the inbox's push
    // notifies its pool, which is `pool`, alive through the `Arc`).
    let job = match helper {
        Some(inbox) => match Inbox::push(&inbox, job) {
            Ok(()) => return,
            // Not while the run lasts (a nested run's inbox is not
            // forwarded); the pool's queues are the right place then.
            Err(job) => job,
        },
        None => job,
    };
    pool.inject(job);
}

/// Gives back one permit of each of `limits`, sending back the task each
/// release wakes (module docs of [`crate::steer`], "Handing a permit on").
pub(crate) fn release(limits: &[Limit]) {
    for limit in limits {
        if let Some(parked) = limit.release() {
            send_back(parked, true);
        }
    }
}

/// Passes a wake-up of `limit` on (see [`Limit::pass_on`]).
fn pass_on(limit: &Limit) {
    // The planted bug `stopped_keeps_wakeup` drops the
    // wake-up of a woken task that gives up: a permit then stays free while
    // another run's task waits for it; the loom model
    // `a_woken_task_of_a_stopped_run_passes_its_wake_up_on` must find that
    // run never returning (scripts/loom-mutants.sh).
    if planted("stopped_keeps_wakeup") {
        return;
    }
    if let Some(parked) = limit.pass_on() {
        send_back(parked, true);
    }
}

/// Takes every parked task of the run `run_id` out of `limits` and sends it
/// back to its pool, to end without running.
fn evict_all(limits: &[Limit], run_id: u64) {
    for limit in limits {
        for parked in limit.evict(run_id) {
            send_back(parked, false);
        }
    }
}

impl std::fmt::Debug for SteeredRun<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SteeredRun")
            .field("critical_path", &self.ranks.is_some())
            .field("limited", &self.is_limited())
            .finish_non_exhaustive()
    }
}
