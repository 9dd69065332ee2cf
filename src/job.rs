//! [`Job`]: the unit of work that sits in a pool's deques.

use std::ptr::NonNull;

use crate::run::Run;

/// Work for a pool: one ready task of a run, or a range of a run's source
/// tasks that the worker splits and spreads before running them.
///
/// A job points at its run without owning it. That is sound because a run
/// does not complete, and so its caller does not return and free it, while
/// any of its tasks is unfinished, and every job stands for at least one
/// unfinished task (see [`crate::worker`] for when finished tasks are counted).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Job {
    run: NonNull<Run<'static>>,
    /// A task index, or the first position in the run's source list.
    first: u32,
    /// 0 for a single task; otherwise how many sources the range covers.
    sources: u32,
}

/// What a [`Job`] asks its worker to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Work {
    /// Process this task.
    Task(u32),
    /// Process the sources at positions `start..start + len`.
    Sources { start: u32, len: u32 },
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

    pub(crate) fn sources(run: &Run<'_>, start: u32, len: u32) -> Self {
        debug_assert!(len > 0, "an empty range of sources is no job");
        Job {
            run: erase(run),
            first: start,
            sources: len,
        }
    }

    pub(crate) fn run(&self) -> NonNull<Run<'static>> {
        self.run
    }

    pub(crate) fn work(&self) -> Work {
        match self.sources {
            0 => Work::Task(self.first),
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
