//! Where worker threads run: pinned to one core each, spread over the cores
//! the process may use, or unpinned on all of them; and how many cores that
//! is, for the default pool size.
//!
//! A new thread inherits the affinity mask of the thread that spawns it, and
//! a pool starts on whichever thread first runs a graph with its tag: maybe
//! a worker of another executor, pinned to one core. So no worker keeps the
//! mask it was born with: an unpinned worker sets its mask to the process's
//! when it starts, and a pinned one to one core of the process's mask. The
//! default pool size and the cores to pin to are read from the process's
//! mask too, not from the calling thread's. An executor reads the mask once,
//! when it is created, for all the pools it starts.
//!
//! Linux has no mask per process, only per thread; *the process's mask* is
//! the main thread's (`sched_getaffinity` on the process id), which is what
//! `taskset`, a container's cpuset or a mask set before the first thread
//! started apply to. It is preferred to the mask of the thread that builds
//! the executor because executors get built inside tasks too, on pinned
//! workers. A program that narrows its main thread's own mask narrows its
//! workers' too. Should the mask not fit a `cpu_set_t` (more than 1,024
//! CPUs), workers keep what they inherit and pinning uses `core_affinity`'s
//! list, as before.
//!
//! Elsewhere the platform decides: `core_affinity` lists the process's cores
//! on Windows, and macOS has no masks to inherit. Under loom and Miri, which
//! model no affinity, nothing is read or set.

/// Where one worker runs: what [`CorePlan::next_placement`] hands out and
/// [`place_current_thread`] applies.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Placement {
    /// The core to pin to, when pinning.
    core: Option<core_affinity::CoreId>,
    /// The process's mask, when known: an unpinned worker takes it, and so
    /// does a pinned one whose core is refused.
    process: Option<affinity::Mask>,
}

/// Hands out placements to workers: when pinning, the process's cores in
/// turn, wrapping around when there are more workers than cores. No cores
/// when pinning is off or the platform cannot list them, in which case
/// workers run unpinned.
#[derive(Debug)]
pub(crate) struct CorePlan {
    cores: Vec<core_affinity::CoreId>,
    next: usize,
    process: Option<affinity::Mask>,
}

impl CorePlan {
    pub(crate) fn new(pin_workers: bool) -> Self {
        let process = affinity::Mask::of_process();
        let cores = if !pin_workers || cfg!(any(taskflow_loom, miri)) {
            Vec::new()
        } else if let Some(process) = &process {
            process.cores()
        } else {
            core_affinity::get_core_ids().unwrap_or_default()
        };
        CorePlan {
            cores,
            next: 0,
            process,
        }
    }

    /// Where the next worker runs.
    pub(crate) fn next_placement(&mut self) -> Placement {
        let core = (!self.cores.is_empty()).then(|| {
            let core = self.cores[self.next % self.cores.len()];
            self.next += 1;
            core
        });
        Placement {
            core,
            process: self.process,
        }
    }
}

/// Puts the calling thread, a worker that just started, where `placement`
/// says. A platform that refuses leaves the thread where it is, which costs
/// speed, not correctness.
pub(crate) fn place_current_thread(placement: Placement) {
    let pinned = placement.core.is_some_and(core_affinity::set_for_current);
    if !pinned {
        if let Some(process) = &placement.process {
            let _placed = process.apply_to_current_thread();
        }
    }
}

/// The number of cores the process may use, after its affinity mask and
/// cgroup quota: [`std::thread::available_parallelism`], but for the
/// process's mask instead of the calling thread's (1 if it cannot tell).
pub(crate) use affinity::available_parallelism;

/// The process's affinity mask, on Linux (see the module docs).
#[cfg(all(target_os = "linux", not(any(taskflow_loom, miri))))]
mod affinity {
    use std::mem::size_of;
    use std::num::NonZeroUsize;

    use crate::sync::thread;

    /// See the re-export in the parent module.
    pub(crate) fn available_parallelism() -> usize {
        let parallelism = || thread::available_parallelism().map_or(1, NonZeroUsize::get);
        match Mask::of_process() {
            Some(process) if !process.is_the_calling_threads() => {
                // The standard library reads the calling thread's mask (and
                // the quota, which only it knows how to find), so ask it on a
                // thread that has the process's mask.
                thread::scope(|scope| {
                    thread::Builder::new()
                        .spawn_scoped(scope, || {
                            let _placed = process.apply_to_current_thread();
                            parallelism()
                        })
                        .ok()
                        .and_then(|helper| helper.join().ok())
                })
                .unwrap_or_else(|| process.cores().len().max(1))
            }
            _ => parallelism(),
        }
    }

    /// An affinity mask.
    #[derive(Clone, Copy)]
    pub(crate) struct Mask(libc::cpu_set_t);

    impl std::fmt::Debug for Mask {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_list()
                .entries(self.cores().iter().map(|core| core.id))
                .finish()
        }
    }

    impl Mask {
        /// The main thread's mask, or `None` if it cannot be read.
        pub(crate) fn of_process() -> Option<Mask> {
            // SAFETY: `getpid` has no preconditions and cannot fail.
            let process = unsafe { libc::getpid() };
            Mask::of(process)
        }

        /// The mask of the thread `thread` (0: the calling thread).
        fn of(thread: libc::pid_t) -> Option<Mask> {
            // SAFETY: a `cpu_set_t` is an array of integers, for which all
            // zeroes is a valid value (the empty set).
            let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
            // SAFETY: `set` is a valid, writable `cpu_set_t` of the size
            // passed; the call writes at most that many bytes.
            let read =
                unsafe { libc::sched_getaffinity(thread, size_of::<libc::cpu_set_t>(), &mut set) };
            (read == 0).then_some(Mask(set))
        }

        /// Whether the calling thread's mask is this one.
        pub(crate) fn is_the_calling_threads(&self) -> bool {
            Mask::of(0).is_some_and(|current| {
                // SAFETY: both are valid `cpu_set_t`s; CPU_EQUAL only reads them.
                unsafe { libc::CPU_EQUAL(&current.0, &self.0) }
            })
        }

        /// The cores in the mask, in increasing order.
        pub(crate) fn cores(&self) -> Vec<core_affinity::CoreId> {
            (0..libc::CPU_SETSIZE as usize)
                // SAFETY: `cpu` is below CPU_SETSIZE, the number of CPUs a
                // `cpu_set_t` holds, so CPU_ISSET reads inside the set.
                .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &self.0) })
                .map(|id| core_affinity::CoreId { id })
                .collect()
        }

        /// Gives the calling thread this mask; false if the system refuses.
        pub(crate) fn apply_to_current_thread(&self) -> bool {
            // SAFETY: `self.0` is a valid `cpu_set_t` of the size passed,
            // which the call only reads; 0 names the calling thread.
            unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &self.0) == 0 }
        }
    }
}

/// No masks to read or set here (see the module docs): there is no mask.
#[cfg(not(all(target_os = "linux", not(any(taskflow_loom, miri)))))]
mod affinity {
    use std::num::NonZeroUsize;

    /// See the re-export in the parent module: here the calling thread's
    /// parallelism is the process's.
    pub(crate) fn available_parallelism() -> usize {
        std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
    }

    /// An affinity mask, of which this platform has none.
    #[derive(Clone, Copy, Debug)]
    pub(crate) enum Mask {}

    impl Mask {
        pub(crate) fn of_process() -> Option<Mask> {
            None
        }

        pub(crate) fn cores(&self) -> Vec<core_affinity::CoreId> {
            match *self {}
        }

        pub(crate) fn apply_to_current_thread(&self) -> bool {
            match *self {}
        }
    }
}
