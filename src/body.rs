//! Task bodies: the public [`TaskBody`] trait, and the type-erased cell the
//! graph stores per task, which holds the body together with the slot for its
//! latest output (one allocation per task, none per run).

use std::any::Any;

use crate::context::Context;
use crate::error::Error;

/// The work of a task, for tasks written as types rather than closures.
///
/// Every `FnMut(&Context<'_>) -> Result<T, Error>` closure is a `TaskBody`;
/// implement it yourself when a task carries state or configuration, like the
/// task classes of other task-graph libraries.
///
/// ```
/// use taskflow::{Context, Error, Executor, Graph, Task, TaskBody};
///
/// struct Checksum { bytes: Vec<u8> }
///
/// impl TaskBody for Checksum {
///     type Output = u32;
///     fn run(&mut self, _: &Context<'_>) -> Result<u32, Error> {
///         Ok(self.bytes.iter().map(|&b| u32::from(b)).sum())
///     }
/// }
///
/// let mut graph = Graph::new();
/// let sum = graph.add(Task::from_body("checksum", Checksum { bytes: vec![1, 2, 3] }));
/// Executor::builder().workers_per_tag(1).build()?.run(&mut graph)?;
/// assert_eq!(graph.output(sum), Some(&6));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait TaskBody: Send + 'static {
    /// What the task produces for its dependents and for the caller.
    type Output: Send + Sync + 'static;

    /// Does the task's work. Called once per run in which the task starts.
    ///
    /// The output of the task's previous run is dropped just before, under
    /// the same panic guard as the call: should its destructor panic, this
    /// run fails with that panic and the body is not called.
    fn run(&mut self, cx: &Context<'_>) -> Result<Self::Output, Error>;
}

impl<F, T> TaskBody for F
where
    F: FnMut(&Context<'_>) -> Result<T, Error> + Send + 'static,
    T: Send + Sync + 'static,
{
    type Output = T;

    fn run(&mut self, cx: &Context<'_>) -> Result<T, Error> {
        self(cx)
    }
}

/// A task body and its output slot, with the types erased.
pub(crate) trait ErasedBody: Send {
    /// Runs the body, replacing the output slot with what it returns. The
    /// previous output is dropped first, so a failed run leaves no output.
    fn run(&mut self, cx: &Context<'_>) -> Result<(), Error>;

    /// The output slot, an `Option<Output>` behind `dyn Any`.
    fn output(&self) -> &dyn Any;

    /// The output slot, mutably, for taking the output out.
    fn output_mut(&mut self) -> &mut dyn Any;

    /// Drops the output of an earlier run.
    fn clear_output(&mut self);
}

/// The concrete cell behind [`ErasedBody`].
pub(crate) struct BodyCell<B: TaskBody> {
    body: B,
    output: Option<B::Output>,
}

impl<B: TaskBody> BodyCell<B> {
    pub(crate) fn boxed(body: B) -> Box<dyn ErasedBody> {
        Box::new(BodyCell { body, output: None })
    }
}

impl<B: TaskBody> ErasedBody for BodyCell<B> {
    fn run(&mut self, cx: &Context<'_>) -> Result<(), Error> {
        self.output = None;
        self.output = Some(self.body.run(cx)?);
        Ok(())
    }

    fn output(&self) -> &dyn Any {
        &self.output
    }

    fn output_mut(&mut self) -> &mut dyn Any {
        &mut self.output
    }

    fn clear_output(&mut self) {
        self.output = None;
    }
}
