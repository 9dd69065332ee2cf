//! How the engine keeps observers and calls them: each beside a record of
//! which of its methods panicked, so that a panic is caught, reported once
//! per observer, and the method that panicked not called again (see the
//! module docs of [`crate::observe`]).

use std::fmt;
use std::io::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use super::{Observer, RunInfo, TaskEvent};
use crate::results::error::Panic;
use crate::results::report::{Outcome, RunReport};
use crate::sync::atomic::{AtomicU8, Ordering};

/// The observers given to an executor or to one run's options, in the
/// order they were added.
#[derive(Clone, Default)]
pub(crate) struct ObserverList(Vec<Arc<Watched>>);

/// The observers of one run, the executor's then the run's: a boxed slice,
/// which for a run without observers is empty and allocates nothing.
pub(crate) struct Observers(Box<[Arc<Watched>]>);

/// An observer, what a panic report calls it, and which of its methods
/// panicked.
struct Watched {
    observer: Arc<dyn Observer>,
    name: &'static str,
    /// One [`Method::bit`] per method that panicked: those are not called
    /// again. Shared by every run the observer watches.
    muted: AtomicU8,
}

/// An [`Observer`] method, as the muted bits and the panic report know it.
#[derive(Clone, Copy, Debug)]
enum Method {
    RunStarted,
    TaskStarted,
    TaskFinished,
    RunFinished,
}

impl Method {
    fn bit(self) -> u8 {
        1 << self as u8
    }

    fn name(self) -> &'static str {
        match self {
            Method::RunStarted => "run_started",
            Method::TaskStarted => "task_started",
            Method::TaskFinished => "task_finished",
            Method::RunFinished => "run_finished",
        }
    }
}

impl ObserverList {
    /// Adds `observer`, called `name` in a panic report.
    pub(crate) fn push(&mut self, observer: Arc<dyn Observer>, name: &'static str) {
        self.0.push(Arc::new(Watched {
            observer,
            name,
            muted: AtomicU8::new(0),
        }));
    }

    /// Puts `first`'s observers (the executor's) before these.
    pub(crate) fn prepend(&mut self, first: &ObserverList) {
        if !first.0.is_empty() {
            self.0.splice(0..0, first.0.iter().cloned());
        }
    }

    /// The observers of a run.
    pub(crate) fn into_observers(self) -> Observers {
        Observers(self.0.into_boxed_slice())
    }
}

impl fmt::Debug for ObserverList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|watched| watched.name))
            .finish()
    }
}

impl Observers {
    /// Whether the run has no observer, so that it need build no event.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn run_started(&self, run: &RunInfo) {
        self.each(Method::RunStarted, |observer| observer.run_started(run));
    }

    pub(crate) fn task_started(&self, event: &TaskEvent<'_>) {
        self.each(Method::TaskStarted, |observer| observer.task_started(event));
    }

    pub(crate) fn task_finished(&self, event: &TaskEvent<'_>, outcome: &Outcome) {
        self.each(Method::TaskFinished, |observer| {
            observer.task_finished(event, outcome);
        });
    }

    pub(crate) fn run_finished(&self, run: &RunInfo, report: &RunReport) {
        self.each(Method::RunFinished, |observer| {
            observer.run_finished(run, report);
        });
    }

    /// Calls `method` of every observer that has not muted it, panics
    /// caught.
    fn each(&self, method: Method, call: impl Fn(&dyn Observer)) {
        for watched in &self.0 {
            // ORDERING: Relaxed: the bits carry no data; an observer called
            // once more by a worker that has not yet seen its bit set is
            // caught as before.
            if watched.muted.load(Ordering::Relaxed) & method.bit() != 0 {
                continue;
            }
            // The observer's state is its own; the engine's is untouched by
            // the call, so nothing of the engine is left broken by a panic.
            if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| call(&*watched.observer)))
            {
                watched.panicked(method, Panic::new(payload));
            }
        }
    }
}

impl Watched {
    /// Mutes `method`, and reports the panic if it is the observer's first.
    #[cold]
    fn panicked(&self, method: Method, panic: Panic) {
        // ORDERING: Relaxed: the read-modify-write alone decides which
        // panic is the first (one value of the modification order has no
        // bit set); no other data hangs on it.
        let before = self.muted.fetch_or(method.bit(), Ordering::Relaxed);
        if before == 0 {
            // `writeln!` rather than `eprintln!`, which would panic on a
            // closed stderr, here on a worker.
            let _ = writeln!(
                std::io::stderr(),
                "taskflow: observer {} panicked in {}: {panic}; its {} is not called again, \
                 and its later panics are not reported",
                self.name,
                method.name(),
                method.name(),
            );
        }
        // Dropping `panic` drops its payload through `drop_panic_payload`,
        // so a payload whose destructor panics cannot unwind from here.
    }
}
