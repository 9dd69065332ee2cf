//! [`RunReport`] and [`Outcome`]: what happened to every task of a run.

use std::borrow::Cow;
use std::fmt;

use crate::graph::handle::{GraphId, TaskRef};
use crate::results::error::{GraphError, TaskError};
use crate::runtime::state::{CANCELLED, SKIPPED, SUCCEEDED};

/// What happened to one task in a run.
///
/// ```
/// use taskflow_engine::{Executor, FailurePolicy, Graph, Outcome, RunOptions, Task};
///
/// let mut graph = Graph::new();
/// let fails = graph.add(Task::new("fails", |_| -> Result<(), _> { Err("no")? }));
/// let skipped = graph.add(Task::new("skipped", |_| Ok(())).after(fails));
/// let report = Executor::new().run_with(&mut graph, RunOptions::new().policy(FailurePolicy::KeepGoing))?;
/// for (task, outcome) in report.iter() {
///     match outcome {
///         Outcome::Succeeded => println!("{task:?} succeeded"),
///         Outcome::Failed(error) => println!("{task:?} failed: {error}"),
///         Outcome::Skipped => println!("{task:?} skipped: a dependency did not succeed"),
///         Outcome::Cancelled => println!("{task:?} cancelled"),
///         _ => println!("{task:?}: {outcome:?}"),
///     }
/// }
/// assert!(matches!(report.outcome(skipped), Outcome::Skipped));
/// # let _ = fails;
/// # Ok::<(), taskflow_engine::GraphError>(())
/// ```
#[non_exhaustive]
#[derive(Debug)]
pub enum Outcome {
    /// The task ran and returned `Ok`.
    Succeeded,
    /// The task returned an error or panicked.
    Failed(TaskError),
    /// The task did not run because a dependency failed, was skipped, or
    /// cancelled itself. Any output it kept from an earlier run was dropped;
    /// a panic in that destructor is not reported (see
    /// [`TaskBody::run`](crate::TaskBody::run)).
    Skipped,
    /// The task did not run because the run was stopped (its cancel token
    /// was cancelled, its deadline passed, or a task failed under
    /// [`FailFast`](crate::FailurePolicy::FailFast)), or it ran and returned
    /// [`Cancelled`](crate::Cancelled). Any output it kept from an earlier
    /// run was dropped, as for [`Skipped`](Outcome::Skipped).
    Cancelled,
}

impl Outcome {
    /// Whether the task succeeded.
    #[must_use]
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Succeeded)
    }

    /// Why the task failed, or `None` if it did not fail.
    #[must_use]
    pub fn error(&self) -> Option<&TaskError> {
        match self {
            Outcome::Failed(error) => Some(error),
            _ => None,
        }
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
///
/// A run that returns `Ok` may still have failed tasks: the report is
/// `#[must_use]` so that `executor.run(&mut graph)?;` does not drop them
/// unseen.
///
/// ```
/// use taskflow_engine::{Executor, Graph, Task};
///
/// let mut graph = Graph::new();
/// let ok = graph.add(Task::new("ok", |_| Ok(())));
/// let report = Executor::new().run(&mut graph)?;
/// assert!(report.is_success() && report.outcome(ok).is_success());
/// assert_eq!((report.len(), report.succeeded(), report.failed()), (1, 1, 0));
/// println!("{report}"); // 1 tasks: 1 succeeded, 0 failed, 0 skipped, 0 cancelled
/// # Ok::<(), taskflow_engine::GraphError>(())
/// ```
#[must_use = "a run's task failures are in its report; check `is_success()` or `failures()`"]
pub struct RunReport {
    graph: GraphId,
    /// One outcome code (see [`crate::runtime::state`]) per task.
    codes: Box<[u8]>,
    /// The failed tasks, in order of index.
    failures: Vec<Failure>,
    counts: Counts,
    /// Why the graph could not run, for a submitted graph that was refused.
    graph_error: Option<GraphError>,
    /// The tasks spawned during the run, if any.
    spawned: Option<Box<Spawned>>,
}

/// The outcomes of a run's spawned tasks, which follow the graph's own.
#[derive(Debug)]
struct Spawned {
    /// The identity their handles carry (unique to the run).
    space: GraphId,
    codes: Box<[u8]>,
    /// Their failures, in order of spawn index.
    failures: Vec<Failure>,
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
            graph_error: None,
            spawned: None,
        }
    }

    /// Adds the outcomes of the run's spawned tasks (handles of `space`),
    /// given as for [`RunReport::new`].
    pub(crate) fn with_spawned(
        mut self,
        space: GraphId,
        codes: Box<[u8]>,
        failures: Vec<(u32, Cow<'static, str>, TaskError)>,
        skipped: usize,
        cancelled: usize,
    ) -> Self {
        if codes.is_empty() {
            return self;
        }
        let part = RunReport::new(space, codes, failures, skipped, cancelled);
        self.counts.succeeded += part.counts.succeeded;
        self.counts.failed += part.counts.failed;
        self.counts.skipped += part.counts.skipped;
        self.counts.cancelled += part.counts.cancelled;
        self.spawned = Some(Box::new(Spawned {
            space,
            codes: part.codes,
            failures: part.failures,
        }));
        self
    }

    /// The report of a submitted graph of `tasks` tasks that could not run
    /// for `error`: no task started, so every one counts as cancelled.
    pub(crate) fn refused(graph: GraphId, tasks: usize, error: GraphError) -> Self {
        let codes = vec![CANCELLED as u8; tasks].into_boxed_slice();
        let mut report = RunReport::new(graph, codes, Vec::new(), 0, tasks);
        report.graph_error = Some(error);
        report
    }

    /// Why the graph could not run at all, when it was given to
    /// [`Executor::submit`](crate::Executor::submit), which has no `Result`
    /// to return it in (`run` returns it as its `Err`). No task started
    /// then, and every one is counted `Cancelled`.
    #[must_use]
    pub fn graph_error(&self) -> Option<&GraphError> {
        self.graph_error.as_ref()
    }

    /// Whether every task succeeded (true for an empty graph).
    #[must_use]
    pub fn is_success(&self) -> bool {
        self.counts.succeeded == self.len() && self.graph_error.is_none()
    }

    /// The outcome of `task`.
    ///
    /// # Panics
    ///
    /// If `task` was not part of this run: a task of another graph, one
    /// added to the graph after the run, or one spawned in another run.
    /// [`get`](RunReport::get) returns `None` instead.
    pub fn outcome(&self, task: impl Into<TaskRef>) -> &Outcome {
        self.get(task).expect(
            "RunReport::outcome was given a task that was not part of this run \
             (of another graph, or added after the run)",
        )
    }

    /// The outcome of `task`, or `None` if it was not part of this run (a
    /// task of another graph, one added to the graph after the run, or one
    /// spawned in another run). A task spawned in this run is given by the
    /// handle [`Context::spawn`](crate::Context::spawn) returned.
    pub fn get(&self, task: impl Into<TaskRef>) -> Option<&Outcome> {
        let task = task.into();
        if task.graph == self.graph {
            let code = *self.codes.get(task.index as usize)?;
            return Some(outcome_at(&self.failures, task.index, code));
        }
        let spawned = self
            .spawned
            .as_ref()
            .filter(|spawned| spawned.space == task.graph)?;
        let code = *spawned.codes.get(task.index as usize)?;
        Some(outcome_at(&spawned.failures, task.index, code))
    }

    /// Every task's handle and outcome, in order of task index, then every
    /// spawned task's, in the order they were spawned.
    ///
    /// ```
    /// use taskflow_engine::{Executor, Graph, Outcome, Task};
    ///
    /// let mut graph = Graph::new();
    /// let a = graph.add(Task::new("a", |_| Ok(1)));
    /// let b = graph.add(Task::new("b", |_| Ok(2)));
    /// let report = Executor::new().run(&mut graph)?;
    /// let order: Vec<_> = report.iter().map(|(task, outcome)| (task, outcome.is_success())).collect();
    /// assert_eq!(order, [(a.task_ref(), true), (b.task_ref(), true)]);
    /// # Ok::<(), taskflow_engine::GraphError>(())
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (TaskRef, &Outcome)> + '_ {
        let graph = self.codes.iter().enumerate().map(|(index, &code)| {
            let index = index as u32;
            (
                self.task_ref(index),
                outcome_at(&self.failures, index, code),
            )
        });
        let spawned = self.spawned.iter().flat_map(|spawned| {
            spawned.codes.iter().enumerate().map(|(index, &code)| {
                let index = index as u32;
                let task = TaskRef {
                    graph: spawned.space,
                    index,
                };
                (task, outcome_at(&spawned.failures, index, code))
            })
        });
        graph.chain(spawned)
    }

    /// The failed tasks, in order of task index (spawned ones after the
    /// graph's, in spawn order): each one's handle, name and error.
    ///
    /// ```
    /// use taskflow_engine::{Executor, FailurePolicy, Graph, RunOptions, Task};
    ///
    /// let mut graph = Graph::new();
    /// let parse = graph.add(Task::new("parse", |_| -> Result<u32, _> { Ok("x".parse::<u32>()?) }));
    /// graph.add(Task::new("fine", |_| Ok(())));
    /// let options = RunOptions::new().policy(FailurePolicy::KeepGoing);
    /// let report = Executor::new().run_with(&mut graph, options)?;
    /// for (task, name, error) in report.failures() {
    ///     assert_eq!(task, parse.task_ref());
    ///     assert_eq!(name, "parse");
    ///     assert!(error.downcast_ref::<std::num::ParseIntError>().is_some());
    /// }
    /// assert_eq!(report.failures().count(), 1);
    /// # Ok::<(), taskflow_engine::GraphError>(())
    /// ```
    pub fn failures(&self) -> impl Iterator<Item = (TaskRef, &str, &TaskError)> + '_ {
        let spawned = self.spawned.iter().flat_map(|spawned| {
            spawned
                .failures
                .iter()
                .map(|failure| (spawned.space, failure))
        });
        self.failures
            .iter()
            .map(|failure| (self.graph, failure))
            .chain(spawned)
            .filter_map(|(graph, failure)| match &failure.outcome {
                Outcome::Failed(error) => Some((
                    TaskRef {
                        graph,
                        index: failure.index,
                    },
                    &*failure.name,
                    error,
                )),
                _ => None,
            })
    }

    /// Moves the failures out of the report, in order of task index: each
    /// one's handle, name and error, owned, so that an error can be
    /// returned on or a panic re-raised with
    /// [`TaskError::into_panic`].
    pub fn into_failures(self) -> impl Iterator<Item = (TaskRef, String, TaskError)> {
        let graph = self.graph;
        let spawned = self.spawned.into_iter().flat_map(|spawned| {
            let space = spawned.space;
            spawned
                .failures
                .into_iter()
                .map(move |failure| (space, failure))
        });
        self.failures
            .into_iter()
            .map(move |failure| (graph, failure))
            .chain(spawned)
            .filter_map(move |(graph, failure)| match failure.outcome {
                Outcome::Failed(error) => Some((
                    TaskRef {
                        graph,
                        index: failure.index,
                    },
                    failure.name.into_owned(),
                    error,
                )),
                _ => None,
            })
    }

    fn task_ref(&self, index: u32) -> TaskRef {
        TaskRef {
            graph: self.graph,
            index,
        }
    }

    /// The number of tasks in the run: the graph's, and those spawned.
    #[must_use]
    pub fn len(&self) -> usize {
        self.codes.len()
            + self
                .spawned
                .as_ref()
                .map_or(0, |spawned| spawned.codes.len())
    }

    /// Whether the run had no tasks.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many tasks succeeded.
    #[must_use]
    pub fn succeeded(&self) -> usize {
        self.counts.succeeded
    }

    /// How many tasks failed.
    #[must_use]
    pub fn failed(&self) -> usize {
        self.counts.failed
    }

    /// How many tasks were skipped because a dependency failed, was skipped
    /// or cancelled itself.
    #[must_use]
    pub fn skipped(&self) -> usize {
        self.counts.skipped
    }

    /// How many tasks were cancelled.
    #[must_use]
    pub fn cancelled(&self) -> usize {
        self.counts.cancelled
    }
}

impl fmt::Debug for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunReport")
            .field("tasks", &self.len())
            .field("succeeded", &self.counts.succeeded)
            .field("failed", &self.counts.failed)
            .field("skipped", &self.counts.skipped)
            .field("cancelled", &self.counts.cancelled)
            .field("failures", &self.failures)
            .field("graph_error", &self.graph_error)
            .finish()
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(error) = &self.graph_error {
            write!(f, "the graph could not run: {error}; ")?;
        }
        write!(
            f,
            "{} tasks: {} succeeded, {} failed, {} skipped, {} cancelled",
            self.len(),
            self.counts.succeeded,
            self.counts.failed,
            self.counts.skipped,
            self.counts.cancelled
        )?;
        for (_, name, error) in self.failures() {
            write!(f, "\n  `{name}` failed: {error}")?;
        }
        Ok(())
    }
}

/// The outcome of the task at `index` whose code is `code`, its failure
/// looked up in `failures` (sorted by index).
fn outcome_at(failures: &[Failure], index: u32, code: u8) -> &Outcome {
    match u32::from(code) {
        SUCCEEDED => &SUCCEEDED_OUTCOME,
        SKIPPED => &SKIPPED_OUTCOME,
        CANCELLED => &CANCELLED_OUTCOME,
        _ => {
            let position = failures
                .binary_search_by_key(&index, |failure| failure.index)
                .expect("every failed task has its failure recorded");
            &failures[position].outcome
        }
    }
}
