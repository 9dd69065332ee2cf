//! [`LogObserver`] (feature `log`): every task's start and end through the
//! `log` facade.

use std::time::Duration;

use ::log::{Level, info, log_enabled, warn};

use super::{Observer, RunInfo, TaskEvent};
use crate::results::report::{Outcome, RunReport};

/// The target of every record the observer logs.
const TARGET: &str = "taskflow";

/// Logs every task's start and end through the [`log`](::log) facade, with
/// target `taskflow`, as the file pipeline example logs its tasks: `info`
/// for starts, ends, skips and cancellations, and for runs that start and
/// succeed; `warn` for failures and for runs that did not succeed.
///
/// ```text
/// INFO  taskflow] start read file1.txt         on io worker 0
/// INFO  taskflow] end   read file1.txt         on io worker 0 after 1.2ms
/// WARN  taskflow] failed process file1.txt     on cpu worker 1 after 3.4ms: invalid utf-8
/// ```
///
/// When `info` is off for the target, the observer reads no clock.
///
/// ```
/// use taskflow_engine::observe::LogObserver;
/// use taskflow_engine::{Executor, Graph, Task};
///
/// // With a logger installed (env_logger, say), each task logs two lines.
/// let executor = Executor::builder().observer(LogObserver::new()).build()?;
/// let mut graph = Graph::new();
/// graph.add(Task::new("hello", |_| Ok(())));
/// assert!(executor.run(&mut graph)?.is_success());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct LogObserver;

impl LogObserver {
    /// The observer; it has no settings (filter with the logger, on target
    /// `taskflow`).
    #[must_use]
    pub fn new() -> Self {
        LogObserver
    }
}

impl Observer for LogObserver {
    fn run_started(&self, run: &RunInfo) {
        info!(target: TARGET, "run {} starts: {} tasks", run.run_id(), run.tasks());
    }

    fn task_started(&self, event: &TaskEvent<'_>) {
        if log_enabled!(target: TARGET, Level::Info) {
            // Read now, so that the end can tell how long the task took.
            let _ = event.at();
            info!(
                target: TARGET,
                "start {:<22} on {} worker {}",
                event.name(),
                event.tag(),
                event.worker_index()
            );
        }
    }

    fn task_finished(&self, event: &TaskEvent<'_>, outcome: &Outcome) {
        let level = if outcome.error().is_some() {
            Level::Warn
        } else {
            Level::Info
        };
        if !log_enabled!(target: TARGET, level) {
            return;
        }
        let (name, tag, worker) = (event.name(), event.tag(), event.worker_index());
        let took = Took(event.started_at().map(|start| event.at() - start));
        match outcome {
            Outcome::Failed(error) => {
                warn!(target: TARGET, "failed {name:<21} on {tag} worker {worker}{took}: {error}");
            }
            Outcome::Skipped => {
                info!(target: TARGET, "skip  {name:<22} on {tag} worker {worker}: a dependency did not succeed");
            }
            Outcome::Cancelled => {
                info!(target: TARGET, "cancelled {name:<18} on {tag} worker {worker}{took}");
            }
            Outcome::Succeeded => {
                info!(target: TARGET, "end   {name:<22} on {tag} worker {worker}{took}");
            }
        }
    }

    fn run_finished(&self, run: &RunInfo, report: &RunReport) {
        if report.is_success() {
            info!(target: TARGET, "run {} finished: {report}", run.run_id());
        } else {
            warn!(target: TARGET, "run {} finished: {report}", run.run_id());
        }
    }
}

/// How long a task ran, shown as ` after 1.2ms`; nothing when unknown.
struct Took(Option<Duration>);

impl std::fmt::Display for Took {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(took) => write!(f, " after {took:.1?}"),
            None => Ok(()),
        }
    }
}
