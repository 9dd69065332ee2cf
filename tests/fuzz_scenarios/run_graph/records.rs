//! What the bodies of one run record, for the checker to read after the
//! run: per node its events on the run's [`Clock`], its worker and thread,
//! the value it returned, its spawn handle and what its joins answered; per
//! pool and worker what runs now. Recording is all `SeqCst` and locks: the
//! records must not add or hide engine behaviour, only describe it.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Mutex, MutexGuard, PoisonError};

use taskflow_engine::{CancelToken, TaskId, TaskRef};

use super::oracle::{Expected, JoinAnswer};
use crate::common::{self, Clock};

/// Locks `mutex`, through a poisoning (a body that panicked on purpose).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One `join` a body called.
#[derive(Clone, Debug)]
pub struct JoinRecord {
    /// How many of the body's children were spawned before the call.
    pub covered: usize,
    /// What it answered.
    pub answer: JoinAnswer,
    /// The clock when it returned.
    pub returned: u64,
}

/// What one node's body recorded in one run.
#[derive(Debug, Default)]
pub struct NodeRecord {
    /// How many times the body started (more than once is a violation).
    pub starts: AtomicU32,
    /// Clock value of the start event, 0 if it never started.
    pub start: AtomicU64,
    /// Clock value of the end event, 0 if it never ended.
    pub end: AtomicU64,
    /// `Context::worker_index` in the body.
    pub worker: AtomicUsize,
    /// [`common::thread_number`] of the thread that ran the body.
    pub thread: AtomicU64,
    /// Whether `is_cancelled()` was true at the end of the body.
    pub saw_stop: AtomicBool,
    /// Whether the body cancelled the run's token.
    pub cancelled_token: AtomicBool,
    /// The value the body returned, if it returned `Ok`.
    pub value: Mutex<Option<u64>>,
    /// For a spawned node: the clock just before its parent's `spawn`
    /// call, 0 if it was not spawned.
    pub spawned_at: AtomicU64,
    /// For a spawned node: the handle `spawn` returned.
    pub handle: Mutex<Option<TaskId<u64>>>,
    /// What `Context::task` said in the body.
    pub seen_as: Mutex<Option<TaskRef>>,
    /// The body's joins, in order.
    pub joins: Mutex<Vec<JoinRecord>>,
    /// The body's other events on its thread (spawns, the start and end of
    /// each wait), by clock value.
    pub events: Mutex<Vec<u64>>,
}

impl NodeRecord {
    /// Whether the body started.
    pub fn started(&self) -> bool {
        self.start.load(SeqCst) != 0
    }

    /// The handle `spawn` returned, for a node that was spawned.
    pub fn handle(&self) -> Option<TaskId<u64>> {
        *lock(&self.handle)
    }
}

/// Everything of one run that the bodies read and write.
#[derive(Debug)]
pub struct RunState {
    /// The run's event clock.
    pub clock: Clock,
    /// Every graph task's dependencies in this run, sorted, without
    /// duplicates.
    pub dependencies: Vec<Vec<usize>>,
    /// The oracle's prediction for this run.
    pub reference: Expected,
    /// The token `Cancel` bodies cancel.
    pub token: CancelToken,
    /// Whether `token` is the run's (else nobody watches it).
    pub token_in_run: bool,
    /// Per node of the layout.
    pub nodes: Vec<NodeRecord>,
    /// Bodies running now (not waiting in a join or a nested run), per pool.
    pub running: Vec<AtomicUsize>,
    /// Whether a body runs now, per pool and worker index.
    pub busy: Vec<AtomicBool>,
    /// Problems the bodies found.
    pub violations: Mutex<Vec<String>>,
}

impl RunState {
    /// The state of a run of `nodes` nodes over `pools` pools, before it
    /// starts.
    pub fn new(
        dependencies: Vec<Vec<usize>>,
        reference: Expected,
        token: CancelToken,
        token_in_run: bool,
        nodes: usize,
        pools: usize,
    ) -> RunState {
        RunState {
            clock: Clock::new(),
            dependencies,
            reference,
            token,
            token_in_run,
            nodes: (0..nodes).map(|_| NodeRecord::default()).collect(),
            running: (0..pools).map(|_| AtomicUsize::new(0)).collect(),
            busy: (0..common::MAX_POOLS * common::MAX_WORKERS)
                .map(|_| AtomicBool::new(false))
                .collect(),
            violations: Mutex::new(Vec::new()),
        }
    }

    /// Records a problem a body found.
    pub fn violation(&self, message: String) {
        lock(&self.violations).push(message);
    }

    /// Takes a clock value for an event of `node`'s body other than its
    /// start and end.
    pub fn event(&self, node: usize) -> u64 {
        let tick = self.clock.tick();
        lock(&self.nodes[node].events).push(tick);
        tick
    }

    /// `node`'s body starts (or resumes after a wait) on `worker` of `pool`
    /// of `size` workers: no other body may run there, nor more than `size`
    /// on the pool.
    pub fn occupy(&self, node: &str, pool: usize, size: usize, worker: usize) {
        if worker >= size {
            self.violation(format!("{node}: worker index {worker} in a pool of {size}"));
        } else if self.busy[pool * common::MAX_WORKERS + worker].swap(true, SeqCst) {
            self.violation(format!(
                "{node}: runs on worker {worker} of pool {pool} while another body runs there"
            ));
        }
        let running = self.running[pool].fetch_add(1, SeqCst) + 1;
        if running > size {
            self.violation(format!(
                "{node}: {running} bodies run at once on pool {pool} of {size} workers"
            ));
        }
    }

    /// The body that [`occupy`](RunState::occupy) counted ends or starts
    /// to wait: a waiting worker may run other bodies, and counts as one.
    pub fn vacate(&self, pool: usize, size: usize, worker: usize) {
        self.running[pool].fetch_sub(1, SeqCst);
        if worker < size {
            self.busy[pool * common::MAX_WORKERS + worker].store(false, SeqCst);
        }
    }
}
