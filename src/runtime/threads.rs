//! [`ThreadSetup`]: how an executor starts its worker threads: their
//! names, stack size, and the handlers that run on each thread when it
//! starts and before it exits.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};

use crate::graph::tag::Tag;
use crate::results::error::drop_panic_payload;

// The handlers are shared with `std`'s `Arc` even under loom: they are
// configuration, set before any thread starts and only read after, not part
// of the scheduling protocol, and loom's `Arc` cannot hold a `dyn Fn`.
use std::sync::Arc;

/// The stack size of worker threads unless the builder sets one: 16 MiB.
/// A worker that waits inside a task (a `join`, or a run started from the
/// task) helps with that wait's tasks on its own stack, a few KiB per level
/// (see [`crate::runtime::spawn::help`]); this holds the deepest helping
/// allowed with room for the tasks' own frames. Only the pages a thread
/// touches are committed, so an idle worker costs no more than before.
pub(crate) const DEFAULT_WORKER_STACK: usize = 16 << 20;

/// Names a worker thread from its pool's tag and its index in the pool.
pub(crate) type NameThread = Arc<dyn Fn(&Tag, usize) -> String + Send + Sync>;

/// Runs on a worker thread, given its pool's tag and its index in the pool.
pub(crate) type ThreadHandler = Arc<dyn Fn(&Tag, usize) + Send + Sync>;

/// What every worker thread of an executor is started with.
#[derive(Clone, Default)]
pub(crate) struct ThreadSetup {
    pub(crate) name: Option<NameThread>,
    pub(crate) stack_size: Option<usize>,
    pub(crate) on_start: Option<ThreadHandler>,
    pub(crate) on_stop: Option<ThreadHandler>,
    /// The identity of the executor the threads serve.
    pub(crate) executor: u64,
}

crate::sync::thread_local! {
    /// The executor the current thread is a worker of, or 0. (Not a
    /// `const` initializer: loom's `thread_local!` does not take one.)
    #[allow(clippy::missing_const_for_thread_local)]
    static WORKER_OF: std::cell::Cell<u64> = std::cell::Cell::new(0);
}

impl ThreadSetup {
    /// The name of worker `index` of `tag`'s pool: the configured one, or
    /// `taskflow-<tag>-<index>`. Either way a NUL (which a thread name
    /// cannot hold) is shown as `\0`.
    pub(crate) fn thread_name(&self, tag: &Tag, index: usize) -> String {
        let name = match &self.name {
            Some(name) => call_guarded("thread_name", || name(tag, index))
                .unwrap_or_else(|| default_name(tag, index)),
            None => default_name(tag, index),
        };
        name.replace('\0', "\\0")
    }

    /// Whether the calling thread is a worker of this setup's executor.
    pub(crate) fn is_current_worker(&self) -> bool {
        WORKER_OF.with(|current| current.get() == self.executor)
    }

    /// Marks the calling thread as a worker of this setup's executor, and
    /// runs the start handler, if any.
    pub(crate) fn started(&self, tag: &Tag, index: usize) {
        WORKER_OF.with(|current| current.set(self.executor));
        if let Some(handler) = &self.on_start {
            call_guarded("on_thread_start", || handler(tag, index));
        }
    }

    /// Runs the stop handler, if any, on the calling worker thread.
    pub(crate) fn stopping(&self, tag: &Tag, index: usize) {
        if let Some(handler) = &self.on_stop {
            call_guarded("on_thread_stop", || handler(tag, index));
        }
    }
}

fn default_name(tag: &Tag, index: usize) -> String {
    format!("taskflow-{}-{index}", tag.as_str())
}

/// Calls a user's handler with panics caught: a worker must not die of
/// one (its pool would be a worker short for good), so the panic is
/// reported on stderr, where the default panic hook has already printed
/// its message, and the thread goes on.
fn call_guarded<R>(handler: &str, call: impl FnOnce() -> R) -> Option<R> {
    match panic::catch_unwind(AssertUnwindSafe(call)) {
        Ok(value) => Some(value),
        Err(payload) => {
            eprintln!(
                "taskflow: the executor's {handler} handler panicked; the worker thread goes on"
            );
            drop_panic_payload(payload);
            None
        }
    }
}

impl fmt::Debug for ThreadSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadSetup")
            .field("custom_name", &self.name.is_some())
            .field("stack_size", &self.stack_size)
            .field("on_start", &self.on_start.is_some())
            .field("on_stop", &self.on_stop.is_some())
            .finish()
    }
}
