//! Running graphs: the [`Executor`](executor::Executor) and its per-tag
//! worker pools, the workers' loop, their queues and sleep, one run's state
//! and how it processes a task, how a run counts its finished work, and what
//! a running task sees of its run.
//!
//! - [`executor`]: the executor and running a graph on it; [`builder`]:
//!   how it is configured; [`submit`]: runs that do not block their caller.
//! - [`pool`], [`threads`], [`pin`]: one tag's workers, how their threads
//!   start and stop, and where they run.
//! - [`worker`], [`queue`], [`job`], [`sleep`]: the loop a worker runs, the
//!   deques it pops and steals from, what sits in them, and how idle
//!   workers sleep without lost wake-ups.
//! - [`run`], [`settle`], [`state`], [`completion`], [`input`]: one run's
//!   state and the completion protocol per task, how one task settles (its
//!   body runs, or it is skipped or cancelled), the per-task pending word, counting a
//!   run's finished work to its end, what a task may read, and the
//!   successors a lone worker holds back ([`held`]); [`in_order`] and
//!   [`sweep`]: one worker, or several, processing a run in index order,
//!   without counting.
//! - [`steered`]: the path of a steered run's tasks (see [`crate::steer`]).
//! - [`context`], [`options`], [`cancel`]: what a task sees, how a run
//!   treats failures, and cancelling.
//! - [`spawn`]: tasks that add tasks while the run runs, waits for them,
//!   and runs started from inside a task: the protocol, and how a waiting
//!   worker helps.

pub(crate) mod builder;
pub(crate) mod cancel;
pub(crate) mod completion;
pub(crate) mod context;
pub(crate) mod executor;
pub(crate) mod held;
pub(crate) mod in_order;
pub(crate) mod input;
pub(crate) mod job;
pub(crate) mod options;
pub(crate) mod pin;
pub(crate) mod pool;
pub(crate) mod queue;
pub(crate) mod run;
pub(crate) mod settle;
pub(crate) mod sleep;
pub(crate) mod spawn;
pub(crate) mod state;
pub(crate) mod steered;
pub(crate) mod submit;
pub(crate) mod sweep;
pub(crate) mod threads;
pub(crate) mod worker;
