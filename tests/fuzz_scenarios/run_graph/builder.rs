//! Building a copy of a scenario's graph: one task per [`TaskSpec`], on its
//! pool's tag, after its inputs, whose body is [`Shared::run_static`]; and
//! the [`Shared`] state its bodies (and the children they spawn) read.

use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, OnceLock};

use taskflow_engine::{Context, Graph, Task, TaskId};

use super::bodies::{Runner, Shared};
use super::input::Scenario;
use super::plan::Layout;

/// A task handle of a graph that no scenario runs.
pub fn foreign_task() -> TaskId<u64> {
    static FOREIGN: OnceLock<TaskId<u64>> = OnceLock::new();
    *FOREIGN.get_or_init(|| {
        let mut other = Graph::new();
        other.add(Task::new("foreign", |_: &Context<'_>| Ok(0u64)))
    })
}

/// A built copy of a scenario.
#[derive(Debug)]
pub struct Built {
    /// The graph, whose tasks' bodies are [`Shared::run_static`].
    pub graph: Graph<'static>,
    /// The graph's tasks, by index.
    pub ids: Vec<TaskId<u64>>,
    /// What the bodies share.
    pub shared: Arc<Shared>,
}

/// Builds the graph of `scenario`, to run on `runner`.
pub fn build(scenario: &Scenario, runner: Runner) -> Built {
    let shared = Arc::new(Shared {
        pools: scenario.pools.clone(),
        tasks: scenario.tasks.clone(),
        layout: Layout::new(&scenario.tasks),
        ids: OnceLock::new(),
        foreign: foreign_task(),
        runs: scenario.runs.iter().map(|_| OnceLock::new()).collect(),
        current: AtomicUsize::new(0),
        runner,
    });
    let mut graph = Graph::new();
    let mut ids: Vec<TaskId<u64>> = Vec::with_capacity(scenario.tasks.len());
    for (index, spec) in scenario.tasks.iter().enumerate() {
        let body_shared = Arc::clone(&shared);
        let task = Task::new(
            shared.layout.nodes[index].name.clone(),
            move |cx: &Context<'_>| body_shared.run_static(index, cx),
        )
        .tag(shared.tag(spec.pool))
        .after_all(spec.inputs.iter().map(|&input| ids[input]));
        ids.push(graph.add(task));
    }
    shared.ids.set(ids.clone()).expect("set once");
    Built { graph, ids, shared }
}
