//! [`SteeredRun`]: the part of a run that orders its ready tasks and takes
//! their limits' permits; and [`Parked`], a task waiting in a limit.
//!
//! See [`crate::steer`] for the protocol: how a token finds its task, how a
//! task takes its permits or parks, how a release hands a permit on, and
//! how a stopped run's parked tasks come back.

use std::ptr::NonNull;

use crate::graph::GraphView;
use crate::runtime::cancel::{CancelHook, CancelToken};
use crate::runtime::run::Run;
use crate::steer::limit::{Acquired, Limit};
use crate::steer::ready::{ReadyKey, ReadyQueues};
use crate::steer::settings::Steering;
use crate::sync::atomic::{AtomicBool, Ordering};

/// The steering state of one run: present only in a run of a graph with a
/// priority or a limit, or with [`critical_path`](crate::RunOptions::critical_path) on.
pub(crate) struct SteeredRun<'g> {
    settings: &'g Steering,
    ready: ReadyQueues,
    /// Each task's critical-path rank, if the run orders by it.
    ranks: Option<Box<[u64]>>,
    /// By task, whether it holds every permit of its limits: set when it
    /// took the last one, read when it settles. Empty in a run without
    /// limits.
    held: Box<[AtomicBool]>,
    /// Takes the run's parked tasks out of their limits when its token is
    /// cancelled (a fail-fast stop cancels it too); removed with the run.
    _evict_on_cancel: Option<CancelHook>,
}

impl<'g> SteeredRun<'g> {
    /// The steering state of a run of `graph`, or `None` if nothing steers
    /// it (the run then takes the engine's ordinary path).
    pub(crate) fn new(
        graph: &GraphView<'g>,
        critical_path: bool,
        run_id: u64,
        token: &CancelToken,
    ) -> Option<Self> {
        let settings = graph.steering;
        let limited = settings.has_limits();
        if !(critical_path || settings.has_priorities() || limited) {
            return None;
        }
        let tasks = graph.names.len();
        let held = if limited {
            (0..tasks).map(|_| AtomicBool::new(false)).collect()
        } else {
            Box::default()
        };
        let evict_on_cancel = limited.then(|| {
            let limits = settings.distinct_limits();
            let watched = token.clone();
            token.on_cancel(Box::new(move || {
                if watched.is_cancelled() {
                    for limit in &limits {
                        withdraw_all(limit.evict(run_id));
                    }
                }
            }))
        });
        Some(SteeredRun {
            settings,
            ready: ReadyQueues::new(graph.tags.len()),
            ranks: critical_path.then(|| settings.ranks(graph.table, graph.in_index_order)),
            held,
            _evict_on_cancel: evict_on_cancel,
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
    /// `None` if it parked in a limit (which holds its unit of work now).
    pub(crate) fn admit_next(&self, run: &Run<'_>, tag: u32) -> Option<u32> {
        let task = self
            .ready
            .pop(tag)
            .expect("every token stands for a task queued before it");
        if self.settings.limits(task).is_empty() || run.is_poisoned(task) || run.is_stopped() {
            // Skipped or cancelled without running: it takes no permit.
            return Some(task);
        }
        match self.acquire_from(run, task, 0) {
            Admission::Admitted => Some(task),
            Admission::Parked => None,
            Admission::Stopped { holds } => {
                release(&self.settings.limits(task)[..holds]);
                Some(task)
            }
        }
    }

    /// After `task` settled (ran, or ended without running): gives back its
    /// permits, if it holds them.
    pub(crate) fn settled(&self, task: u32) {
        // ORDERING: Relaxed: the flag was stored by the thread that took the
        // last permit, before the job hand-off that brought the task here
        // (or on this same thread).
        if self
            .held
            .get(task as usize)
            .is_some_and(|held| held.load(Ordering::Relaxed))
        {
            release(self.settings.limits(task));
        }
    }

    /// Takes the permits of `task`'s limits from the one at `from` on, in
    /// order, parking the task at the first full one.
    fn acquire_from(&self, run: &Run<'_>, task: u32, from: usize) -> Admission {
        for (index, limit) in self.settings.limits(task).iter().enumerate().skip(from) {
            let parked = || Parked::new(run, task, index);
            match limit.acquire_or_park(parked, || run.is_stopped()) {
                Acquired::Permit => {}
                Acquired::Parked => return Admission::Parked,
                Acquired::Stopped => return Admission::Stopped { holds: index },
            }
        }
        // ORDERING: Relaxed: see `settled`.
        self.held[task as usize].store(true, Ordering::Relaxed);
        Admission::Admitted
    }
}

/// How taking a task's permits ended.
enum Admission {
    /// It holds all of them.
    Admitted,
    /// It waits in a limit, which holds it now.
    Parked,
    /// Its run is stopped; it holds the permits of its first `holds` limits.
    Stopped { holds: usize },
}

/// A task waiting in a limit for a permit: it holds the permits of the
/// limits before that one (its first `holds`), and stands for its unfinished
/// unit of its run's work, which keeps the run alive while it waits.
/// Whoever takes it out of the limit's queue owns it and that unit.
#[derive(Debug)]
pub(crate) struct Parked {
    run: NonNull<Run<'static>>,
    run_id: u64,
    task: u32,
    holds: usize,
}

// SAFETY: a parked task is a pointer to a `Run`, which is `Sync`, and
// integers; the thread that takes it out of its queue only uses `&Run`.
unsafe impl Send for Parked {}

impl Parked {
    fn new(run: &Run<'_>, task: u32, holds: usize) -> Self {
        Parked {
            run: NonNull::from(run).cast(),
            run_id: run.id(),
            task,
            holds,
        }
    }

    pub(crate) fn run_id(&self) -> u64 {
        self.run_id
    }

    /// The run and its steering state.
    fn run(&self) -> (&Run<'static>, &SteeredRun<'static>) {
        // SAFETY: a parked task stands for an unfinished unit of its run's
        // work, which the run cannot complete without: its caller is still
        // blocked, and the run alive, until the task was processed. The
        // caller took this task out of its limit's queue and owns it.
        let run = unsafe { self.run.as_ref() };
        let steered = run.steered().expect("a parked task's run is steered");
        (run, steered)
    }
}

/// Gives back one permit of each of `limits` (module docs of
/// [`crate::steer`], "Handing a permit on"). A permit handed to a task of a
/// stopped run passes straight on: such tasks are collected and released
/// in a loop, not by recursion, however long the chain.
pub(crate) fn release(limits: &[Limit]) {
    let mut stopped = Vec::new();
    for limit in limits {
        if let Some(parked) = limit.release() {
            granted(parked, &mut stopped);
        }
    }
    withdraw_all(stopped);
}

/// A parked task was handed the permit of the limit it waited in: it takes
/// the rest of its permits and goes back to its pool, parks again, or, if
/// its run is stopped, is added to `stopped`.
fn granted(mut parked: Parked, stopped: &mut Vec<Parked>) {
    parked.holds += 1;
    let (run, steered) = parked.run();
    if run.is_stopped() {
        stopped.push(parked);
        return;
    }
    match steered.acquire_from(run, parked.task, parked.holds) {
        Admission::Admitted => run.send_back(parked.task),
        Admission::Parked => {}
        Admission::Stopped { holds } => {
            parked.holds = holds;
            stopped.push(parked);
        }
    }
}

/// Tasks of stopped runs, each out of its limit's queue: every permit they
/// hold goes back (which may hand more of them on), and each task goes back
/// to its pool holding none, to end without running.
fn withdraw_all(mut stopped: Vec<Parked>) {
    while let Some(parked) = stopped.pop() {
        let (run, steered) = parked.run();
        for limit in &steered.settings.limits(parked.task)[..parked.holds] {
            if let Some(next) = limit.release() {
                granted(next, &mut stopped);
            }
        }
        run.send_back(parked.task);
    }
}

impl std::fmt::Debug for SteeredRun<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SteeredRun")
            .field("critical_path", &self.ranks.is_some())
            .field("limited", &!self.held.is_empty())
            .finish_non_exhaustive()
    }
}
