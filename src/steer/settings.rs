//! What steers a task, as the caller set it: [`TaskSettings`] on a task
//! being built, and [`Steering`], the graph's record of them.
//!
//! A graph that uses none of them pays nothing per task: a [`Task`] carries
//! its settings in an `Option<Box<_>>` that only a builder method fills,
//! and the graph keeps each setting in a side vector that stays empty until
//! the first task with a value other than the default, and then grows only
//! as far as the last such task (a task past the end has the default).
//!
//! [`Task`]: crate::Task

use crate::graph::table::TaskTable;
use crate::results::error::GraphError;
use crate::steer::limit::Limit;
use crate::steer::ranks::longest_paths;
use crate::sync::Mutex;

/// The priority of a task that was not given one.
pub(crate) const DEFAULT_PRIORITY: i32 = 0;

/// The weight of a task that was not given one.
pub(crate) const DEFAULT_WEIGHT: u64 = 1;

/// The settings of one task under construction.
#[derive(Debug)]
pub(crate) struct TaskSettings {
    pub(crate) priority: i32,
    pub(crate) weight: u64,
    /// The task's limits, in the order they were given.
    pub(crate) limits: Vec<Limit>,
}

impl Default for TaskSettings {
    fn default() -> Self {
        TaskSettings {
            priority: DEFAULT_PRIORITY,
            weight: DEFAULT_WEIGHT,
            limits: Vec::new(),
        }
    }
}

impl TaskSettings {
    /// Refuses the settings of a task given to
    /// [`Context::spawn`](crate::Context::spawn), named `task`: spawned
    /// tasks are not steered, so any setting other than the default is an
    /// error ([`GraphError::SteeredSpawn`]) rather than silently dropped.
    /// Inlined, as most spawned tasks have no settings at all.
    #[inline]
    pub(crate) fn refuse_spawned(settings: Option<&Self>, task: &str) -> Result<(), GraphError> {
        match settings {
            None => Ok(()),
            Some(settings) => settings.refuse_steering(task),
        }
    }

    /// [`refuse_spawned`](TaskSettings::refuse_spawned) for a task with
    /// settings.
    #[cold]
    fn refuse_steering(&self, task: &str) -> Result<(), GraphError> {
        let setting = if self.priority != DEFAULT_PRIORITY {
            "priority"
        } else if self.weight != DEFAULT_WEIGHT {
            "weight"
        } else if !self.limits.is_empty() {
            "limit"
        } else {
            return Ok(());
        };
        Err(GraphError::SteeredSpawn {
            task: task.to_owned(),
            setting,
        })
    }
}

/// A graph's record of its tasks' settings, and the critical-path ranks
/// computed from them.
#[derive(Debug, Default)]
pub(crate) struct Steering {
    /// By task index; tasks past the end have [`DEFAULT_PRIORITY`].
    priorities: Vec<i32>,
    /// By task index; tasks past the end have [`DEFAULT_WEIGHT`].
    weights: Vec<u64>,
    /// By task index, each task's distinct limits sorted by id (the order
    /// they are taken in); tasks past the end have none.
    limits: Vec<Box<[Limit]>>,
    /// The ranks of the last critical-path run, for the table as it was
    /// then: a run needs `&Steering` only, while the graph is borrowed.
    ranks: Mutex<Option<Ranks>>,
}

/// Critical-path ranks for a table of `tasks` tasks and `edges` edges. A
/// table only grows (until [`Steering::clear`] forgets the ranks with it)
/// and a task's weight is set when it is added, so the two counts tell
/// whether the ranks are current.
#[derive(Debug)]
struct Ranks {
    tasks: usize,
    edges: usize,
    ranks: Box<[u64]>,
}

impl Steering {
    /// Forgets every task's settings and the cached ranks, for
    /// [`Graph::clear`](crate::Graph::clear): a graph rebuilt to the same
    /// counts must not reuse the ranks of the tasks it had.
    pub(crate) fn clear(&mut self) {
        self.priorities.clear();
        self.weights.clear();
        self.limits.clear();
        *self.ranks.lock() = None;
    }

    /// Records the settings of the task just added as `task`.
    pub(crate) fn record(&mut self, task: u32, settings: TaskSettings) {
        let index = task as usize;
        if settings.priority != DEFAULT_PRIORITY {
            set(
                &mut self.priorities,
                index,
                settings.priority,
                DEFAULT_PRIORITY,
            );
        }
        if settings.weight != DEFAULT_WEIGHT {
            set(&mut self.weights, index, settings.weight, DEFAULT_WEIGHT);
        }
        if !settings.limits.is_empty() {
            let mut limits = settings.limits;
            limits.sort_by_key(Limit::id);
            limits.dedup();
            set(
                &mut self.limits,
                index,
                limits.into_boxed_slice(),
                Box::default(),
            );
        }
    }

    /// Whether some task has a priority other than the default.
    pub(crate) fn has_priorities(&self) -> bool {
        !self.priorities.is_empty()
    }

    /// Whether some task has a limit.
    pub(crate) fn has_limits(&self) -> bool {
        !self.limits.is_empty()
    }

    pub(crate) fn priority(&self, task: u32) -> i32 {
        self.priorities
            .get(task as usize)
            .copied()
            .unwrap_or(DEFAULT_PRIORITY)
    }

    pub(crate) fn weight(&self, task: u32) -> u64 {
        self.weights
            .get(task as usize)
            .copied()
            .unwrap_or(DEFAULT_WEIGHT)
    }

    /// The limits of `task`, sorted by id.
    pub(crate) fn limits(&self, task: u32) -> &[Limit] {
        self.limits.get(task as usize).map_or(&[], |limits| limits)
    }

    /// Every distinct limit of the graph's tasks.
    pub(crate) fn distinct_limits(&self) -> Vec<Limit> {
        let mut all: Vec<Limit> = self.limits.iter().flatten().cloned().collect();
        all.sort_by_key(Limit::id);
        all.dedup();
        all
    }

    /// Each task's critical-path rank (see [`crate::steer::ranks`]),
    /// computed once per shape of `table`.
    pub(crate) fn ranks(&self, table: &TaskTable, in_index_order: bool) -> Box<[u64]> {
        let mut cached = self.ranks.lock();
        let current = cached.as_ref().is_some_and(|ranks| {
            ranks.tasks == table.task_count() && ranks.edges == table.edge_count()
        });
        if !current {
            *cached = Some(Ranks {
                tasks: table.task_count(),
                edges: table.edge_count(),
                ranks: longest_paths(table, in_index_order, |task| self.weight(task)),
            });
        }
        cached.as_ref().expect("just made current").ranks.clone()
    }
}

/// Sets `values[index]`, growing the vector with `default` up to it.
fn set<T: Clone>(values: &mut Vec<T>, index: usize, value: T, default: T) {
    if values.len() <= index {
        values.resize(index + 1, default);
    }
    values[index] = value;
}
