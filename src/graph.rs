//! [`Graph`]: building a graph of tasks, and reading its outputs after a run.
//!
//! A graph owns its tasks in contiguous storage addressed by index. Edges are
//! collected in a flat list while the graph is built and compiled into a
//! [`Topology`] when it first runs; the compiled form is kept until the graph
//! changes. The graph also keeps the per-task counters a run needs, so a
//! re-run allocates nothing in proportion to the graph.

use std::borrow::Cow;
use std::fmt;

use crate::body::ErasedBody;
use crate::error::GraphError;
use crate::handle::{GraphId, TaskId, TaskRef};
use crate::state::MAX_EDGES;
use crate::sync::UnsafeCell;
use crate::sync::atomic::AtomicU32;
use crate::tag::Tag;
use crate::task::Task;
use crate::topology::{Edge, Topology};

/// A graph of tasks with dependencies, run by an [`Executor`](crate::Executor).
///
/// Build it with [`add`](Graph::add) and [`precede`](Graph::precede); after a
/// run, read outputs with [`output`](Graph::output) or move them out with
/// [`take_output`](Graph::take_output). A graph can be run again: every run
/// calls the task bodies anew and replaces their outputs.
pub struct Graph {
    id: GraphId,
    nodes: Vec<Node>,
    /// Each task's index into `tags`.
    node_tags: Vec<u32>,
    /// The distinct tags of this graph's tasks, in order of first use.
    tags: Vec<Tag>,
    /// Edges added since the topology was last compiled.
    edges: Vec<Edge>,
    /// The compiled form of all edges, when no edge or task was added since.
    topology: Option<Topology>,
    /// Per-task words a run counts pending dependencies and outcomes in
    /// (see [`crate::state`]), kept here so that re-runs reuse them.
    counters: Box<[AtomicU32]>,
    /// Whether every edge goes from a lower to a higher index, which makes
    /// the graph acyclic without a check.
    all_forward: bool,
    /// Whether a task named a dependency of another graph.
    has_foreign_dependency: bool,
    /// Whether more tasks were added than a `u32` can index.
    too_large: bool,
}

/// One task in the graph's storage: its name and its type-erased body.
pub(crate) struct Node {
    pub(crate) name: Cow<'static, str>,
    /// Written only by the one worker that runs the task, or through
    /// `&mut Graph`; read by dependents after the task finished.
    pub(crate) body: UnsafeCell<Box<dyn ErasedBody>>,
}

/// What a run borrows from a graph: its storage and compiled topology.
pub(crate) struct Compiled<'g> {
    pub(crate) id: GraphId,
    pub(crate) nodes: &'g [Node],
    pub(crate) node_tags: &'g [u32],
    pub(crate) tags: &'g [Tag],
    pub(crate) topology: &'g Topology,
    pub(crate) counters: &'g [AtomicU32],
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Self {
        Graph {
            id: GraphId::fresh(),
            nodes: Vec::new(),
            node_tags: Vec::new(),
            tags: Vec::new(),
            edges: Vec::new(),
            topology: None,
            counters: Box::new([]),
            all_forward: true,
            has_foreign_dependency: false,
            too_large: false,
        }
    }

    /// Adds a task and returns its handle.
    ///
    /// Dependencies given with [`Task::after`] must be tasks of this graph;
    /// one that is not makes [`Executor::run`](crate::Executor::run) return
    /// [`GraphError::ForeignTask`]. `add` itself never fails.
    pub fn add<T: Send + Sync + 'static>(&mut self, task: Task<T>) -> TaskId<T> {
        let Task {
            name,
            body,
            tag,
            dependencies,
            ..
        } = task;
        let index = match u32::try_from(self.nodes.len()) {
            Ok(index) if index < u32::MAX => index,
            _ => {
                self.too_large = true;
                return TaskId::new(TaskRef {
                    graph: self.id,
                    index: u32::MAX,
                });
            }
        };
        self.decompile();
        for dependency in dependencies.as_slice() {
            if dependency.graph == self.id {
                // A handle of this graph names a task added earlier, so the
                // edge points forward.
                self.edges.push(Edge {
                    from: dependency.index,
                    to: index,
                });
            } else {
                self.has_foreign_dependency = true;
            }
        }
        let tag = self.tag_index(tag);
        self.nodes.push(Node {
            name,
            body: UnsafeCell::new(body),
        });
        self.node_tags.push(tag);
        TaskId::new(TaskRef {
            graph: self.id,
            index,
        })
    }

    /// Makes `after` run only after `before` has succeeded.
    ///
    /// Refuses a task of another graph with [`GraphError::ForeignTask`] and
    /// leaves the graph unchanged. Cycles are accepted here and refused by
    /// [`Executor::run`](crate::Executor::run) with [`GraphError::Cycle`].
    /// Adding the same edge twice is harmless.
    pub fn precede(
        &mut self,
        before: impl Into<TaskRef>,
        after: impl Into<TaskRef>,
    ) -> Result<(), GraphError> {
        let (before, after) = (before.into(), after.into());
        let from = self.own_index(before)?;
        let to = self.own_index(after)?;
        self.decompile();
        self.all_forward &= from < to;
        self.edges.push(Edge { from, to });
        Ok(())
    }

    /// The number of tasks.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the graph has no tasks.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The name of a task of this graph, or `None` for a task of another.
    pub fn name(&self, task: impl Into<TaskRef>) -> Option<&str> {
        let index = self.own_index(task.into()).ok()?;
        Some(&self.nodes[index as usize].name)
    }

    /// The output a task produced in the latest run, or `None` when it did
    /// not succeed in that run, was never run, belongs to another graph, or
    /// its output was taken.
    pub fn output<T: 'static>(&self, task: TaskId<T>) -> Option<&T> {
        let index = self.own_index(task.task).ok()?;
        let body = self.nodes[index as usize].body.with(|body| {
            // SAFETY: bodies are written only during a run, which holds
            // `&mut Graph`; this `&self` borrow excludes one, so nothing
            // writes the body while the returned reference lives.
            unsafe { &**body }
        });
        body.output().downcast_ref::<Option<T>>()?.as_ref()
    }

    /// Moves a task's output out of the graph (see [`output`](Graph::output)
    /// for when there is none). The task keeps no output until it runs again.
    pub fn take_output<T: 'static>(&mut self, task: TaskId<T>) -> Option<T> {
        let index = self.own_index(task.task).ok()?;
        let body = self.nodes[index as usize].body.get_mut();
        body.output_mut().downcast_mut::<Option<T>>()?.take()
    }

    /// Checks that the graph can run, compiles it if it changed, and lends
    /// out what a run needs.
    pub(crate) fn compile(&mut self) -> Result<Compiled<'_>, GraphError> {
        if self.has_foreign_dependency {
            return Err(GraphError::ForeignTask);
        }
        if self.too_large || self.edges.len() > MAX_EDGES as usize {
            return Err(GraphError::TooLarge);
        }
        if self.topology.is_none() {
            let topology = Topology::build(&self.node_tags, self.tags.len(), &self.edges);
            if !self.all_forward {
                let on_cycle = topology.tasks_on_cycles();
                if !on_cycle.is_empty() {
                    return Err(GraphError::Cycle {
                        tasks: on_cycle
                            .iter()
                            .map(|&task| self.nodes[task as usize].name.to_string())
                            .collect(),
                    });
                }
            }
            self.edges = Vec::new();
            self.topology = Some(topology);
        }
        if self.counters.len() != self.nodes.len() {
            self.counters = (0..self.nodes.len()).map(|_| AtomicU32::new(0)).collect();
        }
        let topology = self.topology.as_ref().expect("compiled just above");
        Ok(Compiled {
            id: self.id,
            nodes: &self.nodes,
            node_tags: &self.node_tags,
            tags: &self.tags,
            topology,
            counters: &self.counters,
        })
    }

    /// Turns the compiled topology back into the editable edge list.
    fn decompile(&mut self) {
        if let Some(topology) = self.topology.take() {
            self.edges = topology.edges().collect();
        }
    }

    fn own_index(&self, task: TaskRef) -> Result<u32, GraphError> {
        if task.graph != self.id {
            return Err(GraphError::ForeignTask);
        }
        if task.index as usize >= self.nodes.len() {
            // Only the placeholder handle of a task refused for size.
            return Err(GraphError::TooLarge);
        }
        Ok(task.index)
    }

    /// The index of `tag` in this graph's tag table, adding it if new.
    /// Tags are few, so a linear scan beats hashing.
    fn tag_index(&mut self, tag: Option<Tag>) -> u32 {
        let tag = tag.unwrap_or(Tag::DEFAULT);
        if let Some(index) = self.tags.iter().rposition(|known| *known == tag) {
            return index as u32;
        }
        self.tags.push(tag);
        (self.tags.len() - 1) as u32
    }
}

impl Default for Graph {
    fn default() -> Self {
        Graph::new()
    }
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Graph")
            .field("tasks", &self.nodes.len())
            .field("tags", &self.tags)
            .field("compiled", &self.topology.is_some())
            .finish_non_exhaustive()
    }
}
