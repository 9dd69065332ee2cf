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
//! function that borrows a run.

use std::ptr::NonNull;

use crate::runtime::completion::Completion;
use crate::runtime::job::{Job, Work};
use crate::runtime::pool::Pool;
use crate::runtime::queue::LocalQueue;
use crate::runtime::run::Run;
use crate::runtime::sleep::Slumber;
use crate::sync::{Arc, Backoff, Instant};
use std::time::Duration;

/// One worker of a pool, owned by its thread.
#[derive(Debug)]
pub(crate) struct WorkerThread {
    pool: Arc<Pool>,
    index: usize,
    local: LocalQueue<Job>,
    batch: Option<Batch>,
    /// How many sources in a row this worker runs without exposing the next
    /// to thieves (see `process_sources`); back to 1 for every new run.
    source_grain: u32,
}

/// The most sources a worker runs in a row without exposing the next.
const MAX_SOURCE_GRAIN: u32 = 32;

/// A walk of sources this quick lets the next one be twice as long.
const FAST_WALK: Duration = Duration::from_micros(20);

/// Units of one run's work that this worker finished and has not yet counted.
#[derive(Debug)]
struct Batch {
    run: NonNull<Run<'static>>,
    completion: Arc<Completion>,
    finished: usize,
}

impl WorkerThread {
    pub(crate) fn new(pool: Arc<Pool>, index: usize, local: LocalQueue<Job>) -> Self {
        WorkerThread {
            pool,
            index,
            local,
            batch: None,
            source_grain: 1,
        }
    }

    /// The worker's position in its pool.
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Puts a job on this worker's own deque. After every group of pushes,
    /// call [`Pool::pushed_local`].
    pub(crate) fn push_local(&self, job: Job) {
        self.local.push(job);
    }

    /// Whether this worker's own deque is empty.
    pub(crate) fn local_is_empty(&self) -> bool {
        self.local.is_empty()
    }

    /// After a steal: the steal may have moved more jobs than the one it
    /// returned into this worker's deque, where they wait while the worker
    /// runs that one, so a sleeper is woken for them (see [`crate::runtime::sleep`]).
    fn share_stolen_jobs(&self) {
        // The planted bug `taskflow_mutant = "keep_stolen_jobs"` wakes nobody
        // for them; a loom model must then find a thief waiting for a job it
        // holds back from a sleeping peer (scripts/loom-mutants.sh).
        if cfg!(taskflow_mutant = "keep_stolen_jobs") {
            return;
        }
        if !self.local_is_empty() {
            self.pool.pushed_local(1);
        }
    }

    /// Serves the pool until it shuts down.
    pub(crate) fn run(mut self) {
        while let Some(job) = self.next_job() {
            self.adopt(job.run());
            // SAFETY: the job stands for at least one unfinished unit of its
            // run's work, so the run has not completed and its caller is still
            // blocked in `Run::execute`, keeping it alive. `adopt` made this
            // worker hold a batch for the run, so it stays alive until the
            // batch is flushed, which happens only in this loop, after `run`
            // is dead.
            let run = unsafe { job.run().as_ref() };
            match job.work() {
                Work::Task(task) => self.process_from(run, task),
                Work::Sources { start, len } => self.process_sources(run, start, len),
                Work::InOrder => self.process_in_order(run),
                Work::Ready => self.process_ready(run),
            }
        }
        self.flush();
    }

    /// The next job: from the own deque, else stolen, else after sleeping.
    /// `None` when the pool shuts down.
    fn next_job(&mut self) -> Option<Job> {
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
    fn adopt(&mut self, run: NonNull<Run<'static>>) {
        if self.batch.as_ref().is_some_and(|batch| batch.run == run) {
            return;
        }
        self.flush();
        self.source_grain = 1;
        // SAFETY: as in `run`: the job being adopted keeps its run alive.
        let completion = Arc::clone(unsafe { run.as_ref() }.completion());
        self.batch = Some(Batch {
            run,
            completion,
            finished: 0,
        });
    }

    /// Counts the batch's finished tasks on the run's completion.
    fn flush(&mut self) {
        if let Some(batch) = self.batch.take() {
            if batch.finished > 0 {
                batch.completion.finish(batch.finished);
            }
        }
    }

    /// Processes `task` and the chain of same-pool successors each task
    /// hands on.
    fn process_from(&mut self, run: &Run<'_>, mut task: u32) {
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
    fn process_sources(&mut self, run: &Run<'_>, start: u32, mut len: u32) {
        let tag = run.tag_of(&self.pool);
        let grain = if self.pool.size() == 1 {
            u32::MAX
        } else {
            self.source_grain
        };
        let mut halves = 0;
        while len > grain {
            let upper = len / 2;
            len -= upper;
            self.local
                .push(Job::sources(run, start + len..start + len + upper));
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
                self.local.push(Job::sources(run, task + 1..end));
                self.pool.sleep().notify(1);
                end = task + 1;
            }
            if run.is_source(task, tag) {
                self.process_from(run, task);
            }
            task += 1;
        }
        self.count_finished((end - start) as usize);
        self.source_grain = if walk.elapsed() <= FAST_WALK {
            (grain.saturating_mul(2)).min(MAX_SOURCE_GRAIN)
        } else {
            1
        };
    }

    /// Processes the task a steered run's token stands for, unless it parked
    /// in a limit, which then holds its unit of work (see [`crate::steer`]).
    /// The token's unit is counted either way: a parked task added a unit
    /// of its own, so the run stays alive until this worker's batch is
    /// flushed, after `run` is dead.
    fn process_ready(&mut self, run: &Run<'_>) {
        if let Some(admitted) = run.admit_ready(self) {
            run.process_steered(admitted, self);
        }
        self.count_finished(1);
    }

    /// Processes every task of an exclusive run, in index order.
    fn process_in_order(&mut self, run: &Run<'_>) {
        let tasks = run.task_count();
        for task in 0..tasks {
            run.process_in_order(task, self);
        }
        self.count_finished(tasks as usize);
    }

    /// Counts `units` units of the current run's work as finished.
    fn count_finished(&mut self, units: usize) {
        self.batch
            .as_mut()
            .expect("a job is processed under its run's batch")
            .finished += units;
    }
}
