//! [`Job`]: the unit of work that sits in a pool's deques.

use std::ptr::NonNull;

use crate::runtime::run::Run;

/// Work for a pool: one ready task of a run; one ready spawned task (see
/// [`crate::runtime::spawn`]); a range of task indices whose
/// sources (tasks without dependencies) of the pool's tag the worker runs,
/// splitting the range first so that idle workers can take part; for a
/// run that one worker processes alone, every task in index order; a seat
/// in a run swept in index order by several workers (see
/// [`crate::runtime::sweep`]); or, in a steered run, a token for the best
/// task of the pool's ordered ready queue (see [`crate::steer`]).
///
/// A job points at its run without owning it. That is sound because a run
/// does not complete, and so its caller does not return and free it, while
/// any of its units of work is unfinished, and every job stands for at least
/// one: a task job for its task, a token for the queued task it will take,
/// a sweeper (first, invited or resumed) for its own unit, a range job for each index it has yet to scan (see [`crate::runtime::completion`] for the units and [`crate::runtime::worker`] for
/// when they are counted).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Job {
    run: NonNull<Run<'static>>,
    /// A task index, or the first index of a range.
    first: u32,
    /// 0 for a single task, [`IN_ORDER`] for every task in order,
    /// [`SPAWNED`] for a spawned task, otherwise the length of the range.
    sources: u32,
}

/// The `sources` of a job that runs every task in index order: no range of
/// sources is that long (a graph holds at most `u32::MAX - 1` tasks).
const IN_ORDER: u32 = u32::MAX;

/// The `sources` of a job that runs one spawned task. A range of sources
/// is shorter: [`MAX_RANGE`] long at most.
const SPAWNED: u32 = u32::MAX - 1;

/// The longest range of sources one job holds; a longer one is split
/// (see `Run::start`).
pub(crate) const MAX_RANGE: u32 = SPAWNED - 1;

/// The `first` of an [`IN_ORDER`] job that is a steered run's token
/// instead (see [`crate::steer`]); an in-order job's `first` is 0.
const TOKEN: u32 = 1;

/// The `first` of an [`IN_ORDER`] job that is a swept run's first sweeper,
/// which stays until the sweep ends (see [`crate::runtime::sweep`]).
const FIRST_SWEEPER: u32 = 2;

/// The `first` of an [`IN_ORDER`] job that is a sweeper invited to help,
/// which may leave early.
const INVITED_SWEEPER: u32 = 3;

/// The `first` of an [`IN_ORDER`] job that resumes the sweeper parked in
/// seat `first - RESUMED_SWEEPER` (see [`crate::runtime::sweep`]).
const RESUMED_SWEEPER: u32 = 4;

/// What a [`Job`] asks its worker to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Work {
    /// Process this task.
    Task(u32),
    /// Process the sources among the tasks `start..start + len`.
    Sources { start: u32, len: u32 },
    /// Process every task, in index order.
    InOrder,
    /// Process this spawned task (a node index).
    Spawned(u32),

    /// Process the best ready task of the worker's pool, in a steered run
    /// (see [`crate::steer`]).
    Ready,
    /// Take part in a sweep in index order (see [`crate::runtime::sweep`]):
    /// as its first sweeper, or as one invited to help.
    Sweep { invited: bool },
    /// Resume the sweeper parked in this seat of a swept run.
    ResumeSweep { seat: u32 },
}

// SAFETY: a job is a pointer to a `Run`, which is `Sync`, and two integers.
// Moving it to another thread only lets that thread use `&Run`, which the
// run's `Sync` implementation allows.
unsafe impl Send for Job {}

impl Job {
    pub(crate) fn task(run: &Run<'_>, task: u32) -> Self {
        Job {
            run: erase(run),
            first: task,
            sources: 0,
        }
    }

    pub(crate) fn sources(run: &Run<'_>, tasks: std::ops::Range<u32>) -> Self {
        debug_assert!(!tasks.is_empty(), "an empty range of sources is no job");
        debug_assert!(tasks.len() <= MAX_RANGE as usize, "a range job is split");
        Job {
            run: erase(run),
            first: tasks.start,
            sources: tasks.end - tasks.start,
        }
    }

    pub(crate) fn node(run: &Run<'_>, node: u32) -> Self {
        Job {
            run: erase(run),
            first: node,
            sources: SPAWNED,
        }
    }

    pub(crate) fn in_order(run: &Run<'_>) -> Self {
        Job {
            run: erase(run),
            first: 0,
            sources: IN_ORDER,
        }
    }

    /// A steered run's token: it stands for one task of its pool's ordered
    /// ready queue (see [`crate::steer`]).
    pub(crate) fn ready(run: &Run<'_>) -> Self {
        Job {
            run: erase(run),
            first: TOKEN,
            sources: IN_ORDER,
        }
    }

    /// A sweeper of a swept run (see [`crate::runtime::sweep`]): the first
    /// one, or one `invited` to help.
    pub(crate) fn sweeper(run: &Run<'_>, invited: bool) -> Self {
        Job {
            run: erase(run),
            first: if invited {
                INVITED_SWEEPER
            } else {
                FIRST_SWEEPER
            },
            sources: IN_ORDER,
        }
    }

    /// The sweeper parked in `seat` of a swept run, to be resumed (see
    /// [`crate::runtime::sweep`]); it stands for that sweeper's unit.
    pub(crate) fn resumed_sweeper(run: &Run<'_>, seat: usize) -> Self {
        Job {
            run: erase(run),
            first: RESUMED_SWEEPER + seat as u32,
            sources: IN_ORDER,
        }
    }

    pub(crate) fn run(&self) -> NonNull<Run<'static>> {
        self.run
    }

    pub(crate) fn work(&self) -> Work {
        match self.sources {
            0 => Work::Task(self.first),
            IN_ORDER if self.first == TOKEN => Work::Ready,
            IN_ORDER if self.first == FIRST_SWEEPER => Work::Sweep { invited: false },
            IN_ORDER if self.first == INVITED_SWEEPER => Work::Sweep { invited: true },
            IN_ORDER if self.first >= RESUMED_SWEEPER => Work::ResumeSweep {
                seat: self.first - RESUMED_SWEEPER,
            },
            IN_ORDER => Work::InOrder,
            SPAWNED => Work::Spawned(self.first),
            len => Work::Sources {
                start: self.first,
                len,
            },
        }
    }
}

/// Forgets the run's lifetime; see [`Job`] for why the pointer stays valid.
fn erase(run: &Run<'_>) -> NonNull<Run<'static>> {
    NonNull::from(run).cast()
}
