//! [`RunReport`] and [`Outcome`]: what happened to every task of a run.

use std::borrow::Cow;
use std::fmt;

use crate::error::TaskError;
use crate::handle::{GraphId, TaskRef};
use crate::state::{CANCELLED, SKIPPED, SUCCEEDED};

/// What happened to one task in a run.
#[non_exhaustive]
#[derive(Debug)]
pub enum Outcome {
    /// The task ran and returned `Ok`.
    Succeeded,
    /// The task returned an error or panicked.
    Failed(TaskError),
    /// The task did not run because a dependency failed or was skipped.
    /// Any output it kept from an earlier run was dropped; a panic in that
    /// destructor is not reported (see [`TaskBody::run`](crate::TaskBody::run)).
    Skipped,
    /// The task did not run because the run was stopped: its cancel token
    /// was cancelled, or a task failed under
    /// [`FailFast`](crate::FailurePolicy::FailFast). Any output it kept from
    /// an earlier run was dropped, as for [`Skipped`](Outcome::Skipped).
    Cancelled,
}

impl Outcome {
    /// Whether the task succeeded.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Succeeded)
    }
}

static SUCCEEDED_OUTCOME: Outcome = Outcome::Succeeded;
static SKIPPED_OUTCOME: Outcome = Outcome::Skipped;
static CANCELLED_OUTCOME: Outcome = Outcome::Cancelled;

/// The outcome of every task of one run, returned by
/// [`Executor::run`](crate::Executor::run).
///
/// It holds one byte per task plus the failures, and does not borrow the
/// graph, so outputs can be taken while it is kept.
pub struct RunReport {
    graph: GraphId,
    /// One outcome code (see [`crate::state`]) per task.
    codes: Box<[u8]>,
    /// The failed tasks, in order of index.
    failures: Vec<Failure>,
    counts: Counts,
}

#[derive(Debug)]
struct Failure {
    index: u32,
    name: Cow<'static, str>,
    outcome: Outcome,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    succeeded: usize,
    failed: usize,
    skipped: usize,
    cancelled: usize,
}

impl RunReport {
    /// Builds a report from every task's outcome code, the failures, given
    /// as (task index, name, error), and how many tasks were skipped and
    /// cancelled (the run counts those as they happen, so that a report
    /// needs no pass over every task).
    pub(crate) fn new(
        graph: GraphId,
        codes: Box<[u8]>,
        failures: Vec<(u32, Cow<'static, str>, TaskError)>,
        skipped: usize,
        cancelled: usize,
    ) -> Self {
        let counts = Counts {
            succeeded: codes.len() - failures.len() - skipped - cancelled,
            failed: failures.len(),
            skipped,
            cancelled,
        };
        debug_assert!(
            codes
                .iter()
                .all(|&code| (SUCCEEDED..=CANCELLED).contains(&u32::from(code))),
            "every task has an outcome after a completed run"
        );
        let mut failures: Vec<Failure> = failures
            .into_iter()
            .map(|(index, name, error)| Failure {
                index,
                name,
                outcome: Outcome::Failed(error),
            })
            .collect();
        failures.sort_unstable_by_key(|failure| failure.index);
        RunReport {
            graph,
            codes,
            failures,
            counts,
        }
    }

    /// Whether every task succeeded (true for an empty graph).
    pub fn is_success(&self) -> bool {
        self.counts.succeeded == self.codes.len()
    }

    /// The outcome of `task`.
    ///
    /// # Panics
    ///
    /// If `task` was not part of this run: a task of another graph, or one
    /// added to the graph after the run. [`get`](RunReport::get) returns
    /// `None` instead.
    pub fn outcome(&self, task: impl Into<TaskRef>) -> &Outcome {
        self.get(task).expect(
            "RunReport::outcome was given a task that was not part of this run \
             (of another graph, or added after the run)",
        )
    }

    /// The outcome of `task`, or `None` if it was not part of this run (a
    /// task of another graph, or one added to the graph after the run).
    pub fn get(&self, task: impl Into<TaskRef>) -> Option<&Outcome> {
        let task = task.into();
        if task.graph != self.graph {
            return None;
        }
        let code = *self.codes.get(task.index as usize)?;
        Some(self.outcome_at(task.index, code))
    }

    fn outcome_at(&self, index: u32, code: u8) -> &Outcome {
        match u32::from(code) {
            SUCCEEDED => &SUCCEEDED_OUTCOME,
            SKIPPED => &SKIPPED_OUTCOME,
            CANCELLED => &CANCELLED_OUTCOME,
            _ => {
                let position = self
                    .failures
                    .binary_search_by_key(&index, |failure| failure.index)
                    .expect("every failed task has its failure recorded");
                &self.failures[position].outcome
            }
        }
    }

    /// Every task's outcome, in order of task index.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Outcome)> + '_ {
        self.codes
            .iter()
            .enumerate()
            .map(|(index, &code)| (index, self.outcome_at(index as u32, code)))
    }

    /// The failed tasks' names and errors, in order of task index.
    pub fn failures(&self) -> impl Iterator<Item = (&str, &TaskError)> + '_ {
        self.failures
            .iter()
            .filter_map(|failure| match &failure.outcome {
                Outcome::Failed(error) => Some((&*failure.name, error)),
                _ => None,
            })
    }

    /// The number of tasks in the run.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether the run had no tasks.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// How many tasks succeeded.
    pub fn succeeded(&self) -> usize {
        self.counts.succeeded
    }

    /// How many tasks failed.
    pub fn failed(&self) -> usize {
        self.counts.failed
    }

    /// How many tasks were skipped because a dependency failed or was skipped.
    pub fn skipped(&self) -> usize {
        self.counts.skipped
    }

    /// How many tasks were cancelled.
    pub fn cancelled(&self) -> usize {
        self.counts.cancelled
    }
}

impl fmt::Debug for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunReport")
            .field("tasks", &self.codes.len())
            .field("succeeded", &self.counts.succeeded)
            .field("failed", &self.counts.failed)
            .field("skipped", &self.counts.skipped)
            .field("cancelled", &self.counts.cancelled)
            .field("failures", &self.failures)
            .finish()
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} tasks: {} succeeded, {} failed, {} skipped, {} cancelled",
            self.codes.len(),
            self.counts.succeeded,
            self.counts.failed,
            self.counts.skipped,
            self.counts.cancelled
        )?;
        for (name, error) in self.failures() {
            write!(f, "\n  `{name}` failed: {error}")?;
        }
        Ok(())
    }
}
