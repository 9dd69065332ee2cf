//! [`ExecutorBuilder`]: how an [`Executor`] is configured (pool sizes per
//! tag, pinning, worker threads' names, stacks and hooks, observers) and
//! built.

use crate::graph::tag::Tag;
use crate::observe::Observer;
use crate::results::error::BuildError;
use crate::runtime::executor::{Config, Executor};

/// Configures an [`Executor`]: pool sizes per tag, pinning, and how worker
/// threads are named, sized and set up.
///
/// ```
/// use taskflow_engine::ExecutorBuilder;
///
/// let executor = ExecutorBuilder::new()
///     .workers_per_tag(2)
///     .tag_workers("io", 8)
///     .pin_workers(true)
///     .thread_name(|tag, index| format!("build-{tag}-{index}"))
///     .stack_size(4 << 20)
///     .on_thread_start(|tag, index| eprintln!("worker {index} of {tag} starts"))
///     .build()?;
/// assert_eq!(executor.workers("io"), 8);
/// assert_eq!(executor.workers("cpu"), 2);
/// # Ok::<(), taskflow_engine::BuildError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct ExecutorBuilder {
    config: Config,
}

impl ExecutorBuilder {
    /// A builder with the defaults of [`Executor::new`].
    #[must_use]
    pub fn new() -> Self {
        ExecutorBuilder::default()
    }

    /// The pool size of every tag without its own setting, including tags
    /// first seen in a graph: from 1 to [`Executor::MAX_WORKERS`]. Without
    /// it, such pools share a thread budget of the available parallelism
    /// (see [`Executor::new`]).
    #[must_use]
    pub fn workers_per_tag(mut self, workers: usize) -> Self {
        self.config.workers_per_tag = Some(workers);
        self
    }

    /// The pool size of `tag`, from 1 to [`Executor::MAX_WORKERS`]. Its pool
    /// starts when the executor is built.
    #[must_use]
    pub fn tag_workers(mut self, tag: impl Into<Tag>, workers: usize) -> Self {
        self.config.tag_workers.insert(tag.into(), workers);
        self
    }

    /// Whether to pin workers to cores, spread over the cores of the
    /// process's affinity mask in the order pools start. A platform that
    /// refuses leaves them unpinned. Unpinned workers run on every core of
    /// that mask, whichever thread starts their pool (see `src/runtime/pin.rs` for
    /// what the process's mask is on each platform).
    /// Off by default.
    #[must_use]
    pub fn pin_workers(mut self, pin: bool) -> Self {
        self.config.pin_workers = pin;
        self
    }

    /// Names worker threads: `name(tag, index)` for worker `index` (from 0)
    /// of `tag`'s pool. The default is `taskflow-<tag>-<index>`. A NUL in
    /// the name, which a thread name cannot hold, is shown as `\0`; should
    /// `name` panic, the thread gets the default name. It is called on the
    /// thread that starts the pool, while the executor's pools are locked:
    /// it must not call back into the executor.
    #[must_use]
    pub fn thread_name<F>(mut self, name: F) -> Self
    where
        F: Fn(&Tag, usize) -> String + Send + Sync + 'static,
    {
        self.config.threads.name = Some(std::sync::Arc::new(name));
        self
    }

    /// The stack size of every worker thread, in bytes (the default is
    /// 16 MiB, room for a thousand levels of waits that help, see
    /// [`Context::join`](crate::Context::join); only the pages a thread
    /// touches are committed). Tasks that recurse deeply need more. A wait
    /// inside a task (a `join`, a nested run) that finds less than the
    /// larger of 256 KiB and an eighth of it left is refused with
    /// [`GraphError::WaitTooDeep`](crate::GraphError::WaitTooDeep).
    #[must_use]
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.config.threads.stack_size = Some(bytes);
        self
    }

    /// Runs `handler(tag, index)` on every worker thread when it starts,
    /// before it runs any task: to set a thread-local, a priority, a
    /// profiler's thread name. A panic in it is caught and reported on
    /// stderr; the worker goes on.
    #[must_use]
    pub fn on_thread_start<F>(mut self, handler: F) -> Self
    where
        F: Fn(&Tag, usize) + Send + Sync + 'static,
    {
        self.config.threads.on_start = Some(std::sync::Arc::new(handler));
        self
    }

    /// Runs `handler(tag, index)` on every worker thread after its last
    /// task, when the executor shuts down. A panic in it is caught and
    /// reported on stderr.
    #[must_use]
    pub fn on_thread_stop<F>(mut self, handler: F) -> Self
    where
        F: Fn(&Tag, usize) + Send + Sync + 'static,
    {
        self.config.threads.on_stop = Some(std::sync::Arc::new(handler));
        self
    }

    /// Adds an observer of every run of the executor (see
    /// [`crate::observe`]); several may be added, and each sees every run,
    /// before the observers of the run's own options. A method of it that
    /// panics is reported once, and not called again by this executor.
    ///
    /// ```
    /// use taskflow_engine::observe::{ChromeTrace, Progress};
    /// use taskflow_engine::{ExecutorBuilder, Graph, Task};
    ///
    /// let (progress, trace) = (Progress::new(), ChromeTrace::new());
    /// let executor = ExecutorBuilder::new()
    ///     .observer(progress.clone())
    ///     .observer(trace.clone())
    ///     .build()?;
    /// let mut graph = Graph::new();
    /// graph.add(Task::new("one", |_| Ok(())));
    /// assert!(executor.run(&mut graph)?.is_success());
    /// assert_eq!(progress.snapshot().finished, 1);
    /// trace.write_to(std::io::sink())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn observer(mut self, observer: impl Observer) -> Self {
        let name = std::any::type_name_of_val(&observer);
        self.config
            .observers
            .push(std::sync::Arc::new(observer), name);
        self
    }

    /// Builds the executor and starts the pools of the tags given to
    /// [`tag_workers`](ExecutorBuilder::tag_workers).
    ///
    /// # Errors
    ///
    /// [`BuildError::ZeroWorkers`] if any pool size is zero,
    /// [`BuildError::TooManyWorkers`] if any is above
    /// [`Executor::MAX_WORKERS`], and [`BuildError::Spawn`] if a thread
    /// cannot be started.
    pub fn build(self) -> Result<Executor, BuildError> {
        if self.config.workers_per_tag == Some(0) {
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
        let oversized = self
            .config
            .workers_per_tag
            .filter(|&workers| too_many(workers))
            .map(|workers| (None, workers))
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
        executor.start_configured_pools()?;
        Ok(executor)
    }
}
