//! The crate's error types: what a task returns, why a task failed, why a
//! graph cannot run, why an executor cannot be built, and why a task's read of
//! another task's output was refused.

use std::any::Any;
use std::borrow::Cow;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use crate::graph::tag::Tag;

/// The error a task returns: any error that can cross threads.
///
/// `?` converts most error types into it, so a task body can write
/// `Ok(std::fs::read(path)?)`, and a string converts too:
///
/// ```
/// use taskflow_engine::Error;
///
/// fn parse(text: &str) -> Result<u32, Error> {
///     if text.is_empty() {
///         return Err("empty input".into());
///     }
///     Ok(text.parse::<u32>()?)
/// }
/// assert_eq!(parse("7").unwrap(), 7);
/// assert!(parse("x").is_err() && parse("").is_err());
/// ```
pub type Error = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a task failed.
///
/// ```
/// use taskflow_engine::{Executor, Graph, Outcome, Task, TaskError};
///
/// let mut graph = Graph::new();
/// let open = graph.add(Task::new("open", |_| -> Result<(), _> {
///     Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no config"))?
/// }));
/// let report = Executor::new().run(&mut graph)?;
/// let error = report.outcome(open).error().expect("open failed");
/// assert!(matches!(error, TaskError::Error(_)));
/// let io = error.downcast_ref::<std::io::Error>().expect("the task's own error");
/// assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
/// # Ok::<(), taskflow_engine::GraphError>(())
/// ```
#[non_exhaustive]
#[derive(Debug)]
pub enum TaskError {
    /// The task returned this error.
    Error(Error),
    /// The task panicked: the panic's message, and its payload for
    /// [`into_panic`](TaskError::into_panic).
    Panicked(Panic),
}

impl TaskError {
    /// The task's own error as an `E`, if it returned one of that type.
    /// `None` for another type and for a panic.
    #[must_use]
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        match self {
            TaskError::Error(error) => error.downcast_ref::<E>(),
            TaskError::Panicked(_) => None,
        }
    }

    /// Whether the task panicked (rather than returned an error).
    #[must_use]
    pub fn is_panic(&self) -> bool {
        matches!(self, TaskError::Panicked(_))
    }

    /// What to pass to [`std::panic::resume_unwind`] to raise the failure on
    /// the caller's thread, as rayon does with a panic in a job.
    ///
    /// For a panic, the task's own payload (a `&'static str`, a `String` or
    /// whatever it panicked with). For an error, the error itself, as a
    /// boxed [`Error`](crate::Error): downcast the payload to
    /// `taskflow_engine::Error` to get it back.
    ///
    /// ```
    /// use taskflow_engine::{Executor, Graph, Task};
    ///
    /// let mut graph = Graph::new();
    /// graph.add(Task::new("boom", |_| -> Result<(), _> { panic!("boom") }));
    /// let report = Executor::new().run(&mut graph)?;
    /// let (_task, _name, error) = report.into_failures().next().expect("boom failed");
    /// let payload = error.into_panic();
    /// assert_eq!(payload.downcast_ref::<&str>(), Some(&"boom"));
    /// // std::panic::resume_unwind(payload) would re-raise it here.
    /// # Ok::<(), taskflow_engine::GraphError>(())
    /// ```
    #[must_use]
    pub fn into_panic(self) -> Box<dyn Any + Send> {
        match self {
            TaskError::Error(error) => Box::new(error),
            TaskError::Panicked(panic) => panic.into_payload(),
        }
    }
}

/// Shows the task's error, or `panicked: ` and the panic's message. The
/// error's own [`source`](std::error::Error::source) chain follows through
/// `source()`: the task's error is shown here and not returned again by
/// `source()`, so that error reporters print each message once.
impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Error(error) => fmt::Display::fmt(error, f),
            TaskError::Panicked(panic) => write!(f, "panicked: {panic}"),
        }
    }
}

impl std::error::Error for TaskError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TaskError::Error(error) => error.source(),
            TaskError::Panicked(_) => None,
        }
    }
}

/// A caught panic: its message, and the payload it was raised with.
///
/// The message is the payload itself when it is a `&str` or a `String`;
/// for any other payload it is `Box<dyn Any>`, as the standard library's
/// panic hook prints it. `Panic` dereferences to the message, so it reads
/// like the string it was before payloads were kept:
///
/// ```
/// use taskflow_engine::{Executor, Graph, Outcome, Task, TaskError};
///
/// let mut graph = Graph::new();
/// let task = graph.add(Task::new("t", |_| -> Result<(), _> { panic!("code {}", 42) }));
/// let report = Executor::new().run(&mut graph)?;
/// let Outcome::Failed(TaskError::Panicked(panic)) = report.outcome(task) else { unreachable!() };
/// assert_eq!(panic.message(), "code 42");
/// assert!(panic.contains("42"));
/// # Ok::<(), taskflow_engine::GraphError>(())
/// ```
pub struct Panic {
    message: String,
    payload: Payload,
}

/// A panic payload that is only ever reached by value, which makes it
/// `Sync` though the payload is only `Send` (the idea of the standard
/// library's unstable `Exclusive`).
struct Payload(Option<Box<dyn Any + Send>>);

// SAFETY: no method hands out a shared reference to the payload: it leaves
// only by value (`Panic::into_payload`, which takes `self`) or is dropped.
// Sharing `&Payload` between threads therefore shares nothing that could be
// accessed concurrently.
unsafe impl Sync for Payload {}

impl Drop for Payload {
    fn drop(&mut self) {
        if let Some(payload) = self.0.take() {
            drop_panic_payload(payload);
        }
    }
}

/// Drops a caught panic's payload, whose destructor is user code and may
/// itself panic: such a second panic is caught and its payload leaked,
/// rather than let it unwind through a worker or whoever drops a report.
pub(crate) fn drop_panic_payload(payload: Box<dyn Any + Send>) {
    if let Err(second) = panic::catch_unwind(AssertUnwindSafe(|| drop(payload))) {
        std::mem::forget(second);
    }
}

impl Panic {
    /// Keeps a caught panic's payload, and reads its message.
    pub(crate) fn new(payload: Box<dyn Any + Send>) -> Self {
        let message = if let Some(message) = payload.downcast_ref::<&'static str>() {
            (*message).to_owned()
        } else if let Some(message) = payload.downcast_ref::<String>() {
            message.clone()
        } else {
            "Box<dyn Any>".to_owned()
        };
        Panic {
            message,
            payload: Payload(Some(payload)),
        }
    }

    /// The panic's message (see the type's docs).
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The payload the task panicked with, for
    /// [`std::panic::resume_unwind`].
    #[must_use]
    pub fn into_payload(mut self) -> Box<dyn Any + Send> {
        self.payload
            .0
            .take()
            .expect("a panic keeps its payload until it is taken, once")
    }
}

impl std::ops::Deref for Panic {
    type Target = str;

    fn deref(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Panic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Panic").field(&self.message).finish()
    }
}

impl PartialEq<str> for Panic {
    fn eq(&self, other: &str) -> bool {
        self.message == other
    }
}

impl PartialEq<&str> for Panic {
    fn eq(&self, other: &&str) -> bool {
        self.message == *other
    }
}

/// Why a graph cannot run. Returned by [`Graph::precede`](crate::Graph::precede)
/// and by [`Executor::run`](crate::Executor::run) before any task starts.
///
/// When a graph has several problems, `run` reports the first of:
/// [`ForeignTask`](GraphError::ForeignTask), [`TooLarge`](GraphError::TooLarge),
/// [`Cycle`](GraphError::Cycle), [`WorkerSpawn`](GraphError::WorkerSpawn).
///
/// ```
/// use taskflow_engine::{Executor, Graph, GraphError, Task};
///
/// let mut graph = Graph::new();
/// let a = graph.add(Task::new("a", |_| Ok(())));
/// let b = graph.add(Task::new("b", |_| Ok(())).after(a));
/// graph.precede(b, a)?;
/// match Executor::new().run(&mut graph) {
///     Err(GraphError::Cycle { tasks }) => assert_eq!(tasks, ["a", "b"]),
///     other => panic!("expected a cycle, got {other:?}"),
/// }
/// # Ok::<(), GraphError>(())
/// ```
#[non_exhaustive]
#[derive(Debug)]
pub enum GraphError {
    /// The dependencies form at least one cycle. `tasks` names every task
    /// that lies on a cycle, and no other task, in the order they were added.
    Cycle {
        /// The names of the tasks that lie on a cycle.
        tasks: Vec<String>,
    },
    /// A task handle of another graph was used with this graph.
    ForeignTask,
    /// A task, a tag or an edge was refused because the graph would hold
    /// more tasks (`u32::MAX - 1`), tags (65,536) or edges (`2^31 - 1`)
    /// than the engine can index; the graph accepts nothing more after that
    /// (see [`Graph::add`](crate::Graph::add)).
    TooLarge,
    /// The executor could not start the worker threads of a tag's pool.
    WorkerSpawn {
        /// The tag whose pool could not be started.
        tag: Tag,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A wait inside a task ([`Context::join`](crate::Context::join), or a
    /// run started from inside a task of the same executor) was refused
    /// because the worker's stack has too little room left to help with
    /// the awaited work (waits nested too deeply on one worker, see
    /// [`ExecutorBuilder::stack_size`](crate::ExecutorBuilder::stack_size)).
    /// Nothing was waited for or started; a refused `join` returns it boxed.
    WaitTooDeep,
    /// A run started from inside a task ([`Executor::run`](crate::Executor::run)
    /// or [`run_with`](crate::Executor::run_with) called from its body) has
    /// a task, `task`, that needs a [`Limit`](crate::Limit) whose every
    /// permit is held by the calling task, or by the tasks that wait for it
    /// (the callers of the runs it is nested in, and the tasks under it on
    /// its worker's stack): none of them can return before the run does,
    /// so that task could never start. It is a deadlock, as a thread taking
    /// a mutex it holds; nothing was started. Give the task's limit to a
    /// task that does not wait for the run, or hold it in the nested tasks
    /// only.
    LimitHeldByCaller {
        /// The name of a task of the refused graph that needs the limit.
        task: String,
    },
    /// A task given to [`Context::spawn`](crate::Context::spawn) has a
    /// [`priority`](crate::Task::priority), a [`weight`](crate::Task::weight)
    /// or a [`limit`](crate::Task::limit) (`setting` says which, the first
    /// of them in that order). Spawned tasks are not steered: they start as
    /// their dependencies allow, and could not hold a limit's permit, so
    /// the setting is refused rather than ignored. Nothing was added. Give
    /// the setting to a task of the graph instead; a spawned step that
    /// needs a limit can run a graph of its own with
    /// [`Executor::run`](crate::Executor::run), whose tasks may have limits.
    SteeredSpawn {
        /// The name of the refused task.
        task: String,
        /// `"priority"`, `"weight"` or `"limit"`.
        setting: &'static str,
    },
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GraphError::Cycle { tasks } => {
                write!(f, "the graph has a cycle through these tasks: ")?;
                write_names(f, tasks)
            }
            GraphError::ForeignTask => write!(f, "a task handle of another graph was used"),
            GraphError::TooLarge => write!(
                f,
                "the graph holds more tasks or edges than taskflow can index"
            ),
            GraphError::WorkerSpawn { tag, .. } => {
                write!(f, "cannot start the workers of tag `{tag}`")
            }
            GraphError::WaitTooDeep => write!(
                f,
                "waits nested too deeply inside tasks: the worker's stack is nearly full"
            ),
            GraphError::LimitHeldByCaller { task } => write!(
                f,
                "the task `{task}` needs a limit whose every permit its caller holds \
                 while it waits for the run: it could never start"
            ),
            GraphError::SteeredSpawn { task, setting } => write!(
                f,
                "the spawned task `{task}` has a {setting}, which only tasks of the graph can have"
            ),
        }
    }
}

impl std::error::Error for GraphError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            GraphError::WorkerSpawn { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn write_names(f: &mut fmt::Formatter<'_>, names: &[String]) -> fmt::Result {
    for (position, name) in names.iter().enumerate() {
        if position > 0 {
            f.write_str(", ")?;
        }
        write!(f, "`{name}`")?;
    }
    Ok(())
}

/// Why an [`ExecutorBuilder`](crate::ExecutorBuilder) could not build an executor.
///
/// ```
/// use taskflow_engine::{BuildError, Executor};
///
/// let error = Executor::builder().tag_workers("io", 0).build().unwrap_err();
/// assert!(matches!(error, BuildError::ZeroWorkers { tag: Some(ref tag) } if tag.as_str() == "io"));
/// ```
#[non_exhaustive]
#[derive(Debug)]
pub enum BuildError {
    /// A pool was given zero workers: `tag` is `None` for the
    /// [`workers_per_tag`](crate::ExecutorBuilder::workers_per_tag) default.
    ZeroWorkers {
        /// The tag whose pool size was zero, or `None` for the default size.
        tag: Option<Tag>,
    },
    /// The operating system refused to start a worker thread.
    Spawn {
        /// The tag whose pool could not be started.
        tag: Tag,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A pool was given more workers than
    /// [`Executor::MAX_WORKERS`](crate::Executor::MAX_WORKERS): `tag` is
    /// `None` for the [`workers_per_tag`](crate::ExecutorBuilder::workers_per_tag)
    /// default.
    TooManyWorkers {
        /// The tag whose pool size was too large, or `None` for the default
        /// size.
        tag: Option<Tag>,
        /// The pool size asked for.
        workers: usize,
        /// The most workers a pool may have.
        max: usize,
    },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::ZeroWorkers { tag: None } => {
                write!(f, "workers_per_tag must be at least 1")
            }
            BuildError::ZeroWorkers { tag: Some(tag) } => {
                write!(
                    f,
                    "tag `{tag}` was given zero workers; a pool needs at least 1"
                )
            }
            BuildError::Spawn { tag, .. } => {
                write!(f, "cannot start the workers of tag `{tag}`")
            }
            BuildError::TooManyWorkers { tag, workers, max } => {
                match tag {
                    None => write!(f, "workers_per_tag")?,
                    Some(tag) => write!(f, "tag `{tag}`")?,
                }
                write!(
                    f,
                    " was given {workers} workers; a pool may have at most {max}"
                )
            }
        }
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BuildError::Spawn { source, .. } => Some(source),
            BuildError::ZeroWorkers { .. } => None,
            BuildError::TooManyWorkers { .. } => None,
        }
    }
}

/// Why [`Context::input`](crate::Context::input) refused a read.
///
/// It reaches the caller boxed in an [`Error`]; downcast to inspect it (see
/// the example of [`Context::input`](crate::Context::input)).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputError {
    /// The handle belongs to another graph.
    ForeignTask {
        /// The reading task.
        reader: Cow<'static, str>,
    },
    /// The task read from a task it does not depend on. Only declared
    /// dependencies are guaranteed to have finished, so any other read would
    /// race with the writer.
    NotADependency {
        /// The reading task.
        reader: Cow<'static, str>,
        /// The task whose output was asked for.
        dependency: Cow<'static, str>,
    },
    /// The dependency left no output. A task runs only after all of its
    /// dependencies succeeded, so this is not expected to happen; it is
    /// reported as an error rather than a panic should an engine bug allow it.
    NoOutput {
        /// The reading task.
        reader: Cow<'static, str>,
        /// The task whose output was asked for.
        dependency: Cow<'static, str>,
    },
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::ForeignTask { reader } => {
                write!(
                    f,
                    "task `{reader}` read the output of a task of another graph"
                )
            }
            InputError::NotADependency { reader, dependency } => write!(
                f,
                "task `{reader}` read the output of `{dependency}`, which is not one of its declared dependencies"
            ),
            InputError::NoOutput { reader, dependency } => write!(
                f,
                "task `{reader}` read the output of `{dependency}`, which has none"
            ),
        }
    }
}

impl std::error::Error for InputError {}
