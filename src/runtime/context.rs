//! [`Context`]: what a running task can see of its run.

use std::fmt;

use crate::graph::handle::{TaskId, TaskRef};
use crate::graph::tag::Tag;
use crate::results::error::{Error, InputError};
use crate::runtime::run::Run;

/// Handed to a task's body while it runs: the outputs of its dependencies,
/// whether its run was stopped, and who it is.
///
/// ```
/// use taskflow_engine::{Executor, Graph, Task};
///
/// let mut graph = Graph::new();
/// let who = graph.add(Task::new("who", |cx| {
///     Ok(format!("{} on {} (worker {})", cx.name(), cx.tag(), cx.worker_index()))
/// }).tag("io"));
/// let executor = Executor::builder().workers_per_tag(1).build().expect("one worker");
/// assert!(executor.run(&mut graph)?.is_success());
/// assert_eq!(graph.output(who).map(String::as_str), Some("who on io (worker 0)"));
/// # Ok::<(), taskflow_engine::GraphError>(())
/// ```
pub struct Context<'a> {
    run: &'a Run<'a>,
    task: u32,
    worker: usize,
}

impl<'a> Context<'a> {
    pub(crate) fn new(run: &'a Run<'a>, task: u32, worker: usize) -> Self {
        Context { run, task, worker }
    }

    /// The output of `dependency`, which must be one of this task's declared
    /// dependencies.
    ///
    /// Reading any other task is refused with an [`InputError`] (boxed in
    /// the returned [`Error`]), never allowed to race: only declared
    /// dependencies are guaranteed to have finished. Since a task runs only
    /// after all of its dependencies succeeded, a declared dependency always
    /// has an output.
    ///
    /// ```
    /// use taskflow_engine::{Executor, Graph, InputError, Task};
    ///
    /// let mut graph = Graph::new();
    /// let left = graph.add(Task::new("left", |_| Ok(2)));
    /// let right = graph.add(Task::new("right", |_| Ok(3)));
    /// let product = graph.add(
    ///     Task::new("product", move |cx| Ok(cx.input(left)? * cx.input(right)?))
    ///         .after(left)
    ///         .after(right),
    /// );
    /// // Reading a task that is not a declared dependency is an error, never a race.
    /// let nosy = graph.add(Task::new("nosy", move |cx| {
    ///     let refused = cx.input(left).unwrap_err();
    ///     assert!(matches!(refused.downcast_ref::<InputError>(), Some(InputError::NotADependency { .. })));
    ///     Ok(())
    /// }));
    /// assert!(Executor::new().run(&mut graph)?.is_success());
    /// assert_eq!(graph.output(product), Some(&6));
    /// # let _ = nosy;
    /// # Ok::<(), taskflow_engine::GraphError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// An [`InputError`] (boxed): [`NotADependency`](InputError::NotADependency)
    /// for a task that is not a declared dependency,
    /// [`ForeignTask`](InputError::ForeignTask) for a task of another graph.
    pub fn input<U: 'static>(&self, dependency: TaskId<U>) -> Result<&'a U, Error> {
        let slot = self.run.input(self.task, dependency.task)?;
        slot.downcast_ref::<Option<U>>()
            .and_then(Option::as_ref)
            .ok_or_else(|| {
                InputError::NoOutput {
                    reader: self.run.name_cow(self.task),
                    dependency: self.run.name_cow(dependency.task.index),
                }
                .into()
            })
    }

    /// Whether the run was stopped: its cancel token (or a parent of it) was
    /// cancelled, [`RunHandle::cancel`](crate::RunHandle::cancel) was
    /// called, its deadline passed, or a task failed under
    /// [`FailFast`](crate::FailurePolicy::FailFast). A long-running task
    /// should check this now and then and return early (or wait in
    /// [`wait_cancelled`](Context::wait_cancelled)).
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        self.run.is_stopped()
    }

    /// Blocks until the run is stopped (as [`is_cancelled`](Context::is_cancelled)
    /// would then say) or `timeout` has passed, and returns whether it is
    /// stopped. The thread sleeps meanwhile: a task that waits on something
    /// outside the engine (a child process, a socket) can wait here in
    /// slices instead of polling. It wakes for the run's cancel token (or a
    /// parent of it), [`RunHandle::cancel`](crate::RunHandle::cancel), a
    /// fail-fast failure, and the run's deadline.
    ///
    /// ```
    /// use std::time::Duration;
    /// use taskflow_engine::{Cancelled, Executor, Graph, Outcome, Task};
    ///
    /// let mut graph = Graph::new();
    /// let waits = graph.add(Task::new("waits", |cx| -> Result<(), _> {
    ///     if cx.wait_cancelled(Duration::from_secs(3600)) {
    ///         return Err(Cancelled.into());
    ///     }
    ///     Ok(())
    /// }));
    /// graph.add(Task::new("fails", |_| -> Result<(), _> { Err("stop everything")? }));
    /// let report = Executor::builder().workers_per_tag(2).build()?.run(&mut graph)?;
    /// // The failure stops the run (fail-fast), which wakes the waiting task.
    /// assert!(matches!(report.outcome(waits), Outcome::Cancelled));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[allow(
        clippy::must_use_candidate,
        reason = "a wait is also called for its effect alone"
    )]
    pub fn wait_cancelled(&self, timeout: std::time::Duration) -> bool {
        self.run.wait_stopped(timeout)
    }

    /// The running task's name.
    #[must_use]
    pub fn name(&self) -> &'a str {
        self.run.task_name(self.task)
    }

    /// The tag of the pool the task runs on.
    #[must_use]
    pub fn tag(&self) -> &'a Tag {
        self.run.task_tag(self.task)
    }

    /// The running task's handle.
    #[must_use]
    pub fn task(&self) -> TaskRef {
        self.run.task_ref(self.task)
    }

    /// The index, within its tag's pool, of the worker running the task:
    /// from 0 to the pool's size minus 1. Useful for per-worker scratch space.
    #[must_use]
    pub fn worker_index(&self) -> usize {
        self.worker
    }
}

impl fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("task", &self.name())
            .field("tag", self.tag())
            .field("worker", &self.worker)
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}
