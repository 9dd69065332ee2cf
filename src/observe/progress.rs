//! [`Progress`]: an observer that counts tasks as they start and finish,
//! for a progress display read from another thread while runs go on.
//!
//! # Counting without contention
//!
//! Workers of a run count at once, so shared counters would bounce one
//! cache line between their cores on every task. Each thread counts in a
//! shard of its own instead, which only it writes (so an increment is a
//! load and a store, no read-modify-write), and a snapshot adds the shards
//! up. A thread finds its shard in a small thread-local cache keyed by the
//! counter's id; the first event of a thread (or one after its cache moved
//! on) looks it up, or adds it, in the counter's list under a lock.

use std::cell::RefCell;
use std::sync::Arc;
use std::thread::{self, ThreadId};

use crossbeam_utils::CachePadded;

use super::{Observer, RunInfo, TaskEvent};
use crate::results::report::Outcome;
use crate::sync::Mutex;
use crate::sync::atomic::{AtomicUsize, Ordering};

/// Counts the tasks of the runs it observes as they start and finish; any
/// thread may read the counts with [`snapshot`](Progress::snapshot) while
/// the runs go on.
///
/// A task costs it no clock read and no atomic read-modify-write: each
/// thread counts in a shard of its own (module docs), found through a
/// thread-local cache. It adds up every run it observes: give a fresh one
/// to a run to follow that run alone.
///
/// ```
/// use std::sync::Arc;
/// use taskflow_engine::observe::{Progress, ProgressSnapshot};
/// use taskflow_engine::{Executor, Graph, RunOptions, Task};
///
/// let progress = Progress::new();
/// let mut graph = Graph::new();
/// let first = graph.add(Task::new("first", |_| Ok(())));
/// graph.add(Task::new("second", |_| Ok(())).after(first));
/// let options = RunOptions::new().observer(progress.clone());
/// let handle = Executor::new().submit(graph, options);
/// // Meanwhile, another thread may print `progress.snapshot()`.
/// let (_graph, report) = handle.wait();
/// assert!(report.is_success());
/// let done = progress.snapshot();
/// assert_eq!(done, ProgressSnapshot { total: 2, started: 2, finished: 2, ..Default::default() });
/// assert_eq!(done.succeeded(), 2);
/// ```
pub struct Progress {
    /// Names this counter in the threads' caches; ids are never reused, so
    /// a cache entry of a dropped counter never matches another.
    id: u64,
    /// The tasks of the runs started so far: added once per run.
    total: AtomicUsize,
    /// Every thread's shard, by the thread it belongs to.
    shards: Mutex<Vec<(ThreadId, Arc<Shard>)>>,
}

/// One thread's counts. Only that thread writes them; padded, so that two
/// threads' shards never share a cache line.
#[derive(Default)]
struct Shard(CachePadded<Counts>);

#[derive(Default)]
struct Counts {
    started: AtomicUsize,
    finished: AtomicUsize,
    failed: AtomicUsize,
    skipped: AtomicUsize,
    cancelled: AtomicUsize,
}

/// How many counters a thread's cache holds; one more evicts the oldest
/// (whose shard stays in its counter's list, to be found again).
const CACHED: usize = 4;

thread_local! {
    /// This thread's shards of the counters it counted for last, with
    /// their counters' ids.
    static SHARDS: RefCell<Vec<(u64, Arc<Shard>)>> = const { RefCell::new(Vec::new()) };
}

/// The counts of a [`Progress`] at one moment.
///
/// `finished` counts every task that ended, whatever its outcome, those
/// that never started among them; `failed`, `skipped` and `cancelled` are
/// the parts of it that did not succeed. A snapshot taken during a run is
/// consistent in these ways: `failed + skipped + cancelled <= finished`,
/// and `started` and `finished` are at most `total`.
///
/// ```
/// use taskflow_engine::observe::ProgressSnapshot;
///
/// let midway = ProgressSnapshot { total: 10, started: 6, finished: 5, failed: 1, skipped: 0, cancelled: 0 };
/// assert_eq!(midway.succeeded(), 4);
/// assert_eq!(midway.to_string(), "5/10 finished, 6 started (4 succeeded, 1 failed, 0 skipped, 0 cancelled)");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ProgressSnapshot {
    /// The tasks of every run observed so far: each run adds its task count
    /// when it starts.
    pub total: usize,
    /// Tasks whose body started.
    pub started: usize,
    /// Tasks that ended, with any outcome.
    pub finished: usize,
    /// Tasks that failed (returned an error or panicked).
    pub failed: usize,
    /// Tasks skipped because a dependency did not succeed.
    pub skipped: usize,
    /// Tasks cancelled, before they started or by returning
    /// [`Cancelled`](crate::Cancelled).
    pub cancelled: usize,
}

impl Progress {
    /// A progress counter at zero, in an `Arc`: give a clone to an executor
    /// or a run and keep one to read.
    #[must_use]
    pub fn new() -> Arc<Progress> {
        Arc::new(Progress::default())
    }

    /// The counts now. Safe to call from any thread at any time.
    #[must_use]
    pub fn snapshot(&self) -> ProgressSnapshot {
        let shards = self.shards.lock();
        let mut snapshot = ProgressSnapshot::default();
        // ORDERING: Acquire, every load, against the Release store of each
        // count (`Shard::add`, `run_started`): a load that sees a count
        // include a task also sees what its thread did before, and what
        // happened before that. So the parts come first and each shard's
        // `finished` after them (a task's `finished` is counted before its
        // part), and `total` last (a run's total is added before any of
        // its tasks is counted).
        for (_, shard) in shards.iter() {
            snapshot.failed += shard.0.failed.load(Ordering::Acquire);
            snapshot.skipped += shard.0.skipped.load(Ordering::Acquire);
            snapshot.cancelled += shard.0.cancelled.load(Ordering::Acquire);
        }
        for (_, shard) in shards.iter() {
            snapshot.finished += shard.0.finished.load(Ordering::Acquire);
            snapshot.started += shard.0.started.load(Ordering::Acquire);
        }
        // ORDERING: Acquire: see above.
        snapshot.total = self.total.load(Ordering::Acquire);
        snapshot
    }

    /// Calls `count` with this thread's shard.
    #[inline]
    fn count(&self, count: impl Fn(&Shard)) {
        let counted = SHARDS.try_with(|cache| {
            let cache = cache.borrow();
            let cached = cache.iter().find(|(id, _)| *id == self.id);
            cached.map(|(_, shard)| count(shard)).is_some()
        });
        if counted != Ok(true) {
            count(&self.own_shard());
        }
    }

    /// This thread's shard, from the list (added if new), and cached.
    #[cold]
    fn own_shard(&self) -> Arc<Shard> {
        let me = thread::current().id();
        let shard = {
            let mut shards = self.shards.lock();
            match shards.iter().find(|(thread, _)| *thread == me) {
                Some((_, shard)) => Arc::clone(shard),
                None => {
                    let shard = Arc::new(Shard::default());
                    shards.push((me, Arc::clone(&shard)));
                    shard
                }
            }
        };
        // A thread that is exiting has no cache any more: then every event
        // comes here, and still counts.
        let _ = SHARDS.try_with(|cache| {
            let mut cache = cache.borrow_mut();
            if cache.len() == CACHED {
                cache.remove(0);
            }
            cache.push((self.id, Arc::clone(&shard)));
        });
        shard
    }
}

impl Default for Progress {
    /// A progress counter at zero; [`Progress::new`] gives it in an `Arc`.
    fn default() -> Self {
        Progress {
            id: crate::sync::next_unique_id().get(),
            total: AtomicUsize::new(0),
            shards: Mutex::new(Vec::new()),
        }
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Progress").field(&self.snapshot()).finish()
    }
}

impl Shard {
    /// Adds one to `count`, a count of this shard, which only the calling
    /// thread writes.
    #[inline]
    fn add(count: &AtomicUsize) {
        // ORDERING: a Relaxed load and a Release store, not a
        // read-modify-write: only this thread writes the count, so the load
        // reads its own last store. Release: see `Progress::snapshot`.
        count.store(count.load(Ordering::Relaxed) + 1, Ordering::Release);
    }
}

impl Progress {
    /// Counts a spawned task into `total` (the run's `RunInfo::tasks`
    /// counts the graph's only): at its start, or at its finish if it never
    /// started, so that `started` and `finished` stay at most `total`.
    #[cold]
    fn spawned(&self) {
        // ORDERING: Release: see `snapshot`; before the task's own counts,
        // on this thread.
        self.total.fetch_add(1, Ordering::Release);
    }
}

impl Observer for Progress {
    fn run_started(&self, run: &RunInfo) {
        // ORDERING: Release: see `snapshot`. Once per run, so a shared
        // read-modify-write.
        self.total.fetch_add(run.tasks(), Ordering::Release);
    }

    fn task_started(&self, event: &TaskEvent<'_>) {
        if event.is_spawned() {
            self.spawned();
        }
        self.count(|shard| Shard::add(&shard.0.started));
    }

    fn task_finished(&self, event: &TaskEvent<'_>, outcome: &Outcome) {
        if event.is_spawned() && !event.ran() {
            self.spawned();
        }
        self.count(|shard| {
            // `finished` first, so that a snapshot never counts a part of
            // it that it does not count finished (see `snapshot`).
            Shard::add(&shard.0.finished);
            match outcome {
                Outcome::Succeeded => {}
                Outcome::Failed(_) => Shard::add(&shard.0.failed),
                Outcome::Skipped => Shard::add(&shard.0.skipped),
                Outcome::Cancelled => Shard::add(&shard.0.cancelled),
            }
        });
    }
}

impl ProgressSnapshot {
    /// Tasks that succeeded: those finished that did not fail, were not
    /// skipped and were not cancelled (0 for a snapshot made up with more
    /// parts than finished tasks).
    #[must_use]
    pub fn succeeded(&self) -> usize {
        self.finished
            .saturating_sub(self.failed)
            .saturating_sub(self.skipped)
            .saturating_sub(self.cancelled)
    }
}

impl std::fmt::Display for ProgressSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{} finished, {} started ({} succeeded, {} failed, {} skipped, {} cancelled)",
            self.finished,
            self.total,
            self.started,
            self.succeeded(),
            self.failed,
            self.skipped,
            self.cancelled
        )
    }
}
