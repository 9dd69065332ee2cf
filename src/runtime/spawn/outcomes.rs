//! What a run's report learns of its spawned tasks: their outcomes after
//! the graph's, under handles that only this run's report knows.

use crate::results::report::RunReport;
use crate::runtime::spawn::SpawnState;
use crate::sync::atomic::Ordering;

impl SpawnState {
    /// Adds the spawned tasks' outcomes to `report`, once the run completed.
    pub(crate) fn add_to(self, report: RunReport) -> RunReport {
        let spawned = self.nodes.len();
        if spawned == 0 {
            return report;
        }
        let failures = self
            .failures
            .into_inner()
            .into_iter()
            .map(|(node, error)| (node, self.nodes.get(node).name.clone(), error))
            .collect();
        let codes = self.nodes.into_outcomes();
        // ORDERING: Relaxed, both: the run's completion ordered every store
        // to them before the caller's return from its wait.
        let skipped = self.skipped.load(Ordering::Relaxed);
        let cancelled = self.cancelled.load(Ordering::Relaxed);
        report.with_spawned(self.space, codes, failures, skipped, cancelled)
    }
}
