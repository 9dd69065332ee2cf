//! Observing runs: the [`Observer`] trait, the events the engine hands it,
//! and the observers that come with the crate ([`ChromeTrace`],
//! [`Progress`] and, with the `log` feature, `LogObserver`).
//!
//! An observer is told when a run starts, when each of its tasks starts and
//! finishes, and when the run finishes, with its report. Give one to every
//! run of an executor with
//! [`ExecutorBuilder::observer`](crate::ExecutorBuilder::observer), or to
//! one run with [`RunOptions::observer`](crate::RunOptions::observer). A run
//! calls the executor's observers first, then its own, each in the order
//! they were added.
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use taskflow_engine::observe::{Observer, TaskEvent};
//! use taskflow_engine::{Executor, Graph, Outcome, RunOptions, Task};
//!
//! /// Counts the tasks that failed.
//! #[derive(Default)]
//! struct Failures(AtomicUsize);
//!
//! impl Observer for Failures {
//!     fn task_finished(&self, event: &TaskEvent<'_>, outcome: &Outcome) {
//!         if let Outcome::Failed(error) = outcome {
//!             eprintln!("{} on {} failed: {error}", event.name(), event.tag());
//!             self.0.fetch_add(1, Ordering::Relaxed);
//!         }
//!     }
//! }
//!
//! let failures = Arc::new(Failures::default());
//! let mut graph = Graph::new();
//! graph.add(Task::new("fine", |_| Ok(())));
//! graph.add(Task::new("broken", |_| -> Result<(), _> { Err("no disk")? }));
//! let options = RunOptions::new().observer(failures.clone());
//! let report = Executor::new().run_with(&mut graph, options)?;
//! assert_eq!(failures.0.load(Ordering::Relaxed), report.failed());
//! # Ok::<(), taskflow_engine::GraphError>(())
//! ```
//!
//! # The events
//!
//! - [`run_started`](Observer::run_started) comes first, on the thread that
//!   starts the run, before any task of it starts.
//! - Every task gets exactly one [`task_finished`](Observer::task_finished).
//!   A task whose body runs gets a [`task_started`](Observer::task_started)
//!   right before the body runs and its `task_finished` right after the body
//!   returns (or panics), both on the worker thread that runs it. A task
//!   that never starts (skipped, cancelled) gets only the `task_finished`,
//!   from the worker that settled it.
//! - Spawned tasks ([`Context::spawn`](crate::Context::spawn)) are observed
//!   like the graph's; [`RunInfo::tasks`] counts the graph's only.
//! - Per worker, the pairs nest properly: a worker runs one body at a time,
//!   and one waiting inside a task (in a `join` or a nested run) runs only
//!   whole tasks meanwhile, whose pairs lie within that task's pair, so one
//!   worker's pairs never interleave. A nested run started
//!   from inside a task gets its `run_started` and `run_finished` on that
//!   task's thread, within that task's pair.
//! - [`run_finished`](Observer::run_finished) comes after every
//!   `task_finished` of the run, with its report: on the thread that built
//!   the report, which is the caller of [`Executor::run`](crate::Executor::run),
//!   the thread that waited for, polled or dropped a
//!   [`RunHandle`](crate::RunHandle) once the run was over, or, for a run
//!   whose handle was dropped before it ended, the worker that finished it.
//!
//! A graph that cannot run (a cycle, say) starts no run, so its observers
//! hear nothing.
//!
//! Task events are called on the workers, between tasks: an observer that
//! takes long slows the run down by as much. The engine builds each event
//! on the stack and reads the clock only when an observer asks
//! ([`TaskEvent::at`]); with no observer the run pays one branch per task.
//!
//! # An observer that panics
//!
//! A panic in an observer's method is caught: the run, the executor and the
//! other observers go on as if it had returned. The first panic of each
//! observer is reported once on stderr, with the observer's type (for one
//! given to the executor), the method and the panic's message; its later
//! panics are not reported. The method that panicked is not called again on
//! that observer (for the executor's observers, in any later run of the
//! executor; for a run's, in that run); its other methods still are. A
//! method that panicked once is likely to panic again, and every panic also
//! goes through the process's panic hook, which by default prints it: muting
//! the method keeps stderr to a line or two per observer, not one per task.

mod chrome;
mod dispatch;
#[cfg(feature = "log")]
mod log;
mod progress;

use std::cell::OnceCell;
use std::fmt;
use std::time::Instant;

use crate::graph::handle::TaskRef;
use crate::graph::tag::Tag;
use crate::results::report::{Outcome, RunReport};
use crate::runtime::run::Run;
use crate::runtime::spawn::subtree::Owner;

pub use chrome::ChromeTrace;
pub(crate) use dispatch::{ObserverList, Observers};
#[cfg(feature = "log")]
pub use log::LogObserver;
pub use progress::{Progress, ProgressSnapshot};

/// Watches runs: told when a run starts, when each of its tasks starts and
/// finishes, and when the run finishes. Every method does nothing unless
/// implemented. See the [module docs](self) for when each is called, on
/// which thread, and what happens when one panics.
///
/// ```
/// use std::sync::Mutex;
/// use taskflow_engine::observe::{Observer, RunInfo};
/// use taskflow_engine::{Executor, Graph, RunReport, Task};
///
/// /// Keeps every finished run's summary.
/// #[derive(Default)]
/// struct Summaries(Mutex<Vec<String>>);
///
/// impl Observer for Summaries {
///     fn run_finished(&self, run: &RunInfo, report: &RunReport) {
///         self.0.lock().unwrap().push(format!("run {}: {report}", run.run_id()));
///     }
/// }
///
/// let summaries = std::sync::Arc::new(Summaries::default());
/// let executor = Executor::builder().observer(summaries.clone()).build()?;
/// let mut graph = Graph::new();
/// graph.add(Task::new("only", |_| Ok(())));
/// assert!(executor.run(&mut graph)?.is_success());
/// assert!(executor.run(&mut graph)?.is_success());
/// assert_eq!(summaries.0.lock().unwrap().len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Observer: Send + Sync + 'static {
    /// A run starts: called before any of its tasks starts.
    fn run_started(&self, run: &RunInfo) {
        let _ = run;
    }

    /// A task's body is about to run.
    fn task_started(&self, event: &TaskEvent<'_>) {
        let _ = event;
    }

    /// A task finished with `outcome`: its body returned (or panicked), or
    /// it was skipped or cancelled without starting.
    fn task_finished(&self, event: &TaskEvent<'_>, outcome: &Outcome) {
        let _ = (event, outcome);
    }

    /// A run finished: every task of it finished, and this is its report.
    fn run_finished(&self, run: &RunInfo, report: &RunReport) {
        let _ = (run, report);
    }
}

/// An observer shared through an `Arc` is an observer, so that one can be
/// given to an executor or a run and still be read by its owner.
impl<O: Observer + ?Sized> Observer for std::sync::Arc<O> {
    fn run_started(&self, run: &RunInfo) {
        (**self).run_started(run);
    }

    fn task_started(&self, event: &TaskEvent<'_>) {
        (**self).task_started(event);
    }

    fn task_finished(&self, event: &TaskEvent<'_>, outcome: &Outcome) {
        (**self).task_finished(event, outcome);
    }

    fn run_finished(&self, run: &RunInfo, report: &RunReport) {
        (**self).run_finished(run, report);
    }
}

/// Which run an event belongs to: its process-unique id and its number of
/// tasks.
///
/// ```
/// use std::sync::Mutex;
/// use taskflow_engine::observe::{Observer, RunInfo};
/// use taskflow_engine::{Executor, Graph, RunOptions, Task};
///
/// #[derive(Default)]
/// struct Runs(Mutex<Vec<RunInfo>>);
///
/// impl Observer for Runs {
///     fn run_started(&self, run: &RunInfo) {
///         self.0.lock().unwrap().push(*run);
///     }
/// }
///
/// let runs = std::sync::Arc::new(Runs::default());
/// let mut graph = Graph::new();
/// graph.add(Task::new("a", |_| Ok(())));
/// graph.add(Task::new("b", |_| Ok(())));
/// let executor = Executor::new();
/// for _ in 0..2 {
///     let report = executor.run_with(&mut graph, RunOptions::new().observer(runs.clone()))?;
///     assert!(report.is_success());
/// }
/// let runs = runs.0.lock().unwrap();
/// assert_eq!((runs[0].tasks(), runs[1].tasks()), (2, 2));
/// assert_ne!(runs[0].run_id(), runs[1].run_id(), "every run has its own id");
/// # Ok::<(), taskflow_engine::GraphError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RunInfo {
    run_id: u64,
    tasks: usize,
}

impl RunInfo {
    pub(crate) fn new(run_id: u64, tasks: usize) -> Self {
        RunInfo { run_id, tasks }
    }

    /// The run's id: unique in the process, among the runs of every
    /// executor (a graph run twice gets two ids).
    #[must_use]
    pub fn run_id(&self) -> u64 {
        self.run_id
    }

    /// The number of tasks in the run's graph, each of which gets one
    /// [`task_finished`](Observer::task_finished).
    #[must_use]
    pub fn tasks(&self) -> usize {
        self.tasks
    }
}

/// A task starting or finishing, as an [`Observer`] sees it: which task,
/// on which worker, in which run, and when.
///
/// It lives on the stack of the worker that calls the observers, for the
/// duration of the calls.
///
/// ```
/// use std::sync::Mutex;
/// use taskflow_engine::observe::{Observer, TaskEvent};
/// use taskflow_engine::{Executor, Graph, Task};
///
/// #[derive(Default)]
/// struct Starts(Mutex<Vec<String>>);
///
/// impl Observer for Starts {
///     fn task_started(&self, event: &TaskEvent<'_>) {
///         let line = format!("{} on {} worker {}", event.name(), event.tag(), event.worker_index());
///         self.0.lock().unwrap().push(line);
///     }
/// }
///
/// let starts = std::sync::Arc::new(Starts::default());
/// let executor = Executor::builder().workers_per_tag(1).observer(starts.clone()).build()?;
/// let mut graph = Graph::new();
/// graph.add(Task::new("read", |_| Ok(())).tag("io"));
/// assert!(executor.run(&mut graph)?.is_success());
/// assert_eq!(*starts.0.lock().unwrap(), ["read on io worker 0"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TaskEvent<'a> {
    run: &'a Run<'a>,
    /// The task: one of the graph's, or one spawned in the run.
    task: Owner,
    worker: usize,
    /// When the event happened: read from the clock the first time an
    /// observer asks, so that observers that do not ask cost no clock read.
    at: OnceCell<Instant>,
    /// For a task that ran, its start event's clock, to tell its duration.
    started: Option<&'a OnceCell<Instant>>,
}

impl<'a> TaskEvent<'a> {
    /// The event of `task` of `run`, settled or run by worker `worker`.
    pub(crate) fn new(run: &'a Run<'a>, task: u32, worker: usize) -> Self {
        TaskEvent::of(run, Owner::Static(task), worker)
    }

    /// The event of the spawned task `node` of `run`.
    pub(crate) fn spawned(run: &'a Run<'a>, node: u32, worker: usize) -> Self {
        TaskEvent::of(run, Owner::Spawned(node), worker)
    }

    fn of(run: &'a Run<'a>, task: Owner, worker: usize) -> Self {
        TaskEvent {
            run,
            task,
            worker,
            at: OnceCell::new(),
            started: None,
        }
    }

    /// The finish event of the task this start event is about.
    pub(crate) fn finished(&self) -> TaskEvent<'_> {
        TaskEvent {
            started: Some(&self.at),
            ..TaskEvent::of(self.run, self.task, self.worker)
        }
    }

    /// Whether the task was spawned in the run (not one of the graph's,
    /// which [`RunInfo::tasks`] counts).
    pub(crate) fn is_spawned(&self) -> bool {
        matches!(self.task, Owner::Spawned(_))
    }

    /// Whether this is the finish of a task whose body ran (after a start
    /// event).
    pub(crate) fn ran(&self) -> bool {
        self.started.is_some()
    }

    /// The task's handle: the one [`Graph::add`](crate::Graph::add) returned
    /// (untyped), as in the [`RunReport`].
    #[must_use]
    pub fn task(&self) -> TaskRef {
        match self.task {
            Owner::Static(task) => self.run.task_ref(task),
            Owner::Spawned(node) => self.run.node_ref(node),
        }
    }

    /// The task's name.
    #[must_use]
    pub fn name(&self) -> &'a str {
        match self.task {
            Owner::Static(task) => self.run.task_name(task),
            Owner::Spawned(node) => self.run.node_name(node),
        }
    }

    /// The task's tag: the pool it runs on.
    #[must_use]
    pub fn tag(&self) -> &'a Tag {
        match self.task {
            Owner::Static(task) => self.run.task_tag(task),
            Owner::Spawned(node) => self.run.node_tag(node),
        }
    }

    /// The index, within its tag's pool, of the worker the event happens on
    /// (as [`Context::worker_index`](crate::Context::worker_index)): the one
    /// that runs the task or, for a task that never starts, settles it.
    #[must_use]
    pub fn worker_index(&self) -> usize {
        self.worker
    }

    /// The id of the run (see [`RunInfo::run_id`]).
    #[must_use]
    pub fn run_id(&self) -> u64 {
        self.run.id()
    }

    /// When the event happened. The engine reads the clock only when an
    /// observer first asks, during the event's calls, so this is the time
    /// of that first call; every observer of the event gets the same
    /// instant.
    #[must_use]
    pub fn at(&self) -> Instant {
        *self.at.get_or_init(Instant::now)
    }

    /// For the finish of a task that ran: when it started, if an observer
    /// read [`at`](TaskEvent::at) in its start event (the crate's own
    /// observers that show durations do).
    pub(crate) fn started_at(&self) -> Option<Instant> {
        self.started.and_then(|at| at.get().copied())
    }

    /// The task's name as a value that outlives the graph (see
    /// [`Run::name_cow`]).
    pub(crate) fn name_cow(&self) -> std::borrow::Cow<'static, str> {
        match self.task {
            Owner::Static(task) => self.run.name_cow(task),
            Owner::Spawned(node) => self.run.node_name_cow(node),
        }
    }
}

impl fmt::Debug for TaskEvent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskEvent")
            .field("run_id", &self.run_id())
            .field("task", &self.name())
            .field("tag", self.tag())
            .field("worker", &self.worker)
            .field("at", &self.at.get())
            .finish()
    }
}
