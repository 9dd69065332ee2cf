//! Compile errors that must stay errors, as doctests (`compile_fail` with
//! the error code where rustc gives one). This module exists only when
//! rustdoc collects doctests.
//!
//! A body may not borrow data that the graph outlives: the graph could run
//! it after the data is gone.
//!
//! ```compile_fail,E0597
//! use taskflow_engine::{Graph, Task};
//!
//! let mut graph = Graph::new();
//! {
//!     let name = String::from("short-lived");
//!     graph.add(Task::new("t", |_| Ok(name.len())));
//! }
//! drop(graph);
//! ```
//!
//! Nor data that is dropped before the graph at the end of a scope (the
//! graph's drop drops the bodies, whose destructors may use what they
//! borrow): declared after the graph, `name` is dropped first.
//!
//! ```compile_fail,E0597
//! use taskflow_engine::{Graph, Task};
//!
//! let mut graph = Graph::new();
//! let name = String::from("dropped first");
//! graph.add(Task::new("t", |_| Ok(name.len())));
//! ```
//!
//! The same holds for a task not yet added to a graph, which drops its body
//! when it is dropped, alone or in a `Vec`.
//!
//! ```compile_fail,E0597
//! use taskflow_engine::{Context, Error, Task};
//!
//! struct Loud<'a>(&'a [u64]);
//! impl Drop for Loud<'_> {
//!     fn drop(&mut self) { println!("{}", self.0.len()); }
//! }
//! let task;
//! let data: Vec<u64> = vec![1, 2, 3];
//! let loud = Loud(&data);
//! task = Task::new("t", move |_: &Context<'_>| -> Result<(), Error> { let _ = &loud; Ok(()) });
//! ```
//!
//! ```compile_fail,E0597
//! use taskflow_engine::{Task};
//!
//! let mut tasks = Vec::new();
//! let data = vec![1u64, 2, 3];
//! tasks.push(Task::new("t", |_| Ok(data.len())));
//! ```
//!
//! A submitted graph outlives its caller's frame, so it may borrow nothing:
//! `submit` takes a `Graph<'static>`.
//!
//! ```compile_fail,E0597
//! use taskflow_engine::{Executor, Graph, RunOptions, Task};
//!
//! let executor = Executor::new();
//! let data = vec![1, 2, 3];
//! let mut graph = Graph::new();
//! graph.add(Task::new("t", |_| Ok(data.len())));
//! let _ = executor.submit(graph, RunOptions::new()).wait();
//! ```
//!
//! Outputs are read back by type, so they must be `'static`.
//!
//! ```compile_fail,E0597
//! use taskflow_engine::{Graph, Task};
//!
//! let text = String::from("borrowed");
//! let mut graph = Graph::new();
//! graph.add(Task::new("t", |_| Ok(text.as_str())));
//! ```
//!
//! A dropped report is a warning (`#[must_use]`), an error under
//! `deny(unused_must_use)`, so that `run(..)?;` cannot hide failed tasks.
//!
//! ```compile_fail
//! #![deny(unused_must_use)]
//! use taskflow_engine::{Executor, Graph};
//!
//! fn build() -> Result<(), taskflow_engine::GraphError> {
//!     Executor::new().run(&mut Graph::new())?;
//!     Ok(())
//! }
//! ```
//!
//! The same program compiles once the report is used:
//!
//! ```
//! #![deny(unused_must_use)]
//! use taskflow_engine::{Executor, Graph};
//!
//! fn build() -> Result<bool, taskflow_engine::GraphError> {
//!     Ok(Executor::new().run(&mut Graph::new())?.is_success())
//! }
//! assert!(build().unwrap());
//! ```
//!
//! `FailurePolicy` is `#[non_exhaustive]`: a match needs a wildcard arm, so
//! that adding a policy is not a breaking change.
//!
//! ```compile_fail,E0004
//! use taskflow_engine::FailurePolicy;
//!
//! fn name(policy: FailurePolicy) -> &'static str {
//!     match policy {
//!         FailurePolicy::FailFast => "fail fast",
//!         FailurePolicy::KeepGoing => "keep going",
//!     }
//! }
//! ```
//!
//! Closure parameters need no annotation when the closure is passed to
//! `Task::new` directly; one stored in a variable first does (the compiler
//! cannot see that it will be called with a `&Context<'_>` of any
//! lifetime).
//!
//! ```compile_fail,E0282
//! use taskflow_engine::{Graph, Task};
//!
//! let body = |cx| Ok(cx.name().len());
//! let mut graph = Graph::new();
//! graph.add(Task::new("t", body));
//! ```
//!
//! ```
//! use taskflow_engine::{Context, Error, Graph, Task};
//!
//! let body = |cx: &Context<'_>| -> Result<usize, Error> { Ok(cx.name().len()) };
//! let mut graph = Graph::new();
//! graph.add(Task::new("t", body));
//! graph.add(Task::new("inline", |cx| Ok(cx.name().len())));
//! ```
