//! The `steer_graph` scenario: a random acyclic graph of up to
//! [`MAX_TASKS`] tasks with priorities, weights and limits, over one or two
//! pools, run once (or as two copies at once that share the limits),
//! checked against a serial reference.
//!
//! # The scenario
//!
//! Every edge points from a lower to a higher task number. Each task has a
//! priority, a weight, a subset of up to [`MAX_LIMITS`] limits (each of one
//! to three permits, shared by the copies of a twin scenario) and a
//! [`Behaviour`]: succeed, sleep briefly, fail, panic, or cancel its run's
//! token. The run has a failure policy, the critical path on or off, and a
//! token or none.
//!
//! # The oracle
//!
//! - Inside every body: every dependency has ended and succeeded; and for
//!   each of the task's limits, the number of bodies holding it, counted
//!   across both copies, never exceeds its permits (**no limit is ever
//!   exceeded**); and no task holds a permit while it waits: the permits
//!   the engine counts as taken are no more than the bodies holding them
//!   plus the workers of the scenario's pools that run no body (a permit is
//!   held only by a task on a worker, about to run or settling). The
//!   bodies' counts change under one lock that the check takes too, so the
//!   check sees them at one instant, and the engine's count at one instant
//!   in between.
//! - After the run: every limit has all its permits free and no task
//!   waiting; the report's counts add up; a task started exactly when it
//!   succeeded or failed, and at most once; a task with a failed or
//!   skipped dependency was skipped; when no stop can happen (keep-going,
//!   or no task that fails, and no task that cancels), every outcome is the
//!   reference's.
//! - On a single pool of one worker, without a twin, the start order is
//!   exact: no task starts while a ready task (all of its dependencies
//!   ended) with a better key waits, the key being its critical-path rank
//!   (computed here independently, when the run asks for it), then its
//!   priority, then the lower index.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use arbitrary::Unstructured;
use taskflow_engine::{
    CancelToken, Context, Executor, FailurePolicy, Graph, Limit, Outcome, RunOptions, RunReport,
    Task,
};

use crate::common::{self, Clock, byte, in_range};

/// Most tasks in a scenario.
pub const MAX_TASKS: usize = 48;
/// Most limits in a scenario.
pub const MAX_LIMITS: usize = 3;
/// Most dependencies per task.
const MAX_INPUTS: usize = 3;

/// The tags of this scenario's pools: pool `pool` of `workers` workers.
const TAGS: [[&str; 3]; 2] = [["s0w1", "s0w2", "s0w3"], ["s1w1", "s1w2", "s1w3"]];

/// What a task's body does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// Returns at once.
    Succeed,
    /// Sleeps this many microseconds.
    Sleep(u16),
    /// Returns an error.
    Fail,
    /// Panics.
    Panic,
    /// Cancels its run's token, then succeeds.
    Cancel,
}

impl Behaviour {
    fn fails(self) -> bool {
        matches!(self, Behaviour::Fail | Behaviour::Panic)
    }
}

/// One task of a scenario.
#[derive(Clone, Debug)]
pub struct TaskSpec {
    pub pool: usize,
    pub inputs: Vec<usize>,
    pub priority: i32,
    pub weight: u64,
    /// Indices into the scenario's limits.
    pub limits: Vec<usize>,
    pub behaviour: Behaviour,
}

/// A decoded input.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Workers per pool, one or two pools.
    pub pools: Vec<usize>,
    /// Permits per limit.
    pub limits: Vec<usize>,
    pub tasks: Vec<TaskSpec>,
    pub policy: FailurePolicy,
    pub critical_path: bool,
    pub token: bool,
    /// Two copies of the graph run at once and share the limits.
    pub twin: bool,
}

/// Decodes any bytes into a scenario (bytes past the end read as zeros).
pub fn decode(data: &[u8]) -> Scenario {
    let mut u = Unstructured::new(data);
    let flags = byte(&mut u);
    let pool_count = 1 + usize::from(flags & 1);
    let pools = (0..pool_count).map(|_| in_range(&mut u, 1, 3)).collect();
    let limits: Vec<usize> = (0..in_range(&mut u, 0, MAX_LIMITS))
        .map(|_| in_range(&mut u, 1, 3))
        .collect();
    let task_count = in_range(&mut u, 1, MAX_TASKS);
    let mut tasks = Vec::with_capacity(task_count);
    for index in 0..task_count {
        let inputs = if index == 0 {
            Vec::new()
        } else {
            (0..in_range(&mut u, 0, MAX_INPUTS))
                .map(|_| in_range(&mut u, 0, index - 1))
                .collect()
        };
        let mask = byte(&mut u);
        let task_limits = (0..limits.len())
            .filter(|&l| mask & (1 << l) != 0)
            .collect();
        let kind = byte(&mut u);
        let behaviour = match kind % 16 {
            0 => Behaviour::Fail,
            1 => Behaviour::Panic,
            2 => Behaviour::Cancel,
            3..=6 => Behaviour::Sleep(u16::from(byte(&mut u)) * 4),
            _ => Behaviour::Succeed,
        };
        tasks.push(TaskSpec {
            pool: in_range(&mut u, 0, pool_count - 1),
            inputs,
            priority: i32::from(byte(&mut u) % 7) - 3,
            weight: in_range(&mut u, 1, 8) as u64,
            limits: task_limits,
            behaviour,
        });
    }
    Scenario {
        pools,
        limits,
        tasks,
        policy: if flags & 2 != 0 {
            FailurePolicy::KeepGoing
        } else {
            FailurePolicy::FailFast
        },
        critical_path: flags & 4 != 0,
        token: flags & 8 != 0,
        twin: flags & 16 != 0,
    }
}

/// The executor of every `steer_graph` input: one pool per tag of [`TAGS`].
fn executor() -> &'static Executor {
    static EXECUTOR: OnceLock<Executor> = OnceLock::new();
    EXECUTOR.get_or_init(|| {
        let mut builder = Executor::builder().workers_per_tag(1);
        for tags in TAGS {
            for (size, tag) in tags.into_iter().enumerate() {
                builder = builder.tag_workers(tag, size + 1);
            }
        }
        builder.build().expect("the steer_graph executor starts")
    })
}

/// What the bodies of one copy record, and the limits' meters they share
/// with the other copy.
struct Shared {
    spec: Scenario,
    clock: Clock,
    /// Per task: its start and end events (0: none), starts counted.
    started: Vec<AtomicU64>,
    ended: Vec<AtomicU64>,
    starts: Vec<AtomicUsize>,
    succeeded: Vec<AtomicBool>,
    /// Per limit, bodies that hold it now, across both copies.
    holding: Arc<Vec<AtomicUsize>>,
    /// Bodies running now, across both copies; `holding` changes only
    /// under this lock.
    bodies: Arc<Mutex<usize>>,
    /// The limits, to see how many permits the engine counts as taken.
    limits: Vec<Limit>,
    token: Option<CancelToken>,
    violations: Mutex<Vec<String>>,
}

impl Shared {
    fn violation(&self, what: String) {
        self.violations.lock().unwrap().push(what);
    }

    fn body(&self, index: usize) -> Result<(), taskflow_engine::Error> {
        let spec = &self.spec.tasks[index];
        self.starts[index].fetch_add(1, SeqCst);
        for &input in &spec.inputs {
            if self.ended[input].load(SeqCst) == 0 || !self.succeeded[input].load(SeqCst) {
                self.violation(format!(
                    "t{index} started before its dependency t{input} succeeded"
                ));
            }
        }
        self.started[index].store(self.clock.tick(), SeqCst);
        {
            let mut bodies = self.bodies.lock().unwrap();
            *bodies += 1;
            for &limit in &spec.limits {
                let now = self.holding[limit].fetch_add(1, SeqCst) + 1;
                if now > self.spec.limits[limit] {
                    self.violation(format!(
                        "t{index}: limit {limit} of {} permits held by {now} bodies at once",
                        self.spec.limits[limit]
                    ));
                }
            }
            self.check_no_waiting_holder(index, *bodies);
        }
        let result = match spec.behaviour {
            Behaviour::Succeed => Ok(()),
            Behaviour::Sleep(micros) => {
                std::thread::sleep(Duration::from_micros(u64::from(micros)));
                Ok(())
            }
            Behaviour::Fail => Err("fuzz failure".into()),
            Behaviour::Cancel => {
                if let Some(token) = &self.token {
                    token.cancel();
                }
                Ok(())
            }
            Behaviour::Panic => {
                self.release(index);
                panic!("{} in t{index}", common::PANIC_PREFIX)
            }
        };
        self.release(index);
        if result.is_ok() {
            self.succeeded[index].store(true, SeqCst);
        }
        result
    }

    /// With `bodies` bodies running (under the lock): every permit the
    /// engine counts as taken is held by a body or by a worker outside one.
    fn check_no_waiting_holder(&self, index: usize, bodies: usize) {
        let workers: usize = self.spec.pools.iter().sum();
        let outside = workers.saturating_sub(bodies);
        for (limit, handle) in self.limits.iter().enumerate() {
            let taken = handle.permits() - handle.available();
            let inside = self.holding[limit].load(SeqCst);
            if taken > inside + outside {
                self.violation(format!(
                    "in t{index}: limit {limit} has {taken} permits taken, {inside} held by \
                     bodies and {outside} workers outside a body: a waiting task holds one"
                ));
            }
        }
    }

    fn release(&self, index: usize) {
        let mut bodies = self.bodies.lock().unwrap();
        *bodies -= 1;
        for &limit in &self.spec.tasks[index].limits {
            self.holding[limit].fetch_sub(1, SeqCst);
        }
        drop(bodies);
        self.ended[index].store(self.clock.tick(), SeqCst);
    }
}

/// Decodes `data` and checks its scenario: `Err` describes the scenario and
/// every violation found.
pub fn check_bytes(data: &[u8]) -> Result<(), String> {
    common::silence_intentional_panics();
    let scenario = decode(data);
    let _watchdog = common::watch(format!(
        "steer_graph input of {} bytes ({} tasks)",
        data.len(),
        scenario.tasks.len()
    ));
    check(&scenario)
        .map_err(|violations| common::failure_message("steer_graph", &scenario, violations))
}

/// Runs `scenario` (twice at once for a twin) and checks it.
pub fn check(scenario: &Scenario) -> Result<(), Vec<String>> {
    let limits: Vec<Limit> = scenario.limits.iter().map(|&p| Limit::new(p)).collect();
    let holding: Arc<Vec<AtomicUsize>> = Arc::new(
        scenario
            .limits
            .iter()
            .map(|_| AtomicUsize::new(0))
            .collect(),
    );
    let bodies = Arc::new(Mutex::new(0));
    let mut violations = if scenario.twin {
        std::thread::scope(|scope| {
            let other = scope.spawn(|| check_one(scenario, &limits, &holding, &bodies));
            let mut found = check_one(scenario, &limits, &holding, &bodies);
            found.extend(
                other
                    .join()
                    .unwrap_or_else(|_| vec!["the twin panicked".to_owned()]),
            );
            found
        })
    } else {
        check_one(scenario, &limits, &holding, &bodies)
    };
    for (index, limit) in limits.iter().enumerate() {
        if limit.available() != limit.permits() || limit.waiting() != 0 {
            violations.push(format!(
                "limit {index} after the run: {} of {} permits free, {} waiting",
                limit.available(),
                limit.permits(),
                limit.waiting()
            ));
        }
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(violations)
    }
}

fn check_one(
    scenario: &Scenario,
    limits: &[Limit],
    holding: &Arc<Vec<AtomicUsize>>,
    bodies: &Arc<Mutex<usize>>,
) -> Vec<String> {
    let count = scenario.tasks.len();
    let token = scenario.token.then(CancelToken::new);
    let atomics = |value: u64| {
        (0..count)
            .map(|_| AtomicU64::new(value))
            .collect::<Vec<_>>()
    };
    let shared = Arc::new(Shared {
        spec: scenario.clone(),
        clock: Clock::new(),
        started: atomics(0),
        ended: atomics(0),
        starts: (0..count).map(|_| AtomicUsize::new(0)).collect(),
        succeeded: (0..count).map(|_| AtomicBool::new(false)).collect(),
        holding: Arc::clone(holding),
        bodies: Arc::clone(bodies),
        limits: limits.to_vec(),
        token: token.clone(),
        violations: Mutex::new(Vec::new()),
    });
    let mut graph = Graph::new();
    let mut ids = Vec::with_capacity(count);
    for (index, spec) in scenario.tasks.iter().enumerate() {
        let body = Arc::clone(&shared);
        let mut task = Task::new(format!("t{index}"), move |_: &Context<'_>| body.body(index))
            .tag(TAGS[spec.pool][scenario.pools[spec.pool] - 1])
            .priority(spec.priority)
            .weight(spec.weight)
            .after_all(spec.inputs.iter().map(|&input| ids[input]));
        for &limit in &spec.limits {
            task = task.limit(&limits[limit]);
        }
        ids.push(graph.add(task));
    }
    let mut options = RunOptions::new()
        .policy(scenario.policy)
        .critical_path(scenario.critical_path);
    if let Some(token) = &token {
        options = options.cancel_token(token.clone());
    }
    let report = match executor().run_with(&mut graph, options) {
        Ok(report) => report,
        Err(error) => return vec![format!("the acyclic graph was refused: {error}")],
    };
    let mut violations = std::mem::take(&mut *shared.violations.lock().unwrap());
    check_report(scenario, &shared, &report, &ids, &mut violations);
    if scenario.pools == [1] && !scenario.twin {
        check_start_order(scenario, &shared, &mut violations);
    }
    violations
}

fn check_report(
    scenario: &Scenario,
    shared: &Shared,
    report: &RunReport,
    ids: &[taskflow_engine::TaskId<()>],
    violations: &mut Vec<String>,
) {
    let count = scenario.tasks.len();
    let totals = report.succeeded() + report.failed() + report.skipped() + report.cancelled();
    if totals != count {
        violations.push(format!(
            "the report counts {totals} outcomes for {count} tasks"
        ));
    }
    let can_stop = scenario.tasks.iter().any(|task| {
        task.behaviour == Behaviour::Cancel
            || (task.behaviour.fails() && scenario.policy == FailurePolicy::FailFast)
    });
    let mut reference_ok = vec![false; count];
    for (index, spec) in scenario.tasks.iter().enumerate() {
        let outcome = report.outcome(ids[index]);
        let starts = shared.starts[index].load(SeqCst);
        let ran = matches!(outcome, Outcome::Succeeded | Outcome::Failed(_));
        if starts != usize::from(ran) {
            violations.push(format!("t{index} ended {outcome:?} after {starts} starts"));
        }
        let dependency_failed = spec.inputs.iter().any(|&input| {
            matches!(
                report.outcome(ids[input]),
                Outcome::Failed(_) | Outcome::Skipped
            )
        });
        if dependency_failed && !matches!(outcome, Outcome::Skipped) {
            violations.push(format!(
                "t{index} ended {outcome:?} after a dependency failed"
            ));
        }
        reference_ok[index] =
            !spec.behaviour.fails() && spec.inputs.iter().all(|&input| reference_ok[input]);
        if !can_stop {
            let expected_ok = reference_ok[index];
            let deps_ok = spec.inputs.iter().all(|&input| reference_ok[input]);
            let matches_reference = match outcome {
                Outcome::Succeeded => expected_ok,
                Outcome::Failed(_) => deps_ok && spec.behaviour.fails(),
                Outcome::Skipped => !deps_ok,
                _ => false,
            };
            if !matches_reference {
                violations.push(format!("t{index} ended {outcome:?}; the reference differs"));
            }
        }
    }
}

/// Each task's critical-path rank, computed here from the scenario alone.
fn reference_ranks(scenario: &Scenario) -> Vec<u64> {
    let count = scenario.tasks.len();
    let mut ranks = vec![0u64; count];
    for index in (0..count).rev() {
        let longest_after = (index + 1..count)
            .filter(|&later| scenario.tasks[later].inputs.contains(&index))
            .map(|later| ranks[later])
            .max()
            .unwrap_or(0);
        ranks[index] = scenario.tasks[index].weight + longest_after;
    }
    ranks
}

/// On one worker the start order is exact (module docs).
fn check_start_order(scenario: &Scenario, shared: &Shared, violations: &mut Vec<String>) {
    let ranks = reference_ranks(scenario);
    let key = |task: usize| {
        let rank = if scenario.critical_path {
            ranks[task]
        } else {
            0
        };
        (rank, scenario.tasks[task].priority, std::cmp::Reverse(task))
    };
    let started: Vec<u64> = shared.started.iter().map(|at| at.load(SeqCst)).collect();
    let ended: Vec<u64> = shared.ended.iter().map(|at| at.load(SeqCst)).collect();
    for (task, &at) in started.iter().enumerate() {
        if at == 0 {
            continue;
        }
        for (other, spec) in scenario.tasks.iter().enumerate() {
            let waited = started[other] == 0 || started[other] > at;
            let ready = spec.inputs.iter().all(|&input| {
                ended[input] != 0 && ended[input] < at && shared.succeeded[input].load(SeqCst)
            });
            if other != task && waited && ready && key(other) > key(task) {
                violations.push(format!(
                    "t{task} {:?} started while the better t{other} {:?} was ready",
                    key(task),
                    key(other)
                ));
            }
        }
    }
}
