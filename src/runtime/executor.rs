//! [`Executor`]: the per-tag worker pools, and running graphs on them
//! (configured by [`ExecutorBuilder`](crate::runtime::builder::ExecutorBuilder)).

use std::collections::BTreeMap;
use std::fmt;

use crate::graph::Graph;
use crate::graph::tag::Tag;
use crate::observe::ObserverList;
use crate::results::error::{BuildError, GraphError};
use crate::results::report::RunReport;
use crate::runtime::builder::ExecutorBuilder;
use crate::runtime::cancel::CancelToken;
use crate::runtime::completion::InFlight;
use crate::runtime::options::RunOptions;
use crate::runtime::pin::CorePlan;
use crate::runtime::pool::{Pool, PoolHandle};
use crate::runtime::run::Run;
use crate::runtime::spawn::SpareMemory;
use crate::runtime::spawn::inbox::Inbox;
use crate::runtime::spawn::{PoolSource, SpawnState};
use crate::runtime::submit::{RunHandle, submit};
use crate::runtime::threads::ThreadSetup;
use crate::sync::{Arc, Mutex};

/// Runs graphs on worker threads, one pool per tag.
///
/// A tag's pool is created when the executor is built (for tags configured
/// with [`ExecutorBuilder::tag_workers`]) or when a graph with that tag
/// first runs, and lives as long as the executor. A pool never runs more
/// tasks at once than it has workers, across all runs in progress; several
/// threads may run different graphs on one executor at once. Dropping the
/// executor waits for runs [submitted](Executor::submit) to it, then stops
/// and joins its threads; dropped on one of its own workers (the last
/// `Arc<Executor>` held by a task), it cannot wait, and the last submitted
/// run to end stops the pools instead.
///
/// ```
/// use std::sync::Arc;
/// use taskflow_engine::{Executor, Graph, Task};
///
/// let executor = Arc::new(Executor::builder().workers_per_tag(2).build()?);
/// let callers: Vec<_> = (0..3)
///     .map(|caller| {
///         let executor = Arc::clone(&executor);
///         std::thread::spawn(move || {
///             let mut graph = Graph::new();
///             let id = graph.add(Task::new("id", move |_| Ok(caller)));
///             assert!(executor.run(&mut graph).unwrap().is_success());
///             graph.take_output(id)
///         })
///     })
///     .collect();
/// let ids: Vec<_> = callers.into_iter().map(|caller| caller.join().unwrap()).collect();
/// assert_eq!(ids, [Some(0), Some(1), Some(2)]);
/// # Ok::<(), taskflow_engine::BuildError>(())
/// ```
///
/// A graph may be run from inside one of this executor's own tasks: the
/// worker that runs the task then helps with the inner run's tasks of its
/// own pool until the inner run completes (and sleeps, using no CPU, while
/// none is ready), so even a pool of one worker runs nested graphs of its
/// own tag, a thousand levels deep (see [`Context::join`](crate::Context::join)
/// for the rule a waiting worker follows).
///
/// Tasks of one run should wait for each other only through dependencies. A
/// worker may run a few short tasks without dependencies in a row before
/// handing the rest of them to idle peers (it hands them over at once when a
/// peer is asleep), so a task that blocks until another task starts may
/// keep that task from starting until it returns.
///
/// Memory: an executor keeps the table its runs' spawned tasks
/// ([`Context::spawn`](crate::Context::spawn)) were written into, up to
/// about a million nodes (some 130 MB after a run that spawned that many),
/// and the memory of the subtrees of tasks that spawned, up to about a
/// million (some 100 MB), so that its next runs that spawn write into
/// mapped memory instead of taking a page fault every few dozen spawns.
/// It is freed when the executor is dropped; runs that spawn nothing keep
/// nothing.
pub struct Executor {
    /// Everything the executor owns, shared with its submitted runs, so that
    /// its pools live until the last of them ends even if the executor is
    /// dropped first (by one of its own tasks, which cannot wait for them).
    shared: std::sync::Arc<Shared>,
}

/// The configuration, the pools, and the count of submitted runs in flight.
///
/// In `std`'s `Arc` even under loom: a submission holds it type-erased, and
/// loom's `Arc` cannot be; it is no part of the scheduling protocol.
#[derive(Debug)]
struct Shared {
    config: Config,
    registry: Mutex<Registry>,
    /// Submitted runs in flight, which dropping the executor waits for.
    in_flight: Arc<InFlight>,
    /// The memory of spawned tasks and subtrees that ended runs left for
    /// the next ones (see [`SpareMemory`]).
    spare_memory: SpareMemory,
}

/// What an [`ExecutorBuilder`] sets.
#[derive(Clone, Debug, Default)]
pub(super) struct Config {
    /// The pool size of tags without one of their own, or `None` for pools
    /// sized from the shared thread budget (see [`Executor::new`]).
    pub(super) workers_per_tag: Option<usize>,
    pub(super) tag_workers: BTreeMap<Tag, usize>,
    pub(super) pin_workers: bool,
    pub(super) threads: ThreadSetup,
    /// Observers of every run (see [`crate::observe`]).
    pub(super) observers: ObserverList,
}

/// The executor's pools, and where to pin the next worker.
///
/// Ordered maps, not hash maps: pools are dropped (and their threads joined)
/// in map order, and loom replays a model only if that order is the same in
/// every execution.
#[derive(Debug)]
struct Registry {
    pools: BTreeMap<Tag, PoolHandle>,
    cores: CorePlan,
    /// The threads that pools sized by default share (0 when every pool
    /// has a configured size).
    budget: usize,
    /// The workers started so far by pools sized from the thread budget.
    budget_used: usize,
}

impl Executor {
    /// The most workers one pool may have: 4,096. Far more threads than the
    /// largest machines have cores; a pool's idle workers search every
    /// other worker's deque, so one much larger than the machine only adds
    /// contention. A larger size is refused by
    /// [`ExecutorBuilder::build`] with [`BuildError::TooManyWorkers`].
    pub const MAX_WORKERS: usize = 1 << 12;

    /// An executor with the defaults: unpinned pools, each started when a
    /// graph with its tag first runs, sized from one *thread budget* of as
    /// many threads as [`std::thread::available_parallelism`] reports for
    /// the process's affinity mask, whichever thread calls this (1 if it
    /// cannot tell, at most [`MAX_WORKERS`](Executor::MAX_WORKERS)), so that
    /// many tags do not oversubscribe the machine: the new tags of a run
    /// share what is left of the budget equally, and every pool gets at
    /// least one worker. A graph with one tag gets every core; one whose
    /// tags `io` and `cpu` first run together gets half the cores each; a
    /// tag first seen after the budget is spent gets one worker. Set sizes
    /// with [`ExecutorBuilder::workers_per_tag`] and
    /// [`ExecutorBuilder::tag_workers`] to decide yourself.
    ///
    /// ```
    /// use taskflow_engine::{Executor, Graph, Task};
    ///
    /// let executor = Executor::new();
    /// let mut graph = Graph::new();
    /// graph.add(Task::new("hello", |_| Ok(println!("hello"))));
    /// assert!(executor.run(&mut graph)?.is_success());
    /// # Ok::<(), taskflow_engine::GraphError>(())
    /// ```
    #[must_use]
    pub fn new() -> Executor {
        Executor::with_config(Config::default())
    }

    /// A builder to configure pool sizes, pinning and worker threads; the
    /// same as [`ExecutorBuilder::new`].
    #[must_use]
    pub fn builder() -> ExecutorBuilder {
        ExecutorBuilder::new()
    }

    pub(super) fn with_config(mut config: Config) -> Executor {
        let cores = CorePlan::new(config.pin_workers);
        config.threads.executor = crate::sync::next_unique_id().get();
        // Read once: `available_parallelism` reads the affinity mask and the
        // cgroup quota files, too slow for every run.
        let budget = if config.workers_per_tag.is_none() {
            thread_budget()
        } else {
            0
        };
        Executor {
            shared: std::sync::Arc::new(Shared {
                config,
                registry: Mutex::new(Registry {
                    pools: BTreeMap::new(),
                    cores,
                    budget,
                    budget_used: 0,
                }),
                in_flight: Arc::new(InFlight::default()),
                spare_memory: SpareMemory::default(),
            }),
        }
    }

    /// Runs `graph` with the default [`RunOptions`] (fail-fast, no cancel
    /// token). See [`run_with`](Executor::run_with).
    ///
    /// # Errors
    ///
    /// As [`run_with`](Executor::run_with).
    pub fn run(&self, graph: &mut Graph<'_>) -> Result<RunReport, GraphError> {
        self.run_with(graph, RunOptions::new())
    }

    /// Runs `graph` and blocks until every task succeeded, failed, was
    /// skipped or was cancelled. Task failures are not errors here: they are
    /// in the returned [`RunReport`].
    ///
    /// ```
    /// use taskflow_engine::{CancelToken, Executor, FailurePolicy, Graph, Outcome, RunOptions, Task};
    ///
    /// let mut graph = Graph::new();
    /// let broken = graph.add(Task::new("broken", |_| -> Result<(), _> { Err("no disk")? }));
    /// let after = graph.add(Task::new("after", |_| Ok(())).after(broken));
    /// let unrelated = graph.add(Task::new("unrelated", |_| Ok(())));
    /// let options = RunOptions::new()
    ///     .policy(FailurePolicy::KeepGoing)
    ///     .cancel_token(CancelToken::new());
    /// let report = Executor::new().run_with(&mut graph, options)?;
    /// assert_eq!((report.failed(), report.skipped(), report.succeeded()), (1, 1, 1));
    /// assert!(matches!(report.outcome(after), Outcome::Skipped));
    /// assert!(report.outcome(unrelated).is_success());
    /// # Ok::<(), taskflow_engine::GraphError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// Only for a graph that cannot run, and then no task started: one with
    /// a cycle ([`GraphError::Cycle`]), with a dependency on a task of
    /// another graph ([`GraphError::ForeignTask`]), with more tasks or edges
    /// than the engine can index ([`GraphError::TooLarge`]), or one whose
    /// new tag's pool could not be started ([`GraphError::WorkerSpawn`]).
    /// Called from inside a task of this executor, on a worker whose stack
    /// has too little room left to help with the run (runs nested too
    /// deeply, see [`ExecutorBuilder::stack_size`]):
    /// [`GraphError::WaitTooDeep`]; with a task that needs a
    /// [`Limit`](crate::Limit) whose every permit the calling task (or the
    /// tasks that wait for it) holds: [`GraphError::LimitHeldByCaller`].
    pub fn run_with(
        &self,
        graph: &mut Graph<'_>,
        options: RunOptions,
    ) -> Result<RunReport, GraphError> {
        let view = graph.prepare()?;
        // The permits that the tasks waiting for this run hold, if it runs
        // from inside tasks (see `crate::steer::holding`).
        let enclosing = crate::steer::holding::Holds::of_this_thread();
        enclosing.refuse_held(&view)?;
        let pools = self.pools_for(view.tags)?;
        let mut options = options.observed_by(&self.shared.config.observers);
        options.enclosing = enclosing;
        let spawn = self.spawn_state(true)?;
        Ok(Run::execute(view, pools, options, spawn))
    }

    /// What a run needs to spawn tasks: a way to start the pool of a new
    /// tag, and, for a run started on one of this executor's own workers
    /// (when `nested` may be), an inbox for that worker's wait.
    ///
    /// # Errors
    ///
    /// [`GraphError::WaitTooDeep`] for a nested run on a worker whose stack
    /// has too little room left to help with it (see
    /// [`crate::runtime::spawn::help::stack_margin`]).
    fn spawn_state(&self, nested: bool) -> Result<SpawnState, GraphError> {
        let shared = std::sync::Arc::clone(&self.shared);
        let source: PoolSource = std::sync::Arc::new(move |tag: &Tag| {
            shared
                .pools_for(std::slice::from_ref(tag))
                .map(|pools| Arc::clone(&pools[0]))
        });
        let worker = nested
            .then(|| self.shared.config.threads.is_current_worker())
            .filter(|&on_worker| on_worker)
            .and_then(|_| crate::runtime::worker::WorkerThread::current());
        let helper = match worker {
            Some(worker) if !worker.may_help() => return Err(GraphError::WaitTooDeep),
            Some(worker) => Some(Arc::new(Inbox::new(worker.pool()))),
            None => None,
        };
        Ok(SpawnState::new(
            Some(source),
            helper,
            &self.shared.spare_memory,
        ))
    }

    /// Starts a run of `graph` and returns at once, with a handle to
    /// [`wait`](RunHandle::wait) for it, [`cancel`](RunHandle::cancel) it,
    /// or `.await` it from async code without blocking the thread: the
    /// handle is a [`Future`](std::future::Future) whose output is the graph
    /// and its report. The graph moves into the run, so it may not borrow
    /// (`Graph<'static>`).
    ///
    /// A graph that cannot run (the errors of [`run_with`](Executor::run_with))
    /// starts no task: its report's [`graph_error`](RunReport::graph_error)
    /// says why.
    ///
    /// ```
    /// use taskflow_engine::{Executor, Graph, RunOptions, Task};
    ///
    /// let executor = Executor::new();
    /// let mut graph = Graph::new();
    /// let sum = graph.add(Task::new("sum", |_| Ok((1..=10).sum::<u32>())));
    /// let handle = executor.submit(graph, RunOptions::new());
    /// // In async code: `let (mut graph, report) = handle.await;`
    /// let (mut graph, report) = handle.wait();
    /// assert!(report.is_success());
    /// assert_eq!(graph.take_output(sum), Some(55));
    /// ```
    pub fn submit(&self, graph: Graph<'static>, options: RunOptions) -> RunHandle {
        // The handle cancels a child of the caller's token, so that
        // `RunHandle::cancel` stops this run alone.
        let token = options
            .cancel
            .as_ref()
            .map_or_else(CancelToken::new, CancelToken::child);
        let options = options
            .cancel_token(token.clone())
            .observed_by(&self.shared.config.observers);
        let owner: std::sync::Arc<dyn Send + Sync> = self.shared.clone();
        submit(graph, token, &self.shared.in_flight, owner, |graph| {
            let view = graph.prepare()?;
            let pools = self.pools_for(view.tags)?;
            Ok(Run::new(view, pools, options, self.spawn_state(false)?))
        })
    }

    /// The number of workers the pool of `tag` has; for a pool not yet
    /// started, the number it would get if a graph with this one new tag
    /// ran now (see [`Executor::new`] for pools sized from the budget).
    #[must_use]
    pub fn workers(&self, tag: impl Into<Tag>) -> usize {
        let tag = tag.into();
        let registry = self.shared.registry.lock();
        match registry.pools.get(&tag) {
            Some(handle) => handle.pool().size(),
            None => self
                .shared
                .config
                .fixed_size(&tag)
                .unwrap_or_else(|| registry.budget_share(1)),
        }
    }

    /// The pool of each tag, started if new.
    fn pools_for(&self, tags: &[Tag]) -> Result<Box<[Arc<Pool>]>, GraphError> {
        self.shared.pools_for(tags)
    }

    /// Starts the pools of the tags configured with a size of their own.
    pub(super) fn start_configured_pools(&self) -> Result<(), BuildError> {
        let mut registry = self.shared.registry.lock();
        for (tag, &workers) in &self.shared.config.tag_workers {
            registry
                .pool(tag, PoolSize::Fixed(workers), &self.shared.config.threads)
                .map_err(|source| BuildError::Spawn {
                    tag: tag.clone(),
                    source,
                })?;
        }
        Ok(())
    }
}

impl Shared {
    /// The pool of each tag, started if new.
    fn pools_for(&self, tags: &[Tag]) -> Result<Box<[Arc<Pool>]>, GraphError> {
        let mut registry = self.registry.lock();
        let budgeted = tags
            .iter()
            .filter(|tag| {
                !registry.pools.contains_key(*tag) && self.config.fixed_size(tag).is_none()
            })
            .count();
        let share = registry.budget_share(budgeted);
        tags.iter()
            .map(|tag| {
                let size = match self.config.fixed_size(tag) {
                    Some(workers) => PoolSize::Fixed(workers),
                    None => PoolSize::FromBudget(share),
                };
                registry
                    .pool(tag, size, &self.config.threads)
                    .map_err(|source| GraphError::WorkerSpawn {
                        tag: tag.clone(),
                        source,
                    })
            })
            .collect()
    }
}

/// How many workers a new pool gets, and whether they count against the
/// thread budget.
#[derive(Clone, Copy, Debug)]
enum PoolSize {
    Fixed(usize),
    FromBudget(usize),
}

impl Registry {
    /// The pool of `tag`, started with `size` workers if it is new.
    fn pool(
        &mut self,
        tag: &Tag,
        size: PoolSize,
        setup: &ThreadSetup,
    ) -> std::io::Result<Arc<Pool>> {
        if let Some(handle) = self.pools.get(tag) {
            return Ok(Arc::clone(handle.pool()));
        }
        let workers = match size {
            PoolSize::Fixed(workers) | PoolSize::FromBudget(workers) => workers,
        };
        let handle = PoolHandle::start(tag.clone(), workers, &mut self.cores, setup)?;
        let pool = Arc::clone(handle.pool());
        self.pools.insert(tag.clone(), handle);
        if let PoolSize::FromBudget(workers) = size {
            self.budget_used += workers;
        }
        Ok(pool)
    }

    /// The size of each of `pools` new pools sized from the thread budget:
    /// an equal share of what is left of it, at least one worker.
    fn budget_share(&self, pools: usize) -> usize {
        let left = self.budget.saturating_sub(self.budget_used);
        (left / pools.max(1)).max(1)
    }
}

impl Config {
    /// The size configured for `tag`'s pool, or `None` if it is sized from
    /// the thread budget.
    fn fixed_size(&self, tag: &Tag) -> Option<usize> {
        self.tag_workers.get(tag).copied().or(self.workers_per_tag)
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        // Submitted runs keep the pools alive (they hold `shared`); waiting
        // for them here makes the drop stop and join the threads itself, as
        // documented. One of the executor's own workers cannot wait (it may
        // be what a run waits for): there the last submitted run to end
        // stops the pools instead.
        if !self.shared.config.threads.is_current_worker() {
            self.shared.in_flight.wait_idle();
        }
    }
}

impl Default for Executor {
    fn default() -> Self {
        Executor::new()
    }
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let registry = self.shared.registry.lock();
        let started: Vec<(&Tag, usize)> = registry
            .pools
            .iter()
            .map(|(tag, handle)| (tag, handle.pool().size()))
            .collect();
        f.debug_struct("Executor")
            .field("workers_per_tag", &self.shared.config.workers_per_tag)
            .field("tag_workers", &self.shared.config.tag_workers)
            .field("pin_workers", &self.shared.config.pin_workers)
            .field("observers", &self.shared.config.observers)
            .field("started_pools", &started)
            .finish()
    }
}

/// The threads that pools sized by default share: the available
/// parallelism of the process's affinity mask (and cgroup quota), at most
/// [`Executor::MAX_WORKERS`].
fn thread_budget() -> usize {
    crate::runtime::pin::available_parallelism().min(Executor::MAX_WORKERS)
}
