//! The `run_graph` scenario: a random acyclic graph of up to
//! [`MAX_TASKS`] tasks over two or three pools, run one to three times, each
//! run checked against a serial reference executor.
//!
//! # The scenario
//!
//! Tasks are numbered in the order they are added, and every edge points from
//! a lower to a higher number, so the graph is acyclic. A task reads the
//! outputs of its *inputs* (declared with `Task::after`, duplicates allowed)
//! and folds them into its own `u64`; extra ordering-only edges are added
//! with `Graph::precede` before each run, so later runs recompile the graph.
//! Each task has a [`Behaviour`]: succeed, yield, sleep briefly, poll
//! `is_cancelled`, cancel the run's token (and succeed), return an error, or
//! panic with a `&str`, a `String` or a non-string payload. It may also probe
//! `Context::input` with a task it does not depend on, itself, or a task of
//! another graph, which must be refused. Each run has a failure policy and no
//! token, a fresh token, or a token cancelled before the run. Some scenarios
//! run two copies of the graph at once, from two threads, on the same pools,
//! so that workers interleave tasks of different runs.
//!
//! # The oracle
//!
//! [`reference`] runs the scenario serially without stops: every task whose
//! dependencies all succeed runs, the others are skipped. Inside every body
//! the scenario records, on the run's [`Clock`], a start and an end event, the
//! worker, and whether `is_cancelled()` was true, and checks on the spot that
//! every dependency has already ended (and is one that succeeds), that inputs
//! hold the reference values, that no two tasks run at once on one worker or
//! more than a pool's size at once on one pool, and that the worker index,
//! name, tag and task index the context reports are right. After the run:
//!
//! - the report's counts add up to the number of tasks and agree with its
//!   outcomes and failure list; every task started at most once, and started
//!   exactly when it succeeded or failed; a task that failed failed with its
//!   own error or panic message, and a task that succeeded produced the
//!   reference value, which `Graph::output` returns (and `None` for every
//!   other task, including stale outputs of an earlier run);
//! - outcomes follow from the dependencies' outcomes: with a dependency
//!   failed or skipped, a task is skipped; else with one cancelled it is
//!   cancelled (its decider saw the stop that the cancelled dependency's
//!   decider saw, by coherence); else it ran or was cancelled, and it may be
//!   cancelled only if the run was stopped: a failure under fail-fast, or the
//!   run's token cancelled (before the run, or by a task that started);
//! - when no stop can happen (keep-going, or fail-fast where the reference
//!   has no failure, and no cancellation of the run's token), every outcome
//!   and output equals the reference exactly;
//! - nothing started after the stop was visible to it (see below);
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
//! - the previous event of the same run on `T`'s thread, and
//! - the end events of `T`'s dependencies (the completion protocol's
//!   Release/Acquire hand-over).
//!
//! Call the later of those `pre(T)`. Events known to follow a stop are:
//!
//! - the end event of a task that cancelled the run's token (the cancel is
//!   sequenced before it);
//! - the end event of a task that saw `is_cancelled()` true (by read-read
//!   coherence, any load of the stop flags that happens after it reads true);
//! - everything the clock numbers higher than one of those (see [`Clock`]).
//!
//! So with `s` the lowest such event, `T` must not have started when
//! `pre(T) >= s`. A token cancelled before the run is visible to every
//! decision. A failure under fail-fast is recorded by the engine *after* the
//! body's end event, so the clock cannot order it against other threads; but
//! the engine records it on the failing worker's thread before that thread
//! decides anything else, so no task of the run may start on a thread after
//! a task failed there. Anything weaker, such as "no task starts after the
//! failure on the clock", would raise false alarms.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use arbitrary::Unstructured;
use taskflow_engine::{
    CancelToken, Context, Executor, FailurePolicy, Graph, InputError, Outcome, RunOptions,
    RunReport, Task, TaskError, TaskId,
};

use crate::common::{self, Clock, FuzzPanic, byte, fold_value, in_range, seed_value};

/// Most tasks in a scenario.
pub const MAX_TASKS: usize = 64;
/// Most runs of one graph in a scenario.
pub const MAX_RUNS: usize = 3;
/// Most inputs per task.
const MAX_INPUTS: usize = 4;

/// What a task's body does besides reading its inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Returns its value.
    Succeed,
    /// Yields the thread, then returns its value.
    Yield,
    /// Sleeps this many microseconds, then returns its value.
    Sleep(u16),
    /// Yields until `is_cancelled()` or 16 times, then returns its value.
    Poll,
    /// Cancels the token of its run (a token that is not the run's when the
    /// run has none), then returns its value.
    Cancel,
    /// Returns an error.
    Fail,
    /// Panics with a `&'static str`.
    PanicStr,
    /// Panics with a `String`.
    PanicString,
    /// Panics with a payload that is not a string.
    PanicAny,
}

impl Behaviour {
    fn fails(self) -> bool {
        matches!(
            self,
            Behaviour::Fail | Behaviour::PanicStr | Behaviour::PanicString | Behaviour::PanicAny
        )
    }
}

/// A read of `Context::input` that must be refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// A task of the graph that is not a dependency in any run.
    NotADependency(usize),
    /// The task itself.
    Itself,
    /// A task of another graph.
    Foreign,
}

/// One task of a scenario.
#[derive(Clone, Debug)]
pub struct TaskSpec {
    /// Index into [`Scenario::pools`].
    pub pool: usize,
    /// Declared with `Task::after`, in this order; read and folded in this
    /// order. Each is a lower task number; duplicates are allowed.
    pub inputs: Vec<usize>,
    /// What the body does.
    pub behaviour: Behaviour,
    /// A read that must be refused, if any.
    pub probe: Option<Probe>,
    /// Makes the task's value its own.
    pub salt: u64,
}

/// The cancel token of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenMode {
    /// The run has no token; `Cancel` tasks cancel a token nobody watches.
    None,
    /// The run has a fresh token.
    Fresh,
    /// The run's token is cancelled before the run.
    PreCancelled,
}

/// One run of the graph.
#[derive(Clone, Debug)]
pub struct RunSpec {
    /// The run's failure policy.
    pub policy: FailurePolicy,
    /// The run's cancel token.
    pub token: TokenMode,
    /// Ordering-only edges `(before, after)`, `before < after`, added with
    /// `Graph::precede` before this run.
    pub new_edges: Vec<(usize, usize)>,
}

/// A whole `run_graph` scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The worker count of each pool: two or three pools of 1 to 3 workers.
    pub pools: Vec<usize>,
    /// Run on an executor of its own, started and dropped with the scenario,
    /// instead of the shared one.
    pub fresh_executor: bool,
    /// The tasks, in the order they are added.
    pub tasks: Vec<TaskSpec>,
    /// One to [`MAX_RUNS`] runs.
    pub runs: Vec<RunSpec>,
    /// Build two copies of the graph and run them at the same time, from two
    /// threads, on the same executor (each copy is checked on its own).
    pub concurrent: bool,
}

/// Decodes a scenario from fuzzer bytes. Never fails: exhausted input reads
/// as zeros.
pub fn decode(data: &[u8]) -> Scenario {
    let mut u = Unstructured::new(data);
    let u = &mut u;
    let pools: Vec<usize> = (0..in_range(u, 2, 3)).map(|_| in_range(u, 1, 3)).collect();
    let fresh_executor = u.ratio(1, 32).unwrap_or(false);
    // How often tasks fail or cancel: 0 never, 1 rarely, 2 and 3 often.
    let mood = in_range(u, 0, 3);
    let run_count = match byte(u) {
        0..=191 => 1,
        192..=243 => 2,
        _ => 3,
    };
    let mut runs: Vec<RunSpec> = (0..run_count)
        .map(|_| RunSpec {
            policy: if u.arbitrary().unwrap_or(false) {
                FailurePolicy::KeepGoing
            } else {
                FailurePolicy::FailFast
            },
            token: match byte(u) % 8 {
                0..=3 => TokenMode::None,
                4..=6 => TokenMode::Fresh,
                _ => TokenMode::PreCancelled,
            },
            new_edges: Vec::new(),
        })
        .collect();
    let count = in_range(u, 0, MAX_TASKS);
    let mut tasks: Vec<TaskSpec> = Vec::with_capacity(count);
    for index in 0..count {
        let pool = in_range(u, 0, pools.len() - 1);
        let behaviour = decode_behaviour(byte(u), byte(u), mood);
        let inputs = (0..in_range(u, 0, index.min(MAX_INPUTS)))
            .map(|_| earlier_task(byte(u), index))
            .collect();
        let probe = match byte(u) {
            0..=223 => None,
            224..=239 => Some(Probe::NotADependency(in_range(u, 0, count - 1))),
            240..=247 => Some(Probe::Itself),
            _ => Some(Probe::Foreign),
        };
        let salt = u64::from(u.arbitrary::<u16>().unwrap_or(0));
        tasks.push(TaskSpec {
            pool,
            inputs,
            behaviour,
            probe,
            salt,
        });
    }
    for (position, run) in runs.iter_mut().enumerate() {
        let most = if position == 0 { 8 } else { 3 };
        if count >= 2 {
            for _ in 0..in_range(u, 0, most) {
                let after = in_range(u, 1, count - 1);
                run.new_edges.push((earlier_task(byte(u), after), after));
            }
        }
    }
    // A probe of a task that some run makes a dependency would be allowed.
    for (index, task) in tasks.iter_mut().enumerate() {
        if let Some(Probe::NotADependency(target)) = task.probe {
            let is_dependency = task.inputs.contains(&target)
                || runs
                    .iter()
                    .any(|run| run.new_edges.contains(&(target, index)));
            if is_dependency {
                task.probe = None;
            }
        }
    }
    // Decoded last, so that inputs found before it existed keep their meaning.
    let concurrent = u.ratio(1, 4).unwrap_or(false);
    Scenario {
        pools,
        fresh_executor,
        tasks,
        runs,
        concurrent,
    }
}

/// A task before `index` (which is at least 1): mostly a close one, so that
/// chains are long, sometimes any.
fn earlier_task(choice: u8, index: usize) -> usize {
    if choice & 0x80 != 0 {
        usize::from(choice & 0x7f) % index
    } else {
        index - 1 - usize::from(choice) % index.min(4)
    }
}

fn decode_behaviour(kind: u8, detail: u8, mood: usize) -> Behaviour {
    let calm = |kind: u8| match kind % 8 {
        0..=3 => Behaviour::Succeed,
        4 | 5 => Behaviour::Yield,
        6 => Behaviour::Sleep(1 + u16::from(detail % 64)),
        _ => Behaviour::Poll,
    };
    match mood {
        0 => calm(kind),
        1 if kind < 248 => calm(kind),
        _ => match kind % 32 {
            0..=13 | 31 => Behaviour::Succeed,
            14..=18 => Behaviour::Yield,
            19 | 20 => Behaviour::Sleep(1 + u16::from(detail % 64)),
            21 | 22 => Behaviour::Poll,
            23 | 24 => Behaviour::Cancel,
            25..=27 => Behaviour::Fail,
            28 => Behaviour::PanicStr,
            29 => Behaviour::PanicString,
            _ => Behaviour::PanicAny,
        },
    }
}

/// How a task must or did fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Returned an error with this message.
    Error(String),
    /// Panicked with this message.
    Panicked(String),
    /// Panicked with a payload that is not a string, whose message is
    /// documented as `Box<dyn Any>`.
    PanickedWithoutMessage,
}

impl Failure {
    fn matches(&self, actual: &Failure) -> bool {
        match (self, actual) {
            (Failure::PanickedWithoutMessage, Failure::Panicked(message)) => {
                message == "Box<dyn Any>"
            }
            (expected, actual) => expected == actual,
        }
    }
}

/// What the serial reference says of one task, or what a run reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Succeeded with this value.
    Succeeded(u64),
    /// Failed so.
    Failed(Failure),
    /// Skipped: a dependency failed or was skipped.
    Skipped,
    /// Cancelled (never in the reference).
    Cancelled,
}

impl Verdict {
    fn value(&self) -> Option<u64> {
        match self {
            Verdict::Succeeded(value) => Some(*value),
            _ => None,
        }
    }
}

fn task_name(index: usize) -> String {
    format!("t{index}")
}

fn expected_failure(index: usize, behaviour: Behaviour) -> Option<Failure> {
    match behaviour {
        Behaviour::Fail => Some(Failure::Error(format!("fuzz error {index}"))),
        Behaviour::PanicStr => Some(Failure::Panicked(common::PANIC_PREFIX.to_owned())),
        Behaviour::PanicString => Some(Failure::Panicked(format!(
            "{} {index}",
            common::PANIC_PREFIX
        ))),
        Behaviour::PanicAny => Some(Failure::PanickedWithoutMessage),
        _ => None,
    }
}

/// The serial reference executor: runs the scenario's tasks in index order
/// (a topological order, as every edge points forward) with keep-going
/// semantics and no cancellation. `dependencies[t]` are task `t`'s
/// dependencies in this run (inputs and ordering-only edges).
pub fn reference(tasks: &[TaskSpec], dependencies: &[Vec<usize>]) -> Vec<Verdict> {
    let mut verdicts: Vec<Verdict> = Vec::with_capacity(tasks.len());
    for (index, task) in tasks.iter().enumerate() {
        let blocked = dependencies[index]
            .iter()
            .any(|&dependency| verdicts[dependency].value().is_none());
        let verdict = if blocked {
            Verdict::Skipped
        } else if let Some(failure) = expected_failure(index, task.behaviour) {
            Verdict::Failed(failure)
        } else {
            let value = task
                .inputs
                .iter()
                .fold(seed_value(index, task.salt), |value, &input| {
                    fold_value(value, verdicts[input].value().expect("inputs succeeded"))
                });
            Verdict::Succeeded(value)
        };
        verdicts.push(verdict);
    }
    verdicts
}

/// What one task's body recorded in one run.
#[derive(Debug, Default)]
struct TaskRecord {
    starts: AtomicU32,
    /// Clock value of the start event, 0 if it never started.
    start: AtomicU64,
    /// Clock value of the end event, 0 if it never ended.
    end: AtomicU64,
    worker: AtomicUsize,
    /// [`common::thread_number`] of the thread that ran the body.
    thread: AtomicU64,
    saw_stop: AtomicBool,
}

/// Everything of one run that the bodies read and write.
#[derive(Debug)]
struct RunState {
    clock: Clock,
    /// Every task's dependencies in this run, sorted, without duplicates.
    dependencies: Vec<Vec<usize>>,
    reference: Vec<Verdict>,
    token: CancelToken,
    token_in_run: bool,
    tasks: Vec<TaskRecord>,
    /// Bodies running now, per pool.
    running: Vec<AtomicUsize>,
    /// Whether a body runs now, per pool and worker index.
    busy: Vec<AtomicBool>,
    /// Problems the bodies found.
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

/// What every body of a scenario shares.
#[derive(Debug)]
struct Shared {
    pools: Vec<usize>,
    tasks: Vec<TaskSpec>,
    ids: OnceLock<Vec<TaskId<u64>>>,
    foreign: TaskId<u64>,
    runs: Vec<OnceLock<RunState>>,
    /// The run in progress, an index into `runs`.
    current: AtomicUsize,
}

/// A task handle of a graph that no scenario runs.
fn foreign_task() -> TaskId<u64> {
    static FOREIGN: OnceLock<TaskId<u64>> = OnceLock::new();
    *FOREIGN.get_or_init(|| {
        let mut other = Graph::new();
        other.add(Task::new("foreign", |_: &Context<'_>| Ok(0u64)))
    })
}

impl Shared {
    /// The body of task `index`.
    fn body(&self, index: usize, cx: &Context<'_>) -> Result<u64, taskflow_engine::Error> {
        let Some(run) = self.runs[self.current.load(SeqCst)].get() else {
            return Err("the scenario did not set up this run".into());
        };
        let record = &run.tasks[index];
        let start = run.clock.tick();
        record.starts.fetch_add(1, SeqCst);
        record.start.store(start, SeqCst);
        let spec = &self.tasks[index];
        let size = self.pools[spec.pool];
        let worker = cx.worker_index();
        record.worker.store(worker, SeqCst);
        record.thread.store(common::thread_number(), SeqCst);
        let slot = spec.pool * common::MAX_WORKERS + worker;
        if worker >= size {
            run.violation(format!(
                "t{index}: worker index {worker} in a pool of {size}"
            ));
        } else if run.busy[slot].swap(true, SeqCst) {
            run.violation(format!(
                "t{index}: started on worker {worker} of pool {} while another task ran there",
                spec.pool
            ));
        }
        let running = run.running[spec.pool].fetch_add(1, SeqCst) + 1;
        if running > size {
            run.violation(format!(
                "t{index}: {running} tasks run at once on pool {} of {size} workers",
                spec.pool
            ));
        }
        let tag = common::run_tag(spec.pool, size);
        if cx.name() != task_name(index) || cx.tag().as_str() != tag || cx.task().index() != index {
            run.violation(format!(
                "t{index}: context says name {:?}, tag {}, index {}; expected t{index}, {tag}, {index}",
                cx.name(),
                cx.tag(),
                cx.task().index()
            ));
        }
        for &dependency in &run.dependencies[index] {
            let end = run.tasks[dependency].end.load(SeqCst);
            if end == 0 || end > start {
                run.violation(format!(
                    "t{index}: started (event {start}) before its dependency t{dependency} ended (event {end})"
                ));
            }
            if self.tasks[dependency].behaviour.fails() {
                run.violation(format!(
                    "t{index}: started although its dependency t{dependency} fails"
                ));
            }
        }
        let ids = self.ids.get().expect("ids are set before the first run");
        let mut value = seed_value(index, spec.salt);
        for &input in &spec.inputs {
            match cx.input(ids[input]) {
                Ok(&actual) => {
                    if Some(actual) != run.reference[input].value() {
                        run.violation(format!(
                            "t{index}: input t{input} is {actual:#x}, the reference says {:?}",
                            run.reference[input]
                        ));
                    }
                    value = fold_value(value, actual);
                }
                Err(error) => run.violation(format!("t{index}: input t{input} refused: {error}")),
            }
        }
        if let Some(probe) = spec.probe {
            self.probe(run, index, probe, cx);
        }
        match spec.behaviour {
            Behaviour::Yield => std::thread::yield_now(),
            Behaviour::Sleep(micros) => std::thread::sleep(Duration::from_micros(micros.into())),
            Behaviour::Poll => {
                for _ in 0..16 {
                    if cx.is_cancelled() {
                        break;
                    }
                    std::thread::yield_now();
                }
            }
            Behaviour::Cancel => {
                run.token.cancel();
                if run.token_in_run && !cx.is_cancelled() {
                    run.violation(format!(
                        "t{index}: cancelled its run's token, then is_cancelled() was false"
                    ));
                }
            }
            _ => {}
        }
        record.saw_stop.store(cx.is_cancelled(), SeqCst);
        run.running[spec.pool].fetch_sub(1, SeqCst);
        if worker < size {
            run.busy[slot].store(false, SeqCst);
        }
        let end = run.clock.tick();
        record.end.store(end, SeqCst);
        match spec.behaviour {
            Behaviour::Fail => Err(format!("fuzz error {index}").into()),
            Behaviour::PanicStr => panic!("fuzz panic"),
            Behaviour::PanicString => panic!("fuzz panic {index}"),
            Behaviour::PanicAny => std::panic::panic_any(FuzzPanic(index)),
            _ => Ok(value),
        }
    }

    fn probe(&self, run: &RunState, index: usize, probe: Probe, cx: &Context<'_>) {
        let ids = self.ids.get().expect("ids are set before the first run");
        let (result, expected) = match probe {
            Probe::NotADependency(_) | Probe::Itself => {
                let target = match probe {
                    Probe::NotADependency(target) => target,
                    _ => index,
                };
                (
                    cx.input(ids[target]).map(|_| ()),
                    InputError::NotADependency {
                        reader: task_name(index).into(),
                        dependency: task_name(target).into(),
                    },
                )
            }
            Probe::Foreign => (
                cx.input(self.foreign).map(|_| ()),
                InputError::ForeignTask {
                    reader: task_name(index).into(),
                },
            ),
        };
        let refused_right = match &result {
            Err(error) => error.downcast_ref::<InputError>() == Some(&expected),
            Ok(()) => false,
        };
        if !refused_right {
            run.violation(format!(
                "t{index}: probe {probe:?} gave {result:?}, expected {expected:?}"
            ));
        }
    }
}

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
    check(&scenario).map_err(|violations| {
        let mut message = format!("run_graph oracle failed for {scenario:#?}\n");
        for violation in violations {
            let _ = writeln!(message, "  - {violation}");
        }
        message
    })
}

/// Runs `scenario` and checks every run (module docs).
pub fn check(scenario: &Scenario) -> Result<(), Vec<String>> {
    let fresh;
    let executor: &Executor = if scenario.fresh_executor {
        let mut builder = Executor::builder().workers_per_tag(1);
        for (pool, &workers) in scenario.pools.iter().enumerate() {
            builder = builder.tag_workers(common::run_tag(pool, workers), workers);
        }
        fresh = builder.build().expect("a fresh executor starts");
        &fresh
    } else {
        common::shared_executor()
    };
    if !scenario.concurrent {
        return check_one(scenario, executor);
    }
    let (first, second) = std::thread::scope(|scope| {
        let other = scope.spawn(|| check_one(scenario, executor));
        let first = check_one(scenario, executor);
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

/// Builds the scenario's graph and runs and checks it on `executor`.
fn check_one(scenario: &Scenario, executor: &Executor) -> Result<(), Vec<String>> {
    let task_count = scenario.tasks.len();
    let shared = Arc::new(Shared {
        pools: scenario.pools.clone(),
        tasks: scenario.tasks.clone(),
        ids: OnceLock::new(),
        foreign: foreign_task(),
        runs: scenario.runs.iter().map(|_| OnceLock::new()).collect(),
        current: AtomicUsize::new(0),
    });
    let mut graph = Graph::new();
    let mut ids: Vec<TaskId<u64>> = Vec::with_capacity(task_count);
    for (index, spec) in scenario.tasks.iter().enumerate() {
        let body_shared = Arc::clone(&shared);
        let task = Task::new(task_name(index), move |cx: &Context<'_>| {
            body_shared.body(index, cx)
        })
        .tag(common::run_tag(spec.pool, scenario.pools[spec.pool]))
        .after_all(spec.inputs.iter().map(|&input| ids[input]));
        ids.push(graph.add(task));
    }
    shared.ids.set(ids.clone()).expect("set once");

    let mut violations = Vec::new();
    let mut dependencies: Vec<Vec<usize>> = scenario
        .tasks
        .iter()
        .map(|task| task.inputs.clone())
        .collect();
    for (position, run) in scenario.runs.iter().enumerate() {
        for &(before, after) in &run.new_edges {
            if let Err(error) = graph.precede(ids[before], ids[after]) {
                violations.push(format!(
                    "run {position}: precede(t{before}, t{after}) failed: {error}"
                ));
            }
            dependencies[after].push(before);
        }
        let reference = reference(&scenario.tasks, &dependencies);
        let token = CancelToken::new();
        if run.token == TokenMode::PreCancelled {
            token.cancel();
        }
        let state = RunState {
            clock: Clock::new(),
            dependencies: dependencies
                .iter()
                .map(|list| {
                    let mut list = list.clone();
                    list.sort_unstable();
                    list.dedup();
                    list
                })
                .collect(),
            reference,
            token: token.clone(),
            token_in_run: run.token != TokenMode::None,
            tasks: (0..task_count).map(|_| TaskRecord::default()).collect(),
            running: (0..scenario.pools.len())
                .map(|_| AtomicUsize::new(0))
                .collect(),
            busy: (0..common::MAX_POOLS * common::MAX_WORKERS)
                .map(|_| AtomicBool::new(false))
                .collect(),
            violations: Mutex::new(Vec::new()),
        };
        shared.runs[position].set(state).expect("set once");
        shared.current.store(position, SeqCst);
        let mut options = RunOptions::new().policy(run.policy);
        if run.token != TokenMode::None {
            options = options.cancel_token(token);
        }
        let result = executor.run_with(&mut graph, options);
        let state = shared.runs[position].get().expect("set above");
        let last = position + 1 == scenario.runs.len();
        let before = violations.len();
        match result {
            Ok(report) => verify(
                scenario,
                run,
                state,
                &report,
                &mut graph,
                &ids,
                last,
                &mut violations,
            ),
            Err(error) => violations.push(format!("run_with refused an acyclic graph: {error}")),
        }
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

fn verdict_of(outcome: &Outcome) -> Result<Verdict, String> {
    Ok(match outcome {
        Outcome::Succeeded => Verdict::Succeeded(0),
        Outcome::Failed(TaskError::Error(error)) => {
            Verdict::Failed(Failure::Error(error.to_string()))
        }
        Outcome::Failed(TaskError::Panicked(message)) => {
            Verdict::Failed(Failure::Panicked(message.message().to_owned()))
        }
        Outcome::Skipped => Verdict::Skipped,
        Outcome::Cancelled => Verdict::Cancelled,
        other => return Err(format!("unknown outcome {other:?}")),
    })
}

#[allow(clippy::too_many_arguments)]
fn verify(
    scenario: &Scenario,
    run: &RunSpec,
    state: &RunState,
    report: &RunReport,
    graph: &mut Graph,
    ids: &[TaskId<u64>],
    last: bool,
    violations: &mut Vec<String>,
) {
    violations.extend(
        state
            .violations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .drain(..),
    );
    let n = scenario.tasks.len();
    let tasks = &scenario.tasks;
    let deps = &state.dependencies;
    let reference = &state.reference;

    // The report is consistent with itself.
    if report.len() != n {
        violations.push(format!("report has {} tasks, the graph {n}", report.len()));
        return;
    }
    let counted = report.succeeded() + report.failed() + report.skipped() + report.cancelled();
    if counted != n {
        violations.push(format!(
            "report counts add up to {counted}, not {n}: {report}"
        ));
    }
    let mut verdicts = Vec::with_capacity(n);
    for (index, &id) in ids.iter().enumerate() {
        match verdict_of(report.outcome(id)) {
            Ok(verdict) => verdicts.push(verdict),
            Err(error) => {
                violations.push(format!("t{index}: {error}"));
                return;
            }
        }
    }
    let count = |f: fn(&Verdict) -> bool| verdicts.iter().filter(|v| f(v)).count();
    let counts = (
        count(|v| matches!(v, Verdict::Succeeded(_))),
        count(|v| matches!(v, Verdict::Failed(_))),
        count(|v| matches!(v, Verdict::Skipped)),
        count(|v| matches!(v, Verdict::Cancelled)),
    );
    let reported = (
        report.succeeded(),
        report.failed(),
        report.skipped(),
        report.cancelled(),
    );
    if counts != reported {
        violations.push(format!(
            "report counts (succeeded, failed, skipped, cancelled) {reported:?}, its outcomes {counts:?}"
        ));
    }
    if report.is_success() != (counts.0 == n) {
        violations.push(format!(
            "is_success() is {} for {report}",
            report.is_success()
        ));
    }
    if report.iter().count() != n
        || report
            .iter()
            .zip(&verdicts)
            .any(|((_, outcome), verdict)| verdict_of(outcome).as_ref() != Ok(verdict))
    {
        violations.push("report.iter() disagrees with report.outcome()".to_owned());
    }
    let failures: Vec<(String, String)> = report
        .failures()
        .map(|(_, name, error)| (name.to_owned(), error.to_string()))
        .collect();
    let expected_failures: Vec<String> = (0..n)
        .filter(|&index| matches!(verdicts[index], Verdict::Failed(_)))
        .map(task_name)
        .collect();
    if failures
        .iter()
        .map(|(name, _)| name)
        .ne(expected_failures.iter())
    {
        violations.push(format!(
            "report.failures() names {failures:?}, the failed tasks are {expected_failures:?}"
        ));
    }
    if report.get(foreign_task()).is_some() {
        violations.push("report.get() answered for a task of another graph".to_owned());
    }

    // Every task started at most once, exactly when it succeeded or failed,
    // and only after its dependencies succeeded; results match the reference.
    let records = &state.tasks;
    let started: Vec<bool> = records.iter().map(|r| r.start.load(SeqCst) != 0).collect();
    for index in 0..n {
        let starts = records[index].starts.load(SeqCst);
        if starts > 1 {
            violations.push(format!("t{index}: started {starts} times"));
        }
        let ran = matches!(verdicts[index], Verdict::Succeeded(_) | Verdict::Failed(_));
        if started[index] != ran {
            violations.push(format!(
                "t{index}: outcome {:?} but its body {} started",
                verdicts[index],
                if started[index] { "" } else { "never" }
            ));
        }
        if started[index] && records[index].end.load(SeqCst) == 0 {
            violations.push(format!("t{index}: started but never reached its end"));
        }
        match (&verdicts[index], &reference[index]) {
            (Verdict::Succeeded(_), Verdict::Succeeded(_)) => {}
            (Verdict::Failed(actual), Verdict::Failed(expected)) if expected.matches(actual) => {}
            (Verdict::Skipped | Verdict::Cancelled, _) => {}
            (actual, expected) => violations.push(format!(
                "t{index}: outcome {actual:?}, the reference says {expected:?}"
            )),
        }
        if started[index] {
            for &dependency in &deps[index] {
                if !matches!(verdicts[dependency], Verdict::Succeeded(_)) {
                    violations.push(format!(
                        "t{index}: started although its dependency t{dependency} ended {:?}",
                        verdicts[dependency]
                    ));
                }
            }
        }
    }

    // Was the run stopped, and may it have been?
    let fail_fast = run.policy == FailurePolicy::FailFast;
    let cancel_started = (0..n).any(|i| tasks[i].behaviour == Behaviour::Cancel && started[i]);
    let stopped = (fail_fast && counts.1 > 0)
        || (state.token_in_run && (run.token == TokenMode::PreCancelled || cancel_started));

    // Outcomes follow from the dependencies' outcomes.
    for index in 0..n {
        let poisoned = deps[index]
            .iter()
            .any(|&d| matches!(verdicts[d], Verdict::Failed(_) | Verdict::Skipped));
        let after_cancelled = deps[index]
            .iter()
            .any(|&d| matches!(verdicts[d], Verdict::Cancelled));
        let verdict = &verdicts[index];
        let wrong = if poisoned {
            (*verdict != Verdict::Skipped).then_some("a dependency failed or was skipped")
        } else if after_cancelled {
            (*verdict != Verdict::Cancelled)
                .then_some("a dependency was cancelled and none failed or was skipped")
        } else if *verdict == Verdict::Skipped {
            Some("skipped, but every dependency succeeded")
        } else if *verdict == Verdict::Cancelled && !stopped {
            Some("cancelled, but the run was never stopped")
        } else {
            None
        };
        if let Some(why) = wrong {
            violations.push(format!("t{index}: outcome {verdict:?}: {why}"));
        }
        if records[index].saw_stop.load(SeqCst) && !stopped {
            violations.push(format!(
                "t{index}: is_cancelled() was true, but the run was never stopped"
            ));
        }
    }

    // Where no stop can happen, everything equals the reference.
    let reference_fails = reference.iter().any(|v| matches!(v, Verdict::Failed(_)));
    let reference_cancels = (0..n).any(|i| {
        tasks[i].behaviour == Behaviour::Cancel && matches!(reference[i], Verdict::Succeeded(_))
    });
    let exact = !(fail_fast && reference_fails)
        && !(state.token_in_run && (run.token == TokenMode::PreCancelled || reference_cancels));
    if exact {
        for index in 0..n {
            let same = match (&verdicts[index], &reference[index]) {
                (Verdict::Succeeded(_), Verdict::Succeeded(_)) => true,
                (Verdict::Failed(actual), Verdict::Failed(expected)) => expected.matches(actual),
                (actual, expected) => actual == expected,
            };
            if !same {
                violations.push(format!(
                    "t{index}: outcome {:?}, the reference says {:?} (no stop was possible)",
                    verdicts[index], reference[index]
                ));
            }
        }
    }

    check_stop_visibility(scenario, run, state, &verdicts, &started, violations);

    // Outputs: the reference value for tasks that succeeded, none otherwise.
    for (index, &id) in ids.iter().enumerate() {
        let expected = match verdicts[index] {
            Verdict::Succeeded(_) => reference[index].value(),
            _ => None,
        };
        let actual = graph.output(id).copied();
        if actual != expected {
            violations.push(format!(
                "t{index}: output {actual:?}, expected {expected:?} (outcome {:?})",
                verdicts[index]
            ));
        }
        if last {
            let taken = graph.take_output(id);
            if taken != expected || graph.output(id).is_some() {
                violations.push(format!(
                    "t{index}: take_output gave {taken:?}, expected {expected:?}, and must leave none"
                ));
            }
        }
    }
}

/// No task started after the stop was visible to it (module docs).
fn check_stop_visibility(
    scenario: &Scenario,
    run: &RunSpec,
    state: &RunState,
    verdicts: &[Verdict],
    started: &[bool],
    violations: &mut Vec<String>,
) {
    let n = scenario.tasks.len();
    let records = &state.tasks;
    let start = |i: usize| records[i].start.load(SeqCst);
    let end = |i: usize| records[i].end.load(SeqCst);
    if state.token_in_run && run.token == TokenMode::PreCancelled {
        for index in (0..n).filter(|&i| started[i]) {
            violations.push(format!(
                "t{index}: started although the run's token was cancelled before the run"
            ));
        }
        return;
    }
    // The first event known to follow a stop.
    let stop_event = (0..n)
        .filter(|&i| started[i] && end(i) != 0)
        .filter(|&i| {
            (state.token_in_run && scenario.tasks[i].behaviour == Behaviour::Cancel)
                || records[i].saw_stop.load(SeqCst)
        })
        .map(|i| (end(i), i))
        .min();

    // Each worker thread's events of this run, in order: (clock, task, is_start).
    // A worker (pool and index) is one thread: check that, then go by thread.
    let mut worker_threads: HashMap<(usize, usize), (u64, usize)> = HashMap::new();
    let mut threads: HashMap<u64, Vec<(u64, usize, bool)>> = HashMap::new();
    for index in (0..n).filter(|&i| started[i]) {
        let worker = (
            scenario.tasks[index].pool,
            records[index].worker.load(SeqCst),
        );
        let thread = records[index].thread.load(SeqCst);
        let (known, first) = *worker_threads.entry(worker).or_insert((thread, index));
        if known != thread {
            violations.push(format!(
                "t{index}: ran on worker {worker:?} on another thread than t{first} did"
            ));
        }
        let events = threads.entry(thread).or_default();
        events.push((start(index), index, true));
        if end(index) != 0 {
            events.push((end(index), index, false));
        }
    }
    let fail_fast = run.policy == FailurePolicy::FailFast;
    for events in threads.values_mut() {
        events.sort_unstable();
        let mut previous: Option<(u64, usize, bool)> = None;
        let mut failed_here: Option<usize> = None;
        for &(clock, index, is_start) in events.iter() {
            if is_start {
                if let Some(failed) = failed_here.filter(|_| fail_fast) {
                    violations.push(format!(
                        "t{index}: started (event {clock}) on the thread where t{failed} had \
                         already failed under fail-fast (ended at event {})",
                        end(failed)
                    ));
                }
                if let Some((stop, stopper)) = stop_event {
                    let thread_before = previous.map_or(0, |(c, _, _)| c);
                    let (dep_before, dep) = state.dependencies[index]
                        .iter()
                        .map(|&d| (end(d), d))
                        .max()
                        .unwrap_or((0, index));
                    let (pre, via) = if dep_before > thread_before {
                        (dep_before, format!("the end of its dependency t{dep}"))
                    } else {
                        (thread_before, "the previous event on its thread".to_owned())
                    };
                    if pre >= stop {
                        violations.push(format!(
                            "t{index}: started (event {clock}) after {via} (event {pre}), which \
                             happens after t{stopper} {} (event {stop})",
                            if scenario.tasks[stopper].behaviour == Behaviour::Cancel {
                                "cancelled the run's token"
                            } else {
                                "saw is_cancelled()"
                            }
                        ));
                    }
                }
            } else if matches!(verdicts[index], Verdict::Failed(_)) {
                failed_here = Some(index);
            }
            previous = Some((clock, index, is_start));
        }
    }
}
