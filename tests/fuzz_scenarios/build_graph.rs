//! The `build_graph` scenario: random `Graph::precede` calls between existing
//! tasks, in any direction (cycles, self-edges, duplicate edges), calls with
//! a task of another graph, tasks added later (some declaring a dependency
//! of another graph), and runs in between, each checked against a model of
//! the graph kept here.
//!
//! # The oracle
//!
//! - `precede` with a task of another graph, in either position, returns
//!   `GraphError::ForeignTask` and leaves the graph unchanged; between tasks
//!   of the graph it returns `Ok`.
//! - A run of a graph with a task that declared a dependency of another graph
//!   returns `GraphError::ForeignTask`, forever after (or `Cycle`, when the
//!   graph also has a cycle: the docs do not say which error wins).
//! - Otherwise a run returns `GraphError::Cycle` exactly when the model has a
//!   cycle, naming exactly the tasks on a cycle, in the order they were
//!   added. The model's check is independent of the engine's (Kahn's
//!   algorithm and Tarjan's): task `t` lies on a cycle iff `t` can reach
//!   itself through at least one edge, by a depth-first search from each
//!   task.
//! - A refused run starts no task. Any other run succeeds whole: every task
//!   starts once, after every predecessor ended; inside, `Context::input`
//!   returns the reference value for exactly the task's predecessors in the
//!   model and refuses every other task of the graph (so an edge lost or
//!   invented while the graph was compiled, decompiled and recompiled shows),
//!   and `Graph::output` returns each task's reference value.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, OnceLock};

use arbitrary::Unstructured;
use taskflow_engine::{Context, Graph, GraphError, InputError, Outcome, RunOptions, Task, TaskId};

use crate::common::{self, Clock, byte, fold_value, in_range, seed_value};

/// Most tasks in the graph.
pub const MAX_TASKS: usize = 32;
/// Most operations in a scenario.
pub const MAX_OPS: usize = 48;

/// One step of a scenario. Task numbers are taken modulo the number of tasks
/// when the step is applied (a step on an empty graph does nothing).
#[derive(Clone, Debug)]
pub enum Op {
    /// `precede(a, b)`: `b` runs after `a`.
    Precede(usize, usize),
    /// `precede(foreign task, b)`: refused.
    PrecedeFromForeign(usize, usize),
    /// `precede(a, foreign task)`: refused.
    PrecedeToForeign(usize, usize),
    /// Adds a task with these dependencies (taken modulo the current count)
    /// and, if set, a dependency on a task of another graph.
    Add {
        /// Dependencies among the graph's tasks.
        after: Vec<usize>,
        /// Whether it also depends on a task of another graph.
        foreign: bool,
    },
    /// Runs the graph and checks the result.
    Run,
}

/// A whole `build_graph` scenario. A final run always follows the steps.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Tasks added, without dependencies, before the first step.
    pub initial_tasks: usize,
    /// Tasks of the other graph.
    pub foreign_tasks: usize,
    /// The steps.
    pub ops: Vec<Op>,
}

/// Decodes a scenario from fuzzer bytes. Never fails.
pub fn decode(data: &[u8]) -> Scenario {
    let mut u = Unstructured::new(data);
    let u = &mut u;
    let initial_tasks = in_range(u, 0, 12);
    let foreign_tasks = in_range(u, 1, 2);
    let ops = (0..in_range(u, 0, MAX_OPS))
        .map(|_| match byte(u) % 16 {
            0..=9 => Op::Precede(byte(u).into(), byte(u).into()),
            10 => Op::PrecedeFromForeign(byte(u).into(), byte(u).into()),
            11 => Op::PrecedeToForeign(byte(u).into(), byte(u).into()),
            12 | 13 => Op::Add {
                after: (0..in_range(u, 0, 3)).map(|_| byte(u).into()).collect(),
                foreign: byte(u) < 16,
            },
            _ => Op::Run,
        })
        .collect();
    Scenario {
        initial_tasks,
        foreign_tasks,
        ops,
    }
}

/// The model's answer: `Some(tasks on a cycle)` (empty when acyclic).
/// Task `t` lies on a cycle iff a search along at least one edge from `t`
/// gets back to `t`.
pub fn tasks_on_cycles(task_count: usize, edges: &[(usize, usize)]) -> Vec<usize> {
    let mut successors = vec![Vec::new(); task_count];
    for &(from, to) in edges {
        successors[from].push(to);
    }
    (0..task_count)
        .filter(|&task| {
            let mut seen = vec![false; task_count];
            let mut stack: Vec<usize> = successors[task].clone();
            while let Some(next) = stack.pop() {
                if next == task {
                    return true;
                }
                if !std::mem::replace(&mut seen[next], true) {
                    stack.extend(&successors[next]);
                }
            }
            false
        })
        .collect()
}

fn task_name(index: usize) -> String {
    format!("b{index}")
}

/// What one run lends its task bodies.
#[derive(Debug)]
struct RunState {
    clock: Clock,
    ids: Vec<TaskId<u64>>,
    /// Each task's predecessors in the model, sorted, without duplicates.
    predecessors: Vec<Vec<usize>>,
    /// Each task's reference value (the graph is acyclic when this is used).
    values: Vec<u64>,
    starts: Vec<AtomicU32>,
    start: Vec<AtomicU64>,
    end: Vec<AtomicU64>,
    violations: Mutex<Vec<String>>,
}

impl RunState {
    fn violation(&self, message: String) {
        self.violations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(message);
    }
}

#[derive(Debug)]
struct Shared {
    foreign: TaskId<u64>,
    runs: Vec<OnceLock<RunState>>,
    current: AtomicUsize,
}

impl Shared {
    fn body(&self, index: usize, cx: &Context<'_>) -> Result<u64, taskflow_engine::Error> {
        let Some(run) = self.runs[self.current.load(SeqCst)].get() else {
            return Err("the scenario did not set up this run".into());
        };
        let start = run.clock.tick();
        run.starts[index].fetch_add(1, SeqCst);
        run.start[index].store(start, SeqCst);
        let mut value = seed_value(index, 0xb17d);
        let predecessors = &run.predecessors[index];
        for (other, &id) in run.ids.iter().enumerate() {
            let result = cx.input(id);
            if predecessors.binary_search(&other).is_ok() {
                let end = run.end[other].load(SeqCst);
                if end == 0 || end > start {
                    run.violation(format!(
                        "b{index}: started (event {start}) before its predecessor b{other} ended (event {end})"
                    ));
                }
                match result {
                    Ok(&input) if input == run.values[other] => value = fold_value(value, input),
                    Ok(&input) => run.violation(format!(
                        "b{index}: input b{other} is {input:#x}, expected {:#x}",
                        run.values[other]
                    )),
                    Err(error) => {
                        run.violation(format!(
                            "b{index}: input of predecessor b{other} refused: {error}"
                        ));
                    }
                }
            } else {
                let expected = InputError::NotADependency {
                    reader: task_name(index).into(),
                    dependency: task_name(other).into(),
                };
                let refused_right = match &result {
                    Err(error) => error.downcast_ref::<InputError>() == Some(&expected),
                    Ok(_) => false,
                };
                if !refused_right {
                    run.violation(format!(
                        "b{index}: reading b{other}, not a predecessor, gave {result:?}"
                    ));
                }
            }
        }
        let foreign = cx.input(self.foreign);
        let expected = InputError::ForeignTask {
            reader: task_name(index).into(),
        };
        if !foreign
            .as_ref()
            .is_err_and(|error| error.downcast_ref::<InputError>() == Some(&expected))
        {
            run.violation(format!("b{index}: reading a foreign task gave {foreign:?}"));
        }
        run.end[index].store(run.clock.tick(), SeqCst);
        Ok(value)
    }
}

/// Decodes `data` and checks its scenario: `Err` describes the scenario and
/// every violation found.
pub fn check_bytes(data: &[u8]) -> Result<(), String> {
    common::silence_intentional_panics();
    let scenario = decode(data);
    let _watchdog = common::watch(format!("build_graph input of {} bytes", data.len()));
    check(&scenario)
        .map_err(|violations| common::failure_message("build_graph", &scenario, violations))
}

/// The model of the graph under test.
struct Model {
    tasks: usize,
    edges: Vec<(usize, usize)>,
    foreign_dependency: bool,
}

/// Applies the scenario's steps, checking each, then runs once more.
pub fn check(scenario: &Scenario) -> Result<(), Vec<String>> {
    let runs = scenario
        .ops
        .iter()
        .filter(|op| matches!(op, Op::Run))
        .count()
        + 1;
    let mut other = Graph::new();
    let foreign: Vec<TaskId<u64>> = (0..scenario.foreign_tasks)
        .map(|index| {
            other.add(Task::new(format!("other{index}"), |_: &Context<'_>| {
                Ok(7u64)
            }))
        })
        .collect();
    let shared = Arc::new(Shared {
        foreign: foreign[0],
        runs: (0..runs).map(|_| OnceLock::new()).collect(),
        current: AtomicUsize::new(0),
    });
    let mut graph = Graph::new();
    let mut ids: Vec<TaskId<u64>> = Vec::new();
    let mut model = Model {
        tasks: 0,
        edges: Vec::new(),
        foreign_dependency: false,
    };
    let mut violations = Vec::new();
    let add = |graph: &mut Graph,
               ids: &mut Vec<TaskId<u64>>,
               model: &mut Model,
               after: &[usize],
               foreign_after: Option<TaskId<u64>>| {
        let index = ids.len();
        let body_shared = Arc::clone(&shared);
        let mut task = Task::new(task_name(index), move |cx: &Context<'_>| {
            body_shared.body(index, cx)
        })
        .tag(common::BUILD_TAGS[index % common::BUILD_TAGS.len()].0);
        for &dependency in after {
            task = task.after(ids[dependency]);
            model.edges.push((dependency, index));
        }
        if let Some(foreign) = foreign_after {
            task = task.after(foreign);
            model.foreign_dependency = true;
        }
        ids.push(graph.add(task));
        model.tasks += 1;
    };
    for _ in 0..scenario.initial_tasks {
        add(&mut graph, &mut ids, &mut model, &[], None);
    }
    let mut run = 0;
    for (step, op) in scenario
        .ops
        .iter()
        .chain(std::iter::once(&Op::Run))
        .enumerate()
    {
        let n = model.tasks;
        let before = violations.len();
        match op {
            Op::Precede(a, b) if n > 0 => {
                let (a, b) = (a % n, b % n);
                match graph.precede(ids[a], ids[b]) {
                    Ok(()) => model.edges.push((a, b)),
                    Err(error) => violations.push(format!("precede(b{a}, b{b}) failed: {error}")),
                }
            }
            Op::PrecedeFromForeign(f, b) if n > 0 => {
                let result = graph.precede(foreign[f % foreign.len()], ids[b % n]);
                if !matches!(result, Err(GraphError::ForeignTask)) {
                    violations.push(format!("precede(foreign, b{}) gave {result:?}", b % n));
                }
            }
            Op::PrecedeToForeign(a, f) if n > 0 => {
                let result = graph.precede(ids[a % n], foreign[f % foreign.len()]);
                if !matches!(result, Err(GraphError::ForeignTask)) {
                    violations.push(format!("precede(b{}, foreign) gave {result:?}", a % n));
                }
            }
            Op::Add {
                after,
                foreign: with_foreign,
            } if n < MAX_TASKS => {
                let after: Vec<usize> = if n == 0 {
                    Vec::new()
                } else {
                    after.iter().map(|a| a % n).collect()
                };
                let foreign_after = with_foreign.then_some(foreign[0]);
                add(&mut graph, &mut ids, &mut model, &after, foreign_after);
            }
            Op::Run => {
                run_and_check(&shared, run, &mut graph, &ids, &model, &mut violations);
                run += 1;
            }
            _ => {}
        }
        if graph.len() != model.tasks {
            violations.push(format!(
                "graph.len() is {}, the model has {}",
                graph.len(),
                model.tasks
            ));
        }
        for violation in &mut violations[before..] {
            *violation = format!("step {step} ({op:?}): {violation}");
        }
    }
    for (index, &id) in ids.iter().enumerate() {
        if graph.name(id) != Some(task_name(index).as_str()) {
            violations.push(format!("graph.name(b{index}) is {:?}", graph.name(id)));
        }
    }
    if graph.name(foreign[0]).is_some() {
        violations.push("graph.name() answered for a task of another graph".to_owned());
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

fn run_and_check(
    shared: &Shared,
    run: usize,
    graph: &mut Graph,
    ids: &[TaskId<u64>],
    model: &Model,
    violations: &mut Vec<String>,
) {
    let n = model.tasks;
    let on_cycles = tasks_on_cycles(n, &model.edges);
    let mut predecessors = vec![Vec::new(); n];
    for &(from, to) in &model.edges {
        predecessors[to].push(from);
    }
    for list in &mut predecessors {
        list.sort_unstable();
        list.dedup();
    }
    // Reference values, in an order where predecessors come first; only
    // meaningful when the model is acyclic.
    let mut values = vec![0u64; n];
    if on_cycles.is_empty() {
        let mut done = vec![false; n];
        while done.iter().any(|d| !d) {
            for task in 0..n {
                if !done[task] && predecessors[task].iter().all(|&p| done[p]) {
                    values[task] = predecessors[task]
                        .iter()
                        .fold(seed_value(task, 0xb17d), |value, &p| {
                            fold_value(value, values[p])
                        });
                    done[task] = true;
                }
            }
        }
    }
    let state = RunState {
        clock: Clock::new(),
        ids: ids.to_vec(),
        predecessors,
        values,
        starts: (0..n).map(|_| AtomicU32::new(0)).collect(),
        start: (0..n).map(|_| AtomicU64::new(0)).collect(),
        end: (0..n).map(|_| AtomicU64::new(0)).collect(),
        violations: Mutex::new(Vec::new()),
    };
    shared.runs[run]
        .set(state)
        .expect("each run is set up once");
    shared.current.store(run, SeqCst);
    let result = common::shared_executor().run_with(graph, RunOptions::new());
    let state = shared.runs[run].get().expect("set above");
    violations.extend(
        state
            .violations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .drain(..),
    );
    let started: usize = state.starts.iter().map(|s| s.load(SeqCst) as usize).sum();
    let expected_names: Vec<String> = on_cycles.iter().map(|&t| task_name(t)).collect();
    match result {
        Err(GraphError::ForeignTask) if model.foreign_dependency => {}
        // With both a foreign dependency and a cycle, either error is right:
        // the docs do not say which one wins.
        Err(GraphError::Cycle { tasks }) if !on_cycles.is_empty() => {
            if tasks != expected_names {
                violations.push(format!(
                    "Cycle names {tasks:?}, the tasks on cycles are {expected_names:?}"
                ));
            }
        }
        Ok(report) if !model.foreign_dependency && on_cycles.is_empty() => {
            if report.len() != n || report.succeeded() != n || !report.is_success() {
                violations.push(format!("not every task succeeded: {report}"));
            }
            for (index, &id) in ids.iter().enumerate() {
                if !matches!(report.outcome(id), Outcome::Succeeded) {
                    violations.push(format!("b{index}: {:?}", report.outcome(id)));
                }
                let starts = state.starts[index].load(SeqCst);
                if starts != 1 {
                    violations.push(format!("b{index}: started {starts} times"));
                }
                if graph.output(id) != Some(&state.values[index]) {
                    violations.push(format!(
                        "b{index}: output {:?}, expected {:#x}",
                        graph.output(id),
                        state.values[index]
                    ));
                }
            }
            return;
        }
        other => {
            let expected = if model.foreign_dependency && !on_cycles.is_empty() {
                format!("ForeignTask or Cycle {{ tasks: {expected_names:?} }}")
            } else if model.foreign_dependency {
                "ForeignTask".to_owned()
            } else if on_cycles.is_empty() {
                "a report".to_owned()
            } else {
                format!("Cycle {{ tasks: {expected_names:?} }}")
            };
            violations.push(format!(
                "run returned {other:?}, expected {expected} (edges {:?})",
                model.edges
            ));
        }
    }
    if started != 0 {
        violations.push(format!("a refused run started {started} task bodies"));
    }
}
