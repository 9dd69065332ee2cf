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
//! - [`holding`]: which permits the tasks that wait for a run hold, so
//!   that a run that could never get one is refused.
//!
//! # Zero cost when unused
//!
//! A run is *steered* when some task of its graph has a priority or a limit,
//! or [`RunOptions::critical_path`](crate::RunOptions::critical_path) is on,
//! or it runs from inside tasks that hold permits (see [`holding`]); it
//! decides once, when it is made. Any other run takes the engine's
//! ordinary path (see [`crate::runtime::run`]), which has no steering test
//! per task: a steered run's jobs are all tokens (below), which a worker
//! tells apart by the job's kind, as it tells a task job from a range of
//! sources, and processes on their own path
//! ([`Run::process_steered`](crate::runtime::run::Run::process_steered)).
//! What an unsteered run pays is a test of an `Option` when it is made,
//! when it starts and when its caller waits for it: none per task.
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
//! A task with limits takes one permit of each, all or none, after a token
//! chose it and before it settles (see
//! [`Run::process_steered`](crate::runtime::run::Run::process_steered)). A
//! task that is poisoned, or whose run is stopped, takes none: it ends
//! without running. A task never waits holding a permit, so tasks cannot
//! deadlock over limits whatever order they take them in, and a permit is
//! held only by a task about to run, running, or settling. (A body that
//! holds a permit and waits for a run that needs it is another matter: a
//! run whose every permit of a limit is held so is refused when it starts,
//! see [`holding`].)
//!
//! 1. *Taking.* The task takes a free permit of each limit in order. At the
//!    first full one, it gives back those it took (each a release, step 3),
//!    and then, under that limit's lock: takes a permit freed meanwhile
//!    (and tries the others again); else, if the run is stopped, stops
//!    (step 5); else *parks*: it goes into the limit's queue as a
//!    [`Parked`](admission::Parked) (its run, pool, index and limit). The
//!    parked task stands for a unit of work that it adds to its run's count
//!    as it parks ([`Completion::add`](crate::runtime::completion::Completion::add)),
//!    which the token's own unit, still uncounted, makes legal; the worker
//!    then counts the token's unit as for any processed task. That keeps
//!    the run from completing while the task waits, and the worker's batch
//!    keeps the run alive until the worker flushes it, after its `&Run` is
//!    dead (see [`crate::runtime::worker`]).
//! 2. With every permit taken, the task is processed, holding them. When it
//!    settles (its body returned, failed or panicked, or it ended without
//!    running) it gives every permit back, before its successors are
//!    released and its unit counted.
//! 3. *A release* frees the permit and, under the limit's lock, takes the
//!    oldest parked task out of the queue (one release, at most one
//!    wake-up; [`Limit::handoffs`](limit::Limit::handoffs) counts
//!    wake-ups). The woken task holds nothing: outside the lock, the
//!    releaser *sends it back*: it notes in the run which limit woke it,
//!    queues it in its pool's ordered queue and pushes a token for it where
//!    the run's own jobs for that pool go: for a run started from inside a
//!    task on a worker of that pool, the inbox of that worker's wait (see
//!    [`crate::runtime::spawn`], "Waiting"; it takes a clone of the inbox's
//!    `Arc` first), else the pool's injector. Then it touches only the
//!    pool, through the `Arc` the parked task carries, and that inbox: from
//!    the push on, the token may be processed, the run complete and its
//!    executor (another one than the releaser's, maybe) be dropped. No
//!    `&Run` is formed after the push. *Why the inbox:* a wait serves its
//!    own inbox only, and the pool's queues only while every worker of the
//!    pool waits; a woken task of the nested run sent to the injector would
//!    wait for a peer that may be busy for long, or busy waiting for that
//!    very task, while the worker whose wait needs it blocks. (The loom
//!    model `a_nested_runs_woken_task_goes_back_to_its_waiting_worker` and
//!    the planted bug `woken_to_injector`, which uses the injector, show
//!    it.) When every worker of the pool waits, a blocked wait takes the
//!    token from the injector or from another wait's inbox as it takes any
//!    other work (`Pool::take_for_wait`): the push nudges the blocked waits
//!    in both cases.
//! 4. *Trying again.* The worker that picks the woken task up takes its
//!    permits as in step 1, like any other task: another task may have
//!    taken the freed permit meanwhile, and then the woken task parks again
//!    at the front of the queue of the limit that woke it. A woken task
//!    that ends its attempt without that limit's permit and without parking
//!    there again (its run stopped, it parked at another limit) *passes the
//!    wake-up on*: if a permit of that limit is free, the next parked task
//!    is woken instead. So while tasks wait and a permit is free, some woken
//!    task is on its way to take it, and a free permit is never held by a
//!    task that waits for a worker.
//! 5. *A stopped run.* A task of a stopped run takes no permit: it settles
//!    as cancelled (or skipped) without running, and a woken one passes its
//!    wake-up on (step 4). (The loom model
//!    `a_woken_task_of_a_stopped_run_passes_its_wake_up_on` and the planted
//!    bug `stopped_keeps_wakeup`, which drops the wake-up, show why.)
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
//! every limit the graph uses and sends each back (step 3), to end
//! cancelled. The hook counts no unit, so no run completes on the
//! cancelling thread while it holds the token family's lock.
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
//! # A deadline
//!
//! A run stopped by its deadline has no cancel to hook. Its caller, blocked
//! in [`Executor::run`](crate::Executor::run) or
//! [`RunHandle::wait`](crate::RunHandle::wait), waits for the completion
//! only until the deadline; if the run is not done by then, it marks the
//! run stopped and takes the run's parked tasks out as the hook does. A
//! task parking later sees the stop under the limit's lock (the clock is
//! past the deadline for every later check). A submitted run that nobody
//! waits for (awaited, or detached) has no thread to do this: its parked
//! tasks are taken out one at a time, as releases of their limits wake them
//! (step 5).

pub(crate) mod admission;
pub(crate) mod holding;
pub(crate) mod limit;
pub(crate) mod ranks;
pub(crate) mod ready;
pub(crate) mod settings;
