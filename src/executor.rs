//! [`Executor`] and [`ExecutorBuilder`]: the per-tag worker pools, and
//! running graphs on them.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::{BuildError, GraphError};
use crate::graph::Graph;
use crate::options::RunOptions;
use crate::pin::CorePlan;
use crate::pool::{Pool, PoolHandle};
use crate::report::RunReport;
use crate::run::Run;
use crate::sync::{Arc, Mutex};
use crate::tag::Tag;

/// Runs graphs on worker threads, one pool per tag.
///
/// A tag's pool is created when the executor is built (for tags configured
/// with [`ExecutorBuilder::tag_workers`]) or when a graph with that tag
/// first runs, and lives as long as the executor. A pool never runs more
/// tasks at once than it has workers, across all runs in progress; several
/// threads may run different graphs on one executor at once. Dropping the
/// executor stops and joins its threads.
///
/// Running a graph from inside one of this executor's tasks blocks that
/// worker until the inner run completes; if the inner graph needs the same
/// pool and every worker of it blocks so, the runs deadlock.
///
/// Tasks of one run should wait for each other only through dependencies. A
/// worker may run a few short tasks without dependencies in a row before
/// handing the rest of them to idle peers (it hands them over at once when a
/// peer is asleep), so a task that blocks until another task starts may
/// keep that task from starting until it returns.
pub struct Executor {
    config: Config,
    registry: Mutex<Registry>,
}

#[derive(Clone, Debug)]
struct Config {
    workers_per_tag: usize,
    tag_workers: BTreeMap<Tag, usize>,
    pin_workers: bool,
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
}

impl Executor {
    /// The most workers one pool may have: 4,096. Far more threads than the
    /// largest machines have cores; a pool's idle workers search every
    /// other worker's deque, so one much larger than the machine only adds
    /// contention. A larger size is refused by
    /// [`ExecutorBuilder::build`] with [`BuildError::TooManyWorkers`].
    pub const MAX_WORKERS: usize = 1 << 12;

    /// An executor with the defaults: every tag gets a pool of as many
    /// workers as [`std::thread::available_parallelism`] reports for the
    /// process's affinity mask, whichever thread calls this (1 if it cannot
    /// tell, at most [`MAX_WORKERS`](Executor::MAX_WORKERS)), unpinned,
    /// started when a graph with that tag first runs.
    pub fn new() -> Executor {
        Executor::with_config(Config {
            workers_per_tag: default_workers(),
            tag_workers: BTreeMap::new(),
            pin_workers: false,
        })
    }

    /// A builder to configure pool sizes and pinning.
    pub fn builder() -> ExecutorBuilder {
        ExecutorBuilder::default()
    }

    fn with_config(config: Config) -> Executor {
        let cores = CorePlan::new(config.pin_workers);
        Executor {
            config,
            registry: Mutex::new(Registry {
                pools: BTreeMap::new(),
                cores,
            }),
        }
    }

    /// Runs `graph` with the default [`RunOptions`] (fail-fast, no cancel
    /// token). See [`run_with`](Executor::run_with).
    pub fn run(&self, graph: &mut Graph) -> Result<RunReport, GraphError> {
        self.run_with(graph, RunOptions::new())
    }

    /// Runs `graph` and blocks until every task succeeded, failed, was
    /// skipped or was cancelled.
    ///
    /// Returns `Err` only for a graph that cannot run: one with a cycle
    /// ([`GraphError::Cycle`]), with a dependency on a task of another graph
    /// ([`GraphError::ForeignTask`]), with more tasks or edges than the
    /// engine can index ([`GraphError::TooLarge`]), or one whose new tag's
    /// pool could not be started ([`GraphError::WorkerSpawn`]). In that case no task started. Task failures are not
    /// errors here: they are in the returned [`RunReport`].
    pub fn run_with(
        &self,
        graph: &mut Graph,
        options: RunOptions,
    ) -> Result<RunReport, GraphError> {
        let view = graph.prepare()?;
        let pools = self.pools_for(view.tags)?;
        Ok(Run::execute(view, pools, options))
    }

    /// The number of workers the pool of `tag` has, or will have once
    /// started.
    pub fn workers(&self, tag: impl Into<Tag>) -> usize {
        self.config.workers(&tag.into())
    }

    /// The pool of each tag, started if new.
    fn pools_for(&self, tags: &[Tag]) -> Result<Box<[Arc<Pool>]>, GraphError> {
        let mut registry = self.registry.lock();
        tags.iter()
            .map(|tag| {
                registry
                    .pool(tag, self.config.workers(tag))
                    .map_err(|source| GraphError::WorkerSpawn {
                        tag: tag.clone(),
                        source,
                    })
            })
            .collect()
    }
}

impl Registry {
    fn pool(&mut self, tag: &Tag, workers: usize) -> std::io::Result<Arc<Pool>> {
        if let Some(handle) = self.pools.get(tag) {
            return Ok(Arc::clone(handle.pool()));
        }
        let handle = PoolHandle::start(tag.clone(), workers, &mut self.cores)?;
        let pool = Arc::clone(handle.pool());
        self.pools.insert(tag.clone(), handle);
        Ok(pool)
    }
}

impl Config {
    fn workers(&self, tag: &Tag) -> usize {
        self.tag_workers
            .get(tag)
            .copied()
            .unwrap_or(self.workers_per_tag)
    }
}

impl Default for Executor {
    fn default() -> Self {
        Executor::new()
    }
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let registry = self.registry.lock();
        let started: Vec<(&Tag, usize)> = registry
            .pools
            .iter()
            .map(|(tag, handle)| (tag, handle.pool().size()))
            .collect();
        f.debug_struct("Executor")
            .field("workers_per_tag", &self.config.workers_per_tag)
            .field("tag_workers", &self.config.tag_workers)
            .field("pin_workers", &self.config.pin_workers)
            .field("started_pools", &started)
            .finish()
    }
}

fn default_workers() -> usize {
    crate::pin::available_parallelism().min(Executor::MAX_WORKERS)
}

/// Configures an [`Executor`]: pool sizes per tag and pinning.
///
/// ```
/// use taskflow_engine::Executor;
///
/// let executor = Executor::builder()
///     .workers_per_tag(2)
///     .tag_workers("io", 8)
///     .pin_workers(true)
///     .build()?;
/// assert_eq!(executor.workers("io"), 8);
/// assert_eq!(executor.workers("cpu"), 2);
/// # Ok::<(), taskflow_engine::BuildError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ExecutorBuilder {
    config: Config,
}

impl Default for ExecutorBuilder {
    fn default() -> Self {
        ExecutorBuilder {
            config: Config {
                workers_per_tag: default_workers(),
                tag_workers: BTreeMap::new(),
                pin_workers: false,
            },
        }
    }
}

impl ExecutorBuilder {
    /// The pool size of every tag without its own setting, including tags
    /// first seen in a graph: from 1 to [`Executor::MAX_WORKERS`]. Defaults
    /// to the available parallelism.
    pub fn workers_per_tag(mut self, workers: usize) -> Self {
        self.config.workers_per_tag = workers;
        self
    }

    /// The pool size of `tag`, from 1 to [`Executor::MAX_WORKERS`]. Its pool
    /// starts when the executor is built.
    pub fn tag_workers(mut self, tag: impl Into<Tag>, workers: usize) -> Self {
        self.config.tag_workers.insert(tag.into(), workers);
        self
    }

    /// Whether to pin workers to cores, spread over the cores of the
    /// process's affinity mask in the order pools start. A platform that
    /// refuses leaves them unpinned. Unpinned workers run on every core of
    /// that mask, whichever thread starts their pool (see `src/pin.rs` for
    /// what the process's mask is on each platform).
    /// Off by default.
    pub fn pin_workers(mut self, pin: bool) -> Self {
        self.config.pin_workers = pin;
        self
    }

    /// Builds the executor and starts the pools of the tags given to
    /// [`tag_workers`](ExecutorBuilder::tag_workers).
    ///
    /// Fails with [`BuildError::ZeroWorkers`] if any pool size is zero, with
    /// [`BuildError::TooManyWorkers`] if any is above
    /// [`Executor::MAX_WORKERS`], and with [`BuildError::Spawn`] if a thread
    /// cannot be started.
    pub fn build(self) -> Result<Executor, BuildError> {
        if self.config.workers_per_tag == 0 {
            return Err(BuildError::ZeroWorkers { tag: None });
        }
        if let Some((tag, _)) = self
            .config
            .tag_workers
            .iter()
            .find(|(_, workers)| **workers == 0)
        {
            return Err(BuildError::ZeroWorkers {
                tag: Some(tag.clone()),
            });
        }
        // Checked here, so that no pool ever allocates or spawns for a size
        // it cannot have.
        let too_many = |workers: usize| workers > Executor::MAX_WORKERS;
        let oversized = Some((None, self.config.workers_per_tag))
            .filter(|&(_, workers)| too_many(workers))
            .or_else(|| {
                self.config
                    .tag_workers
                    .iter()
                    .find(|(_, workers)| too_many(**workers))
                    .map(|(tag, &workers)| (Some(tag.clone()), workers))
            });
        if let Some((tag, workers)) = oversized {
            return Err(BuildError::TooManyWorkers {
                tag,
                workers,
                max: Executor::MAX_WORKERS,
            });
        }
        let executor = Executor::with_config(self.config);
        {
            let mut registry = executor.registry.lock();
            for (tag, &workers) in &executor.config.tag_workers {
                registry
                    .pool(tag, workers)
                    .map_err(|source| BuildError::Spawn {
                        tag: tag.clone(),
                        source,
                    })?;
            }
        }
        Ok(executor)
    }
}
