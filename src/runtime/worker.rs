//! [`WorkerThread`]: the loop one worker thread runs, and how it counts the
//! tasks it finishes.
//!
//! A worker pops jobs from its own deque, steals from its pool when that is
//! empty, spins briefly when there is nothing to steal, and then sleeps (see
//! [`crate::runtime::sleep`]). It processes a ready task and then, directly and
//! without a queue, one successor of the same pool that the task made ready
//! (which one: see [`crate::runtime::run`]); further ready successors go onto its
//! deque for itself or thieves, and a sleeping peer is woken for them. So
//! is one for the jobs a steal moves into its deque besides the one it runs
//! (see [`crate::runtime::sleep`]: no ready job waits while a worker sleeps).
//!
//! # Counting finished work
//!
//! A worker counts the units of work (see [`crate::runtime::completion`]) it finishes
//! for a run in a private [`Batch`] and subtracts the batch from the run's
//! [`Completion`] only when its own deque runs dry or it turns to a job of
//! another run. The unit of the job it is processing is counted last, after
//! every push the job causes, so until then the run cannot complete, which
//! is what keeps the run alive for the worker: the worker may
//! dereference a job's run pointer, and push jobs of that run, only while it
//! holds an unsubtracted batch for that run. After subtracting, it touches
//! only the `Arc<Completion>` it co-owns. So no `&Run` may be live across a
//! flush: flushes happen only in [`WorkerThread::run`]'s loop, outside any
//! function that borrows a run, and in a wait inside a task (see
//! [`crate::runtime::spawn::help`]), where the borrowed run cannot complete
//! because the waiting task's own unit is not counted yet.
//!
//! # Inside a wait
//!
//! A worker that waits inside a task ([`Context::join`](crate::Context::join),
//! or a run started from the task) helps with the work of that wait only:
//! the jobs of its inbox, and the children the waiting task queued on top
//! of the worker's own deque (see [`crate::runtime::spawn::help`]). While it
//! helps, what it would push onto its own deque goes into that inbox (it is
//! all work of the wait), but for the children spawned in an exclusive
//! run, which go onto the deque, where that run's waits look for them (and
//! the fall-back of a wait whose look stopped finds them). The rest of the
//! deque is left alone meanwhile: its other workers steal from it.

use std::cell::{Cell, RefCell};
use std::ptr::NonNull;

use crate::mutant::planted;
use crate::runtime::completion::Completion;
use crate::runtime::job::{Job, Work};
use crate::runtime::pool::Pool;
use crate::runtime::queue::LocalQueue;
use crate::runtime::run::Run;
use crate::runtime::sleep::Slumber;
use crate::runtime::spawn::inbox::Inbox;
use crate::sync::{Arc, Backoff, Instant};
use std::time::Duration;

/// One worker of a pool, owned by its thread.
#[derive(Debug)]
pub(crate) struct WorkerThread {
    pool: Arc<Pool>,
    index: usize,
    local: LocalQueue<Job>,
    pub(crate) batch: RefCell<Option<Batch>>,
    /// The units the batch holds: kept beside it, in a plain cell, so that
    /// counting a task costs no borrow of the batch.
    pub(crate) finished: Cell<usize>,
    /// How many sources in a row this worker runs without exposing the next
    /// to thieves (see `process_sources`); back to 1 for every new run.
    source_grain: Cell<u32>,
    /// The inbox of the innermost wait this worker helps in, where its own
    /// pushes go meanwhile (module docs).
    pub(crate) help_target: Cell<Option<NonNull<Arc<Inbox>>>>,
    /// How many waits this worker helps in, nested.
    pub(crate) help_depth: Cell<usize>,
    /// The worker's stack, which bounds how deeply waits nest on it.
    pub(crate) stack: crate::runtime::spawn::help::Stack,
}

crate::sync::thread_local! {
    /// The worker the current thread runs, while it runs it.
    #[allow(clippy::missing_const_for_thread_local)]
    static CURRENT: Cell<Option<NonNull<WorkerThread>>> = Cell::new(None);
}

/// The most sources a worker runs in a row without exposing the next.
const MAX_SOURCE_GRAIN: u32 = 32;

/// A walk of sources this quick lets the next one be twice as long.
const FAST_WALK: Duration = Duration::from_micros(20);

/// Units of one run's work that this worker finished and has not yet counted.
#[derive(Debug)]
pub(crate) struct Batch {
    run: NonNull<Run<'static>>,
    completion: Arc<Completion>,
}

impl WorkerThread {
    /// The worker `index` of `pool`, on the calling thread, whose stack
    /// is `stack`.
    pub(crate) fn new(
        pool: Arc<Pool>,
        index: usize,
        local: LocalQueue<Job>,
        stack: crate::runtime::spawn::help::Stack,
    ) -> Self {
        WorkerThread {
            pool,
            index,
            local,
            batch: RefCell::new(None),
            finished: Cell::new(0),
            source_grain: Cell::new(1),
            help_target: Cell::new(None),
            help_depth: Cell::new(0),
            stack,
        }
    }

    /// The worker the calling thread runs, if it is a worker and runs a task.
    pub(crate) fn current() -> Option<&'static WorkerThread> {
        // SAFETY: set by `run` to the worker that lives on this thread's
        // stack for as long as the loop runs, and cleared before it ends;
        // only code called from that loop, on this thread, sees it.
        CURRENT
            .with(Cell::get)
            .map(|worker| unsafe { worker.as_ref() })
    }

    /// The worker's position in its pool.
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Puts a job on this worker's own deque, or into the inbox of the wait
    /// it helps in (module docs). After every group of pushes, call
    /// [`Pool::pushed_local`].
    pub(crate) fn push_local(&self, job: Job) {
        match self.help_target.get() {
            Some(inbox) => {
                // SAFETY: the inbox of a wait on this thread's stack, alive
                // while the wait lasts, which is while the target is set.
                let inbox = unsafe { inbox.as_ref() };
                // A wait's inbox is never forwarded while it is waited on.
                let _ = Inbox::push(inbox, job);
            }
            None => self.local.push(job),
        }
    }

    /// This worker's own deque.
    pub(crate) fn local(&self) -> &LocalQueue<Job> {
        &self.local
    }

    /// Whether this worker's own deque is empty.
    pub(crate) fn local_is_empty(&self) -> bool {
        self.local.is_empty()
    }

    /// After a steal: the steal may have moved more jobs than the one it
    /// returned into this worker's deque, where they wait while the worker
    /// runs that one, so a sleeper is woken for them (see [`crate::runtime::sleep`]).
    fn share_stolen_jobs(&self) {
        // The planted bug `keep_stolen_jobs` wakes nobody for them; a loom
        // model must then find a thief waiting for a job it holds back from
        // a sleeping peer (scripts/loom-mutants.sh).
        if planted("keep_stolen_jobs") {
            return;
        }
        if !self.local_is_empty() {
            self.pool.pushed_local(1);
        }
    }

    /// Serves the pool until it shuts down.
    pub(crate) fn run(self) {
        CURRENT.with(|current| current.set(Some(NonNull::from(&self))));
        while let Some(job) = self.next_job() {
            self.process_job(job);
        }
        self.flush();
        CURRENT.with(|current| current.set(None));
    }

    /// Processes one job, under a batch of its run.
    pub(crate) fn process_job(&self, job: Job) {
        self.adopt(job.run());
        // SAFETY: the job stands for at least one unfinished unit of its
        // run's work, so the run has not completed and its caller is still
        // blocked in `Run::execute`, keeping it alive. `adopt` made this
        // worker hold a batch for the run, so it stays alive until the
        // batch is flushed, which happens only in this loop or a helping
        // wait's, after `run` is dead (module docs).
        let run = unsafe { job.run().as_ref() };
        match job.work() {
            Work::Task(task) => self.process_from(run, task),
            Work::Sources { start, len } => self.process_sources(run, start, len),
            Work::InOrder => self.process_in_order(run),
            Work::Ready => self.process_ready(run),
            Work::Sweep { invited } => self.sweep(run, invited),
            Work::ResumeSweep { seat } => self.resume_sweep(run, seat as usize),
            Work::Spawned(node) => {
                run.process_node(node, self);
                self.count_finished(1);
            }
        }
    }

    /// The next job: from the own deque, else stolen, else after sleeping.
    /// `None` when the pool shuts down.
    fn next_job(&self) -> Option<Job> {
        if let Some(job) = self.local.pop() {
            return Some(job);
        }
        // Nothing local: this is the moment to count finished tasks, so that
        // a run whose last task this was can complete.
        self.flush();
        let backoff = Backoff::new();
        loop {
            if let Some(job) = self.pool.steal(self.index, &self.local) {
                self.share_stolen_jobs();
                return Some(job);
            }
            if !backoff.is_completed() {
                backoff.snooze();
                continue;
            }
            let (pool, index, local) = (&self.pool, self.index, &self.local);
            match pool.sleep().sleep(|| pool.steal(index, local)) {
                Slumber::Found(job) => {
                    self.share_stolen_jobs();
                    return Some(job);
                }
                Slumber::Woken => backoff.reset(),
                Slumber::Shutdown => return None,
            }
        }
    }

    /// Makes the batch this worker counts into the one of `run`, flushing a
    /// batch of another run first.
    fn adopt(&self, run: NonNull<Run<'static>>) {
        if self
            .batch
            .borrow()
            .as_ref()
            .is_some_and(|batch| batch.run == run)
        {
            return;
        }
        self.flush();
        self.source_grain.set(1);
        // SAFETY: as in `run`: the job being adopted keeps its run alive.
        let completion = Arc::clone(unsafe { run.as_ref() }.completion());
        self.batch.replace(Some(Batch { run, completion }));
    }

    /// Counts the batch's finished tasks on the run's completion.
    pub(crate) fn flush(&self) {
        let batch = self.batch.take();
        let finished = self.finished.replace(0);
        if let Some(batch) = batch {
            if finished > 0 {
                batch.completion.finish(finished);
            }
        }
    }

    /// Processes `task` and the chain of same-pool successors each task
    /// hands on.
    fn process_from(&self, run: &Run<'_>, mut task: u32) {
        loop {
            let next = run.process(task, self);
            self.count_finished(1);
            match next {
                Some(successor) => task = successor,
                None => return,
            }
        }
    }

    /// Processes the sources of this pool's tag among the tasks
    /// `start..start + len`.
    ///
    /// With helpers in the pool, the range is halved repeatedly and the
    /// upper halves go on the deque, where idle workers steal them, until
    /// what is left fits the worker's *source grain*, which it walks. The
    /// grain starts at one task, so that every source is exposed to thieves
    /// before it runs, and doubles (up to [`MAX_SOURCE_GRAIN`]) each time a
    /// walk finishes within [`FAST_WALK`]: short tasks stop paying a deque
    /// push and pop each, while a slow walk sets the grain back to one. Should
    /// a peer fall asleep during a walk, the rest of the walk is exposed
    /// before the next task runs. A lone worker walks the whole range.
    fn process_sources(&self, run: &Run<'_>, start: u32, mut len: u32) {
        let tag = run.tag_of(&self.pool);
        let grain = if self.pool.size() == 1 {
            u32::MAX
        } else {
            self.source_grain.get()
        };
        let mut halves = 0;
        while len > grain {
            let upper = len / 2;
            len -= upper;
            self.push_local(Job::sources(run, start + len..start + len + upper));
            halves += 1;
        }
        if halves > 0 {
            self.pool.pushed_local(halves);
        }
        let walk = Instant::now();
        let mut end = start + len;
        let mut task = start;
        while task < end {
            if task + 1 < end && self.pool.sleep().has_sleepers() {
                // A peer is idle: expose the rest of the walk before running
                // a task that may take long (or wait for one of the rest).
                self.push_local(Job::sources(run, task + 1..end));
                self.pool.sleep().notify(1);
                end = task + 1;
            }
            if run.is_source(task, tag) {
                self.process_from(run, task);
            }
            task += 1;
        }
        self.count_finished((end - start) as usize);
        self.source_grain.set(if walk.elapsed() <= FAST_WALK {
            (grain.saturating_mul(2)).min(MAX_SOURCE_GRAIN)
        } else {
            1
        });
    }

    /// Processes the task a steered run's token stands for, unless it parked
    /// in a limit, which then holds its unit of work (see [`crate::steer`]).
    /// The token's unit is counted either way: a parked task added a unit
    /// of its own, so the run stays alive until this worker's batch is
    /// flushed, after `run` is dead.
    fn process_ready(&self, run: &Run<'_>) {
        if let Some(admitted) = run.admit_ready(self) {
            run.process_steered(admitted, self);
        }
        self.count_finished(1);
    }

    /// Counts `units` units of the current run's work as finished.
    pub(in crate::runtime) fn count_finished(&self, units: usize) {
        debug_assert!(
            self.batch.borrow().is_some(),
            "a job is processed under its run's batch"
        );
        self.finished.set(self.finished.get() + units);
    }
}
