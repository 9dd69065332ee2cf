//! The scheduler glue: the plan's edges as one engine task each, on tags
//! that stand for ninja's pools, in critical-path order. This is the one
//! file that knows the engine's API, so the engine features still being
//! built (limits, priorities, observers) are swapped in here.
//!
//! - **Pools.** The default pool is the engine's default tag with `-j`
//!   workers. A pool of depth d is a tag of its own with d workers (at most
//!   `-j`); `console` is a tag of one worker. So a pool never runs more than
//!   its depth, but the pools' workers add up: the `-j` bound across pools
//!   is enforced by the jobserver tokens every command takes (see
//!   `tokens`), not by the engine. Once the engine has `Limit` permits, a
//!   pool becomes a limit on the default tag and the tokens become optional.
//! - **Critical path.** Each edge weighs its last duration from the build
//!   log (1 ms if unknown, where ninja weighs every edge 1), and its
//!   priority is its weight plus the heaviest chain of edges that wait for
//!   it. Tasks are added in descending priority and the engine starts
//!   ready sources in index order, so long chains start first; once tasks
//!   run, the engine's own order (a finished task's successors first) takes
//!   over. With `Task::priority` this becomes exact.
//! - **Observers.** `-d trace` is the engine's `ChromeTrace`, given to the
//!   run through the command filter of `trace`.
//! - **`-k N`.** The run keeps going (`FailurePolicy::KeepGoing`: a failed
//!   edge's dependents are skipped, all else runs) and the task that records
//!   the N-th failure cancels the run's token (see `work`).

use std::sync::Arc;

use taskflow_engine::observe::Observer;
use taskflow_engine::{
    Executor, FailurePolicy, Graph as TaskGraph, RunOptions, Tag, Task, TaskRef,
};

use crate::graph::{CONSOLE_POOL, DEFAULT_POOL, EdgeId};
use crate::work::Build;

/// The tag an edge of `pool` runs on.
fn tag_of(build: &Build<'_>, pool: usize) -> Tag {
    let p = &build.graph.pools[pool];
    if pool == DEFAULT_POOL || p.depth == 0 {
        Tag::DEFAULT
    } else if pool == CONSOLE_POOL {
        Tag::new("console")
    } else {
        Tag::new(format!("pool {}", p.name))
    }
}

/// Each planned edge's priority: its weight plus the heaviest chain after it.
fn critical_path(build: &Build<'_>, weight: impl Fn(EdgeId) -> u64) -> Vec<u64> {
    let edges = build.graph.edges.len();
    let mut dependents: Vec<Vec<EdgeId>> = vec![Vec::new(); edges];
    for &edge in &build.plan.order {
        for dependency in build.dependencies(edge) {
            dependents[dependency].push(edge);
        }
    }
    let mut priority = vec![0u64; edges];
    // The plan lists inputs before what needs them: walk it backwards.
    for &edge in build.plan.order.iter().rev() {
        let after = dependents[edge]
            .iter()
            .map(|&d| priority[d])
            .max()
            .unwrap_or(0);
        priority[edge] = weight(edge) + after;
    }
    priority
}

/// Runs the plan's edges on an engine; returns Err for a graph the engine
/// refuses (which the dirty check's cycle detection rules out).
pub fn run(build: &Build<'_>) -> Result<(), String> {
    let graph = build.graph;
    let jobs = build.session.config.parallelism.max(1);
    let mut builder = Executor::builder().workers_per_tag(jobs);
    for (id, pool) in graph.pools.iter().enumerate() {
        if id != DEFAULT_POOL && pool.depth > 0 {
            builder = builder.tag_workers(tag_of(build, id), pool.depth.min(jobs));
        }
    }
    let executor = builder.build().map_err(|e| e.to_string())?;

    let durations: Vec<u64> = {
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
    };
    let priority = critical_path(build, |e| durations[e]);
    let mut order = build.plan.order.clone();
    order.sort_by_key(|&e| std::cmp::Reverse(priority[e]));

    let mut tasks = TaskGraph::new();
    let mut refs: Vec<Option<TaskRef>> = vec![None; graph.edges.len()];
    for &edge in &order {
        let e = &graph.edges[edge];
        // The name the trace shows: what the status line shows.
        let name = if e.description.is_empty() {
            graph.path(e.outs[0])
        } else {
            &e.description
        };
        let task = Task::new(
            name.to_string(),
            move |cx: &taskflow_engine::Context<'_>| build.run_edge(edge, cx.task()),
        )
        .tag(tag_of(build, e.pool));
        refs[edge] = Some(tasks.add(task).task_ref());
    }
    for &edge in &order {
        let Some(after) = refs[edge] else { continue };
        for dependency in build.dependencies(edge) {
            if let Some(before) = refs[dependency] {
                tasks.precede(before, after).map_err(|e| e.to_string())?;
            }
        }
    }
    let mut options = RunOptions::new()
        .policy(FailurePolicy::KeepGoing)
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
