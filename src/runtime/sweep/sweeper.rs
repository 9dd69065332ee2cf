//! A sweeper's loop (see [`super`], "A sweeper's loop"): claiming chunks,
//! processing their tasks in order, parking and resuming, inviting helpers
//! (the first sweeper) or leaving (a helper).

use std::ops::Range;

use super::meter::Meter;
use super::{FAST_CHUNK, MAX_GRAIN, Sweep, WAITED_CHUNKS_TO_LEAVE, publish_order};
use crate::graph::table::NO_REACH;
use crate::mutant::planted;
use crate::runtime::job::Job;
use crate::runtime::run::Run;
use crate::runtime::worker::WorkerThread;
use crate::sync::Instant;
use crate::sync::atomic::{AtomicU32, Ordering};

/// What a sweeper knows and holds: all it needs to go on after it parked.
#[derive(Clone, Debug)]
pub(super) struct Sweeper {
    pub(super) seat: usize,
    pub(super) role: Role,
    /// The length of its next chunk.
    pub(super) grain: u32,
    /// Every task below it is done, with its effects visible.
    pub(super) known: u32,
    /// Whether no other sweeper is behind its current chunk's next task:
    /// then every task before that one is done, and stays the only kind of
    /// task before it, since later claims come after the chunk (module
    /// docs, step 2), so it processes the rest of the chunk without a
    /// look, and `known` reaches the chunk's end.
    pub(super) leading: bool,
    /// Chunks in a row that made it wait.
    pub(super) waited_chunks: u32,
    /// What is left of its chunk, from its next task to the chunk's end;
    /// empty between chunks.
    pub(super) chunk: Range<u32>,
    /// Whether its current chunk made it wait.
    pub(super) waited: bool,
    /// When it claimed its current chunk.
    pub(super) started: Instant,
}

/// The first sweeper, which stays and decides on sharing, or a helper.
#[derive(Clone, Debug)]
pub(super) enum Role {
    First(Meter),
    /// Invited to help, which leaves when it waits too often or when the
    /// first sweeper dismissed the helpers (see [`Sweep::dismiss_helpers`]).
    Helper,
}

impl WorkerThread {
    /// Takes part in the sweep of `run` (module docs): as its first sweeper
    /// until every task is claimed and processed, or as an `invited` helper
    /// until it finds no work it can run at once or the first sweeper
    /// dismisses it (see [`Meter`]). Counts the job's unit
    /// once the sweeper left; a parked sweeper's unit goes with it.
    pub(crate) fn sweep(&self, run: &Run<'_>, invited: bool) {
        let sweep = run.sweep.as_ref().expect("only a swept run has sweepers");
        // Module docs: never above another sweeper of the run; and a helper
        // queued before a dismissal leaves as soon as it starts.
        if invited && (self.help_depth.get() > 0 || sweep.helpers_dismissed()) {
            // ORDERING: Relaxed: see `should_invite`.
            sweep.sweepers.fetch_sub(1, Ordering::Relaxed);
            self.count_finished(1);
            return;
        }
        let role = if invited {
            Role::Helper
        } else {
            Role::First(Meter::new(Instant::now()))
        };
        let sweeper = Sweeper {
            seat: sweep.take_seat(),
            role,
            grain: 1,
            known: 0,
            leading: false,
            waited_chunks: 0,
            chunk: 0..0,
            waited: false,
            started: Instant::now(),
        };
        self.go_on_sweeping(run, sweep, sweeper);
    }

    /// Resumes the sweeper parked in `seat` of `run` (module docs, step 2).
    pub(crate) fn resume_sweep(&self, run: &Run<'_>, seat: usize) {
        let sweep = run.sweep.as_ref().expect("only a swept run has sweepers");
        let sweeper = sweep.seats[seat]
            .parked
            .lock()
            .take()
            .expect("a resume job is queued only for a parked sweeper");
        self.go_on_sweeping(run, sweep, sweeper);
    }

    /// The sweeper's loop: claims and processes chunks until it leaves
    /// (and counts its unit) or parks.
    fn go_on_sweeping(&self, run: &Run<'_>, sweep: &Sweep, mut sweeper: Sweeper) {
        let tasks = run.task_count();
        let workers = self.pool().size();
        loop {
            if sweeper.chunk.is_empty() {
                let Some(chunk) = sweep.claim(sweeper.seat, sweeper.grain, tasks) else {
                    break;
                };
                sweep.open_gate(run);
                let now = Instant::now();
                if let Role::First(meter) = &mut sweeper.role {
                    // The window ends before an invitation starts a shared
                    // one, so that a complete solo window is measured.
                    if meter.at_claim(now, chunk.end, sweep.has_helpers()) {
                        sweep.dismiss_helpers();
                    } else if meter.take_dismissal_end() {
                        sweep.end_dismissal();
                    }
                    if meter.may_invite(now) && sweep.should_invite(run, &chunk, workers) {
                        // The unit before the job: this sweeper's own unit
                        // keeps the run alive meanwhile (module docs).
                        run.completion().add(1);
                        run.inject(run.pool(0), Job::sweeper(run, true));
                    }
                }
                sweeper.chunk = chunk;
                // The planted bug `sweep_leads_unchecked` takes every new
                // chunk for a leading one, without looking behind it; the
                // loom model `a_swept_task_reads_an_output_of_another_chunk`
                // must then find a task reading an output not yet written.
                sweeper.leading = planted("sweep_leads_unchecked");
                sweeper.waited = false;
                sweeper.started = now;
            }
            if !self.sweep_chunk(run, sweep, &mut sweeper) {
                return;
            }
            if let Role::Helper = sweeper.role {
                sweeper.waited_chunks = if sweeper.waited {
                    sweeper.waited_chunks + 1
                } else {
                    0
                };
                if sweeper.waited_chunks == WAITED_CHUNKS_TO_LEAVE {
                    sweep.invitation_failed(sweeper.chunk.end);
                    break;
                }
                if sweep.helpers_dismissed() {
                    break;
                }
            }
            sweeper.grain = if sweeper.started.elapsed() <= FAST_CHUNK {
                (sweeper.grain * 2).min(MAX_GRAIN)
            } else {
                (sweeper.grain / 2).max(1)
            };
        }
        sweep.leave(run, sweeper.seat);
        // ORDERING: Relaxed: see `should_invite`.
        sweep.sweepers.fetch_sub(1, Ordering::Relaxed);
        self.count_finished(1);
    }

    /// Processes what is left of the sweeper's chunk in order (steps 2 and
    /// 3); `false` if it parked before the chunk's end.
    fn sweep_chunk(&self, run: &Run<'_>, sweep: &Sweep, sweeper: &mut Sweeper) -> bool {
        let position = &sweep.seats[sweeper.seat].position;
        while !sweeper.chunk.is_empty() {
            // A known prefix that reaches the next task makes the sweeper
            // leading as a look's would (module docs, step 2): a lone
            // sweeper's next chunk starts where its last one ended. The
            // planted bug `sweep_leads_past_its_prefix` takes a prefix one
            // task short for one that reaches; the loom model
            // `a_swept_task_reads_an_output_of_another_chunk` must then
            // find a task reading an output not yet written.
            let slack = u32::from(planted("sweep_leads_past_its_prefix"));
            if sweeper.leading || sweeper.known + slack >= sweeper.chunk.start {
                self.sweep_leading(run, position, sweeper.chunk.clone());
                sweeper.known = sweeper.chunk.end;
                sweeper.chunk.start = sweeper.chunk.end;
                break;
            }
            let task = sweeper.chunk.start;
            let reach = run.graph.table.reach(task);
            if reach != NO_REACH {
                // Every task up to the bound must be done: those of the
                // chunk before this one are, those before it must be known
                // to be.
                let needed = task - (1u32 << reach) + 1;
                if needed > sweeper.known {
                    match sweep.wait_until_done(sweeper, needed) {
                        Some(prefix) => {
                            sweeper.known = prefix;
                            // The prefix reached this task: nobody is behind.
                            sweeper.leading = prefix >= task;
                        }
                        None => return false,
                    }
                }
            }
            run.process_in_order(task, self);
            // ORDERING: Release (step 3): publishes the task's effects to
            // every sweeper that reads this position with Acquire.
            position.store(task + 1, publish_order());
            self.count_finished(1);
            sweeper.chunk.start = task + 1;
        }
        true
    }

    /// Processes `rest`, the rest of a chunk of a leading sweeper, in order
    /// (steps 2 and 3) without looking at any task's bound: every task
    /// before the first of `rest` is done and no other sweeper can fall
    /// behind it, so every dependency of each task is done, by another
    /// sweeper before or by this one in order. (Looking at the bound of
    /// every task cost a mispredicted branch per task on graphs whose
    /// sources are scattered, `backward_dag` of BENCH-SHAPES.md, a third
    /// of a lone sweeper's time.)
    fn sweep_leading(&self, run: &Run<'_>, position: &AtomicU32, rest: Range<u32>) {
        let tasks = rest.len();
        for task in rest {
            run.process_in_order(task, self);
            // ORDERING: Release (step 3), as in `sweep_chunk`.
            position.store(task + 1, publish_order());
        }
        self.count_finished(tasks);
    }
}
