//! [`Context`]: what a running task can see of its run.

use std::fmt;
use std::ptr::NonNull;

use crate::graph::handle::{TaskId, TaskRef};
use crate::graph::tag::Tag;
use crate::graph::task::Task;
use crate::results::error::{Error, GraphError, InputError};
use crate::results::join::JoinError;
use crate::runtime::run::Run;
use crate::runtime::spawn::spawning::Spawn;
use crate::runtime::spawn::subtree::{Owner, Subtree};
use crate::runtime::worker::WorkerThread;
use crate::steer::settings::TaskSettings;
use crate::sync::atomic::{AtomicPtr, Ordering};

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
    /// The running task: one of the graph's, or a spawned one.
    who: Owner,
    worker: usize,
    /// The running task's subtree, once it spawned (see
    /// `crate::runtime::spawn`); owned by the run.
    subtree: AtomicPtr<Subtree>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(run: &'a Run<'a>, task: u32, worker: usize) -> Self {
        Context::of(run, Owner::Static(task), worker)
    }

    /// The context of the spawned task `node`.
    pub(crate) fn spawned(run: &'a Run<'a>, node: u32, worker: usize) -> Self {
        Context::of(run, Owner::Spawned(node), worker)
    }

    fn of(run: &'a Run<'a>, who: Owner, worker: usize) -> Self {
        Context {
            run,
            who,
            worker,
            subtree: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// The running task's subtree, if it spawned.
    pub(crate) fn subtree(&self) -> Option<NonNull<Subtree>> {
        // ORDERING: Acquire: takes in the subtree's creation, which a spawn
        // from another thread inside the body may have made.
        NonNull::new(self.subtree.load(Ordering::Acquire))
    }

    /// Adds `task` to the running run as a child of the running task, and
    /// returns its handle.
    ///
    /// The child runs on its own tag's pool ([`Tag::DEFAULT`] without one;
    /// a tag new to the executor gets a pool, as a run would start it),
    /// possibly while this body still runs. Its
    /// [`after`](Task::after)/[`after_all`](Task::after_all) may name
    /// children this task spawned before, and this task's own declared
    /// dependencies (which have finished, so only to read their outputs);
    /// children may spawn children of their own, to any depth.
    ///
    /// This task's dependents start only after its body returned **and**
    /// every task it spawned (and their descendants) finished; no thread
    /// waits meanwhile. They are skipped if one of those did not succeed.
    /// To read a child's output in this body, [`join`](Context::join)
    /// first.
    ///
    /// The child's body must be `'static`: it may run after this body has
    /// returned, so it cannot borrow from it. Spawned tasks are not
    /// steered: a child with a [`priority`](Task::priority), a
    /// [`weight`](Task::weight) or a [`limit`](Task::limit) is refused with
    /// [`GraphError::SteeredSpawn`] (a child that needs a limit can run a
    /// graph of its own, whose tasks may have one).
    ///
    /// ```
    /// use taskflow_engine::{Context, Executor, Graph, Task};
    ///
    /// let mut graph = Graph::new();
    /// let sum = graph.add(Task::new("sum", |cx: &Context<'_>| {
    ///     let parts: Vec<_> = (1..=4u64)
    ///         .map(|part| cx.spawn(Task::new(format!("part {part}"), move |_: &Context<'_>| Ok(part * 10))))
    ///         .collect::<Result<_, _>>()?;
    ///     cx.join()?;
    ///     parts.into_iter().map(|part| cx.input(part).copied()).sum::<Result<u64, _>>()
    /// }));
    /// let report = Executor::new().run(&mut graph)?;
    /// assert_eq!(report.len(), 5);
    /// assert_eq!(graph.output(sum), Some(&100));
    /// # Ok::<(), taskflow_engine::GraphError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`GraphError::ForeignTask`] for a dependency that is neither, a task
    /// of another graph or run included; [`GraphError::SteeredSpawn`] for a
    /// child with a priority, a weight or a limit; [`GraphError::WorkerSpawn`] if the
    /// pool of a new tag could not start; [`GraphError::TooLarge`] past
    /// `u32::MAX - 1` spawned tasks in one run. Nothing is added then.
    pub fn spawn<T: Send + Sync + 'static>(
        &self,
        task: Task<'static, T>,
    ) -> Result<TaskId<T>, GraphError> {
        TaskSettings::refuse_spawned(task.settings.as_deref(), &task.name)?;
        let spawn = Spawn {
            name: task.name,
            body: task.body,
            tag: task.tag,
            dependencies: task.dependencies.as_slice(),
        };
        let node = self
            .run
            .spawn_child(self.who, &self.subtree, self.worker, spawn)?;
        Ok(TaskId::new(self.run.node_ref(node)))
    }

    /// Blocks until every task this one spawned so far, and their
    /// descendants, finished. Meanwhile the worker runs those of them that
    /// are ready on its own pool, and sleeps, using no CPU, when none is.
    /// It runs nothing else, unless every worker of its pool waits so:
    /// then it also runs the pool's other queued work, which nobody else
    /// could run.
    ///
    /// After it returned, [`input`](Context::input) reads the outputs of
    /// those children. It may be called again after more spawns; with
    /// nothing new it returns at once, with the same answer.
    ///
    /// Several threads of one body may join at once; each waits for the
    /// children spawned before its call (a spawn on another thread while it
    /// waits is not covered).
    ///
    /// # Errors
    ///
    /// A [`JoinError`] (boxed) that names the children that did not
    /// succeed (or have a descendant that failed or was skipped: a
    /// descendant cancelled by a stop of the run does not count).
    /// [`GraphError::WaitTooDeep`] (boxed), waiting for nothing, when the
    /// worker's stack has too little room left to help (waits nested too
    /// deeply on one worker).
    pub fn join(&self) -> Result<(), Error> {
        let Some(subtree) = self.subtree() else {
            return Ok(());
        };
        // SAFETY: a subtree is owned by the run, which outlives this body.
        let subtree = unsafe { subtree.as_ref() };
        // The children spawned so far, in spawn order; another thread of
        // this body may spawn more meanwhile, which this join does not
        // cover (node indices of one parent grow in this order, see
        // `Run::spawn_child`).
        let children = *subtree.children.lock();
        let covered = || subtree.children_ended() || self.run.nodes_ended(children);
        if !covered() {
            let inbox = subtree.wait_inbox();
            match WorkerThread::current() {
                Some(worker) if std::ptr::eq(worker.pool(), subtree.pool()) => {
                    let own = self.run.own_work_of(subtree, worker);
                    worker.help_until(inbox, Some(subtree), own, covered)?;
                }
                _ => subtree.wait(|| inbox.block_until(covered)),
            }
        }
        if let Some(span) = children {
            subtree.joined_below(span.newest + 1);
        }
        let failed: Vec<(TaskRef, String)> = self
            .run
            .children(children)
            .filter(|&child| !self.run.node_succeeded(child))
            .map(|child| {
                (
                    self.run.node_ref(child),
                    self.run.node_name(child).to_owned(),
                )
            })
            .collect();
        if failed.is_empty() {
            Ok(())
        } else {
            Err(JoinError::new(failed).into())
        }
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
        let slot = self.slot_of(dependency.task)?;
        slot.downcast_ref::<Option<U>>()
            .and_then(Option::as_ref)
            .ok_or_else(|| {
                InputError::NoOutput {
                    reader: self.name().to_owned().into(),
                    dependency: self.run.any_name(dependency.task).to_owned().into(),
                }
                .into()
            })
    }

    /// The output slot of `dependency`, if this task may read it.
    fn slot_of(&self, dependency: TaskRef) -> Result<&'a dyn std::any::Any, InputError> {
        if dependency.graph == self.run.spawn_space() {
            return self
                .run
                .node_input(self.who, self.subtree(), dependency.index)
                .ok_or_else(|| InputError::NotADependency {
                    reader: self.name().to_owned().into(),
                    dependency: self.run.any_name(dependency).to_owned().into(),
                });
        }
        match self.who {
            Owner::Static(task) => self.run.input(task, dependency),
            Owner::Spawned(_) if self.run.declares(self.who, dependency) => {
                Ok(self.run.static_output(dependency.index))
            }
            Owner::Spawned(_) if dependency.graph != self.run.graph_id() => {
                Err(InputError::ForeignTask {
                    reader: self.name().to_owned().into(),
                })
            }
            Owner::Spawned(_) => Err(InputError::NotADependency {
                reader: self.name().to_owned().into(),
                dependency: self.run.any_name(dependency).to_owned().into(),
            }),
        }
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
        match self.who {
            Owner::Static(task) => self.run.task_name(task),
            Owner::Spawned(node) => self.run.node_name(node),
        }
    }

    /// The tag of the pool the task runs on.
    #[must_use]
    pub fn tag(&self) -> &'a Tag {
        match self.who {
            Owner::Static(task) => self.run.task_tag(task),
            Owner::Spawned(node) => self.run.node_tag(node),
        }
    }

    /// The running task's handle (for a spawned task, the one
    /// [`spawn`](Context::spawn) returned).
    #[must_use]
    pub fn task(&self) -> TaskRef {
        match self.who {
            Owner::Static(task) => self.run.task_ref(task),
            Owner::Spawned(node) => self.run.node_ref(node),
        }
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
