//! The crate's error types: what a task returns, why a task failed, why a
//! graph cannot run, why an executor cannot be built, and why a task's read of
//! another task's output was refused.

use std::borrow::Cow;
use std::fmt;

use crate::tag::Tag;

/// The error a task returns: any error that can cross threads.
///
/// `?` converts most error types into it, so a task body can write
/// `Ok(std::fs::read(path)?)`.
pub type Error = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a task failed.
#[non_exhaustive]
#[derive(Debug)]
pub enum TaskError {
    /// The task returned this error.
    Error(Error),
    /// The task panicked; this is the panic's message (or a placeholder when
    /// the payload was neither a `&str` nor a `String`).
    Panicked(String),
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Error(error) => fmt::Display::fmt(error, f),
            TaskError::Panicked(message) => write!(f, "panicked: {message}"),
        }
    }
}

impl std::error::Error for TaskError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TaskError::Error(error) => Some(&**error),
            TaskError::Panicked(_) => None,
        }
    }
}

/// Why a graph cannot run. Returned by [`Graph::precede`](crate::Graph::precede)
/// and by [`Executor::run`](crate::Executor::run) before any task starts.
///
/// When a graph has several problems, `run` reports the first of:
/// [`ForeignTask`](GraphError::ForeignTask), [`TooLarge`](GraphError::TooLarge),
/// [`Cycle`](GraphError::Cycle), [`WorkerSpawn`](GraphError::WorkerSpawn).
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
    /// The graph holds more tasks (`u32::MAX - 1`) or edges (`2^31 - 1`)
    /// than the engine can index.
    TooLarge,
    /// The executor could not start the worker threads of a tag's pool.
    WorkerSpawn {
        /// The tag whose pool could not be started.
        tag: Tag,
        /// What the operating system said.
        source: std::io::Error,
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
            GraphError::WorkerSpawn { tag, source } => {
                write!(f, "cannot start the workers of tag `{tag}`: {source}")
            }
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
            BuildError::Spawn { tag, source } => {
                write!(f, "cannot start the workers of tag `{tag}`: {source}")
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
/// It reaches the caller boxed in an [`Error`]; downcast to inspect it.
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
