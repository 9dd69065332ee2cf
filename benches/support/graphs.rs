//! Taskflow graphs built from a [`Shape`] the way a user would build them.

use taskflow_engine::{Context, Error, Executor, Graph, Task, TaskId};

use super::bodies::Body;
use super::shapes::{EdgeStyle, Shape};

/// The closure a taskflow task runs for `body`. Its captures are exactly
/// `body` (`size_of::<B>()` bytes: 8 for the empty body), which is what the
/// memory measurement subtracts per task.
pub(crate) fn task_closure<B: Body>(
    body: B,
) -> impl FnMut(&Context<'_>) -> Result<(), Error> + Send + 'static {
    move |_: &Context<'_>| {
        body.run();
        Ok(())
    }
}

/// Builds `shape` as a taskflow graph whose task `i` runs `body(i)`.
///
/// Each task gets a literal name (no allocation) and its tag, if the shape
/// has tags. Edges are declared the natural way for the shape (see
/// [`EdgeStyle`]): `Task::after` with the handles of already added
/// predecessors for chains, trees, grids and the pipeline; for the random DAG
/// and the level graph, whose successors are drawn per node, all tasks are
/// added first and the edges declared with `Graph::precede`.
pub(crate) fn taskflow_graph<B: Body>(shape: &Shape, body: impl Fn(usize) -> B) -> Graph<'static> {
    taskflow_graph_with_copies(shape, body, 1)
}

/// [`taskflow_graph`] with every edge declared `copies` times (taskflow keeps
/// duplicate edges), which the memory measurement uses to tell the cost of
/// an edge from the cost of a task.
pub(crate) fn taskflow_graph_with_copies<B: Body>(
    shape: &Shape,
    body: impl Fn(usize) -> B,
    copies: usize,
) -> Graph<'static> {
    let mut graph = Graph::new();
    build_into(&mut graph, shape, body, copies);
    graph
}

/// [`taskflow_graph`] into `graph`, which [`Graph::clear`] emptied, so that
/// the build reuses the memory the graph grew before.
pub(crate) fn taskflow_rebuild<B: Body>(
    graph: &mut Graph<'static>,
    shape: &Shape,
    body: impl Fn(usize) -> B,
) {
    assert!(graph.is_empty(), "a cleared graph");
    build_into(graph, shape, body, 1);
}

fn build_into<B: Body>(
    graph: &mut Graph<'static>,
    shape: &Shape,
    body: impl Fn(usize) -> B,
    copies: usize,
) {
    let task = |index: usize| {
        let task = Task::new("task", task_closure(body(index)));
        match shape.tag(index) {
            Some(tag) => task.tag(tag),
            None => task,
        }
    };
    match shape.style {
        EdgeStyle::After => {
            let mut ids: Vec<TaskId<()>> = Vec::with_capacity(shape.tasks);
            for index in 0..shape.tasks {
                let predecessors = shape.predecessors(index);
                let handles =
                    (0..copies).flat_map(|_| predecessors.iter().map(|&p| ids[p as usize]));
                let task = task(index).after_all(handles);
                ids.push(graph.add(task));
            }
        }
        EdgeStyle::Precede => {
            let ids: Vec<TaskId<()>> = (0..shape.tasks)
                .map(|index| graph.add(task(index)))
                .collect();
            for (index, &before) in ids.iter().enumerate() {
                for &successor in shape.successors(index) {
                    for _ in 0..copies {
                        graph
                            .precede(before, ids[successor as usize])
                            .expect("both tasks belong to this graph");
                    }
                }
            }
        }
    }
}

/// An executor with `workers` workers per tag whose pools for `shape`'s tags
/// are already started, so that no measured run pays for spawning threads.
pub(crate) fn taskflow_executor(shape: &Shape, workers: usize) -> Executor {
    let executor = Executor::builder()
        .workers_per_tag(workers)
        .build()
        .expect("an executor starts");
    let mut warm_up = Graph::new();
    for tag in shape.tags() {
        let task = Task::new("warm-up", |_: &Context<'_>| Ok(()));
        warm_up.add(match tag {
            Some(tag) => task.tag(*tag),
            None => task,
        });
    }
    let report = executor.run(&mut warm_up).expect("the warm-up graph runs");
    assert!(report.is_success());
    executor
}
