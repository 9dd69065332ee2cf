//! [`RunOptions`] and [`FailurePolicy`]: how one run treats failures and
//! cancellation.

use std::time::Instant;

use crate::observe::{Observer, ObserverList};
use crate::runtime::cancel::CancelToken;

/// What a run does after a task fails (returns an error or panics). See
/// the crate docs' "Handling failures" for both at work.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailurePolicy {
    /// Start no new task after the first failure. Tasks that never started
    /// end [`Skipped`](crate::Outcome::Skipped) when a dependency failed or
    /// was skipped, [`Cancelled`](crate::Outcome::Cancelled) otherwise;
    /// running tasks finish and see
    /// [`Context::is_cancelled`](crate::Context::is_cancelled).
    ///
    /// "After" is as seen by each worker: the failing worker starts nothing
    /// more, and the failure's dependents never start, but a worker on
    /// another core may start a task in the moment before the stop reaches
    /// it, as it may start one in the moment before the failure.
    #[default]
    FailFast,
    /// Like `make -k`: the failed task's transitive dependents are
    /// [`Skipped`](crate::Outcome::Skipped) and everything else still runs.
    KeepGoing,
}

/// Options for [`Executor::run_with`](crate::Executor::run_with).
///
/// ```
/// use taskflow_engine::{CancelToken, FailurePolicy, RunOptions};
///
/// let token = CancelToken::new();
/// let options = RunOptions::new()
///     .policy(FailurePolicy::KeepGoing)
///     .cancel_token(token.clone());
/// # let _ = options;
/// ```
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub(crate) policy: FailurePolicy,
    pub(crate) cancel: Option<CancelToken>,
    pub(crate) deadline: Option<Instant>,
    pub(crate) observers: ObserverList,
    pub(crate) critical_path: bool,
    /// The permits held by the tasks that wait for the run (set by
    /// `Executor::run_with`, see [`crate::steer::holding`]).
    pub(crate) enclosing: crate::steer::holding::Holds,
}

impl RunOptions {
    /// Fail-fast, with no cancel token and no deadline.
    #[must_use]
    pub fn new() -> Self {
        RunOptions::default()
    }

    /// Sets the failure policy.
    #[must_use]
    pub fn policy(mut self, policy: FailurePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Stops the run when `token` is cancelled, before or during the run.
    #[must_use]
    pub fn cancel_token(mut self, token: CancelToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Stops the run at `deadline`: tasks that have not started by then end
    /// [`Cancelled`](crate::Outcome::Cancelled), and running tasks see
    /// [`Context::is_cancelled`](crate::Context::is_cancelled) return true
    /// (the engine does not interrupt them). A deadline already past stops
    /// the run before any task starts.
    ///
    /// ```
    /// use std::time::Instant;
    /// use taskflow_engine::{Executor, Graph, Outcome, RunOptions, Task};
    ///
    /// let mut graph = Graph::new();
    /// let late = graph.add(Task::new("late", |_| Ok(())));
    /// let options = RunOptions::new().deadline(Instant::now());
    /// let report = Executor::new().run_with(&mut graph, options)?;
    /// assert!(matches!(report.outcome(late), Outcome::Cancelled));
    /// # Ok::<(), taskflow_engine::GraphError>(())
    /// ```
    #[must_use]
    pub fn deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Adds an observer of this run alone, called after the executor's own
    /// (see [`crate::observe`]); several may be added. A method of it that
    /// panics is reported once and not called again in the run of these
    /// options (nor of their clones).
    ///
    /// ```
    /// use taskflow_engine::observe::Progress;
    /// use taskflow_engine::{Executor, Graph, RunOptions, Task};
    ///
    /// let progress = Progress::new();
    /// let mut graph = Graph::new();
    /// graph.add(Task::new("one", |_| Ok(())));
    /// let report = Executor::new().run_with(&mut graph, RunOptions::new().observer(progress.clone()))?;
    /// assert!(report.is_success());
    /// assert_eq!(progress.snapshot().finished, 1);
    /// # Ok::<(), taskflow_engine::GraphError>(())
    /// ```
    #[must_use]
    pub fn observer(mut self, observer: std::sync::Arc<dyn Observer>) -> Self {
        self.observers
            .push(observer, "given to RunOptions::observer");
        self
    }

    /// With `on`, ready tasks of each pool start in order of their
    /// critical-path rank: the longest path from the task to the end of the
    /// graph, weighing each task by its [`Task::weight`](crate::Task::weight)
    /// (ninja 1.12's rule, with the caller's weights). Ties go by
    /// [`Task::priority`](crate::Task::priority), then by the order the tasks
    /// were added. Off by default.
    ///
    /// The ranks are computed before the run, in one pass over the graph,
    /// and kept while the graph is unchanged. As for priorities, the order
    /// is exact on a pool of one worker and best effort with several (see
    /// [`Task::priority`](crate::Task::priority)).
    ///
    /// ```
    /// use taskflow_engine::{Executor, Graph, RunOptions, Task};
    ///
    /// let mut graph = Graph::new();
    /// let compile = graph.add(Task::new("compile", |_| Ok(())).weight(30));
    /// graph.add(Task::new("link", |_| Ok(())).weight(10).after(compile));
    /// graph.add(Task::new("docs", |_| Ok(())).weight(5));
    /// let options = RunOptions::new().critical_path(true);
    /// assert!(Executor::new().run_with(&mut graph, options)?.is_success());
    /// # Ok::<(), taskflow_engine::GraphError>(())
    /// ```
    #[must_use]
    pub fn critical_path(mut self, on: bool) -> Self {
        self.critical_path = on;
        self
    }

    /// These options with `executor`'s observers before the run's own.
    pub(crate) fn observed_by(mut self, executor: &ObserverList) -> Self {
        self.observers.prepend(executor);
        self
    }
}
