//! A lock-free, work-stealing engine that runs graphs of tasks with
//! dependencies: the library of taskflow.
//!
//! Build a [`Graph`] of [`Task`]s; each has a name, a body (a closure or a
//! [`TaskBody`]), an optional [`Tag`] and dependencies, and may return a
//! value that its dependents read through their [`Context`]. An
//! [`Executor`] runs the graph on one pool of worker threads per tag and
//! returns a [`RunReport`] with every task's [`Outcome`].
//!
//! ```
//! use taskflow_engine::{Executor, Graph, Task};
//!
//! let mut graph = Graph::new();
//! let read = graph.add(Task::new("read", |_| Ok(b"hello".to_vec())).tag("io"));
//! let size = graph.add(Task::new("measure", move |cx| Ok(cx.input(read)?.len())).tag("cpu").after(read));
//! let executor = Executor::builder().workers_per_tag(2).build()?;
//! let report = executor.run(&mut graph)?;
//! assert!(report.is_success());
//! assert_eq!(graph.take_output(size), Some(5));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Closures passed straight to [`Task::new`] need no parameter annotation:
//! the parameter is a `&Context<'_>` and the error type is [`Error`]. A
//! closure stored in a variable first needs both written out
//! (`|cx: &Context<'_>| -> Result<_, Error> { .. }`), because the compiler
//! infers a closure's signature only where it is passed to a function that
//! names it; so does a body whose every return is an `Err(..)?`, which
//! leaves the output type open (`|_| -> Result<(), Error> { .. }`).
//!
//! # Semantics
//!
//! - Every task runs at most once per run, and only after all of its
//!   dependencies succeeded.
//! - Bodies may borrow the caller's data ([`Graph`]'s `'env`), as threads of
//!   [`std::thread::scope`] may: a run returns only after every task ended.
//! - [`Executor::run`] blocks; [`Executor::submit`] returns a [`RunHandle`]
//!   to wait for, cancel, or `.await` from async code.
//!
//! # Handling failures
//!
//! A task fails when its body returns an error or panics (the panic is
//! caught; the worker stays usable). What happens next is the run's
//! [`FailurePolicy`]:
//!
//! - [`FailFast`](FailurePolicy::FailFast), the default: no new task starts.
//!   Tasks downstream of the failure end [`Skipped`](Outcome::Skipped), the
//!   others that had not started [`Cancelled`](Outcome::Cancelled); tasks
//!   already running finish and see [`Context::is_cancelled`].
//! - [`KeepGoing`](FailurePolicy::KeepGoing), like `make -k`: only the
//!   failure's transitive dependents are skipped; everything else runs.
//!
//! The report names every failure with its handle, name and
//! [`TaskError`]; the error can be downcast to the task's own type, and a
//! panic re-raised on the caller's thread with its own payload.
//!
//! ```
//! use taskflow_engine::{Executor, FailurePolicy, Graph, Outcome, RunOptions, Task};
//!
//! let mut graph = Graph::new();
//! let config = graph.add(Task::new("config", |_| -> Result<String, _> {
//!     Ok(std::fs::read_to_string("/no/such/config.toml")?)
//! }));
//! let build = graph.add(Task::new("build", move |cx| Ok(cx.input(config)?.len())).after(config));
//! let docs = graph.add(Task::new("docs", |_| Ok("docs built")));
//!
//! let options = RunOptions::new().policy(FailurePolicy::KeepGoing);
//! let report = Executor::new().run_with(&mut graph, options)?;
//! assert!(!report.is_success());
//! assert!(matches!(report.outcome(build), Outcome::Skipped));
//! assert!(report.outcome(docs).is_success(), "keep-going runs what does not depend on the failure");
//! for (task, name, error) in report.failures() {
//!     assert_eq!((task, name), (config.task_ref(), "config"));
//!     let io = error.downcast_ref::<std::io::Error>().expect("the task's own error");
//!     assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
//! }
//! // To turn a panic back into a panic, as rayon does:
//! // for (_, _, error) in report.into_failures() {
//! //     if error.is_panic() { std::panic::resume_unwind(error.into_panic()) }
//! // }
//! # Ok::<(), taskflow_engine::GraphError>(())
//! ```
//!
//! # Cancellation
//!
//! A run stops when its [`CancelToken`] is cancelled (from any thread, or
//! from one of its own tasks), when its [`RunOptions::deadline`] passes, or
//! when [`RunHandle::cancel`] is called on a submitted run. No new task
//! starts then: they end `Cancelled` (`Skipped` downstream of a failure).
//! Running tasks are not interrupted: they see [`Context::is_cancelled`],
//! and a task that stops early returns `Err(Cancelled.into())` to end
//! `Cancelled` itself instead of making up an output. A task that waits on
//! something outside the engine blocks in [`CancelToken::wait_timeout`]
//! rather than polling, and [`CancelToken::child`] scopes a cancel to part
//! of a larger job.
//!
//! ```
//! use std::time::Duration;
//! use taskflow_engine::{CancelToken, Cancelled, Executor, Graph, Outcome, RunOptions, Task};
//!
//! let build = CancelToken::new();
//! let step = build.child();
//! let mut graph = Graph::new();
//! let watcher = step.clone();
//! let waits = graph.add(Task::new("wait for a process", move |_| -> Result<(), _> {
//!     // Blocks without polling until cancelled (or an hour passes).
//!     if watcher.wait_timeout(Duration::from_secs(3600)) {
//!         return Err(Cancelled.into());
//!     }
//!     Ok(())
//! }));
//! let after = graph.add(Task::new("after", |_| Ok(())).after(waits));
//! let canceller = std::thread::spawn(move || build.cancel()); // cancels `step` too
//! let report = Executor::new().run_with(&mut graph, RunOptions::new().cancel_token(step))?;
//! canceller.join().unwrap();
//! assert!(matches!(report.outcome(waits), Outcome::Cancelled));
//! assert!(!report.outcome(after).is_success());
//! # Ok::<(), taskflow_engine::GraphError>(())
//! ```
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
//! waits for a busy worker while another sleeps. Each protocol is written
//! down beside its code in the repository, and model-checked with loom.

#![deny(unsafe_op_in_unsafe_fn)]

#[cfg(doctest)]
mod compile_fail;
mod graph;
mod mutant;
pub mod observe;
mod results;
mod runtime;
mod steer;
mod sync;

/// The README's Rust blocks, run as doctests (its quick start among them), so
/// that the README cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme_doctests {}

pub use graph::Graph;
pub use graph::body::TaskBody;
pub use graph::handle::{TaskId, TaskRef};
pub use graph::tag::Tag;
pub use graph::task::Task;
#[doc(no_inline)]
pub use observe::{Observer, RunInfo, TaskEvent};
pub use results::error::{BuildError, Error, GraphError, InputError, Panic, TaskError};
pub use results::join::JoinError;
pub use results::report::{Outcome, RunReport};
pub use runtime::builder::ExecutorBuilder;
pub use runtime::cancel::{CancelToken, Cancelled};
pub use runtime::context::Context;
pub use runtime::executor::Executor;
pub use runtime::options::{FailurePolicy, RunOptions};
pub use runtime::submit::RunHandle;
pub use steer::limit::Limit;
