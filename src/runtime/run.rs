//! [`Run`]: the state of one run of a graph, and what a worker does to
//! process one of its tasks.
//!
//! # Processing a task (the completion protocol)
//!
//! A worker that owns a ready task (its last dependency finished, or it is a
//! source) does this:
//!
//! 1. Decide: a poisoned task is *skipped*; otherwise, if the run is stopped
//!    (its token was cancelled, or a task failed under fail-fast), it is
//!    *cancelled*; otherwise its body runs, panics caught, and it *succeeded*
//!    or *failed*. A failure is recorded and, under fail-fast, stops the run.
//!    The task's pending word is reset to its in-degree for the next run.
//!    A run with observers (see [`crate::observe`]) tells them here: before
//!    and after the body, or once for a task that does not run; so every
//!    task's `task_finished` comes before step 4, which lets the run end.
//! 2. Store the outcome code in the task's byte of the run's outcome array,
//!    which becomes the report's.
//! 3. For each successor: if the task failed, was skipped or cancelled
//!    itself (returned `Cancelled`), poison the
//!    successor. A successor with other dependencies has its pending count
//!    decremented with `AcqRel`, and the decrement that reaches zero owns it;
//!    a successor with this task as its only dependency is owned at once,
//!    with no atomic operation, since no other task can touch its word. An
//!    owned successor of the same pool is processed next by this worker
//!    directly (one of them) or goes onto its deque (the others); one of
//!    another tag goes into that tag's pool's injector. Either queue
//!    synchronises the hand-off. (Successor lists run newest edge first, and
//!    the one processed directly is the oldest, see `release_successors`.)
//!    After its pushes, the worker wakes a sleeping worker of its pool for
//!    them, if there is one ([`crate::runtime::sleep`]: no ready job waits while a
//!    worker sleeps).
//! 4. Count the task finished in the worker's batch (see [`crate::runtime::worker`]),
//!    strictly after every push of step 3, so the run cannot complete while
//!    the worker still uses it.
//!
//! # Order and exclusivity
//!
//! A worker with peers runs ready tasks depth first: one successor directly,
//! the others last in, first out from its deque, whose other end thieves
//! take the oldest, largest pieces from. A pool's only worker has no
//! thieves to feed, and runs ready tasks close to the order in which the
//! graph was built: the task right after the one that finished (`t + 1`)
//! next if it became ready, every other ready successor through its queue,
//! first in, first out, oldest edge first. For a graph built in topological
//! order that walks memory in order: chains and the rows of a grid in one
//! sweep, a tree or a layered graph level by level, where depth first would
//! jump between levels and miss the cache on every task.
//!
//! When the graph has one tag and its pool one worker, one thread processes
//! every task of the run (the run is *exclusive*), so no other thread
//! touches a pending word and step 3 decrements with a plain load and store
//! instead of an atomic read-modify-write, which on x86 would stall the
//! cache misses of the next successors behind it.
//!
//! An exclusive run of a graph whose edges all go from lower to higher
//! indices needs no counting at all: its worker processes the tasks in
//! index order (see [`crate::runtime::in_order`]). A run of such a graph on
//! one tag whose pool has several workers is *swept* in index order
//! instead, by one worker or, when sharing pays, several (see
//! [`crate::runtime::sweep`]), with no counting either. Neither takes the
//! steps above but step 1, and both touch a successor's word only to
//! poison it.
//!
//! # Steered runs
//!
//! A run whose graph has priorities or limits, or that asks for the
//! critical path, is *steered* (see [`crate::steer`]): its jobs are tokens
//! only, and a token's worker takes the best ready task and its limits'
//! permits and processes it on a path of its own
//! ([`crate::runtime::steered`]): steps 1 and 2 as above,
//! then the task gives its permits back, then step 3 puts every owned
//! successor into its pool's ordered ready queue and pushes a token for it
//! instead of the task itself (none is processed directly). The ordinary
//! path above has no steering test. Everything else above holds as
//! written.
//!
//! Every task is thus processed exactly once: by whoever owns it, and
//! ownership passes only through its last dependency.
//!
//! A task that spawned (see [`crate::runtime::spawn`]) does step 3 only
//! once its whole subtree ended: at once if every descendant ended before
//! its body returned, else the last descendant to end does it, from
//! whichever worker it ran on (`after_spawning_body`). Step 4 counts the
//! task's own unit either way. A run completes when
//! all its units of work were counted (see [`crate::runtime::completion`]); no job of
//! it can remain queued then, because every queued job stands for an
//! unfinished unit.

use std::borrow::Cow;

use crate::graph::GraphView;
use crate::graph::handle::TaskRef;
use crate::graph::tag::Tag;
use crate::mutant::planted;
use crate::observe::{Observers, RunInfo};
use crate::results::error::TaskError;
use crate::results::report::RunReport;
use crate::runtime::cancel::{CancelToken, Cancelled};
use crate::runtime::completion::Completion;
use crate::runtime::held::Held;
use crate::runtime::job::{Job, MAX_RANGE};
use crate::runtime::options::{FailurePolicy, RunOptions};
use crate::runtime::pool::Pool;
use crate::runtime::spawn::SpawnState;
use crate::runtime::state::{PENDING_MASK, POISONED, poisons};
use crate::runtime::sweep::{MIN_SWEPT_TASKS, Sweep};
use crate::runtime::worker::WorkerThread;
use crate::steer::admission::SteeredRun;
use crate::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use crate::sync::{Arc, Mutex};
use crate::sync::{into_bytes, zeroed_bytes};

/// The ordering of the pending-count decrement (see `release_successors`).
/// The planted bug `relaxed_pending` weakens it to `Relaxed`; the loom
/// models must then find the race on the outputs (scripts/loom-mutants.sh).
#[inline(always)]
fn pending_decrement() -> Ordering {
    if planted("relaxed_pending") {
        Ordering::Relaxed
    } else {
        Ordering::AcqRel
    }
}

/// One run of a graph on an executor. It lives on the stack of the caller
/// of [`Run::execute`], which blocks until the run completes; jobs point to
/// it (see [`Job`] for why that is sound).
pub(crate) struct Run<'g> {
    pub(in crate::runtime) graph: GraphView<'g>,
    /// The pool of each of the graph's tags, by tag index.
    pub(in crate::runtime) pools: Box<[Arc<Pool>]>,
    pub(in crate::runtime) policy: FailurePolicy,
    /// The run's own token: a child of the caller's, if any, so that a
    /// fail-fast stop can cancel it (waking tasks that wait on it, see
    /// [`Run::wait_stopped`]) without cancelling the caller's.
    pub(in crate::runtime) token: CancelToken,
    /// When the run stops by itself, if ever.
    deadline: Option<std::time::Instant>,
    /// Set by the first failure under fail-fast, and once the deadline has
    /// been seen passed.
    pub(in crate::runtime) stopped: AtomicBool,
    /// Whether one thread processes every task (see the module docs): one
    /// tag, whose pool has one worker.
    pub(in crate::runtime) exclusive: bool,
    /// Whether the run has observers: a flag that `settle` tests for every
    /// task, like `exclusive`, rather than the length of `observers`.
    pub(in crate::runtime) observed: bool,
    /// Failures as (task index, error); locked only when a task fails.
    pub(in crate::runtime) failures: Mutex<Vec<(u32, TaskError)>>,
    /// Each task's outcome code, written by the worker that processes it.
    pub(in crate::runtime) outcomes: Box<[AtomicU8]>,
    /// Tasks skipped and cancelled so far, counted as they happen: both are
    /// rare, so a report can then count outcomes without a pass.
    pub(in crate::runtime) skipped: AtomicUsize,
    pub(in crate::runtime) cancelled: AtomicUsize,
    completion: Arc<Completion>,
    /// The run's process-unique id, for observers.
    id: u64,
    /// The executor's observers, then the run's own (see [`crate::observe`]).
    pub(in crate::runtime) observers: Observers,
    /// The tasks spawned during the run, and the run's helper, if any.
    pub(in crate::runtime) spawn: SpawnState,
    /// Priorities, the critical path and limits (see [`crate::steer`]):
    /// `None` when nothing steers the run, which then takes the path these
    /// docs describe.
    pub(in crate::runtime) steered: Option<Box<SteeredRun<'g>>>,
    /// The state of a run swept in index order by several workers (see
    /// [`crate::runtime::sweep`]), if it is one.
    pub(in crate::runtime) sweep: Option<Sweep>,
}

// SAFETY: the only fields that are not `Sync` are the task bodies in
// `graph.bodies`, each an `UnsafeCell<RawBody>` over a cell in the arena. The completion
// protocol (module docs) gives every task exactly one owner, which alone
// writes its body (it runs it, or clears its stale output) and does so before
// it hands its dependents over (through the AcqRel decrement that reaches
// zero or, for a sole dependency, through a queue or on its own thread; in a
// swept run, through the Release of its sweeper's position, see
// `crate::runtime::sweep`); a dependent reads the body only after that
// hand-off, and only if it declared the dependency. Bodies are `Send`, so running one on another thread is sound,
// and outputs are `Sync` (`Graph::add` requires it), so reading one from
// several dependents at once is sound. The bodies of spawned tasks, in the
// node table (see `crate::runtime::spawn`), follow the same rule: one owner
// (the worker that runs the node) writes a node's body, and its readers (a
// sibling that named it, the parent after a join) read it only after the
// node's end was published by an AcqRel decrement.
unsafe impl Sync for Run<'_> {}

impl<'g> Run<'g> {
    /// Runs a graph on `pools` and blocks until every task was processed.
    pub(crate) fn execute(
        graph: GraphView<'g>,
        pools: Box<[Arc<Pool>]>,
        options: RunOptions,
        spawn: SpawnState,
    ) -> RunReport {
        let run = Run::new(graph, pools, options, spawn);
        // SAFETY: `run` stays on this stack frame, unmoved, until the wait
        // below returned.
        unsafe { run.start() };
        match run.spawn.helper.clone() {
            // A nested run on one of its executor's workers: the worker
            // helps (see `crate::runtime::spawn`). A steered run's limits'
            // deadline eviction is then left to the run's own deadline
            // checks in its tasks.
            Some(inbox) => run.help_until_complete(&inbox),
            None => run.wait_for_completion(),
        }
        run.into_report()
    }

    /// The state of a run of `graph` on `pools`, not started.
    pub(crate) fn new(
        graph: GraphView<'g>,
        pools: Box<[Arc<Pool>]>,
        options: RunOptions,
        spawn: SpawnState,
    ) -> Self {
        let tasks = graph.names.len();
        let observers = options.observers.into_observers();
        let exclusive = pools.len() == 1 && pools[0].size() == 1;
        let token = options
            .cancel
            .as_ref()
            .map_or_else(CancelToken::new, CancelToken::child);
        let id = crate::sync::next_unique_id().get();
        let steered = SteeredRun::new(&graph, options.critical_path, options.enclosing, id, &token)
            .map(Box::new);
        let sweep = (graph.in_index_order
            && pools.len() == 1
            && pools[0].size() > 1
            && steered.is_none()
            && spawn.helper.is_none()
            && tasks >= MIN_SWEPT_TASKS as usize)
            .then(|| Sweep::new(pools[0].size()));
        // A steered run finds its sources when it starts, not by scanning
        // ranges in its pools; a swept run's first sweeper job has a unit.
        let scanned: usize = if sweep.is_some() {
            1
        } else if (exclusive && graph.in_index_order) || steered.is_some() {
            0
        } else {
            graph.source_bounds.iter().map(|bounds| bounds.len()).sum()
        };
        Run {
            exclusive,
            pools,
            policy: options.policy,
            token,
            deadline: options.deadline,
            stopped: AtomicBool::new(false),
            failures: Mutex::new(Vec::new()),
            outcomes: zeroed_bytes(tasks),
            skipped: AtomicUsize::new(0),
            cancelled: AtomicUsize::new(0),
            completion: Arc::new(Completion::new(tasks + scanned)),
            id,
            observed: !observers.is_empty(),
            observers,
            steered,
            sweep,
            graph,
            spawn,
        }
    }

    /// Whether the run takes the in-order path: exclusive, of a graph in
    /// topological index order, and not steered (a steered run starts as
    /// such, see [`start`](Run::start)), so that one worker processes every
    /// task, one after another.
    pub(crate) fn runs_in_order(&self) -> bool {
        self.exclusive && self.graph.in_index_order && self.steered.is_none()
    }

    /// Hands the run's first jobs to its pools: every task in index order
    /// for an exclusive run of a graph in topological index order, the
    /// first sweeper for a swept run, else each pool's range of sources.
    ///
    /// # Safety
    ///
    /// The jobs point at `self`: the run must stay where it is, alive and
    /// unmoved, until its completion is done.
    pub(crate) unsafe fn start(&self) {
        if self.observed {
            self.observers.run_started(&self.info());
        }
        if self.task_count() == 0 {
            return;
        }
        if let Some(steered) = &self.steered {
            self.start_steered(steered);
            return;
        }
        if self.runs_in_order() {
            self.inject(&self.pools[0], Job::in_order(self));
            return;
        }
        if self.sweep.is_some() {
            self.inject(&self.pools[0], Job::sweeper(self, false));
            return;
        }
        for (tag, pool) in self.pools.iter().enumerate() {
            let sources = self.graph.source_bounds[tag].clone();
            if sources.len() > MAX_RANGE as usize {
                let middle = sources.start + MAX_RANGE;
                self.inject(pool, Job::sources(self, sources.start..middle));
                self.inject(pool, Job::sources(self, middle..sources.end));
            } else if !sources.is_empty() {
                self.inject(pool, Job::sources(self, sources));
            }
        }
    }

    /// Gives `pool` a job of this run from outside it: into the run's own
    /// inbox there if a worker of `pool` waits for the run (see
    /// [`crate::runtime::spawn`]), else into its injector.
    #[inline]
    pub(in crate::runtime) fn inject(&self, pool: &Pool, job: Job) {
        match self.helper_on(pool) {
            Some(inbox) => {
                // The run's inbox is not forwarded while the run lasts.
                let _ = crate::runtime::spawn::inbox::Inbox::push(inbox, job);
            }
            None => pool.inject(job),
        }
    }

    /// The inbox where this run's jobs for `pool` go instead of its
    /// injector: the inbox of the wait of a worker of `pool` that waits for
    /// the run, if any. A task woken by a limit goes back there too (see
    /// [`crate::steer`], "Taking permits").
    pub(crate) fn helper_on(
        &self,
        pool: &Pool,
    ) -> Option<&Arc<crate::runtime::spawn::inbox::Inbox>> {
        self.spawn
            .helper
            .as_ref()
            .filter(|inbox| std::ptr::eq(inbox.pool(), pool))
    }

    /// The report of a run whose completion is done.
    pub(crate) fn into_report(self) -> RunReport {
        let info = self.info();
        // `Completion::wait` returned, which happens after every worker's
        // AcqRel subtraction, so every outcome store and count is visible,
        // and no worker touches the run any more.
        let codes = into_bytes(self.outcomes);
        let names = self.graph.names;
        let failures = self
            .failures
            .into_inner()
            .into_iter()
            .map(|(task, error)| (task, names[task as usize].to_cow(), error))
            .collect();
        // ORDERING: Relaxed, both: see above.
        let skipped = self.skipped.load(Ordering::Relaxed);
        let cancelled = self.cancelled.load(Ordering::Relaxed);
        let report = RunReport::new(self.graph.id, codes, failures, skipped, cancelled);
        let report = self.spawn.add_to(report);
        if self.observed {
            self.observers.run_finished(&info, &report);
        }
        report
    }

    /// The run's id, for observers.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    fn info(&self) -> RunInfo {
        RunInfo::new(self.id, self.graph.names.len())
    }

    pub(crate) fn completion(&self) -> &Arc<Completion> {
        &self.completion
    }

    /// The index of `pool` among this run's pools, which is the graph's
    /// index of its tag.
    pub(crate) fn tag_of(&self, pool: &Pool) -> u32 {
        self.pools
            .iter()
            .position(|candidate| std::ptr::eq(&**candidate, pool))
            .expect("a worker only gets jobs of runs that use its pool") as u32
    }

    /// Whether `task` has no dependencies and runs on tag `tag`: a source
    /// that the pool of `tag` starts with.
    pub(crate) fn is_source(&self, task: u32, tag: u32) -> bool {
        self.graph.table.in_degree(task) == 0 && self.graph.table.tag(task) == tag
    }

    /// Whether no new task may start: the token was cancelled, a task
    /// failed under fail-fast, or the deadline passed.
    pub(crate) fn is_stopped(&self) -> bool {
        // ORDERING: Relaxed: the flag carries no data; a task that starts a
        // moment after another failed is no worse than one that started a
        // moment before.
        self.stopped.load(Ordering::Relaxed)
            || self.token.is_cancelled()
            || self
                .deadline
                .is_some_and(|deadline| self.deadline_passed(deadline))
    }

    /// Blocks until the run is stopped or `timeout` has passed, whichever
    /// comes first, and returns whether it is stopped (see
    /// [`Context::wait_cancelled`]).
    pub(crate) fn wait_stopped(&self, timeout: std::time::Duration) -> bool {
        let timeout = match self.deadline {
            Some(deadline) => {
                timeout.min(deadline.saturating_duration_since(std::time::Instant::now()))
            }
            None => timeout,
        };
        self.token.wait_timeout(timeout) || self.is_stopped()
    }

    /// Whether `deadline` has passed (one clock read per task start while
    /// a deadline is set); once it has, the run is marked stopped, so later
    /// checks read a flag instead of the clock.
    fn deadline_passed(&self, deadline: std::time::Instant) -> bool {
        let passed = std::time::Instant::now() >= deadline;
        if passed {
            // ORDERING: Relaxed: see above.
            self.stopped.store(true, Ordering::Relaxed);
        }
        passed
    }

    pub(crate) fn task_name(&self, task: u32) -> &'g str {
        self.graph.names[task as usize].as_str()
    }

    pub(crate) fn task_tag(&self, task: u32) -> &'g Tag {
        &self.graph.tags[self.graph.table.tag(task) as usize]
    }

    pub(crate) fn task_ref(&self, task: u32) -> TaskRef {
        TaskRef {
            graph: self.graph.id,
            index: task,
        }
    }

    /// Processes `task`, which `worker` owns (module docs, steps 1-3), and
    /// returns the successor of the same pool that it made ready first.
    pub(crate) fn process(&self, task: u32, worker: &WorkerThread) -> Option<u32> {
        let slot = self.graph.table.slot(task);
        // ORDERING: Relaxed, both: this worker owns the task, and the hand-off
        // that gave it the task synchronised with every writer of the word.
        // Nothing else touches the word until the next run, which reaches it
        // through a synchronising job hand-off too.
        let poisoned = slot.pending.load(Ordering::Relaxed) & POISONED != 0;
        slot.pending
            .store(self.graph.table.in_degree(task), Ordering::Relaxed);
        let settled = self.settle(task, poisoned, worker);
        if let Some(subtree) = settled.spawned {
            // SAFETY: a subtree is owned by the run until it ends.
            let subtree = unsafe { subtree.as_ref() };
            return self.after_spawning_body(task, settled.outcome, subtree, worker);
        }
        self.release_successors(task, settled.outcome, worker)
    }

    /// The number of tasks in the run.
    pub(crate) fn task_count(&self) -> u32 {
        self.graph.names.len() as u32
    }

    /// Step 3: hands the task's successors on.
    pub(crate) fn release_successors(
        &self,
        task: u32,
        outcome: u32,
        worker: &WorkerThread,
    ) -> Option<u32> {
        let poison = poisons(outcome);
        let own_tag = self.graph.table.tag(task);
        // The planted bug `stale_empty_check` decides
        // whether to wake a sleeper by whether the deque was empty before
        // the walk, not at the push; a loom model must then find a worker
        // waiting for a queued task that its sleeping peer was never woken
        // for (scripts/loom-mutants.sh).
        let local_was_empty = planted("stale_empty_check") && worker.local_is_empty();
        let solo = worker.pool().size() == 1;
        let mut next = None;
        let mut pushed = 0;
        let mut queued = Held::default();
        for successor in self.graph.table.successors(task) {
            if !self.take_ownership(successor, poison) {
                continue;
            }
            let tag = self.graph.table.tag(successor);
            if tag != own_tag {
                self.inject(&self.pools[tag as usize], Job::task(self, successor));
            } else if solo {
                // In order (module docs): the next task runs directly, the
                // others queue oldest edge first, so they are collected and
                // pushed after the walk (an overflowing hub pushes as it
                // goes, in the list's own order).
                if successor == task + 1 {
                    next = Some(successor);
                } else if !queued.push(successor) {
                    worker.push_local(Job::task(self, successor));
                    pushed += 1;
                }
            } else if let Some(later) = next.replace(successor) {
                // Depth first: successors come newest edge first, and the
                // one kept to run next is the last found, so the oldest
                // edge's target runs first and the rest leave the deque
                // oldest first too (on a grid built row by row, row order).
                worker.push_local(Job::task(self, later));
                pushed += 1;
            }
        }
        for &successor in queued.oldest_first() {
            worker.push_local(Job::task(self, successor));
            pushed += 1;
        }
        // Every group of pushes wakes a sleeper if there is one (see
        // `crate::runtime::sleep`, "no ready job waits while a worker sleeps"): a
        // peer may have emptied the deque and fallen asleep during the walk.
        let pushed = if planted("stale_empty_check") && !local_was_empty {
            0
        } else {
            pushed
        };
        if pushed > 0 {
            worker.pool().pushed_local(pushed);
        }
        next
    }

    /// Whether the ready `task`, which the caller owns, is poisoned.
    pub(crate) fn is_poisoned(&self, task: u32) -> bool {
        // ORDERING: Relaxed: as in `process`, the caller owns the task.
        self.graph.table.slot(task).pending.load(Ordering::Relaxed) & POISONED != 0
    }

    /// The pool of tag index `tag`.
    pub(crate) fn pool(&self, tag: u32) -> &Arc<Pool> {
        &self.pools[tag as usize]
    }

    /// Blocks until the run completed. A steered run with limits and a
    /// deadline waits until the deadline first; if it has not completed by
    /// then, it is marked stopped and takes its parked tasks out of their
    /// limits (see [`crate::steer`], "A deadline"), so that it does not wait
    /// for permits that other runs hold.
    pub(crate) fn wait_for_completion(&self) {
        if let (Some(deadline), Some(steered)) = (self.deadline, self.steered()) {
            if steered.is_limited() && !self.completion.wait_until(deadline) {
                // ORDERING: Relaxed: see `is_stopped`; the clock is past the
                // deadline too, so every later check sees the stop.
                self.stopped.store(true, Ordering::Relaxed);
                steered.evict(self.id);
            }
        }
        self.completion.wait();
    }

    /// Records that a dependency of `successor` finished (poisoning it if
    /// `poison`), and returns whether that was its last one, which makes the
    /// caller its owner.
    #[inline]
    pub(crate) fn take_ownership(&self, successor: u32, poison: bool) -> bool {
        let word = &self.graph.table.slot(successor).pending;
        if self.graph.table.in_degree(successor) == 1 {
            // The only dependency: no other task touches the word this run.
            if poison {
                // ORDERING: Relaxed: the job hand-off to the successor's
                // owner (this worker, or a queue) publishes it.
                word.store(1 | POISONED, Ordering::Relaxed);
            }
            return true;
        }
        if self.exclusive {
            // ORDERING: Relaxed load and store, no read-modify-write: in an
            // exclusive run this worker is the only thread that touches
            // pending words (module docs).
            let value = (word.load(Ordering::Relaxed) - 1) | if poison { POISONED } else { 0 };
            word.store(value, Ordering::Relaxed);
            return value & PENDING_MASK == 0;
        }
        if poison {
            // ORDERING: Relaxed: the AcqRel decrement below is later in this
            // word's modification order, so whoever reaches zero reads a
            // value that includes this bit.
            word.fetch_or(POISONED, Ordering::Relaxed);
        }
        // ORDERING: AcqRel. Release publishes this task's output and outcome
        // to whichever worker reaches zero; Acquire, in the decrement that
        // reaches zero, takes in the Release of every dependency (all
        // decrements form one release sequence). An Acquire fence after a
        // Release decrement would do the same, but ThreadSanitizer does not
        // model fences.
        word.fetch_sub(1, pending_decrement()) & PENDING_MASK == 1
    }

    pub(crate) fn name_cow(&self, task: u32) -> Cow<'static, str> {
        self.graph.names[task as usize].to_cow()
    }

    /// The run's observers, if it has any.
    pub(crate) fn observers(&self) -> Option<&Observers> {
        self.observed.then_some(&self.observers)
    }
}

/// Whether a task's error is [`Cancelled`], or has it in its `source()`
/// chain (a `Cancelled` wrapped by an error-handling crate or a caller's own
/// error type).
pub(crate) fn is_cancelled(error: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(error), |error| error.source()).any(|error| error.is::<Cancelled>())
}
