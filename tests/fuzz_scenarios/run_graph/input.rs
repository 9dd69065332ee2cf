//! Decoding a `run_graph` scenario from fuzzer bytes: the pools, the runs
//! (policy, token, ordering-only edges) and the graph's tasks. Each task's
//! spawn plan is decoded by [`super::plan`], from the bytes after all of
//! this, so that inputs written before plans existed decode to the same
//! static scenario as they always did, with no task spawning.

use arbitrary::Unstructured;
use taskflow_engine::FailurePolicy;

use super::plan::{self, Plan};
use crate::common::{byte, in_range};

/// Most tasks in a scenario's graph.
pub const MAX_TASKS: usize = 64;
/// Most runs of one graph in a scenario.
pub const MAX_RUNS: usize = 3;
/// Most inputs per task.
const MAX_INPUTS: usize = 4;

/// What a task's body does besides reading its inputs and following its
/// spawn plan.
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
    /// Whether a body that behaves so fails.
    pub fn fails(self) -> bool {
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

/// One task of the graph.
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
    /// What the body spawns, joins and runs nested (empty for most tasks).
    pub plan: Plan,
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
            plan: Plan::default(),
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
    // Decoded after the graph, so that inputs found before they existed
    // keep their meaning.
    let concurrent = u.ratio(1, 4).unwrap_or(false);
    plan::decode_plans(u, &mut tasks, pools.len(), mood);
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

/// A behaviour; `mood` (0 to 3) says how often it fails or cancels.
pub(super) fn decode_behaviour(kind: u8, detail: u8, mood: usize) -> Behaviour {
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
