//! Task handles: [`TaskId`] (typed by the task's output) and [`TaskRef`]
//! (untyped). Both carry the identity of the graph that made them, so a
//! handle used with another graph is caught instead of naming a wrong task.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::num::NonZeroU64;

/// The identity of one [`Graph`](crate::Graph), unique in the process.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct GraphId(NonZeroU64);

impl GraphId {
    pub(crate) fn fresh() -> Self {
        GraphId(crate::sync::next_unique_id())
    }
}

/// An untyped handle to a task of one graph.
///
/// Every [`TaskId`] converts into one, so APIs that do not care about a
/// task's output type take `impl Into<TaskRef>`, and reports hand them out.
///
/// ```
/// use taskflow_engine::{Graph, Task, TaskRef};
///
/// let mut graph = Graph::new();
/// let number = graph.add(Task::new("number", |_| Ok(1u8)));
/// let text = graph.add(Task::new("text", |_| Ok("one")));
/// let both: Vec<TaskRef> = vec![number.into(), text.into()];
/// assert_eq!(both[1].index(), 1);
/// assert_eq!(graph.name(both[0]), Some("number"));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskRef {
    pub(crate) graph: GraphId,
    pub(crate) index: u32,
}

impl TaskRef {
    /// The task's position in its graph: tasks are numbered from 0 in the
    /// order they were added.
    #[must_use]
    pub fn index(self) -> usize {
        self.index as usize
    }
}

impl fmt::Debug for TaskRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskRef(graph {}, task {})", self.graph.0, self.index)
    }
}

/// A handle to a task of one graph whose output has type `T`.
///
/// Use it to declare dependencies ([`Task::after`](crate::Task::after),
/// [`Graph::precede`](crate::Graph::precede)), to read the output inside a
/// dependent ([`Context::input`](crate::Context::input)) and after a run
/// ([`Graph::output`](crate::Graph::output)). It is `Copy`, so closures
/// capture it by value with `move`.
///
/// ```
/// use taskflow_engine::{Executor, Graph, Task, TaskId};
///
/// let mut graph = Graph::new();
/// let base: TaskId<u32> = graph.add(Task::new("base", |_| Ok(40)));
/// let answer = graph.add(Task::new("answer", move |cx| Ok(cx.input(base)? + 2)).after(base));
/// assert!(Executor::new().run(&mut graph)?.is_success());
/// assert_eq!(graph.output(answer), Some(&42));
/// # Ok::<(), taskflow_engine::GraphError>(())
/// ```
pub struct TaskId<T> {
    pub(crate) task: TaskRef,
    _output: PhantomData<fn() -> T>,
}

impl<T> TaskId<T> {
    pub(crate) fn new(task: TaskRef) -> Self {
        TaskId {
            task,
            _output: PhantomData,
        }
    }

    /// The untyped handle of the same task.
    #[must_use]
    pub fn task_ref(self) -> TaskRef {
        self.task
    }

    /// The task's position in its graph (see [`TaskRef::index`]).
    #[must_use]
    pub fn index(self) -> usize {
        self.task.index()
    }
}

// Manual impls: derives would wrongly require `T: Clone` and so on.
impl<T> Clone for TaskId<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for TaskId<T> {}

impl<T> PartialEq for TaskId<T> {
    fn eq(&self, other: &Self) -> bool {
        self.task == other.task
    }
}

impl<T> Eq for TaskId<T> {}

impl<T> Hash for TaskId<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.task.hash(state);
    }
}

impl<T> fmt::Debug for TaskId<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TaskId<{}>(graph {}, task {})",
            std::any::type_name::<T>(),
            self.task.graph.0,
            self.task.index
        )
    }
}

impl<T> From<TaskId<T>> for TaskRef {
    fn from(id: TaskId<T>) -> Self {
        id.task
    }
}
