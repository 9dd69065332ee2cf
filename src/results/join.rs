//! [`JoinError`]: what [`Context::join`](crate::Context::join) returns when
//! spawned tasks did not succeed.

use std::fmt;

use crate::graph::handle::TaskRef;

/// The children a [`join`](crate::Context::join) waited for that did not
/// succeed: each failed, was skipped or cancelled, or has a descendant that
/// did not succeed. [`join`](crate::Context::join) returns it boxed in an
/// [`Error`](crate::Error), so a task can pass it on with `?`.
///
/// ```
/// use taskflow_engine::{Context, Executor, FailurePolicy, Graph, JoinError, RunOptions, Task};
///
/// let mut graph = Graph::new();
/// graph.add(Task::new("parent", |cx: &Context<'_>| {
///     cx.spawn(Task::new("fine", |_: &Context<'_>| Ok(())))?;
///     cx.spawn(Task::new("broken", |_: &Context<'_>| -> Result<(), _> { Err("no")? }))?;
///     let refused = cx.join().unwrap_err();
///     let names: Vec<&str> = refused.downcast_ref::<JoinError>().unwrap().names().collect();
///     assert_eq!(names, ["broken"]);
///     Ok(())
/// }));
/// let options = RunOptions::new().policy(FailurePolicy::KeepGoing);
/// let report = Executor::new().run_with(&mut graph, options)?;
/// assert_eq!((report.succeeded(), report.failed()), (2, 1));
/// # Ok::<(), taskflow_engine::GraphError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinError {
    tasks: Vec<(TaskRef, String)>,
}

impl JoinError {
    pub(crate) fn new(tasks: Vec<(TaskRef, String)>) -> Self {
        JoinError { tasks }
    }

    /// The children that did not succeed: each one's handle (as
    /// [`spawn`](crate::Context::spawn) returned it, untyped) and name, in
    /// spawn order.
    pub fn tasks(&self) -> impl Iterator<Item = (TaskRef, &str)> + '_ {
        self.tasks.iter().map(|(task, name)| (*task, name.as_str()))
    }

    /// The names of the children that did not succeed, in spawn order.
    #[must_use = "the iterator does nothing unless used"]
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.tasks.iter().map(|(_, name)| name.as_str())
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} spawned task(s) did not succeed: ", self.tasks.len())?;
        for (position, (_, name)) in self.tasks.iter().enumerate() {
            if position > 0 {
                f.write_str(", ")?;
            }
            write!(f, "`{name}`")?;
        }
        Ok(())
    }
}

impl std::error::Error for JoinError {}
