//! Tasks that add tasks ([`Context::spawn`]), waits for them
//! ([`Context::join`]), and runs started from inside a task
//! ([`Executor::run`] on one of the executor's own workers): the protocol.
//!
//! - [`nodes`]: the run's table of spawned tasks, which grows while
//!   workers read it.
//! - [`subtree`]: what a task that spawned counts until its subtree ended.
//! - [`inbox`]: the queue of one wait's work on one pool.
//! - [`spawning`]: spawning, and what a task reads of spawned tasks;
//!   [`publish`]: where a ready spawned task goes; [`process`]: processing
//!   a spawned task, and the end of a subtree; [`help`]: how a waiting
//!   worker helps; [`nested`]: a run started from inside a task;
//!   [`outcomes`]: what the report learns of spawned tasks.
//!
//! # Spawning (task `P`, running on worker `W`, spawns `C`)
//!
//! 1. Check `C`'s dependencies: each is a child `P` spawned before, or one
//!    of `P`'s own declared dependencies (finished before `P` started). Any
//!    other is refused with [`GraphError::ForeignTask`], and nothing is
//!    added. Find `C`'s pool (starting it if its tag is new).
//! 2. On `P`'s first spawn, create `P`'s [`Subtree`](subtree::Subtree):
//!    `open = 1` (the body). A task that never spawns has none. Its inbox
//!    on `P`'s pool is made when first needed (a join that waits, or a
//!    child queued there: see *Publishing*), by a compare-exchange that
//!    races the close of step 1 of "A subtree ends"; most subtrees never
//!    make one.
//! 3. Under the lock of `P`'s list of children (a [`SpinLock`](crate::sync::SpinLock)):
//!    take `C`'s node index, `open += 1` on `P`'s subtree, add one unit
//!    of work to the run's [`Completion`](crate::runtime::completion)
//!    (step 4), then write `C` into the node table, with `pending = 1 +`
//!    its sibling dependencies (the 1 is a guard held by the spawner; a
//!    child that names no sibling has `pending = 0` and no guard, and goes
//!    from here straight to its publication: nobody else can learn of it
//!    before), and append `C` to the list (so that the children of one
//!    parent take node indices in list order, even when threads of its
//!    body spawn at once). The node is written after the locked
//!    instructions and the lock is released by a plain store, so that the
//!    node's stores drain while the body goes on: a locked instruction
//!    after them would wait for them to reach the cache. A join's snapshot
//!    of the list, taken under the lock, names only written nodes.
//! 4. The unit of step 3. *Why then:* `P`'s own unit
//!    is unfinished while its body runs, so the run cannot complete between
//!    there and `C`'s publication, and once `C` is published its job stands
//!    for its unit, as every job does. *Why one per spawned task*, though
//!    `P`'s `open` already counts `C` until its subtree ended: the worker
//!    that decrements a parent's `open` may touch the subtree after it (to
//!    signal a waiting join, step 4 below), and a decrement that was not
//!    the last could otherwise be followed by the subtree's end, the run's
//!    completion and its memory freed meanwhile. (A unit per subtree
//!    instead was tried; loom model 18 found that use after free.)
//! 5. For each sibling `S` that `C` names, under the lock of `P`'s table
//!    of waiting children: mark `S`'s end word *awaited* (an `AcqRel`
//!    `fetch_or`). If the word said `S`'s subtree ended, count that
//!    dependency finished now (poisoning `C` if `S` ended poisoned); else
//!    enter `C` in the table under `S`. *Why no end is missed:* the mark and
//!    `S`'s end (step 2 below) are read-modify-writes of one word, so one
//!    of them sees the other: the end, if it sees the mark, takes the lock
//!    after this spawn's entry was made under it (the lock was held from
//!    before the mark to after the entry).
//! 6. Drop the guard (an `AcqRel` decrement); whoever brings `pending` to
//!    zero publishes `C` (step 6 here, or the last sibling's end).
//!
//! *Publishing* a child from its spawner (steps 3 and 6, on the thread of
//! the parent's body): when that thread is the worker that runs the body,
//! outside any wait (or inside one, in an exclusive run), and the child
//! runs on the same pool, onto that worker's own deque, with no lock,
//! waking a sleeping peer as every push does: the pool's other workers
//! steal it from there, and the parent's `join` (or its implicit join, in
//! a run that joins at body return) takes its own work back off the top of
//! the deque before it looks elsewhere (see [`help`]; what the look leaves
//! there, the pool's thieves and the wait's fall-back run). Otherwise as
//! any ready spawned task.
//!
//! *Publishing* a ready spawned task: into the inbox of its nearest
//! ancestor that runs on the same pool and whose body has not returned
//! without making one, its parent most often (so that a
//! `join` up the tree can run it, and the pool's other workers can steal
//! it); else into its pool, as any ready task. *Why the nearest, not the
//! parent:* a `cpu` task that joins an `io` child, which spawns a `cpu`
//! grandchild, waits for that grandchild, and on a pool of one worker only
//! the joining worker can run it.
//!
//! *In a steered run* (priorities, critical path, limits: [`crate::steer`]):
//! spawned tasks take this unsteered path; a child with a priority, a weight
//! or a limit of its own is refused at step 1 ([`GraphError::SteeredSpawn`]),
//! not run without it. A steered task that spawned joins its children
//! on its worker after its body returned (its permits already given back),
//! and then releases its successors through the steered queue.
//!
//! # A subtree ends (continuation, not recursion)
//!
//! A task's dependents depend on its whole subtree: they are released when
//! its body returned **and** every descendant ended, by whoever finishes
//! last, and no thread waits for it.
//!
//! 1. When `P`'s body returns: store whether its outcome poisons, then
//!    close its inbox (nobody will join it now): if one was made, forward
//!    it to the inbox of its nearest ancestor on the same pool, or to its
//!    pool, moving what it holds; else mark the subtree closed, so that no
//!    inbox is made for it later. Then decrement `open` (`AcqRel`).
//! 2. When a child's subtree ends (its body returned and its `open` reached
//!    zero, or it never spawned): mark its own end in its end word (an
//!    `AcqRel` `fetch_or`, poisoned or not); if the word was marked
//!    awaited, take the siblings that wait for it out of the parent's
//!    table, under its lock, and release them (step 5 above, from the other
//!    side). Then set its parent's `failed` flag if it ends poisoned, and
//!    decrement the parent's `open` (`AcqRel`). A child that nobody names
//!    takes no lock to end.
//! 3. The decrement that brings `open` to zero ends `P`'s subtree: it is
//!    poisoned if `P`'s outcome poisons or `failed` is set. For a spawned
//!    `P` that is step 2 again one level up, in a loop: a chain of 100,000
//!    tasks, each spawning the next, ends in 100,000 iterations, not
//!    100,000 frames. For a task of the graph it releases its static
//!    successors (poisoned if the subtree was), as step 3 of
//!    [`crate::runtime::run`] does, publishing every owned one to its pool.
//! 4. A decrement that finds a waiting `join` registered in `open` (its
//!    high half counts them) signals the inbox: the join may be over.
//!
//! *No lost completion:* every decrement is an `AcqRel` read-modify-write
//! of one word, so exactly one of them reaches zero, and it reads every
//! flag and output stored before the others. The worker that performs a
//! subtree's end still holds its own job's unfinished unit, so the run and
//! everything it points to are alive while it does; the parent's own unit
//! was counted when its body returned (its dependents' units are not, and
//! they cannot start before the end).
//!
//! A run processed by one thread alone (see `exclusive` in
//! [`crate::runtime::run`]) keeps its static pending words unsynchronised;
//! there a task's body return is followed by an implicit `join`, so that
//! the release of its static successors stays on that thread.
//!
//! # Waiting: `join`, and a run started from inside a task
//!
//! `join` takes a snapshot of the children list (under its lock) and waits
//! until every child in it ended (or `open == 1`, which says so for all):
//! a spawn from another thread of the body meanwhile is not covered, and
//! the join's answer and `joined` bound cover the snapshot only. Before it
//! blocks it registers in `open` (an `AcqRel` add of one waiter): either a
//! child's decrement sees the registration and signals, or the
//! registration comes later and takes in that child's end mark (set, with
//! `Release`, before its decrement), which the next look sees.
//! Any number of threads may wait on one inbox; a signal wakes all.
//!
//! A run started on one of its executor's
//! workers waits for its completion, and queues its jobs for that worker's
//! pool in an inbox of its own. The waiting worker helps with **the work of
//! its own wait only**: the jobs of its inbox, the subtree's tasks of its
//! own pool, or the nested run's tasks of its own pool.
//!
//! 1. Pop the newest job of the inbox; process it; repeat. While helping,
//!    the worker's own pushes go into that inbox (but for children spawned
//!    in an exclusive run: see *Publishing a child from its spawner*).
//! 2. None: for a join, take the newest job off the top of the worker's
//!    own deque if it is the join's own work (a descendant of the joining
//!    task found within 16 levels up, or in the implicit join of an
//!    exclusive in-order run any spawned task of the run); process it and
//!    go to 1. A job there that is not its own (it goes back on top) ends
//!    these looks for this wait: what is left on the deque then, the
//!    pool's thieves and step 4's fall-back run.
//! 3. None: count the finished units (so that an awaited run can
//!    complete), then check the condition; if it holds, return (before
//!    looking at any work outside the wait).
//! 4. Otherwise register in `open` (a join), then wait on the inbox's
//!    condition variable (no CPU), under its lock, until a push or a signal
//!    (step 4 above; a run's completion wakes it through a
//!    [`Waker`](std::task::Waker)); unregister and go to 1. A join that
//!    finds all its children on its own deque never registers, and its
//!    children's ends signal nobody.
//!
//! *Why only its own work:* a worker that helped with arbitrary work could
//! start a task that waits long (for an hour, or for this very wait's
//! caller), and the satisfied wait underneath could not return until it did
//! (the "LIFO trap" of nested waits on one stack). Here every wait on a
//! worker's stack waits for a subset of the work of the wait below it, so a
//! wait below can never be satisfied while one above is not: each returns
//! as soon as it is satisfied. The pool's other workers keep serving
//! everything else, and steal from inboxes too. A pool of one worker can so
//! join children of its own tag, and run a nested graph of its own tag, to
//! any depth its stack holds (each level costs a few frames; the worker
//! stack is [`DEFAULT_WORKER_STACK`](crate::runtime::threads::DEFAULT_WORKER_STACK) unless set).
//! Each worker records its stack's size and start; a `join`, or a nested
//! run, that finds less than [`help::stack_margin`] left is refused with
//! [`GraphError::WaitTooDeep`] instead of helping (the implicit join of an
//! exclusive run, whose body already returned, is not refused).
//!
//! *When every worker of a pool waits:* work of the pool that no wait covers
//! would then have nobody to run it, and two waits could wait for each
//! other for ever (two pools of one worker, each joining a child on the
//! other's tag). So a pool counts its waiting workers, and while all of
//! them wait, a blocked wait takes such work from the pool's own queues and
//! runs it (its pushes going to the worker's own deque, not the inbox).
//! While every worker moreover *blocks* (none runs a job), it also takes
//! jobs from the pool's announced inboxes: a job a wait of another pool
//! needs may sit in the inbox of a wait lower on some worker's stack,
//! whose owner is inside another wait that does not cover it (two pools
//! of one worker whose waits cross through grandchildren). **This is the
//! only case where a satisfied wait can sit under unrelated work**: the
//! wait returns only once the job it took returned; while the pool has a
//! worker that does not wait, none does.
//!
//! 4. A wait that blocks registers its inbox with the pool (learning, under
//!    the same lock, whether every worker now blocks), executes a `SeqCst`
//!    fence, and, if every worker waits, looks in the pool's queues once
//!    more (and in its announced inboxes, if every worker blocks) before
//!    it waits.
//! 5. A push into the pool's queues from outside (an injection), by a
//!    worker with peers, or into one of the pool's inboxes is followed by
//!    the sleep protocol's `SeqCst` fence; then, if every worker waits and
//!    the pool's count of registered inboxes (a `SeqCst` word beside their
//!    list, written under its lock) is not 0, it signals every registered
//!    inbox. Of waits that re-register after the
//!    signal, the last sees every worker blocked. By
//!    the fences' order, either the wait's look sees the job, or the
//!    pusher sees the wait's count and registration and signals it. (A
//!    pool's only worker finds the jobs it pushed itself in step 4.)
//!
//! [`Context::spawn`]: crate::Context::spawn
//! [`Context::join`]: crate::Context::join
//! [`Executor::run`]: crate::Executor::run
//! [`GraphError::ForeignTask`]: crate::GraphError::ForeignTask
//! [`GraphError::WaitTooDeep`]: crate::GraphError::WaitTooDeep
//! [`GraphError::SteeredSpawn`]: crate::GraphError::SteeredSpawn

pub(crate) mod help;
pub(crate) mod inbox;
pub(crate) mod nested;
pub(crate) mod nodes;
pub(crate) mod outcomes;
pub(crate) mod process;
pub(crate) mod publish;
pub(crate) mod spawning;
pub(crate) mod subtree;
pub(crate) mod subtrees;

use crate::graph::handle::GraphId;
use crate::graph::tag::Tag;
use crate::results::error::{GraphError, TaskError};
use crate::runtime::pool::Pool;
use crate::sync::atomic::{AtomicPtr, AtomicUsize};
use crate::sync::{Arc, Mutex};
use inbox::Inbox;
use nodes::{Nodes, SpareSegments};
use subtrees::{SpareChunks, Subtrees};

/// Starts the pool of a tag new to the run (the executor's registry).
pub(crate) type PoolSource =
    std::sync::Arc<dyn Fn(&Tag) -> Result<Arc<Pool>, GraphError> + Send + Sync>;

/// The memory that an executor's ended runs left for its next ones: node
/// table segments ([`nodes`]) and subtree chunks ([`subtrees`]).
#[derive(Debug, Default)]
pub(crate) struct SpareMemory {
    nodes: std::sync::Arc<SpareSegments>,
    subtrees: std::sync::Arc<SpareChunks>,
}

/// What one run keeps of its spawned tasks and waits.
pub(crate) struct SpawnState {
    pub(crate) nodes: Nodes,
    /// The subtrees of tasks that spawned, owned here until the run ends.
    pub(crate) subtrees: Subtrees,
    /// The identity spawned tasks' handles carry: unique to this run.
    pub(crate) space: GraphId,
    /// Failures of spawned tasks, as (node index, error).
    pub(crate) failures: Mutex<Vec<(u32, TaskError)>>,
    pub(crate) skipped: AtomicUsize,
    pub(crate) cancelled: AtomicUsize,
    /// Pools of tags that spawned tasks use and the graph does not.
    pub(crate) extra_pools: Mutex<Vec<Arc<Pool>>>,
    pub(crate) pool_source: Option<PoolSource>,
    /// The pool of [`Tag::DEFAULT`](crate::Tag::DEFAULT) once a spawn
    /// without a tag looked it up (null before): the tag of most spawned
    /// tasks, found then without comparing names.
    pub(crate) default_pool: AtomicPtr<Pool>,
    /// For a run started on one of its executor's workers: the inbox of
    /// that worker's wait, where the run's jobs for its pool queue.
    pub(crate) helper: Option<Arc<Inbox>>,
}

impl SpawnState {
    /// The state of a run whose node table and subtrees take their memory
    /// from `spares`.
    pub(crate) fn new(
        pool_source: Option<PoolSource>,
        helper: Option<Arc<Inbox>>,
        spares: &SpareMemory,
    ) -> Self {
        SpawnState {
            nodes: Nodes::new(std::sync::Arc::clone(&spares.nodes)),
            subtrees: Subtrees::new(std::sync::Arc::clone(&spares.subtrees)),
            space: GraphId::fresh(),
            failures: Mutex::new(Vec::new()),
            skipped: AtomicUsize::new(0),
            cancelled: AtomicUsize::new(0),
            extra_pools: Mutex::new(Vec::new()),
            pool_source,
            default_pool: AtomicPtr::new(std::ptr::null_mut()),
            helper,
        }
    }
}
