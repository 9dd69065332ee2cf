//! [`Graph`]: building a graph of tasks, and reading its outputs after a run.
//!
//! A graph owns its tasks in contiguous storage addressed by index: their
//! names and bodies here, and in a [`TaskTable`] their edges and the words a
//! run counts pending dependencies in. Both are ready to run as they are
//! built: there is no compile step between building and running. A run
//! allocates one outcome byte per task (which becomes its report) and
//! nothing else in proportion to the graph.

pub(crate) mod arena;
pub(crate) mod body;
mod cycle;
mod dot;
pub(crate) mod handle;
pub(crate) mod hubs;
pub(crate) mod name;
pub(crate) mod table;
pub(crate) mod tag;
pub(crate) mod task;

use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;

use crate::graph::arena::BodyArena;
use crate::graph::body::RawBody;
use crate::graph::cycle::tasks_on_cycles;
use crate::graph::handle::{GraphId, TaskId, TaskRef};
use crate::graph::hubs::HubIndex;
use crate::graph::name::Name;
use crate::graph::table::{MAX_TAGS, TaskTable};
use crate::graph::tag::Tag;
use crate::graph::task::Task;
use crate::results::error::GraphError;
use crate::runtime::state::MAX_EDGES;
use crate::steer::settings::Steering;
use crate::sync::UnsafeCell;

/// A graph of tasks with dependencies, run by an [`Executor`](crate::Executor).
///
/// Build it with [`add`](Graph::add) and [`precede`](Graph::precede); after a
/// run, read outputs with [`output`](Graph::output) or move them out with
/// [`take_output`](Graph::take_output). A graph can be run again: every run
/// calls the task bodies anew and replaces their outputs.
///
/// `'env` is the lifetime of what the task bodies borrow: like the threads
/// of [`std::thread::scope`], tasks may borrow the caller's data, because
/// [`Executor::run`](crate::Executor::run) returns only after every task has
/// finished. Data a body borrows must outlive the graph (declare it first),
/// and a graph given to [`Executor::submit`](crate::Executor::submit), which
/// outlives its caller's frame, borrows nothing (`Graph<'static>`).
///
/// ```
/// use taskflow_engine::{Executor, Graph, Task};
///
/// let words = vec!["build", "tools", "need", "graphs"];
/// let mut graph = Graph::new();
/// let count = graph.add(Task::new("count", |_| Ok(words.len())));
/// let longest = graph.add(Task::new("longest", |_| {
///     Ok(words.iter().map(|word| word.len()).max().unwrap_or(0))
/// }));
/// let summary = graph.add(
///     Task::new("summary", move |cx| Ok(format!("{} words, longest {}", cx.input(count)?, cx.input(longest)?)))
///         .after(count)
///         .after(longest),
/// );
/// assert!(Executor::new().run(&mut graph)?.is_success());
/// assert_eq!(graph.take_output(summary).as_deref(), Some("4 words, longest 6"));
/// # Ok::<(), taskflow_engine::GraphError>(())
/// ```
pub struct Graph<'env> {
    id: GraphId,
    /// Each task's name, apart from the bodies: a run reads names only to
    /// report failures, so they stay out of the cache lines it walks.
    names: Vec<Name>,
    /// Each task's type-erased body. Written only by the one worker that
    /// runs the task, or through `&mut Graph`; read by dependents after the
    /// task finished. The bodies live in `arena`.
    bodies: Vec<Body>,
    arena: BodyArena,
    /// The distinct tags of this graph's tasks, in order of first use.
    tags: Vec<Tag>,
    /// The index of [`Tag::DEFAULT`] in `tags`, once a task without a tag
    /// was added.
    default_tag: Option<u16>,
    table: TaskTable,
    /// Per tag, a range of task indices that holds every task of the tag
    /// that was added without dependencies (and so every source, and maybe
    /// tasks that gained dependencies since).
    source_bounds: Vec<Range<u32>>,
    /// Whether every edge goes from a lower to a higher index, which makes
    /// the graph acyclic without a check.
    all_forward: bool,
    /// Whether a cycle check passed since the last `precede`.
    checked_acyclic: bool,
    /// Whether a task named a dependency of another graph.
    has_foreign_dependency: bool,
    /// Whether more tasks or edges were added than the engine can count.
    too_large: bool,
    /// The tasks' priorities, weights and limits, in side vectors that
    /// stay empty while no task has one (see [`crate::steer::settings`]).
    steering: Steering,
    /// The data the bodies may borrow.
    _env: PhantomData<&'env ()>,
}

/// One task's type-erased body, behind the cell that marks where runs write
/// and read it (for loom, which checks those accesses).
pub(crate) type Body = UnsafeCell<RawBody>;

/// What a run borrows from a graph.
pub(crate) struct GraphView<'g> {
    pub(crate) id: GraphId,
    pub(crate) names: &'g [Name],
    pub(crate) bodies: &'g [Body],
    pub(crate) tags: &'g [Tag],
    pub(crate) table: &'g TaskTable,
    pub(crate) source_bounds: &'g [Range<u32>],
    /// The sorted successors of the graph's hubs, if it has any (see
    /// [`crate::graph::hubs`]).
    pub(crate) predecessors: Option<&'g HubIndex>,
    pub(crate) steering: &'g Steering,
    /// Whether every edge goes from a lower to a higher index, so that index
    /// order is a topological order.
    pub(crate) in_index_order: bool,
}

impl<'env> Graph<'env> {
    /// An empty graph.
    #[must_use]
    pub fn new() -> Self {
        Graph {
            id: GraphId::fresh(),
            names: Vec::new(),
            bodies: Vec::new(),
            arena: BodyArena::default(),
            tags: Vec::new(),
            default_tag: None,
            table: TaskTable::default(),
            source_bounds: Vec::new(),
            all_forward: true,
            checked_acyclic: false,
            has_foreign_dependency: false,
            too_large: false,
            steering: Steering::default(),
            _env: PhantomData,
        }
    }

    /// Adds a task and returns its handle.
    ///
    /// Dependencies given with [`Task::after`] must be tasks of this graph;
    /// one that is not makes [`Executor::run`](crate::Executor::run) return
    /// [`GraphError::ForeignTask`]. `add` itself never fails.
    ///
    /// A graph that refused a task or an edge for size (more than
    /// `u32::MAX - 1` tasks, 65,536 tags or `2^31 - 1` edges) accepts
    /// nothing more, whatever the task: `add` drops it and returns a
    /// placeholder handle that names no task, [`precede`](Graph::precede)
    /// refuses every edge and [`Executor::run`](crate::Executor::run)
    /// returns [`GraphError::TooLarge`]. What the graph held before stays
    /// readable.
    pub fn add<T: Send + Sync + 'static>(&mut self, task: Task<'env, T>) -> TaskId<T> {
        let Task {
            name,
            body,
            tag,
            dependencies,
            settings,
            ..
        } = task;
        let index = match u32::try_from(self.names.len()) {
            // At most `u32::MAX - 1` tasks, so that no range of sources is
            // as long as `job::IN_ORDER`.
            Ok(index) if index < u32::MAX - 1 && !self.too_large => index,
            _ => return self.refuse(),
        };
        let Some(tag) = self.tag_index(tag) else {
            return self.refuse();
        };
        self.names.push(Name::new(name));
        self.bodies
            .push(UnsafeCell::new(body.into_arena(&mut self.arena)));
        self.table.add_task(tag);
        if let Some(settings) = settings {
            self.steering.record(index, *settings);
        }
        for dependency in dependencies.as_slice() {
            if dependency.graph != self.id {
                self.has_foreign_dependency = true;
            } else {
                // A task added earlier (placeholders exist only once the
                // graph refuses every task): the edge points forward and
                // cannot close a cycle.
                debug_assert!(dependency.index < index, "a placeholder as a dependency");
                self.add_edge(dependency.index, index);
            }
        }
        if dependencies.as_slice().is_empty() {
            let bounds = &mut self.source_bounds[tag as usize];
            if bounds.start == bounds.end {
                bounds.start = index;
            }
            bounds.end = index + 1;
        }
        TaskId::new(TaskRef {
            graph: self.id,
            index,
        })
    }

    /// Makes `after` run only after `before` has succeeded: an edge between
    /// two tasks already added, for graphs whose dependencies are known only
    /// after their tasks (otherwise [`Task::after`] is simpler). Adding the
    /// same edge twice is harmless. Cycles are accepted here and refused by
    /// [`Executor::run`](crate::Executor::run) with [`GraphError::Cycle`].
    ///
    /// ```
    /// use taskflow_engine::{Executor, Graph, Task};
    ///
    /// let mut graph = Graph::new();
    /// let link = graph.add(Task::new("link", |_| Ok("app")));
    /// let compile = graph.add(Task::new("compile", |_| Ok("main.o")));
    /// graph.precede(compile, link)?; // link runs after compile
    /// assert!(Executor::new().run(&mut graph)?.is_success());
    /// # Ok::<(), taskflow_engine::GraphError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`GraphError::ForeignTask`] for a task of another graph, and
    /// [`GraphError::TooLarge`] once the graph holds more tasks or edges than
    /// it can index; either way the graph is left unchanged.
    pub fn precede(
        &mut self,
        before: impl Into<TaskRef>,
        after: impl Into<TaskRef>,
    ) -> Result<(), GraphError> {
        let (before, after) = (before.into(), after.into());
        let from = self.own_index(before)?;
        let to = self.own_index(after)?;
        if self.too_large || self.table.edge_count() >= MAX_EDGES as usize {
            self.too_large = true;
            return Err(GraphError::TooLarge);
        }
        // Once one edge points backward, any new edge may close a cycle.
        self.all_forward &= from < to;
        self.checked_acyclic = false;
        self.add_edge(from, to);
        Ok(())
    }

    /// Removes every task, edge and tag, and keeps the memory the graph has
    /// grown, so that building it again costs no allocation and no page
    /// faults of fresh memory until it outgrows its earlier size. For a
    /// graph rebuilt for every run (a build tool's graph after its inputs
    /// changed), that is most of what building fresh memory costs (see
    /// `BENCHMARKS.md`).
    ///
    /// The bodies and their outputs are dropped. Handles of the removed
    /// tasks no longer name tasks of this graph: the graph treats them as
    /// tasks of another ([`GraphError::ForeignTask`] from `precede`, `None`
    /// from [`output`](Graph::output)), even where a new task has the same
    /// index.
    ///
    /// The destructors of bodies and outputs are user code: should one
    /// panic, the others are still dropped, the graph is left empty, and the
    /// panic goes on to the caller.
    ///
    /// ```
    /// use taskflow_engine::{Executor, Graph, GraphError, Task};
    ///
    /// let executor = Executor::new();
    /// let mut graph = Graph::new();
    /// let old = graph.add(Task::new("old", |_| Ok(1)));
    /// executor.run(&mut graph)?;
    /// graph.clear();
    /// assert!(graph.is_empty());
    /// let new = graph.add(Task::new("new", |_| Ok(2)));
    /// assert!(matches!(graph.precede(old, new), Err(GraphError::ForeignTask)));
    /// executor.run(&mut graph)?;
    /// assert_eq!((graph.output(old), graph.output(new)), (None, Some(&2)));
    /// # Ok::<(), GraphError>(())
    /// ```
    pub fn clear(&mut self) {
        // Everything but the bodies first, so that a panicking destructor
        // below leaves an empty, consistent graph.
        self.id = GraphId::fresh();
        self.names.clear();
        self.tags.clear();
        self.default_tag = None;
        self.table.clear();
        self.source_bounds.clear();
        self.steering.clear();
        self.all_forward = true;
        self.checked_acyclic = false;
        self.has_foreign_dependency = false;
        self.too_large = false;
        let mut bodies = std::mem::take(&mut self.bodies);
        drop_bodies(&mut bodies);
        // Dropped in place already: clearing only forgets them.
        bodies.clear();
        self.bodies = bodies;
        // SAFETY: every body in the arena was dropped just above, and the
        // graph kept no pointer into it (`bodies` is empty).
        unsafe { self.arena.reset() };
    }

    /// The graph's identity, which its handles carry.
    pub(crate) fn id(&self) -> GraphId {
        self.id
    }

    /// The number of tasks.
    #[must_use]
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the graph has no tasks.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The name of a task of this graph, or `None` for a task of another.
    #[must_use]
    pub fn name(&self, task: impl Into<TaskRef>) -> Option<&str> {
        let index = self.own_index(task.into()).ok()?;
        Some(self.names[index as usize].as_str())
    }

    /// The output a task produced in the latest run, or `None` when it did
    /// not succeed in that run, was never run, belongs to another graph, or
    /// its output was taken.
    #[must_use]
    pub fn output<T: 'static>(&self, task: TaskId<T>) -> Option<&T> {
        let index = self.own_index(task.task).ok()?;
        let body = self.bodies[index as usize].with(|body| {
            // SAFETY: the body lives as long as the graph, so for this
            // `&self` borrow; bodies are written only during a run, which
            // holds `&mut Graph`, so nothing writes it meanwhile.
            unsafe { (*body).get() }
        });
        body.output().downcast_ref::<Option<T>>()?.as_ref()
    }

    /// Moves a task's output out of the graph (see [`output`](Graph::output)
    /// for when there is none). The task keeps no output until it runs again.
    ///
    /// ```
    /// use taskflow_engine::{Executor, Graph, Task};
    ///
    /// let mut graph = Graph::new();
    /// let text = graph.add(Task::new("text", |_| Ok(String::from("built"))));
    /// assert!(Executor::new().run(&mut graph)?.is_success());
    /// let owned: String = graph.take_output(text).expect("the task succeeded");
    /// assert_eq!(owned, "built");
    /// assert_eq!(graph.output(text), None, "taken");
    /// # Ok::<(), taskflow_engine::GraphError>(())
    /// ```
    pub fn take_output<T: 'static>(&mut self, task: TaskId<T>) -> Option<T> {
        let index = self.own_index(task.task).ok()?;
        // SAFETY: `&mut self` excludes every other access to the body, which
        // lives as long as the graph.
        let body = unsafe { self.bodies[index as usize].get_mut().get_mut() };
        body.output_mut().downcast_mut::<Option<T>>()?.take()
    }

    /// Checks that the graph can run and lends out what a run needs. Only a
    /// graph with a backward edge is checked for cycles, once per change.
    pub(crate) fn prepare(&mut self) -> Result<GraphView<'_>, GraphError> {
        if self.has_foreign_dependency {
            return Err(GraphError::ForeignTask);
        }
        if self.too_large {
            return Err(GraphError::TooLarge);
        }
        self.table.finish_edges();
        if !self.all_forward && !self.checked_acyclic {
            let on_cycle = tasks_on_cycles(&self.table);
            if !on_cycle.is_empty() {
                return Err(GraphError::Cycle {
                    tasks: on_cycle
                        .iter()
                        .map(|&task| self.names[task as usize].as_str().to_owned())
                        .collect(),
                });
            }
            self.checked_acyclic = true;
        }
        Ok(GraphView {
            id: self.id,
            names: &self.names,
            bodies: &self.bodies,
            tags: &self.tags,
            table: &self.table,
            source_bounds: &self.source_bounds,
            predecessors: self.table.hub_index(),
            steering: &self.steering,
            in_index_order: self.all_forward,
        })
    }

    /// The tasks' names, the tag table and the task table, for code outside
    /// this module that reads the graph's structure ([`crate::graph::dot`]).
    pub(crate) fn structure(&self) -> (&[Name], &[Tag], &TaskTable) {
        (&self.names, &self.tags, &self.table)
    }

    /// Marks the graph too large, which it stays (see [`Graph::add`]), and
    /// returns the placeholder handle of a refused task.
    fn refuse<T>(&mut self) -> TaskId<T> {
        self.too_large = true;
        TaskId::new(TaskRef {
            graph: self.id,
            index: u32::MAX,
        })
    }

    /// Adds the edge `from -> to` between tasks of this graph, or marks the
    /// graph too large if the counts would overflow.
    fn add_edge(&mut self, from: u32, to: u32) {
        if self.table.edge_count() >= MAX_EDGES as usize {
            self.too_large = true;
            return;
        }
        self.table.add_edge(from, to);
    }

    fn own_index(&self, task: TaskRef) -> Result<u32, GraphError> {
        if task.graph != self.id {
            return Err(GraphError::ForeignTask);
        }
        if task.index as usize >= self.names.len() {
            // Only the placeholder handle of a task refused for size.
            return Err(GraphError::TooLarge);
        }
        Ok(task.index)
    }

    /// The index of `tag` in this graph's tag table, adding it if new, or
    /// `None` if the table is full. Tags are few, so a linear scan beats
    /// hashing; untagged tasks skip even that.
    fn tag_index(&mut self, tag: Option<Tag>) -> Option<u16> {
        let known = match &tag {
            None => self.default_tag,
            Some(tag) => self
                .tags
                .iter()
                .rposition(|known| known == tag)
                .map(|index| index as u16),
        };
        if known.is_some() {
            return known;
        }
        if self.tags.len() == MAX_TAGS {
            return None;
        }
        let index = self.tags.len() as u16;
        let tag = tag.unwrap_or(Tag::DEFAULT);
        if tag == Tag::DEFAULT {
            self.default_tag = Some(index);
        }
        self.tags.push(tag);
        self.source_bounds.push(0..0);
        Some(index)
    }
}

impl Drop for Graph<'_> {
    /// Drops every body and output. Their destructors are user code: should
    /// one panic, the rest are still dropped, and the panic then goes on to
    /// the caller, as from a `Vec` (and as there, a second panic during that
    /// unwinding aborts the process).
    fn drop(&mut self) {
        drop_bodies(&mut self.bodies);
    }
}

/// Drops every body in `bodies`, all alive, which the caller never uses
/// again (it forgets or frees them). Should a destructor panic, the rest are
/// still dropped (see [`Graph`]'s `Drop`).
fn drop_bodies(bodies: &mut [Body]) {
    let mut rest = UndroppedBodies(bodies.iter_mut());
    for body in rest.0.by_ref() {
        // SAFETY: each body is alive until here, where the graph, its only
        // owner, drops it once; the caller never uses it again.
        unsafe { body.get_mut().drop_in_place() };
    }
}

/// The bodies a dropping graph has not reached yet. If dropping one panics,
/// this guard drops the others while the panic unwinds.
struct UndroppedBodies<'a>(std::slice::IterMut<'a, Body>);

impl Drop for UndroppedBodies<'_> {
    fn drop(&mut self) {
        for body in &mut self.0 {
            // SAFETY: as in `Graph::drop`: the iterator yields each body
            // once, and only those that `Graph::drop` has not dropped.
            unsafe { body.get_mut().drop_in_place() };
        }
    }
}

impl Default for Graph<'_> {
    fn default() -> Self {
        Graph::new()
    }
}

impl fmt::Debug for Graph<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Graph")
            .field("tasks", &self.names.len())
            .field("tags", &self.tags)
            .field("edges", &self.table.edge_count())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
