//! Pinning worker threads to cores, spread over the machine.

/// Hands out cores to workers in turn, wrapping around when there are more
/// workers than cores. Empty when pinning is off or the platform cannot list
/// its cores, in which case workers run unpinned.
#[derive(Debug)]
pub(crate) struct CorePlan {
    cores: Vec<core_affinity::CoreId>,
    next: usize,
}

impl CorePlan {
    pub(crate) fn new(pin_workers: bool) -> Self {
        let cores = if pin_workers && cfg!(not(any(taskflow_loom, miri))) {
            core_affinity::get_core_ids().unwrap_or_default()
        } else {
            Vec::new()
        };
        CorePlan { cores, next: 0 }
    }

    /// The core for the next worker, if pinning.
    pub(crate) fn next_core(&mut self) -> Option<core_affinity::CoreId> {
        if self.cores.is_empty() {
            return None;
        }
        let core = self.cores[self.next % self.cores.len()];
        self.next += 1;
        Some(core)
    }
}

/// Pins the calling thread to `core`. A platform that refuses leaves the
/// thread unpinned, which costs speed, not correctness.
pub(crate) fn pin_current_thread(core: Option<core_affinity::CoreId>) {
    if let Some(core) = core {
        let _pinned = core_affinity::set_for_current(core);
    }
}
