//! What a run gives back: the [`RunReport`](report::RunReport) with every
//! task's outcome, and the crate's error types.

pub(crate) mod error;
pub(crate) mod join;
pub(crate) mod report;
