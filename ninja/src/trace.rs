//! `-d trace=FILE`: a Chrome trace of the build's commands, recorded by the
//! engine's own [`ChromeTrace`] observer and written in its Trace Event
//! Format (what Perfetto and chrome://tracing open).
//!
//! The engine observes every task, but a build's tasks are more than its
//! commands: phony edges, and edges that `restat` cleaned before their turn,
//! are tasks that run nothing. So each run gets a [`RunTrace`], an observer
//! that hands the trace only the events of the tasks that ran a command:
//! one complete event per command, named as the task is (the edge's
//! description, or its first output), on the track of the worker that ran it.
//!
//! Which tasks ran a command is known only once they ran: the task's body
//! says so ([`RunTrace::ran_command`]) before it returns, and the engine
//! calls `task_finished` right after the body, on the same worker thread
//! (the observer contract of `taskflow_engine::observe`), where the flag is
//! read.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use taskflow_engine::observe::{ChromeTrace, Observer, RunInfo, TaskEvent};
use taskflow_engine::{Outcome, RunReport, TaskRef};

/// The trace of a whole invocation: every run of it (the manifest's own
/// rebuild, then the build) records into it.
#[derive(Debug)]
pub struct Trace {
    chrome: Arc<ChromeTrace>,
}

impl Default for Trace {
    fn default() -> Self {
        Trace::new()
    }
}

impl Trace {
    /// An empty trace whose timestamps count from now.
    pub fn new() -> Trace {
        Trace {
            chrome: ChromeTrace::new(),
        }
    }

    /// The observer for one run of `tasks` tasks.
    pub fn for_run(&self, tasks: usize) -> Arc<RunTrace> {
        Arc::new(RunTrace {
            chrome: Arc::clone(&self.chrome),
            ran_command: (0..tasks).map(|_| AtomicBool::new(false)).collect(),
        })
    }

    /// Writes the commands recorded so far to `path`.
    pub fn write(&self, path: &str) -> io::Result<()> {
        self.chrome.write_to(std::fs::File::create(path)?)
    }
}

/// Passes the events of one run's command tasks on to the trace.
#[derive(Debug)]
pub struct RunTrace {
    chrome: Arc<ChromeTrace>,
    /// By task index: whether the task's body ran a command.
    ran_command: Box<[AtomicBool]>,
}

impl RunTrace {
    /// Called by `task`'s body when it runs its command.
    pub fn ran_command(&self, task: TaskRef) {
        // ORDERING: written by the body and read by `task_finished` on the
        // same worker thread, right after the body: program order.
        self.ran_command[task.index()].store(true, Ordering::Relaxed);
    }

    fn is_command(&self, event: &TaskEvent<'_>) -> bool {
        // ORDERING: see `ran_command`.
        self.ran_command
            .get(event.task().index())
            .is_some_and(|ran| ran.load(Ordering::Relaxed))
    }
}

impl Observer for RunTrace {
    fn run_started(&self, run: &RunInfo) {
        self.chrome.run_started(run);
    }

    fn task_started(&self, event: &TaskEvent<'_>) {
        // Every task: whether it runs a command is known only at its end.
        // The trace reads the clock here, and the finish event hands that
        // instant back.
        self.chrome.task_started(event);
    }

    fn task_finished(&self, event: &TaskEvent<'_>, outcome: &Outcome) {
        if self.is_command(event) {
            self.chrome.task_finished(event, outcome);
        }
    }

    fn run_finished(&self, run: &RunInfo, report: &RunReport) {
        self.chrome.run_finished(run, report);
    }
}
