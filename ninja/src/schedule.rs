//! The scheduler glue: the plan's edges as one engine task each, on one
//! pool of `-j` workers, with ninja's pools as engine limits and the
//! critical path steering which ready edge starts first. This is the one
//! file that knows the engine's API.
//!
//! - **Pools.** Every command runs on the engine's default tag, which has
//!   `-j` workers: that is the `-j` bound, across pools. A pool of depth d
//!   below `-j` is a [`Limit`] of d permits that each of its edges holds
//!   while it runs; `console` is a limit of 1 (its command also gets the
//!   terminal, see `command`). An edge waiting for its pool's permit holds
//!   no worker, so the other pools' edges go on. A pool of depth 0, or of
//!   `-j` or more, needs no limit. The jobserver tokens (see `tokens`) are
//!   taken on top, for the makes around and under the runner.
//! - **Critical path.** Each edge weighs its last duration from the build
//!   log (1 ms if unknown, where ninja weighs every edge 1; a phony edge 0,
//!   as in ninja), and the run is steered by the critical path
//!   (`RunOptions::critical_path`): a ready edge with the heaviest chain
//!   after it starts first, ties in plan order.
//! - **Observers.** `-d trace` is the engine's `ChromeTrace`, given to the
//!   run through the command filter of `trace`.
//! - **`-k N`.** The run keeps going (`FailurePolicy::KeepGoing`: a failed
//!   edge's dependents are skipped, all else runs) and the task that records
//!   the N-th failure cancels the run's token (see `work`).

use std::sync::Arc;

use taskflow_engine::observe::Observer;
use taskflow_engine::{
    Executor, FailurePolicy, Graph as TaskGraph, Limit, RunOptions, Task, TaskRef,
};

use crate::graph::DEFAULT_POOL;
use crate::work::Build;

/// Each pool's limit (by pool id), where its depth can bind under `jobs`.
fn pool_limits(build: &Build<'_>, jobs: usize) -> Vec<Option<Limit>> {
    build
        .graph
        .pools
        .iter()
        .enumerate()
        .map(|(id, pool)| {
            (id != DEFAULT_POOL && pool.depth > 0 && pool.depth < jobs)
                .then(|| Limit::new(pool.depth))
        })
        .collect()
}

/// Each edge's weight: its last duration in ms from the build log (1 when
/// unknown or under 1 ms), 0 for an edge that runs no command.
fn weights(build: &Build<'_>) -> Vec<u64> {
    let graph = build.graph;
    let log = build
        .session
        .build_log
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    graph
        .edges
        .iter()
        .map(|e| match e.command {
            Some(_) => log
                .get(graph.path(e.outs[0]))
                .map_or(1, |entry| u64::from(entry.duration_ms()).max(1)),
            None => 0,
        })
        .collect()
}

/// Runs the plan's edges on an engine; returns Err for a graph the engine
/// refuses (which the dirty check's cycle detection rules out).
pub fn run(build: &Build<'_>) -> Result<(), String> {
    let graph = build.graph;
    let jobs = build.session.config.parallelism.max(1);
    let executor = Executor::builder()
        .workers_per_tag(jobs)
        .build()
        .map_err(|e| e.to_string())?;
    let limits = pool_limits(build, jobs);
    let weights = weights(build);

    let mut tasks = TaskGraph::new();
    let mut refs: Vec<Option<TaskRef>> = vec![None; graph.edges.len()];
    // In plan order, inputs before what needs them: every engine edge
    // points forward, which the engine's ranking pass likes best.
    for &edge in &build.plan.order {
        let e = &graph.edges[edge];
        // The name the trace shows: what the status line shows.
        let name = if e.description.is_empty() {
            graph.path(e.outs[0])
        } else {
            &e.description
        };
        let mut task = Task::new(
            name.to_string(),
            move |cx: &taskflow_engine::Context<'_>| build.run_edge(edge, cx.task()),
        )
        .weight(weights[edge]);
        if let Some(limit) = &limits[e.pool] {
            task = task.limit(limit);
        }
        refs[edge] = Some(tasks.add(task).task_ref());
    }
    for &edge in &build.plan.order {
        let Some(after) = refs[edge] else { continue };
        for dependency in build.dependencies(edge) {
            if let Some(before) = refs[dependency] {
                tasks.precede(before, after).map_err(|e| e.to_string())?;
            }
        }
    }
    let mut options = RunOptions::new()
        .policy(FailurePolicy::KeepGoing)
        .critical_path(true)
        .cancel_token(build.cancel.clone());
    if let Some(trace) = &build.trace {
        options = options.observer(Arc::clone(trace) as Arc<dyn Observer>);
    }
    let report = executor
        .run_with(&mut tasks, options)
        .map_err(|e| e.to_string())?;
    // Failures were counted and printed by the tasks; a panic is a bug of
    // ours, said loudly rather than taken for a failed command.
    for (_, name, error) in report.failures() {
        if error.is_panic() {
            return Err(format!("internal error building {name}: {error}"));
        }
    }
    Ok(())
}
