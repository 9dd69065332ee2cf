//! A lock-free, work-stealing engine that runs graphs of tasks with
//! dependencies.
//!
//! Build a [`Graph`] of [`Task`]s; each has a name, a body (a closure or a
//! [`TaskBody`]), an optional [`Tag`] and dependencies, and may return a
//! value that its dependents read through their [`Context`]. An
//! [`Executor`] runs the graph on one pool of worker threads per tag and
//! returns a [`RunReport`] with every task's [`Outcome`].
//!
//! ```
//! use taskflow_engine::{Context, Executor, Graph, Task};
//!
//! let mut graph = Graph::new();
//! let read = graph.add(Task::new("read", |_: &Context<'_>| Ok(b"hello".to_vec())).tag("io"));
//! let size = graph.add(
//!     Task::new("measure", move |cx: &Context<'_>| Ok(cx.input(read)?.len()))
//!         .tag("cpu")
//!         .after(read),
//! );
//! let executor = Executor::builder().workers_per_tag(2).build()?;
//! let report = executor.run(&mut graph)?;
//! assert!(report.is_success());
//! assert_eq!(graph.take_output(size), Some(5));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Semantics
//!
//! - Every task runs at most once per run, and only after all of its
//!   dependencies succeeded.
//! - A failure (an error or a panic, which is caught) stops the run under
//!   [`FailurePolicy::FailFast`], the default, and skips only the failed
//!   task's dependents under [`FailurePolicy::KeepGoing`].
//! - A [`CancelToken`] stops a run from outside or from inside a task.
//!
//! # Design
//!
//! A graph is kept ready to run as it is built, with no compile step in
//! between: tasks in contiguous storage addressed by index (their bodies in
//! an arena), successor lists in flat blocks of links, and one atomic word
//! per task that counts its unfinished dependencies. A finishing task
//! decrements its successors' words; a successor whose count reaches zero is
//! ready and goes to the finishing worker (run directly, or onto its
//! work-stealing deque) or, for another tag, into that tag's pool. Idle
//! workers sleep and are woken without lost wake-ups, and no queued task
//! waits for a busy worker while another sleeps; see the `sleep` and `run`
//! modules' docs.

#![deny(unsafe_op_in_unsafe_fn)]

mod arena;
mod body;
mod cancel;
mod completion;
mod context;
mod cycle;
mod error;
mod executor;
mod graph;
mod handle;
mod job;
mod name;
mod options;
mod pin;
mod pool;
mod queue;
mod report;
mod run;
mod sleep;
mod state;
mod sync;
mod table;
mod tag;
mod task;
mod worker;

pub use body::TaskBody;
pub use cancel::CancelToken;
pub use context::Context;
pub use error::{BuildError, Error, GraphError, InputError, TaskError};
pub use executor::{Executor, ExecutorBuilder};
pub use graph::Graph;
pub use handle::{TaskId, TaskRef};
pub use options::{FailurePolicy, RunOptions};
pub use report::{Outcome, RunReport};
pub use tag::Tag;
pub use task::Task;
