//! Steering a run: which ready task starts first (priorities and the
//! critical path), and how many tasks of a kind run at once (limits).
//!
//! - [`settings`]: what the caller set per task, kept by the graph in side
//!   vectors that a graph without settings never allocates.
//! - [`ranks`]: critical-path ranks, each task's longest weighted path to
//!   the end of the graph.
//! - [`ready`]: the ordered queue of ready tasks, one per pool.
//! - [`limit`]: [`Limit`](limit::Limit), permits and the tasks parked for them.
//! - [`admission`]: a run's steering state, taking permits, parking and
//!   handing permits on.
//!
//! # Zero cost when unused
//!
//! A run is *steered* when some task of its graph has a priority or a limit,
//! or [`RunOptions::critical_path`](crate::RunOptions::critical_path) is on;
//! it decides once, when it is made. Any other run takes the engine's
//! ordinary path (see [`crate::runtime::run`]) and pays one test of an
//! `Option` per task for all of this.
//!
//! # The ordered ready queue
//!
//! A steered run does not hand ready tasks to the pools' deques. Each ready
//! task goes into its pool's ordered queue ([`ready::ReadyQueues`]) and a
//! *token*, a job that names no task, goes through the ordinary deque,
//! injector and wake-up path in its place: a worker of the pool that makes
//! it ready pushes the token onto its own deque (and wakes a sleeper for
//! it, see [`crate::runtime::sleep`]), any other thread into the pool's
//! injector. A run starts by queueing every source and only then pushing
//! the sources' tokens. A successor is never run directly.
//!
//! Whoever pops a token takes the best task of its pool's queue. A token
//! always finds one: a task is queued before its token is pushed, and a
//! token is popped before its queue is, so by the time of any pop from the
//! queue at least as many tasks were queued as tokens were popped. Tokens
//! are interchangeable, so the deques, the sleep protocol and the counting
//! of work stay as they are: a token stands for its task's unit of work
//! (see [`crate::runtime::completion`]), and the worker counts it once the
//! task it took was processed.
//!
//! On a pool of one worker, the start order follows the queue's order
//! exactly: the worker queues every task a finished task made ready before
//! it pops the next token. With several workers it is best effort: a
//! worker takes the best task at the moment it pops a token, and a better
//! one may become ready a moment later while that task runs.
//!
//! # Taking permits
//!
//! A task with limits takes one permit of each, in the order of the limits'
//! ids (the same global order for every task, so two tasks cannot each hold
//! a permit that the other waits for), after a token chose it and before it
//! settles (see [`crate::runtime::run`], step 1). A task that is poisoned,
//! or whose run is stopped, takes none: it ends without running.
//!
//! 1. At each limit, under the limit's lock: take a free permit; else, if
//!    the run is stopped, stop (step 4); else *park*: the task goes into the
//!    limit's queue as a [`Parked`](admission::Parked) (its run, its index,
//!    how many permits it holds) and the worker goes on with other work
//!    without counting the task's unit, which the parked task stands for
//!    now. That keeps the run from completing while the task waits.
//! 2. With every permit taken, the task is marked *holding* and processed.
//!    When it settles (its body returned, failed or panicked, or it ended
//!    without running) it gives every permit back, before its successors
//!    are released and its unit counted.
//! 3. *Handing a permit on.* A release under the limit's lock takes the
//!    oldest parked task out of the queue, which now holds the permit; only
//!    with no task parked does the permit become free. One release thus
//!    wakes exactly one task ([`Limit::handoffs`](limit::Limit::handoffs)
//!    counts them). Outside the lock, the releaser continues that task's
//!    step 1 at its next limit, on the task's behalf; if it takes them all,
//!    the task goes, marked holding, into its pool's injector as an
//!    ordinary task job, which wakes a worker there.
//! 4. *A stopped run.* A task of a stopped run holds no permit when it
//!    settles: the permits it held while parked are released (handed on as
//!    in step 3) and the task goes back to its pool holding none, where it
//!    settles as cancelled (or skipped) without running. A permit handed to
//!    a task of a stopped run passes straight on this way; chains of such
//!    tasks are released in a loop, not by recursion.
//!
//! # Parking and a cancel
//!
//! A run whose token is cancelled (by the caller, by a task, by
//! [`RunHandle::cancel`](crate::RunHandle::cancel), or by the run itself
//! for a fail-fast stop) must not leave tasks parked behind permits that
//! another run may hold for a long time: it would not return until then
//! (Taskflow's issue 732 hangs this way). So a run with limits registers a
//! hook on its token ([`CancelToken`](crate::CancelToken)'s cancel calls it
//! after setting the flag); the hook takes every task of the run out of
//! every limit the graph uses and withdraws them as in step 4.
//!
//! A task can be parking while the hook runs. The stop check of step 1 is
//! made under the limit's lock, which closes that race: if the task's
//! critical section comes first, the hook's, which follows under the same
//! lock, finds it queued; if the hook's comes first, the cancel's flag store
//! happened before it and so before the task's check, which sees the run
//! stopped and does not park. (The loom model
//! `a_cancel_frees_a_task_parked_behind_another_run` and the planted bug
//! `park_unchecked`, which skips the check, show it.)
//!
//! A run stopped by its deadline has no cancel to hook: its parked tasks
//! are withdrawn at the next release of the limit they wait in (step 3
//! checks the stop before continuing).

pub(crate) mod admission;
pub(crate) mod limit;
pub(crate) mod ranks;
pub(crate) mod ready;
pub(crate) mod settings;
