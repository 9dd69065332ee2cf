//! Unit tests of [`Graph`](super::Graph) that look at its private state:
//! the memory a cleared graph keeps, and what a graph that refused a task
//! for its size still accepts.

use super::*;
use crate::{Context, Task};

fn placeholder(graph: &Graph<'_>) -> TaskId<()> {
    TaskId::new(TaskRef {
        graph: graph.id,
        index: u32::MAX,
    })
}

/// A graph rebuilt after `clear` to its earlier size allocates nothing:
/// every vector, link block and arena chunk is reused.
#[test]
fn a_cleared_graph_keeps_its_memory() {
    // More than one block of links and one chunk of bodies natively;
    // under Miri, which is thousands of times slower, one of each.
    const TASKS: usize = if cfg!(miri) { 300 } else { 5_000 };
    static FLAGS: [u64; 4] = [0; 4];
    let flags = &FLAGS;
    let build = |graph: &mut Graph<'_>| {
        let mut previous = None;
        for index in 0..TASKS {
            let flag = &flags[index % 4];
            let task = Task::new("task", move |_: &Context<'_>| Ok(*flag));
            previous = Some(graph.add(match previous {
                Some(before) => task.after(before),
                None => task,
            }));
        }
    };
    let reserved = |graph: &Graph<'_>| {
        (
            graph.names.capacity(),
            graph.bodies.capacity(),
            graph.table.reserved(),
            graph.arena.chunk_count(),
        )
    };
    let mut graph = Graph::new();
    build(&mut graph);
    let grown = reserved(&graph);
    let several = usize::from(!cfg!(miri)) + 1;
    assert!(
        grown.0 >= TASKS && grown.2.1 >= several && grown.3 >= several,
        "{grown:?}"
    );
    graph.clear();
    assert_eq!(reserved(&graph), grown, "clear frees nothing");
    build(&mut graph);
    assert_eq!(reserved(&graph), grown, "the rebuild grows nothing");
    assert_eq!((graph.len(), graph.table.edge_count()), (TASKS, TASKS - 1));
}

/// The placeholder handle of a refused task names no task: nothing is
/// found for it, and no edge to it is accepted.
#[test]
fn a_refused_tasks_placeholder_names_no_task() {
    let mut graph = Graph::new();
    let kept = graph.add(Task::new("kept", |_: &Context<'_>| Ok(())));
    graph.too_large = true;
    let refused = graph.add(Task::new("refused", |_: &Context<'_>| Ok(1u8)));
    assert_eq!(refused.task, placeholder(&graph).task);
    assert_eq!(graph.name(refused), None);
    assert_eq!(graph.output(refused), None);
    assert_eq!(graph.take_output(refused), None);
    assert!(matches!(
        graph.precede(kept, refused),
        Err(GraphError::TooLarge)
    ));
    assert_eq!(graph.table.edge_count(), 0);
    assert!(matches!(graph.prepare(), Err(GraphError::TooLarge)));
}

/// A graph that refused its 65,537th tag accepts no task after it, not
/// even one of a tag it has: it is as it was when it refused.
#[test]
#[cfg_attr(
    miri,
    ignore = "65,536 tags take minutes under Miri; the test runs no unsafe code"
)]
fn a_graph_that_refused_a_tag_accepts_nothing_more() {
    let mut graph = Graph::new();
    let first = graph.add(Task::new("t0", |_: &Context<'_>| Ok(())).tag("t0"));
    for tag in 1..MAX_TAGS {
        graph.tags.push(Tag::from(format!("t{tag}")));
        graph.source_bounds.push(0..0);
    }
    let refused = graph.add(Task::new("new tag", |_: &Context<'_>| Ok(())).tag("one too many"));
    assert_eq!(refused, placeholder(&graph));
    let late = graph.add(
        Task::new("old tag", |_: &Context<'_>| Ok(()))
            .tag("t0")
            .after(first),
    );
    assert_eq!(late, placeholder(&graph), "a refused graph took a task");
    assert_eq!((graph.len(), graph.table.edge_count()), (1, 0));
    assert!(matches!(
        graph.precede(first, first),
        Err(GraphError::TooLarge)
    ));
    assert!(matches!(graph.prepare(), Err(GraphError::TooLarge)));
}

/// Once a graph is too large, `precede` changes nothing.
#[test]
fn precede_on_a_graph_too_large_adds_no_edge() {
    let mut graph = Graph::new();
    let first = graph.add(Task::new("first", |_: &Context<'_>| Ok(())));
    let second = graph.add(Task::new("second", |_: &Context<'_>| Ok(())));
    graph.too_large = true;
    assert!(matches!(
        graph.precede(second, first),
        Err(GraphError::TooLarge)
    ));
    assert_eq!(graph.table.edge_count(), 0);
    assert!(graph.all_forward, "the refused edge pointed backward");
}
