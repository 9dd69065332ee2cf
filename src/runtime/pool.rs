//! [`Pool`]: the workers of one tag, their queues and their sleep state.

use std::io;

use crate::graph::tag::Tag;
use crate::mutant::planted;
use crate::runtime::job::Job;
use crate::runtime::pin::{CorePlan, place_current_thread};
use crate::runtime::queue::{Injector, LocalQueue, Steal, Stealer};
use crate::runtime::sleep::Sleep;
use crate::runtime::spawn::help::Stack;
use crate::runtime::spawn::inbox::Inbox;
use crate::runtime::threads::{DEFAULT_WORKER_STACK, ThreadSetup};
use crate::runtime::worker::WorkerThread;
use crate::sync::Mutex;
use crate::sync::atomic::{AtomicUsize, Ordering};
use crate::sync::{Arc, thread};

/// The shared part of one tag's pool: what its workers and the threads that
/// feed it use.
#[derive(Debug)]
pub(crate) struct Pool {
    tag: Tag,
    /// Jobs from outside the pool: a run's sources and cross-tag hand-offs.
    injector: Injector<Job>,
    /// The thieves' end of every worker's deque, by worker index (none for
    /// a pool of one, whose worker keeps a plain queue).
    stealers: Box<[Stealer<Job>]>,
    /// The number of workers.
    size: usize,
    sleep: Sleep,
    /// Inboxes of waits on this pool that hold jobs (see
    /// [`crate::runtime::spawn::inbox`]): every non-empty one is here at
    /// least once; an entry may be stale.
    announced: Mutex<std::collections::VecDeque<Arc<Inbox>>>,
    /// The length of `announced`, written under its lock, read without.
    announcements: AtomicUsize,
    /// Workers of the pool inside a wait that helps (counted once however
    /// deeply they nest), see [`crate::runtime::spawn`].
    waiting: AtomicUsize,
    /// The inboxes of the waits whose workers block now, to signal when
    /// every worker of the pool waits and work outside their waits comes.
    blocked: Mutex<Vec<Arc<Inbox>>>,
    /// The length of `blocked`, written under its lock, read without: a
    /// pusher that finds it 0 after its fence has no wait to signal.
    blocked_count: AtomicUsize,
}

impl Pool {
    /// The tag whose tasks the pool runs.
    pub(crate) fn tag(&self) -> &Tag {
        &self.tag
    }

    /// Tells the pool's thieves that `inbox` holds jobs (see
    /// [`crate::runtime::spawn::inbox`]). The caller holds the inbox's lock
    /// and wakes a sleeper after unlocking.
    pub(crate) fn announce(&self, inbox: Arc<Inbox>) {
        let mut announced = self.announced.lock();
        announced.push_back(inbox);
        // ORDERING: Relaxed: a hint for thieves; a sleeper's search reads it
        // after its SeqCst fence, and the announcer's wake-up fence comes
        // after this store (`crate::runtime::sleep`).
        self.announcements.store(announced.len(), Ordering::Relaxed);
    }

    /// One job from an announced inbox, if any.
    fn steal_announced(&self) -> Option<Job> {
        // ORDERING: Relaxed: see `announce`.
        while self.announcements.load(Ordering::Relaxed) > 0 {
            let inbox = {
                let mut announced = self.announced.lock();
                let inbox = announced.pop_front();
                // ORDERING: Relaxed: see `announce`.
                self.announcements.store(announced.len(), Ordering::Relaxed);
                inbox?
            };
            if let Some(job) = Inbox::steal(&inbox) {
                return Some(job);
            }
        }
        None
    }

    /// The number of workers.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    pub(crate) fn sleep(&self) -> &Sleep {
        &self.sleep
    }

    /// Gives the pool a job from outside it and wakes a worker if one
    /// sleeps, or, if every worker waits inside a task, the blocked waits.
    pub(crate) fn inject(&self, job: Job) {
        self.injector.push(job);
        self.sleep.notify(1);
        self.nudge_waits();
    }

    /// A worker of the pool enters (`true`) or leaves its outermost wait.
    pub(crate) fn count_waiting(&self, entering: bool) {
        // ORDERING: SeqCst, both: ordered against a pusher's SeqCst fence
        // and load in `nudge_waits`, as the sleep protocol's are.
        if entering {
            self.waiting.fetch_add(1, Ordering::SeqCst);
        } else {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Whether every worker of the pool waits inside a task: work outside
    /// their waits then has nobody else to run it.
    pub(crate) fn all_waiting(&self) -> bool {
        // ORDERING: SeqCst: see `count_waiting`.
        self.waiting.load(Ordering::SeqCst) >= self.size
    }

    /// A wait blocks on `inbox`; after this, look for work once more.
    /// Returns whether every worker of the pool now blocks in a wait (each
    /// blocks in one at most: its innermost).
    pub(crate) fn block_in(&self, inbox: &Arc<Inbox>) -> bool {
        let mut blocked = self.blocked.lock();
        blocked.push(Arc::clone(inbox));
        // The planted bug `blocked_uncounted` leaves the count as it was,
        // so that a pusher reads that no wait blocks; the loom model
        // `a_foreign_run_reaches_a_pool_whose_workers_wait` must then find
        // the waiting worker stuck.
        if !planted("blocked_uncounted") {
            // ORDERING: SeqCst: ordered against a pusher's SeqCst fence and
            // load in `nudge_waits`, as `waiting` is.
            self.blocked_count.store(blocked.len(), Ordering::SeqCst);
        }
        blocked.len() >= self.size
    }

    /// The wait on `inbox` stopped blocking.
    pub(crate) fn unblock(&self, inbox: &Arc<Inbox>) {
        let mut blocked = self.blocked.lock();
        if let Some(position) = blocked.iter().position(|known| Arc::ptr_eq(known, inbox)) {
            blocked.swap_remove(position);
        }
        // ORDERING: SeqCst: see `block_in`.
        self.blocked_count.store(blocked.len(), Ordering::SeqCst);
    }

    /// After a push into the pool's own queues or one of its inboxes: when
    /// every worker waits,
    /// signals the blocked waits, so that one runs the job (see
    /// [`crate::runtime::spawn`], "when every worker waits"). A wait that
    /// blocks registers (in `blocked`, and its count in `blocked_count`)
    /// before its fence and its last look for work, so it either sees this
    /// push or this look at the count sees it, and it is signalled; with
    /// no wait registered, the push takes no lock.
    ///
    /// Called right after [`Sleep::notify`], whose `SeqCst` fence orders the
    /// push before the look at `waiting` (the wait fences likewise after
    /// registering), as in the sleep protocol's "Waking".
    pub(crate) fn nudge_waits(&self) {
        // The planted bug `waits_not_nudged` signals no wait; the loom model
        // `a_foreign_run_reaches_a_pool_whose_workers_wait` must then find
        // the waiting worker stuck.
        // ORDERING: SeqCst: a wait registers in `blocked` before its own
        // SeqCst fence and last look, so either that look sees the push or
        // this load sees the registration.
        if !self.all_waiting()
            || self.blocked_count.load(Ordering::SeqCst) == 0
            || planted("waits_not_nudged")
        {
            return;
        }
        for inbox in self.blocked.lock().iter() {
            inbox.signal();
        }
    }

    /// A job outside the calling wait's own work, for a wait when every
    /// worker waits: the worker's own deque first, then the injector and
    /// the others' deques; and, when `every_blocked` (every worker blocks
    /// in its innermost wait, so none can make progress), the announced
    /// inboxes too. A job queued in the inbox of a wait lower on some
    /// worker's stack (its owner is inside another wait, which does not
    /// cover it) may be what a wait of another pool needs, and nobody else
    /// would run it. Not while some worker still runs a job: it may be the
    /// owner, and taking its inboxes' jobs would only stack waits on waits.
    pub(crate) fn take_for_wait(
        &self,
        worker: usize,
        local: &LocalQueue<Job>,
        every_blocked: bool,
    ) -> Option<Job> {
        local
            .pop()
            .or_else(|| self.steal_queues(worker, local))
            // The planted bug `buried_inbox_ignored` never looks in the
            // announced inboxes; the loom model
            // `a_wait_takes_work_buried_in_another_waits_inbox` must then
            // find every wait stuck.
            .or_else(|| {
                (every_blocked && !planted("buried_inbox_ignored"))
                    .then(|| self.steal_announced())
                    .flatten()
            })
    }

    /// Tells the pool that one of its workers put `jobs` jobs onto its own
    /// deque (pushed them, or stole them into it), so that sleeping workers
    /// can help (see [`crate::runtime::sleep`]). A pool of one has nobody to wake.
    pub(crate) fn pushed_local(&self, jobs: usize) {
        // A pool of one has nobody to wake, and no wait to nudge: its only
        // worker, the pusher, finds its own jobs before it blocks.
        if self.size() > 1 {
            self.sleep.notify(jobs);
            self.nudge_waits();
        }
    }

    /// Looks through the injector and every other worker's deque once,
    /// moving a batch of jobs into `local` and returning one of them.
    pub(crate) fn steal(&self, thief: usize, local: &LocalQueue<Job>) -> Option<Job> {
        self.steal_queues(thief, local)
            .or_else(|| self.steal_announced())
    }

    /// [`steal`](Pool::steal) from the injector and the deques only, not
    /// from inboxes.
    fn steal_queues(&self, thief: usize, local: &LocalQueue<Job>) -> Option<Job> {
        loop {
            let mut contended = false;
            match self.injector.steal_into(local) {
                Steal::Taken(job) => return Some(job),
                Steal::Retry => contended = true,
                Steal::Empty => {}
            }
            let workers = self.stealers.len();
            for offset in 1..workers {
                match self.stealers[(thief + offset) % workers].steal_into(local) {
                    Steal::Taken(job) => return Some(job),
                    Steal::Retry => contended = true,
                    Steal::Empty => {}
                }
            }
            if !contended {
                return None;
            }
        }
    }
}

/// An empty vector with room for `len` items, or an `OutOfMemory` error.
fn reserved<T>(len: usize) -> io::Result<Vec<T>> {
    let mut items = Vec::new();
    items
        .try_reserve_exact(len)
        .map_err(|error| io::Error::new(io::ErrorKind::OutOfMemory, error))?;
    Ok(items)
}

/// A running pool: the shared part and the threads that serve it. Dropping
/// it shuts the pool down and joins its threads.
#[derive(Debug)]
pub(crate) struct PoolHandle {
    pool: Arc<Pool>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl PoolHandle {
    /// Starts `size` workers for `tag`, pinned as `cores` says and set up
    /// as `setup` says.
    ///
    /// `size` is at most [`Executor::MAX_WORKERS`](crate::Executor::MAX_WORKERS)
    /// (the builder checks). The arrays sized by it are reserved fallibly, so
    /// an allocator that refuses them makes an `OutOfMemory` error, reported
    /// like a refused thread, instead of aborting the process; what is left
    /// is each worker's deque, about 1.4 KiB, so about 6 MiB for the largest
    /// pool before its first thread starts.
    pub(crate) fn start(
        tag: Tag,
        size: usize,
        cores: &mut CorePlan,
        setup: &ThreadSetup,
    ) -> io::Result<PoolHandle> {
        let mut queues: Vec<LocalQueue<Job>> = reserved(size)?;
        queues.extend((0..size).map(|_| LocalQueue::new(size == 1)));
        let mut stealers = reserved(size)?;
        stealers.extend(queues.iter().filter_map(LocalQueue::stealer));
        let pool = Arc::new(Pool {
            stealers: stealers.into_boxed_slice(),
            size,
            injector: Injector::new(),
            sleep: Sleep::new(),
            announced: Mutex::new(std::collections::VecDeque::new()),
            announcements: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            blocked: Mutex::new(Vec::new()),
            blocked_count: AtomicUsize::new(0),
            tag,
        });
        let mut handle = PoolHandle {
            pool,
            threads: reserved(size)?,
        };
        for (index, local) in queues.into_iter().enumerate() {
            let pool = Arc::clone(&handle.pool);
            let placement = cores.next_placement();
            // On error, `handle` drops here and shuts down the threads
            // already started.
            let mut builder =
                thread::Builder::new().name(setup.thread_name(&handle.pool.tag, index));
            let stack_size = setup.stack_size.unwrap_or(DEFAULT_WORKER_STACK);
            builder = builder.stack_size(stack_size);
            let setup = setup.clone();
            let thread = builder.spawn(move || {
                let stack = Stack::here(stack_size);
                place_current_thread(placement);
                setup.started(&pool.tag, index);
                // The stop handler runs however the loop ends.
                let _stopping = Stopping {
                    setup,
                    tag: pool.tag.clone(),
                    index,
                };
                WorkerThread::new(pool, index, local, stack).run();
            })?;
            handle.threads.push(thread);
        }
        Ok(handle)
    }

    pub(crate) fn pool(&self) -> &Arc<Pool> {
        &self.pool
    }
}

/// Runs a worker's stop handler when the worker's thread leaves its loop.
struct Stopping {
    setup: ThreadSetup,
    tag: Tag,
    index: usize,
}

impl Drop for Stopping {
    fn drop(&mut self) {
        self.setup.stopping(&self.tag, self.index);
    }
}

impl Drop for PoolHandle {
    fn drop(&mut self) {
        self.pool.sleep.shut_down();
        let current = thread::current().id();
        for thread in self.threads.drain(..) {
            // An executor dropped by one of its own tasks cannot join the
            // thread it runs on; that thread exits once the task returns.
            if thread.thread().id() != current {
                let _ = thread.join();
            }
        }
    }
}
