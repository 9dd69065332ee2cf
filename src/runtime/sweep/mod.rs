//! [`Sweep`]: several workers processing a run in index order, in chunks,
//! with no dependency counting (the *sweep*), and how a run decides to share
//! the sweep with a second worker at all.
//!
//! # Why
//!
//! With a second worker the counting path of [`crate::runtime::run`] pays a
//! random cache miss per edge (the successor's pending word), while one
//! worker in index order pays nothing per edge. A graph whose edges all
//! point forward can be processed in index order by several workers too,
//! if a task waits until every task up to a bound on its latest dependency
//! is done: that bound is one byte per task, `reach`
//! ([`TaskTable::reach`](crate::graph::table::TaskTable::reach)): every
//! dependency of task `t` lies at or before `t - 2^reach`.
//!
//! # Which runs are swept
//!
//! A run whose graph's edges all point forward, with one tag, whose pool has
//! more than one worker, with no steering (priorities, limits and the
//! critical path keep their own path, [`crate::steer`]), that is not started
//! from inside a task (a nested run keeps the counting path), and with at
//! least [`MIN_SWEPT_TASKS`] tasks. Spawned tasks, observers, fail-fast and
//! keep-going, cancellation and deadlines work as on every path: a task
//! settles as in [`crate::runtime::settle`]; a task that spawned joins its
//! subtree on its worker before it counts as done (the implicit join of
//! the in-order path); a task that poisons marks its successors' pending
//! words (an atomic `fetch_or`, since two of a task's dependencies may be
//! done on two workers), which its own sweeper reads once it may run.
//!
//! # State
//!
//! - `cursor`: the first task not yet claimed. A sweeper claims the chunk
//!   `[start, end)` by a compare-and-swap (`AcqRel`) from `start` to `end`.
//! - One *seat* per worker of the pool: `taken`, and `position`, a lower
//!   bound on the first task of the seat's chunk that is not done yet, or
//!   `VACANT`. A sweeper takes a free seat for as long as it sweeps.
//! - The *gate*: where a sweeper that must wait for another parks (a mutex
//!   over the list of parked seats, and an atomic copy of its length). A
//!   parked sweeper's state (its chunk's rest, what it knows, its grain)
//!   stays in its seat, which stays taken, its position at its next task.
//!
//! # A sweeper's loop
//!
//! 1. *Claim.* Store the cursor's value as the seat's position (`Release`,
//!    as every position: it moves past the previous chunk), then swap
//!    the cursor from that value to the chunk's end (retrying from the new
//!    value, stored as the position first). Chunks end at a multiple of the
//!    sweeper's grain, so that two workers' chunks rarely share a cache line.
//! 2. *Process* each task of the chunk in order. A task with dependencies
//!    may run once every task up to `bound = t - 2^reach` (inclusive) is
//!    done: those in the sweeper's own chunk are (it processes in order);
//!    for those before the chunk, the sweeper knows a *done prefix*: every
//!    task below `min(chunk start, every other seat's position)` is done
//!    (see the invariants). If the prefix it knows does not reach
//!    `bound + 1`, it loads the other seats' positions again (`Acquire`),
//!    spinning briefly; then it *parks*: it registers its seat at the gate
//!    under the gate's lock, fences (`SeqCst`), looks once more, and if the
//!    prefix still falls short, stores its state in its seat and returns
//!    its thread to the pool, its job's unit not counted. The thread
//!    serves the pool meanwhile (other runs' jobs, say, which a body of
//!    this run may be waiting for). A known prefix that reaches the
//!    sweeper's next task (from a look, or from its previous chunk when
//!    nobody claimed in between) makes it *leading* for the rest of its
//!    chunk: every task before that one is done and no other sweeper can
//!    fall behind it (later claims come after its chunk), so it processes
//!    the rest of the chunk without looking at any bound (a lone sweeper
//!    reads no bound at all, and costs about what the in-order path
//!    costs).
//! 3. *Publish* after each task: store `t + 1` as the seat's position
//!    (`Release`), which hands the task's effects (its output, its outcome,
//!    the poison marks it set) to any sweeper that reads that position.
//! 4. After the claim that follows a chunk (its position store moved past
//!    the chunk), and when the sweeper leaves (its seat's position set to
//!    `VACANT`, `Release`), *open the gate*: a `SeqCst` fence, then, if the
//!    copy of the parked count is not zero, take the list under the gate's
//!    lock and queue a *resume* job in the pool for every parked seat; it
//!    stands for the parked sweeper's unit, and whichever worker takes it
//!    goes on where the sweeper stopped (it may park again).
//!
//! # Invariants, and why nothing is lost
//!
//! - *The done prefix is sound.* Every task below the cursor was claimed;
//!   a claim stores the seat's position before its compare-and-swap, and
//!   positions only grow until the seat is vacated after the last task of
//!   its chunk. A sweeper that claimed `[s, e)` read the cursor through an
//!   `AcqRel` read-modify-write later in the cursor's modification order
//!   than every claim of a task below `s`, so it sees each such claim's
//!   position store or a later one: a task below `s` that is not done lies
//!   at or after the position of the seat that holds it. A seat reused by a
//!   later sweeper (`taken` handed over `Release`/`Acquire`) carries the
//!   earlier sweeper's effects along.
//! - *A task runs after its dependencies' effects are visible.* Each
//!   dependency is below `bound`; it is done by this sweeper earlier in the
//!   chunk (program order), or the sweeper read, with `Acquire`, a position
//!   past it stored with `Release` after the dependency was processed
//!   (steps 2 and 3). The loom model `a_swept_task_reads_an_output_of_another_chunk`
//!   checks it; the planted bug `sweep_relaxed_progress` publishes
//!   positions `Relaxed` and must be caught.
//! - *No deadlock.* The sweeper with the lowest position never waits:
//!   every task below its position is done, and a task's bound lies below
//!   the task. So some sweeper always progresses, unless a body blocks; and
//!   a waiting sweeper holds no thread, so a body that blocks until other
//!   work of the pool ran (a run it submitted and waits for) blocks only
//!   its own worker, as on the counting path.
//! - *No lost resume.* A parker registers under the gate's lock, fences
//!   (`SeqCst`) and looks at the positions once more before it parks, and
//!   stores its state before it unlocks. A sweeper that moves its position
//!   past a chunk fences (`SeqCst`) before it reads the parked count. Of
//!   the two fences, if the sweeper's came first, the parker's look sees
//!   the new position; otherwise the sweeper sees the parker and, taking
//!   the list under the lock, finds its state stored. A parked sweeper
//!   waits for tasks inside another sweeper's chunk at most until that
//!   chunk ends, the position it needs having been published by then. The
//!   planted bug `parked_not_resumed` queues no resume job; the loom model
//!   `a_swept_task_reads_an_output_of_another_chunk` must then find the run
//!   never completing.
//! - *The run stays alive.* Each sweeper job stands for one unit of work of
//!   the run (see [`crate::runtime::completion`]), counted after it left
//!   its seat, and passed on to its resume job while it is parked; an
//!   invitation adds its unit before the job is queued, while the inviter's
//!   own unit is still uncounted.
//!
//! # When sharing pays (the adaptive decision)
//!
//! A run starts with one sweeper, the *first*, which stays until the sweep
//! ends, as rayon splits work only when a thief asks for it. At each claim
//! the first sweeper *invites* a helper (one more sweeper job, queued in the
//! pool) when a worker of the pool is asleep, fewer sweepers than workers
//! exist, its [`meter`] allows it, and the chunk after its own could run
//! now: its first task's bound lies before the chunk just claimed.
//!
//! The meter is what decides that sharing pays, by measuring it: the first
//! sweeper times how fast the cursor advances over windows of a quarter of
//! a millisecond, alone and shared. It invites nobody before one solo
//! window was measured, and when a shared window advanced less than 1.3
//! times as fast as the best recent solo one it *dismisses* the helpers
//! (each leaves after its chunk, a queued one as soon as it starts) and
//! invites nobody until they left and for a pause that doubles with every
//! dismissal in a row, up to eight windows. Two workers on
//! empty bodies share memory bandwidth and cache lines and gain less than
//! a second worker costs; on real bodies they gain 1.8× and more, and
//! stay. So sharing follows the graph's parallelism and the bodies' cost
//! as they change within a run, and a run that cannot gain spends at most
//! a ninth of its time shared. An invited sweeper also leaves
//! after [`WAITED_CHUNKS_TO_LEAVE`] chunks in a row in which it had to wait
//! for another sweeper (on a chain or a grid in row order the latest
//! dependency of a task is the one before it, and every chunk waits for
//! the other worker's), and then the next invitation waits until the
//! cursor has moved on by twice as many tasks as the one
//! before. So a graph without parallelism in index order costs the first
//! sweeper a look at one byte per chunk and a handful of invitations, and
//! runs as on one worker. With long bodies too: such a grid gains
//! nothing from a second worker on this path, where the counting path
//! would run its diagonals in parallel (`wavefront` with work bodies in
//! `BENCHMARKS.md`); handing a run that cannot share over to the counting
//! path while it runs is not done yet. An invited sweeper that finds
//! itself inside a wait (a task's join) leaves at once: a sweeper nested
//! above another sweeper of the run on one stack could wait for the one
//! below it.
//!
//! The grain (a sweeper's chunk length) starts at one task, doubles up to
//! [`MAX_GRAIN`] after each chunk that took at most [`FAST_CHUNK`], and
//! halves after a slower one, so that with long bodies a task whose bound
//! falls in another sweeper's chunk waits for a few bodies, not for
//! hundreds. (Two long tasks at the start of a run do not run at once:
//! nobody is invited before the first solo window of 250 µs ends.)
//!
//! # Many workers
//!
//! Nothing above is specific to two: a pool of `n` workers has `n` seats,
//! and the first sweeper invites helpers one claim at a time while workers
//! sleep. What grows with `n` is a refresh of the done prefix (one load per
//! seat, only when a task's bound passes what the sweeper knows) and the
//! traffic on the cursor (one compare-and-swap per chunk, so at most one
//! per couple of thousand empty tasks per worker); both are per chunk,
//! not per edge or task. Untested past two workers for want of a larger machine.
//!
//! A task may wait for a task it does not depend on (the bound is up to
//! twice as far back as its latest dependency, and covers every task before
//! it); that costs parallelism, never correctness.

mod meter;
mod sweeper;

use std::ops::Range;
use std::time::Duration;

use crossbeam_utils::CachePadded;

use crate::graph::table::NO_REACH;
use crate::mutant::planted;
use crate::runtime::job::Job;
use crate::runtime::run::Run;
use crate::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering, fence};
use crate::sync::{Backoff, Mutex};
use sweeper::Sweeper;

/// The fewest tasks a run must have to be swept: below it the grain's
/// first doublings claim every task, and the run takes a few
/// microseconds, less than waking a second worker. Under loom, just above
/// the graphs of the models of the counting path, so that they keep
/// modelling it.
#[cfg(not(taskflow_loom))]
pub(crate) const MIN_SWEPT_TASKS: u32 = 512;
/// See the non-loom `MIN_SWEPT_TASKS`.
#[cfg(taskflow_loom)]
pub(crate) const MIN_SWEPT_TASKS: u32 = 5;

/// The longest chunk a sweeper claims (a power of two): long enough that
/// what a claim costs (its compare-and-swap, the gate's fence, a look at
/// the clock) is small per empty task, which it was not at 256: two
/// workers cost 1.08–1.14× what the in-order path on one costs with 256,
/// 1.01–1.08× with 2048 (`BENCHMARKS.md`). With any body of more than
/// 10 ns, chunks are bounded by [`FAST_CHUNK`] instead, and a sweeper waiting for a
/// task in another's chunk waits for that task, not for the chunk. Under
/// loom, one task, so that models stay small.
#[cfg(not(taskflow_loom))]
const MAX_GRAIN: u32 = 2048;
/// See the non-loom `MAX_GRAIN`.
#[cfg(taskflow_loom)]
const MAX_GRAIN: u32 = 1;

/// A chunk this quick lets the next one be twice as long.
const FAST_CHUNK: Duration = Duration::from_micros(20);

/// How many chunks in a row an invited sweeper processes that made it wait
/// for another sweeper before it leaves: one such chunk in a long sweep of
/// far dependencies is chance, several in a row are a stretch of the graph
/// without parallelism in index order.
const WAITED_CHUNKS_TO_LEAVE: u32 = 3;

/// How far the cursor moves before the first invitation after a helper
/// left for lack of work; it doubles with every such leave.
const FIRST_INVITE_BACKOFF: u32 = 4 * MAX_GRAIN;

/// A seat's position while no sweeper holds a chunk there.
const VACANT: u32 = u32::MAX;

/// The ordering of a sweeper's published position (step 3). The planted
/// bug `sweep_relaxed_progress` weakens it to `Relaxed`; the loom model
/// `a_swept_task_reads_an_output_of_another_chunk` must then find the race
/// on the output (scripts/loom-mutants.sh).
#[inline(always)]
fn publish_order() -> Ordering {
    if planted("sweep_relaxed_progress") {
        Ordering::Relaxed
    } else {
        Ordering::Release
    }
}

/// The shared state of one swept run (see the module docs).
#[derive(Debug)]
pub(crate) struct Sweep {
    /// The first task not yet claimed.
    cursor: CachePadded<AtomicU32>,
    /// One seat per worker of the pool.
    seats: Box<[CachePadded<Seat>]>,
    /// Sweeper jobs queued or sweeping, the first one included.
    sweepers: AtomicUsize,
    /// The cursor position from which the first sweeper may invite again.
    invite_from: AtomicU32,
    /// How far the next failed invitation pushes `invite_from`.
    invite_backoff: AtomicU32,
    /// Whether the first sweeper dismissed the helpers and some are still
    /// counted in: a helper that sees it leaves after its chunk, or at once
    /// if it starts late, queued before the dismissal.
    dismissed: AtomicBool,
    gate: Gate,
}

/// One sweeper's published progress.
#[derive(Debug)]
struct Seat {
    taken: AtomicBool,
    /// A lower bound on the first undone task of the seat's chunk, or
    /// [`VACANT`].
    position: AtomicU32,
    /// The seat's sweeper while it is parked at the gate.
    parked: Mutex<Option<Sweeper>>,
}

/// Where sweepers that wait for each other park (module docs, step 4).
#[derive(Debug)]
struct Gate {
    /// A copy of the number of parked sweepers, written under the lock.
    parked_count: AtomicUsize,
    /// The seats of the parked sweepers.
    parked: Mutex<Vec<usize>>,
}

impl Sweep {
    /// The sweep of a run on a pool of `workers` workers.
    pub(crate) fn new(workers: usize) -> Self {
        Sweep {
            cursor: CachePadded::new(AtomicU32::new(0)),
            seats: (0..workers)
                .map(|_| {
                    CachePadded::new(Seat {
                        taken: AtomicBool::new(false),
                        position: AtomicU32::new(VACANT),
                        parked: Mutex::new(None),
                    })
                })
                .collect(),
            sweepers: AtomicUsize::new(1),
            invite_from: AtomicU32::new(0),
            invite_backoff: AtomicU32::new(FIRST_INVITE_BACKOFF),
            dismissed: AtomicBool::new(false),
            gate: Gate {
                parked_count: AtomicUsize::new(0),
                parked: Mutex::new(Vec::new()),
            },
        }
    }

    /// Takes a free seat: there is one, since at most one sweeper per
    /// worker exists (invitations stop at the pool's size).
    fn take_seat(&self) -> usize {
        loop {
            for (index, seat) in self.seats.iter().enumerate() {
                // ORDERING: Acquire: takes in the effects of the seat's
                // previous sweeper, released when it left (module docs).
                if seat
                    .taken
                    .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    return index;
                }
            }
            // A leaving sweeper gives its seat back after its job was
            // counted out of `sweepers`; the seat is free a moment later.
            std::hint::spin_loop();
            crate::sync::thread::yield_now();
        }
    }

    /// Step 1: claims the next chunk for `seat`, at most `grain` tasks long
    /// and ending at a multiple of it, or `None` once every task of the
    /// `tasks` is claimed.
    fn claim(&self, seat: usize, grain: u32, tasks: u32) -> Option<Range<u32>> {
        let position = &self.seats[seat].position;
        // ORDERING: Relaxed: a first guess; the compare-and-swap decides.
        let mut start = self.cursor.load(Ordering::Relaxed);
        loop {
            if start >= tasks {
                return None;
            }
            // ORDERING: Release, as every store of a position: it moves the
            // position past the sweeper's previous chunk, so a reader that
            // sees it must see that chunk's effects (a Relaxed store would
            // not carry the Release of the position stored after its last
            // task). The AcqRel compare-and-swap below orders it before the
            // claim, through which every later claimant sees it (module
            // docs, "the done prefix is sound").
            position.store(start, publish_order());
            let end = ((start / grain + 1) * grain).min(tasks);
            // ORDERING: AcqRel: Release publishes the position stored
            // above to every later claimant; Acquire takes in every earlier
            // claimant's.
            match self
                .cursor
                .compare_exchange_weak(start, end, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return Some(start..end),
                Err(now) => start = now,
            }
        }
    }

    /// Every task below the returned index and below `limit`, the calling
    /// sweeper's next task, is done, with its effects visible.
    fn done_before(&self, seat: usize, limit: u32) -> u32 {
        let mut prefix = limit;
        for (index, other) in self.seats.iter().enumerate() {
            if index != seat {
                // ORDERING: Acquire: takes in the effects of every task the
                // other sweeper published as done (step 3).
                prefix = prefix.min(other.position.load(Ordering::Acquire));
            }
        }
        prefix
    }

    /// Step 2's wait, for `sweeper` before its next task: returns a done
    /// prefix of at least `needed` once there is one, spinning briefly, or
    /// parks the sweeper at the gate and returns `None`.
    fn wait_until_done(&self, sweeper: &mut Sweeper, needed: u32) -> Option<u32> {
        let (seat, next) = (sweeper.seat, sweeper.chunk.start);
        let backoff = Backoff::new();
        loop {
            let prefix = self.done_before(seat, next);
            if prefix >= needed {
                return Some(prefix);
            }
            sweeper.waited = true;
            if backoff.is_completed() {
                break;
            }
            backoff.snooze();
        }
        let mut parked = self.gate.parked.lock();
        parked.push(seat);
        // ORDERING: Relaxed: the fence below orders it before the look.
        self.gate
            .parked_count
            .store(parked.len(), Ordering::Relaxed);
        fence(Ordering::SeqCst);
        let prefix = self.done_before(seat, next);
        if prefix >= needed {
            parked.pop();
            // ORDERING: Relaxed: only ever read as a hint to take the lock.
            self.gate
                .parked_count
                .store(parked.len(), Ordering::Relaxed);
            return Some(prefix);
        }
        // Under the gate's lock: whoever takes the seat off the list finds
        // the sweeper stored.
        *self.seats[seat].parked.lock() = Some(sweeper.clone());
        None
    }

    /// Step 4: after a seat's position moved past a chunk, queues a resume
    /// job in `run`'s pool for every sweeper parked at the gate, if any.
    fn open_gate(&self, run: &Run<'_>) {
        fence(Ordering::SeqCst);
        // ORDERING: Relaxed: the fence above orders the position stores
        // before this load (module docs, "no lost wake-up").
        if self.gate.parked_count.load(Ordering::Relaxed) == 0 || planted("parked_not_resumed") {
            return;
        }
        let seats = {
            let mut parked = self.gate.parked.lock();
            // ORDERING: Relaxed: as in `wait_until_done`.
            self.gate.parked_count.store(0, Ordering::Relaxed);
            std::mem::take(&mut *parked)
        };
        for seat in seats {
            run.inject(run.pool(0), Job::resumed_sweeper(run, seat));
        }
    }

    /// Gives `seat` back once its sweeper left, and resumes the parked.
    fn leave(&self, run: &Run<'_>, seat: usize) {
        let seat = &self.seats[seat];
        seat.position.store(VACANT, publish_order());
        self.open_gate(run);
        // ORDERING: Release: hands the sweeper's effects to the seat's next
        // sweeper (see `take_seat`).
        seat.taken.store(false, Ordering::Release);
    }

    /// Whether the first sweeper, which just claimed `chunk` of `run`,
    /// should invite a helper; if so, counts the helper in.
    fn should_invite(&self, run: &Run<'_>, chunk: &Range<u32>, workers: usize) -> bool {
        let next = chunk.end;
        if next >= run.task_count() || !run.pool(0).sleep().has_sleepers() {
            return false;
        }
        // ORDERING: Relaxed, all three: a heuristic; a stale value costs one
        // invitation too many or too few.
        if next < self.invite_from.load(Ordering::Relaxed)
            || self.sweepers.load(Ordering::Relaxed) >= workers
            || !could_run_after(run, next, chunk.start)
        {
            return false;
        }
        // ORDERING: Relaxed: only the first sweeper adds, and a helper's
        // leave only subtracts; the count bounds seats, not memory.
        self.sweepers.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Whether a helper is counted in besides the first sweeper.
    fn has_helpers(&self) -> bool {
        // ORDERING: Relaxed: a heuristic (see `should_invite`).
        self.sweepers.load(Ordering::Relaxed) > 1
    }

    /// Whether the helpers are dismissed.
    fn helpers_dismissed(&self) -> bool {
        // ORDERING: Relaxed: a heuristic; a helper that reads a stale value
        // leaves one chunk late or early, and leaving hands nothing off
        // that its seat's release does not (see `leave`).
        self.dismissed.load(Ordering::Relaxed)
    }

    /// Tells every helper, sweeping or queued, to leave after its chunk
    /// (the first sweeper found that sharing did not pay, see [`meter`]).
    fn dismiss_helpers(&self) {
        // ORDERING: Relaxed: as in `helpers_dismissed`; only the first
        // sweeper writes it.
        self.dismissed.store(true, Ordering::Relaxed);
    }

    /// Withdraws the dismissal once no helper is counted in any more, so
    /// that helpers invited later stay.
    fn end_dismissal(&self) {
        // ORDERING: Relaxed: as in `dismiss_helpers`.
        self.dismissed.store(false, Ordering::Relaxed);
    }

    /// An invited sweeper leaves for lack of runnable work at `next`: the
    /// next invitation waits until the cursor passed the doubled backoff.
    fn invitation_failed(&self, next: u32) {
        // ORDERING: Relaxed, all: a heuristic (see `should_invite`).
        let backoff = self.invite_backoff.load(Ordering::Relaxed);
        self.invite_from
            .store(next.saturating_add(backoff), Ordering::Relaxed);
        self.invite_backoff
            .store(backoff.saturating_mul(2), Ordering::Relaxed);
    }
}

/// Whether `task` could run once every task before `done` is done.
fn could_run_after(run: &Run<'_>, task: u32, done: u32) -> bool {
    match run.graph.table.reach(task) {
        NO_REACH => true,
        reach => task - (1u32 << reach) < done,
    }
}
