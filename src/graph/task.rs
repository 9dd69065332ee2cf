//! [`Task`]: a task under construction, before it is added to a graph.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use crate::graph::body::{PendingBody, TaskBody};
use crate::graph::handle::TaskRef;
use crate::graph::tag::Tag;
use crate::results::error::Error;
use crate::runtime::context::Context;
use crate::steer::limit::Limit;
use crate::steer::settings::TaskSettings;

/// A task: a name, a body, an optional tag and the tasks it runs after.
///
/// `T` is the type of the task's output, which its dependents read with
/// [`Context::input`] and the caller with [`Graph::output`](crate::Graph::output).
/// Add it to a graph with [`Graph::add`](crate::Graph::add).
///
/// ```
/// use taskflow_engine::{Context, Graph, Task};
///
/// let mut graph = Graph::new();
/// let fetch = graph.add(Task::new("fetch", |_: &Context<'_>| Ok(40)).tag("io"));
/// let add = graph.add(
///     Task::new("add", move |cx: &Context<'_>| Ok(cx.input(fetch)? + 2)).after(fetch),
/// );
/// # let _ = add;
/// ```
pub struct Task<'env, T> {
    pub(crate) name: Cow<'static, str>,
    pub(crate) body: PendingBody,
    pub(crate) tag: Option<Tag>,
    pub(crate) dependencies: Dependencies,
    /// Priority, weight and limits, boxed only once one is set (see
    /// [`crate::steer::settings`]).
    pub(crate) settings: Option<Box<TaskSettings>>,
    _output: PhantomData<fn() -> T>,
    /// The data the body borrows (see [`Graph`](crate::Graph)), as a type
    /// whose drop may use it: the body is dropped with the task, and the
    /// drop check must then require `'env` to be alive (a `&'env ()` would
    /// not, since dropping a reference uses nothing).
    _env: PhantomData<Box<dyn Send + 'env>>,
}

impl<'env, T: Send + Sync + 'static> Task<'env, T> {
    /// A task that runs `f`. Names need not be unique; they appear in reports
    /// and errors. A literal name costs no allocation.
    #[must_use]
    pub fn new<F>(name: impl Into<Cow<'static, str>>, f: F) -> Self
    where
        F: FnMut(&Context<'_>) -> Result<T, Error> + Send + 'env,
    {
        Task::with_erased(name.into(), PendingBody::new(f))
    }

    /// A task whose work is a [`TaskBody`] value rather than a closure.
    #[must_use]
    pub fn from_body<B>(name: impl Into<Cow<'static, str>>, body: B) -> Self
    where
        B: TaskBody<Output = T> + 'env,
    {
        Task::with_erased(name.into(), PendingBody::new(body))
    }
}

impl<T> Task<'_, T> {
    fn with_erased(name: Cow<'static, str>, body: PendingBody) -> Self {
        Task {
            name,
            body,
            tag: None,
            dependencies: Dependencies::None,
            settings: None,
            _output: PhantomData,
            _env: PhantomData,
        }
    }

    /// Runs the task on the pool of `tag` instead of [`Tag::DEFAULT`].
    #[must_use]
    pub fn tag(mut self, tag: impl Into<Tag>) -> Self {
        self.tag = Some(tag.into());
        self
    }

    /// Runs the task only after `dependency` has succeeded.
    #[must_use]
    pub fn after(mut self, dependency: impl Into<TaskRef>) -> Self {
        self.dependencies.push(dependency.into());
        self
    }

    /// Runs the task only after every one of `dependencies` has succeeded.
    #[must_use]
    pub fn after_all<I>(mut self, dependencies: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<TaskRef>,
    {
        for dependency in dependencies {
            self.dependencies.push(dependency.into());
        }
        self
    }

    /// Starts the task before the other ready tasks of its pool that have a
    /// lower priority (the default is 0; higher starts first, ties in the
    /// order the tasks were added).
    ///
    /// On a pool of one worker the order is exact: among the tasks that are
    /// ready at once, the worker always starts the one of highest priority.
    /// With several workers it is best effort: each worker takes the best
    /// ready task when it becomes free, so a task that becomes ready a
    /// moment later waits for the next free worker even if it ranks higher
    /// than those running. A run with
    /// [`RunOptions::critical_path`](crate::RunOptions::critical_path) on
    /// orders by rank first and by priority among equal ranks.
    ///
    /// ```
    /// use std::sync::Mutex;
    /// use taskflow_engine::{Executor, Graph, Task};
    ///
    /// let order = Mutex::new(Vec::new());
    /// let mut graph = Graph::new();
    /// for (name, priority) in [("docs", -1), ("tests", 0), ("release", 9)] {
    ///     let order = &order;
    ///     graph.add(Task::new(name, move |_| Ok(order.lock().unwrap().push(name))).priority(priority));
    /// }
    /// let executor = Executor::builder().workers_per_tag(1).build()?;
    /// assert!(executor.run(&mut graph)?.is_success());
    /// assert_eq!(*order.lock().unwrap(), ["release", "tests", "docs"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn priority(mut self, priority: i32) -> Self {
        self.settings_mut().priority = priority;
        self
    }

    /// An estimate of the task's cost (its duration last time, say, in any
    /// unit as long as every task of the graph uses the same), which
    /// [`RunOptions::critical_path`](crate::RunOptions::critical_path) weighs
    /// paths by. The default is 1, which makes the critical path the
    /// longest chain by task count, as in ninja.
    #[must_use]
    pub fn weight(mut self, weight: u64) -> Self {
        self.settings_mut().weight = weight;
        self
    }

    /// Makes the task hold a permit of `limit` while its body runs (see
    /// [`Limit`]). A task may have several limits and holds one permit of
    /// each; giving the same limit twice counts once.
    #[must_use]
    pub fn limit(mut self, limit: &Limit) -> Self {
        self.settings_mut().limits.push(limit.clone());
        self
    }

    /// The task's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    fn settings_mut(&mut self) -> &mut TaskSettings {
        self.settings.get_or_insert_with(Box::default)
    }
}

impl<T> fmt::Debug for Task<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("name", &self.name)
            .field("tag", &self.tag)
            .field("dependencies", &self.dependencies.as_slice())
            .finish_non_exhaustive()
    }
}

/// How many dependencies a task under construction holds without an
/// allocation of its own.
const INLINE_DEPENDENCIES: usize = 4;

/// The dependencies of a task under construction. Most tasks have a few,
/// which are stored inline so that building a task allocates nothing for
/// them (an allocation, its growth and its free were a sixth of the cost of
/// building `backward_dag` of BENCH-SHAPES.md, 0–4 dependencies per task).
#[derive(Debug)]
pub(crate) enum Dependencies {
    None,
    /// The first `len` of `refs`; the rest repeat the first.
    Few {
        len: u8,
        refs: [TaskRef; INLINE_DEPENDENCIES],
    },
    Many(Vec<TaskRef>),
}

impl Dependencies {
    fn push(&mut self, dependency: TaskRef) {
        match self {
            Dependencies::None => {
                *self = Dependencies::Few {
                    len: 1,
                    refs: [dependency; INLINE_DEPENDENCIES],
                };
            }
            Dependencies::Few { len, refs } => match refs.get_mut(usize::from(*len)) {
                Some(free) => {
                    *free = dependency;
                    *len += 1;
                }
                None => {
                    let mut all = Vec::with_capacity(2 * INLINE_DEPENDENCIES);
                    all.extend_from_slice(refs);
                    all.push(dependency);
                    *self = Dependencies::Many(all);
                }
            },
            Dependencies::Many(all) => all.push(dependency),
        }
    }

    pub(crate) fn as_slice(&self) -> &[TaskRef] {
        match self {
            Dependencies::None => &[],
            Dependencies::Few { len, refs } => &refs[..usize::from(*len)],
            Dependencies::Many(all) => all,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Dependencies, INLINE_DEPENDENCIES};
    use crate::graph::handle::{GraphId, TaskRef};

    #[test]
    fn dependencies_keep_their_order_inline_and_beyond() {
        let graph = GraphId::fresh();
        let refs: Vec<TaskRef> = (0..3 * INLINE_DEPENDENCIES as u32)
            .map(|index| TaskRef { graph, index })
            .collect();
        let mut dependencies = Dependencies::None;
        for (count, &dependency) in refs.iter().enumerate() {
            dependencies.push(dependency);
            assert_eq!(dependencies.as_slice(), &refs[..=count]);
            let inline = matches!(dependencies, Dependencies::Few { .. });
            assert_eq!(inline, count < INLINE_DEPENDENCIES, "after {count}");
        }
    }
}
