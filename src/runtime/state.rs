//! The per-task pending word a run counts in, kept in each task's slot of the
//! graph's task table, and the outcome codes a run records.
//!
//! While a task waits, its word counts the dependencies that have not
//! finished, plus a flag that one of them failed, was skipped or cancelled
//! itself:
//!
//! | bits  | meaning                                  |
//! |-------|------------------------------------------|
//! | 0..31 | [`PENDING_MASK`]: unfinished dependencies |
//! | 31    | [`POISONED`]: a dependency failed or was skipped |
//!
//! The finisher that brings the count to zero owns the task from then on.
//! When the owner processes the task it resets the word to the task's
//! in-degree for the next run, and records one of the outcome codes below in
//! the run's own outcome array, which becomes the report.

/// The bits that count unfinished dependencies.
pub(crate) const PENDING_MASK: u32 = POISONED - 1;

/// Set when a dependency failed, was skipped or cancelled itself: the task
/// will be skipped.
pub(crate) const POISONED: u32 = 1 << 31;

/// The most edges a graph may have: no task can then have more dependencies
/// than [`PENDING_MASK`] counts.
pub(crate) const MAX_EDGES: u32 = PENDING_MASK;

/// Outcome code: the task ran and returned `Ok`.
pub(crate) const SUCCEEDED: u32 = 1;

/// Outcome code: the task returned an error or panicked.
pub(crate) const FAILED: u32 = 2;

/// Outcome code: the task did not run because a dependency failed or was
/// skipped.
pub(crate) const SKIPPED: u32 = 3;

/// Outcome code: the task did not run because the run was stopped (a
/// fail-fast failure or a cancelled token) and no dependency failed.
pub(crate) const CANCELLED: u32 = 4;

/// Not recorded: what settling a task returns when it ran and returned
/// [`Cancelled`](crate::Cancelled). The report records [`CANCELLED`], and
/// its dependents, which cannot run without its output, are poisoned as a
/// failure's are.
pub(crate) const CANCELLED_ITSELF: u32 = 5;

/// Whether a task that settled with `outcome` poisons its dependents.
#[inline]
pub(crate) fn poisons(outcome: u32) -> bool {
    matches!(outcome, FAILED | SKIPPED | CANCELLED_ITSELF)
}

/// The outcome code the report records for a task that settled with
/// `outcome`.
#[inline]
pub(crate) fn recorded(outcome: u32) -> u8 {
    if outcome == CANCELLED_ITSELF {
        CANCELLED as u8
    } else {
        outcome as u8
    }
}
