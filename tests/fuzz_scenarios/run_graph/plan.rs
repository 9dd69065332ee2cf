//! Spawn plans: what a task's body spawns, joins and runs nested, in order,
//! and the [`Layout`] that numbers every task a scenario may ever run, the
//! graph's and the spawned ones, so that the oracle, the bodies and the
//! checker speak of the same nodes.
//!
//! A plan is a list of [`Step`]s. A spawned child has a behaviour of its
//! own, names earlier siblings and some of its parent's declared
//! dependencies in `after` (and reads them), and may have a plan of its own,
//! down to [`MAX_DEPTH`] generations. Plans are decoded from the bytes that
//! follow the static scenario, a few tasks at a time, so that most inputs
//! have some.

use arbitrary::Unstructured;

use super::input::{Behaviour, TaskSpec, decode_behaviour};
use crate::common::{byte, in_range};

/// Most tasks of the graph that get a plan.
const MAX_PLANNED: usize = 4;
/// Most steps of one plan.
const MAX_STEPS: usize = 6;
/// Most sibling or parent dependencies a child names, of each kind.
const MAX_CHILD_DEPENDENCIES: usize = 2;
/// Most generations below a task of the graph.
const MAX_DEPTH: usize = 3;
/// Most tasks of a nested graph.
pub const MAX_NESTED_TASKS: usize = 3;

/// What a body does when a `join` is refused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnJoinError {
    /// Returns the `JoinError` (`cx.join()?`): the task fails with it.
    #[default]
    Propagate,
    /// Goes on without the children's outputs.
    Ignore,
}

/// One step of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Spawns the plan's next child.
    Spawn(ChildSpec),
    /// Joins every child spawned so far; on `Ok` reads and folds the
    /// outputs of those spawned since the last join.
    Join,
    /// Runs a graph from inside the body, on the same executor.
    Nested(NestedSpec),
    /// Reads the newest child that no join covered (whatever it answered):
    /// must be refused.
    PeekUnjoined,
    /// Spawns a task that names a task it may not (the spawner itself, or
    /// a task of another graph): must be refused, adding nothing.
    BadSpawn { foreign: bool },
}

/// A spawned child.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildSpec {
    /// Index into the scenario's pools.
    pub pool: usize,
    /// What its body does.
    pub behaviour: Behaviour,
    /// Earlier children of the same parent it names, by spawn position.
    pub siblings: Vec<usize>,
    /// The parent's declared dependencies it names, by position in the
    /// parent's list.
    pub parent_dependencies: Vec<usize>,
    /// Makes its value its own.
    pub salt: u64,
    /// What it spawns in turn.
    pub plan: Plan,
}

/// A graph run from inside a task: a chain of tasks on one pool, the first
/// of which may spawn a child and join it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NestedSpec {
    /// Index into the scenario's pools.
    pub pool: usize,
    /// 1 to [`MAX_NESTED_TASKS`].
    pub tasks: usize,
    /// Whether its first task spawns a child (on the same pool) and joins.
    pub spawns: bool,
}

/// A task's plan; empty for a task that spawns nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The steps, in order, before the body's behaviour.
    pub steps: Vec<Step>,
    /// What a refused join does.
    pub on_join_error: OnJoinError,
}

impl Plan {
    /// The children, in spawn order.
    pub fn children(&self) -> impl Iterator<Item = &ChildSpec> {
        self.steps.iter().filter_map(|step| match step {
            Step::Spawn(child) => Some(child),
            _ => None,
        })
    }
}

/// Decodes the plans of a few tasks from what is left of the input.
pub(super) fn decode_plans(
    u: &mut Unstructured<'_>,
    tasks: &mut [TaskSpec],
    pools: usize,
    mood: usize,
) {
    if tasks.is_empty() {
        return;
    }
    for _ in 0..in_range(u, 0, MAX_PLANNED) {
        let task = in_range(u, 0, tasks.len() - 1);
        let declared = tasks[task].inputs.len();
        tasks[task].plan = decode_plan(u, 1, declared, pools, mood);
    }
}

/// A plan for a task of generation `depth` (1 for the graph's tasks) that
/// declares `declared` dependencies.
fn decode_plan(
    u: &mut Unstructured<'_>,
    depth: usize,
    declared: usize,
    pools: usize,
    mood: usize,
) -> Plan {
    let on_join_error = if byte(u) % 3 == 0 {
        OnJoinError::Ignore
    } else {
        OnJoinError::Propagate
    };
    let mut steps = Vec::new();
    let mut children = 0;
    for _ in 0..in_range(u, 1, MAX_STEPS) {
        let step = match byte(u) % 16 {
            0..=7 => {
                let siblings: Vec<usize> =
                    (0..in_range(u, 0, children.min(MAX_CHILD_DEPENDENCIES)))
                        .map(|_| usize::from(byte(u)) % children)
                        .collect();
                let parent_dependencies = (0..in_range(u, 0, declared.min(MAX_CHILD_DEPENDENCIES)))
                    .map(|_| usize::from(byte(u)) % declared)
                    .collect::<Vec<_>>();
                let pool = in_range(u, 0, pools - 1);
                let behaviour = decode_behaviour(byte(u), byte(u), mood);
                let salt = u64::from(u.arbitrary::<u16>().unwrap_or(0));
                // The child's declared list: its siblings, then its
                // parent's dependencies; its own children index into it.
                let own_declared = siblings.len() + parent_dependencies.len();
                let plan = if depth < MAX_DEPTH && byte(u) % 4 == 0 {
                    decode_plan(u, depth + 1, own_declared, pools, mood)
                } else {
                    Plan::default()
                };
                children += 1;
                Step::Spawn(ChildSpec {
                    pool,
                    behaviour,
                    siblings,
                    parent_dependencies,
                    salt,
                    plan,
                })
            }
            8..=11 => Step::Join,
            12 | 13 => Step::Nested(NestedSpec {
                pool: in_range(u, 0, pools - 1),
                tasks: in_range(u, 1, MAX_NESTED_TASKS),
                spawns: byte(u) % 2 == 0,
            }),
            14 => Step::PeekUnjoined,
            _ => Step::BadSpawn {
                foreign: byte(u) % 2 == 0,
            },
        };
        steps.push(step);
    }
    Plan {
        steps,
        on_join_error,
    }
}

/// Every task a scenario may run, numbered: the graph's tasks first (node
/// `t` is task `t`), then each one's planned descendants, depth first in
/// spawn order.
#[derive(Debug)]
pub struct Layout {
    /// Indexed by node number.
    pub nodes: Vec<Node>,
    /// How many of them are the graph's.
    pub statics: usize,
}

/// One task of the [`Layout`].
#[derive(Debug)]
pub struct Node {
    /// `t3` for a graph task, `t3.0.1` for the second child of its first.
    pub name: String,
    /// Index into the scenario's pools.
    pub pool: usize,
    /// What its body does.
    pub behaviour: Behaviour,
    /// Makes its value its own.
    pub salt: u64,
    /// The node that spawns it; `None` for a graph task.
    pub parent: Option<usize>,
    /// Declared dependencies, in the order it names and reads them: inputs
    /// for a graph task (without the ordering-only edges of a run), named
    /// siblings then parent dependencies for a spawned one.
    pub declared: Vec<usize>,
    /// Its plan.
    pub plan: Plan,
    /// The node numbers of its plan's children, in spawn order.
    pub children: Vec<usize>,
}

impl Layout {
    /// Numbers the tasks of `tasks` and their planned descendants.
    pub fn new(tasks: &[TaskSpec]) -> Layout {
        let mut nodes: Vec<Node> = tasks
            .iter()
            .enumerate()
            .map(|(index, task)| Node {
                name: format!("t{index}"),
                pool: task.pool,
                behaviour: task.behaviour,
                salt: task.salt,
                parent: None,
                declared: task.inputs.clone(),
                plan: task.plan.clone(),
                children: Vec::new(),
            })
            .collect();
        for index in 0..tasks.len() {
            add_children(&mut nodes, index);
        }
        Layout {
            nodes,
            statics: tasks.len(),
        }
    }

    /// `node` and every planned descendant of it.
    pub fn subtree(&self, node: usize) -> Vec<usize> {
        let mut all = vec![node];
        let mut next = 0;
        while next < all.len() {
            all.extend(self.nodes[all[next]].children.iter().copied());
            next += 1;
        }
        all
    }
}

fn add_children(nodes: &mut Vec<Node>, parent: usize) {
    let specs: Vec<ChildSpec> = nodes[parent].plan.children().cloned().collect();
    for (position, spec) in specs.into_iter().enumerate() {
        let number = nodes.len();
        let siblings = spec.siblings.iter().map(|&s| nodes[parent].children[s]);
        let from_parent = spec
            .parent_dependencies
            .iter()
            .map(|&d| nodes[parent].declared[d]);
        let declared = siblings.chain(from_parent).collect();
        nodes.push(Node {
            name: format!("{}.{position}", nodes[parent].name),
            pool: spec.pool,
            behaviour: spec.behaviour,
            salt: spec.salt,
            parent: Some(parent),
            declared,
            plan: spec.plan,
            children: Vec::new(),
        });
        nodes[parent].children.push(number);
        add_children(nodes, number);
    }
}
