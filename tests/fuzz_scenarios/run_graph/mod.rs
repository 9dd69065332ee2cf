//! The `run_graph` scenario: a random acyclic graph of up to
//! [`input::MAX_TASKS`] tasks over two or three pools, some of whose tasks spawn
//! children (which may spawn in turn), join them, and run nested graphs on
//! the same executor; run one to three times, each run checked against a
//! serial reference executor.
//!
//! - [`input`]: decoding the static scenario: pools, runs, tasks.
//! - [`plan`]: decoding spawn plans, and the [`plan::Layout`] that numbers
//!   every task, the graph's and the spawned ones.
//! - [`oracle`]: the serial reference.
//! - [`builder`] and [`bodies`]: the graph and its bodies, which record
//!   into [`records`] what the checker needs.
//! - [`checker`] and [`visibility`]: the checks after each run.
//!
//! # The scenario
//!
//! Tasks are numbered in the order they are added, and every edge points from
//! a lower to a higher number, so the graph is acyclic. A task reads the
//! outputs of its *inputs* (declared with `Task::after`, duplicates allowed)
//! and folds them into its own `u64`; extra ordering-only edges are added
//! with `Graph::precede` before each run, so later runs recompile the graph.
//! Each task has a behaviour: succeed, yield, sleep briefly, poll
//! `is_cancelled`, cancel the run's token (and succeed), return an error, or
//! panic with a `&str`, a `String` or a non-string payload. It may also probe
//! `Context::input` with a task it does not depend on, itself, or a task of
//! another graph, which must be refused. Each run has a failure policy and no
//! token, a fresh token, or a token cancelled before the run. Some scenarios
//! run two copies of the graph at once, from two threads, on the same pools,
//! so that workers interleave tasks of different runs.
//!
//! A few tasks have a spawn *plan*, followed before their behaviour: spawn
//! a child (on any pool, naming earlier siblings and some of the parent's
//! declared dependencies, reading them all; with a behaviour and a plan of
//! its own, three generations deep), join (several times; a refused join
//! is returned, so the task fails with the `JoinError`, or ignored), run a
//! nested graph of one to three tasks on the same executor (its first task
//! may spawn and join), read a child no join covered (refused), or spawn a
//! task naming the spawner itself or a task of another graph (refused with
//! `GraphError::ForeignTask`, adding nothing).
//!
//! # The oracle
//!
//! [`oracle::reference`] runs the scenario serially without stops (see its
//! module docs for the spawn rules). Inside every body the scenario
//! records, on the run's [`Clock`](crate::common::Clock), a start and an
//! end event, an event for each spawn and for the start and end of each
//! wait, the worker and thread, whether `is_cancelled()` was true, the value
//! it returned and what each join answered; and it checks on the spot that
//! every dependency has already ended, that every input (and every joined
//! child's output) is the value its body returned, that no two bodies run
//! at once on one worker nor more than a pool's size at once on one pool (a
//! body waiting in a join or a nested run does not count: the worker helps
//! meanwhile), that the context's name and tag are right, that refused
//! reads and spawns are refused with the right error, and that each nested
//! run succeeded with the right output. After the run:
//!
//! - the report has one outcome per graph task and per spawn handle, its
//!   counts agree with them, `iter()` gives the graph's tasks by index and
//!   then the spawned ones in spawn order, `failures()` names the failed
//!   ones in that order, and it answers nothing for a task of another graph
//!   or one spawned in an earlier run; a parent's children have handles in
//!   spawn order, and each child's `Context::task` was its handle;
//! - every task started at most once, exactly when it succeeded or failed;
//!   a failed task failed with its own error or panic message, or with the
//!   `JoinError` its last join returned;
//! - outcomes follow from the dependencies' *subtrees* (the dependency and
//!   every task spawned under it): with anything in one failed or skipped, a
//!   task is skipped (so a failed child skips the siblings that name it and
//!   its parent's dependents, whose parent itself succeeded); else with
//!   anything cancelled it is cancelled; else it ran or was cancelled, and
//!   it may be cancelled only if the run was stopped: a failure under
//!   fail-fast, or the run's token cancelled (before the run, or by a task
//!   that started); a task started only after every task of its
//!   dependencies' subtrees ended and succeeded;
//! - each join refused exactly the children it covered (those spawned
//!   before it) that did not succeed or have a descendant that failed or
//!   was skipped, and returned only after every task of their subtrees
//!   that started had ended;
//! - every task that succeeded returned the reference's value, unless a
//!   value it depends on changed because a join was refused where the
//!   reference's was not (only in a stopped run); `Graph::output` is the
//!   returned value for a graph task that succeeded and `None` otherwise,
//!   including stale outputs of an earlier run;
//! - when no stop can happen (keep-going, or fail-fast where the reference
//!   has no failure, and no cancellation of the run's token), every task's
//!   existence, outcome and join answers equal the reference's exactly;
//! - nothing started after the stop was visible to it (see below); a worker
//!   is one thread, and a thread runs the tasks of one pool only;
//! - `is_cancelled()` was true only in a run that was stopped, and always
//!   right after a task cancelled its own run's token.
//!
//! # What "visible" means here, without false alarms
//!
//! A clock value alone does not prove a task started too late: a worker may
//! decide to run a task, then another thread cancels and ticks the clock, and
//! only then does the body tick its start, so "start after stop" on the clock
//! is a legal race. What is checkable is a *happens-before* chain from the
//! stop to the engine's decision to run the task, which is sequenced before
//! the body's start event. The decision of task `T` happens after:
//!
//! - the previous event of the same run on `T`'s thread (with helping, that
//!   may be an event of a body waiting lower on the same stack),
//! - the end events of every task of `T`'s dependencies' subtrees (the
//!   completion protocol's Release/Acquire hand-over, and the subtree's
//!   count), and
//! - for a spawned `T`, the event just before its parent's `spawn` call.
//!
//! Call the latest of those `pre(T)`. Events known to follow a stop are:
//!
//! - the end event of a task that cancelled the run's token (the cancel is
//!   sequenced before it);
//! - the end event of a task that saw `is_cancelled()` true (by read-read
//!   coherence, any load of the stop flags that happens after it reads true);
//! - everything the clock numbers higher than one of those (see
//!   [`Clock`](crate::common::Clock)).
//!
//! So with `s` the lowest such event, `T` must not have started when
//! `pre(T) >= s`. A token cancelled before the run is visible to every
//! decision. A failure under fail-fast is recorded by the engine *after* the
//! body's end event, so the clock cannot order it against other threads; but
//! the engine records it on the failing worker's thread before that thread
//! decides anything else, so no task of the run may start on a thread after
//! a task failed there. Anything weaker, such as "no task starts after the
//! failure on the clock", would raise false alarms.

mod bodies;
mod builder;
mod checker;
mod input;
mod oracle;
mod plan;
mod records;
mod visibility;

use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;

use taskflow_engine::{CancelToken, Executor, RunOptions, TaskId};

pub use input::{Scenario, decode};

use crate::common;
use bodies::Runner;
use input::TokenMode;
use records::RunState;

/// Decodes `data` and checks its scenario: `Err` describes the scenario and
/// every violation found.
pub fn check_bytes(data: &[u8]) -> Result<(), String> {
    common::silence_intentional_panics();
    let scenario = decode(data);
    let _watchdog = common::watch(format!(
        "run_graph input of {} bytes ({} tasks)",
        data.len(),
        scenario.tasks.len()
    ));
    check(&scenario)
        .map_err(|violations| common::failure_message("run_graph", &scenario, violations))
}

/// Runs `scenario` and checks every run (module docs).
pub fn check(scenario: &Scenario) -> Result<(), Vec<String>> {
    let fresh = scenario.fresh_executor.then(|| {
        let mut builder = Executor::builder().workers_per_tag(1);
        for (pool, &workers) in scenario.pools.iter().enumerate() {
            builder = builder.tag_workers(common::run_tag(pool, workers), workers);
        }
        Arc::new(builder.build().expect("a fresh executor starts"))
    });
    let executor = fresh
        .as_deref()
        .unwrap_or_else(|| common::shared_executor());
    let runner = || match &fresh {
        Some(fresh) => Runner::Fresh(Arc::downgrade(fresh)),
        None => Runner::Shared,
    };
    if !scenario.concurrent {
        return check_one(scenario, executor, runner());
    }
    let (first, second) = std::thread::scope(|scope| {
        let other = scope.spawn(|| check_one(scenario, executor, runner()));
        let first = check_one(scenario, executor, runner());
        let second = other
            .join()
            .unwrap_or_else(|_| Err(vec!["the concurrent copy panicked".to_owned()]));
        (first, second)
    });
    let mut violations = Vec::new();
    for (copy, result) in [("first", first), ("second", second)] {
        if let Err(found) = result {
            violations.extend(found.into_iter().map(|v| format!("{copy} copy: {v}")));
        }
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

/// Builds a copy of the scenario's graph, and runs and checks it on
/// `executor`.
fn check_one(scenario: &Scenario, executor: &Executor, runner: Runner) -> Result<(), Vec<String>> {
    let mut built = builder::build(scenario, runner);
    let shared = Arc::clone(&built.shared);
    let layout = &shared.layout;
    let mut violations = Vec::new();
    let mut dependencies: Vec<Vec<usize>> = scenario
        .tasks
        .iter()
        .map(|task| task.inputs.clone())
        .collect();
    let mut stale: Vec<TaskId<u64>> = Vec::new();
    for (position, run) in scenario.runs.iter().enumerate() {
        for &(before, after) in &run.new_edges {
            if let Err(error) = built.graph.precede(built.ids[before], built.ids[after]) {
                violations.push(format!(
                    "run {position}: precede(t{before}, t{after}) failed: {error}"
                ));
            }
            dependencies[after].push(before);
        }
        let token = CancelToken::new();
        if run.token == TokenMode::PreCancelled {
            token.cancel();
        }
        let sorted = dependencies
            .iter()
            .map(|list| {
                let mut list = list.clone();
                list.sort_unstable();
                list.dedup();
                list
            })
            .collect();
        let state = RunState::new(
            sorted,
            oracle::reference(layout, &dependencies),
            token.clone(),
            run.token != TokenMode::None,
            layout.nodes.len(),
            scenario.pools.len(),
        );
        shared.runs[position].set(state).expect("set once");
        shared.current.store(position, SeqCst);
        let mut options = RunOptions::new().policy(run.policy);
        if run.token != TokenMode::None {
            options = options.cancel_token(token);
        }
        let result = executor.run_with(&mut built.graph, options);
        let state = shared.runs[position].get().expect("set above");
        let last = position + 1 == scenario.runs.len();
        let before = violations.len();
        match result {
            Ok(report) => {
                let inputs = checker::Inputs {
                    layout,
                    run,
                    state,
                    report: &report,
                    ids: &built.ids,
                    stale: &stale,
                };
                checker::verify(&inputs, &mut built.graph, last, &mut violations);
            }
            Err(error) => violations.push(format!("run_with refused an acyclic graph: {error}")),
        }
        stale.extend(state.nodes.iter().filter_map(|record| record.handle()));
        for violation in &mut violations[before..] {
            *violation = format!("run {position}: {violation}");
        }
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}
