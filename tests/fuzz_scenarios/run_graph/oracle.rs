//! The serial reference executor: what every task of one run, the graph's
//! and the spawned ones, must end as and produce when nothing stops the run
//! (keep-going, no cancellation). It knows nothing of the engine: it walks
//! the [`Layout`] in an order where every dependency comes first.
//!
//! The rules it encodes, from the spawn issue's semantics table: a task
//! runs when every dependency's whole *subtree* (the dependency and all it
//! spawned, to any depth) succeeded, and is skipped otherwise, with nothing
//! of its plan spawned. A task that runs folds its declared dependencies'
//! values into its seed in order, spawns its children (each evaluated on
//! the spot, its siblings having been evaluated before it), and at each
//! join answers `Ok` when every child spawned so far has a subtree that
//! succeeded, folding the outputs of those spawned since the last join, or
//! names the ones that did not: then it fails with that `JoinError`
//! ([`OnJoinError::Propagate`]) or folds [`JOIN_REFUSED`] and goes on
//! ([`OnJoinError::Ignore`]). A nested run folds its chain's last value.
//! Then the task's own behaviour decides whether it fails.

use super::input::Behaviour;
use super::plan::{Layout, NestedSpec, OnJoinError, Step};
use crate::common::{self, fold_value, seed_value};

/// What a body folds into its value for a join that was refused, under
/// [`OnJoinError::Ignore`].
pub const JOIN_REFUSED: u64 = 0x5eed_0f4e_1100;

/// How a task must or did fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Returned an error with this message.
    Error(String),
    /// Returned the `JoinError` of a join, which names these children.
    JoinRefused(Vec<String>),
    /// Panicked with this message.
    Panicked(String),
    /// Panicked with a payload that is not a string, whose message is
    /// documented as `Box<dyn Any>`.
    PanickedWithoutMessage,
}

impl Failure {
    /// Whether a task expected to fail so failed as `actual` says.
    pub fn matches(&self, actual: &Failure) -> bool {
        match (self, actual) {
            (Failure::PanickedWithoutMessage, Failure::Panicked(message)) => {
                message == "Box<dyn Any>"
            }
            (expected, actual) => expected == actual,
        }
    }
}

/// What the reference says of one task, or what a run reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Succeeded with this value (0 when read from a report, which has no
    /// values).
    Succeeded(u64),
    /// Failed so.
    Failed(Failure),
    /// Skipped: a dependency's subtree did not succeed.
    Skipped,
    /// Cancelled (never in the reference).
    Cancelled,
}

impl Verdict {
    /// The value, for a task that succeeded.
    pub fn value(&self) -> Option<u64> {
        match self {
            Verdict::Succeeded(value) => Some(*value),
            _ => None,
        }
    }
}

/// What one `join` answered: `Ok`, or the names of the children it refused.
pub type JoinAnswer = Result<(), Vec<String>>;

/// The reference's prediction for one run.
#[derive(Clone, Debug, Default)]
pub struct Expected {
    /// Per node: `None` if it is never spawned (its parent did not run, or
    /// returned before spawning it).
    pub verdicts: Vec<Option<Verdict>>,
    /// Per node: whether it and everything it spawned succeeded.
    pub subtree_ok: Vec<bool>,
    /// Per node: what each of its joins answers, in order.
    pub joins: Vec<Vec<JoinAnswer>>,
}

/// How the body of `name` fails by its behaviour, if it does.
pub fn behaviour_failure(name: &str, behaviour: Behaviour) -> Option<Failure> {
    match behaviour {
        Behaviour::Fail => Some(Failure::Error(format!("fuzz error {name}"))),
        Behaviour::PanicStr => Some(Failure::Panicked(common::PANIC_PREFIX.to_owned())),
        Behaviour::PanicString => Some(Failure::Panicked(format!(
            "{} {name}",
            common::PANIC_PREFIX
        ))),
        Behaviour::PanicAny => Some(Failure::PanickedWithoutMessage),
        _ => None,
    }
}

/// The value node `node` starts from.
pub fn node_seed(node: usize, salt: u64) -> u64 {
    seed_value(node, salt)
}

/// The seed of task `position` of the nested graph of `spec`, run by node
/// `node`.
pub fn nested_seed(node: usize, position: usize) -> u64 {
    seed_value(node * 8 + position, 0x4e57)
}

/// The output of the last task of the nested graph `spec` run by `node`:
/// each task folds its seed into its predecessor's output, and the first
/// also folds its spawned child's seed when it spawns one.
pub fn nested_output(node: usize, spec: &NestedSpec) -> u64 {
    let mut value = nested_seed(node, 0);
    if spec.spawns {
        value = fold_value(value, nested_seed(node, 7));
    }
    for position in 1..spec.tasks {
        value = fold_value(value, nested_seed(node, position));
    }
    value
}

/// The reference for one run, in which the graph task `t` depends on
/// `dependencies[t]` (inputs and ordering-only edges).
pub fn reference(layout: &Layout, dependencies: &[Vec<usize>]) -> Expected {
    let count = layout.nodes.len();
    let mut expected = Expected {
        verdicts: vec![None; count],
        subtree_ok: vec![false; count],
        joins: vec![Vec::new(); count],
    };
    for (task, task_dependencies) in dependencies.iter().enumerate().take(layout.statics) {
        evaluate(layout, task_dependencies, task, &mut expected);
    }
    expected
}

/// Evaluates `node`, whose dependencies are `dependencies`, and its subtree.
fn evaluate(layout: &Layout, dependencies: &[usize], node: usize, expected: &mut Expected) {
    let spec = &layout.nodes[node];
    if dependencies.iter().any(|&d| !expected.subtree_ok[d]) {
        expected.verdicts[node] = Some(Verdict::Skipped);
        return;
    }
    let value_of = |expected: &Expected, node: usize| {
        expected.verdicts[node]
            .as_ref()
            .and_then(Verdict::value)
            .expect("a dependency whose subtree succeeded has a value")
    };
    let mut value = node_seed(node, spec.salt);
    for &input in &spec.declared {
        value = fold_value(value, value_of(expected, input));
    }
    let mut spawned: Vec<usize> = Vec::new();
    let mut joined = 0;
    let mut refused = None;
    for step in &spec.plan.steps {
        match step {
            Step::Spawn(_) => {
                let child = spec.children[spawned.len()];
                let child_dependencies = layout.nodes[child].declared.clone();
                evaluate(layout, &child_dependencies, child, expected);
                spawned.push(child);
            }
            Step::Join => {
                let failed: Vec<String> = spawned
                    .iter()
                    .filter(|&&child| !expected.subtree_ok[child])
                    .map(|&child| layout.nodes[child].name.clone())
                    .collect();
                let newly_joined = std::mem::replace(&mut joined, spawned.len());
                if failed.is_empty() {
                    for &child in &spawned[newly_joined..] {
                        value = fold_value(value, value_of(expected, child));
                    }
                    expected.joins[node].push(Ok(()));
                } else {
                    expected.joins[node].push(Err(failed.clone()));
                    if spec.plan.on_join_error == OnJoinError::Propagate {
                        refused = Some(failed);
                        break;
                    }
                    value = fold_value(value, JOIN_REFUSED);
                }
            }
            Step::Nested(nested) => value = fold_value(value, nested_output(node, nested)),
            Step::PeekUnjoined | Step::BadSpawn { .. } => {}
        }
    }
    let verdict = match (refused, behaviour_failure(&spec.name, spec.behaviour)) {
        (Some(names), _) => Verdict::Failed(Failure::JoinRefused(names)),
        (None, Some(failure)) => Verdict::Failed(failure),
        (None, None) => Verdict::Succeeded(value),
    };
    expected.subtree_ok[node] = matches!(verdict, Verdict::Succeeded(_))
        && spawned.iter().all(|&child| expected.subtree_ok[child]);
    expected.verdicts[node] = Some(verdict);
}
