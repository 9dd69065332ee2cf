//! [`CancelToken`]: asking a run to stop, from outside it or from a task.

use std::fmt;

use crate::sync::Arc;
use crate::sync::atomic::{AtomicBool, Ordering};

/// A shared flag that stops the runs it is given to.
///
/// Give a clone to [`RunOptions::cancel_token`](crate::RunOptions::cancel_token)
/// and call [`cancel`](CancelToken::cancel) from any thread, including from a
/// task of the run itself. Once cancelled, no further task of the run starts:
/// tasks that had not started end [`Cancelled`](crate::Outcome::Cancelled)
/// (or [`Skipped`](crate::Outcome::Skipped), those downstream of a failed or
/// skipped task),
/// running tasks see [`Context::is_cancelled`](crate::Context::is_cancelled)
/// and their outcome is whatever they return. A token stays cancelled; use a
/// new one for the next run.
#[derive(Clone, Default)]
pub struct CancelToken {
    cancelled: Arc<AtomicBool>,
}

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        CancelToken::default()
    }

    /// Cancels every run this token was given to. Idempotent.
    pub fn cancel(&self) {
        // ORDERING: Release, paired with the Acquire in `is_cancelled`, so
        // whatever the canceller wrote before cancelling is visible to a task
        // that sees the token cancelled.
        self.cancelled.store(true, Ordering::Release);
    }

    /// Whether [`cancel`](CancelToken::cancel) was called on this token or a
    /// clone of it.
    pub fn is_cancelled(&self) -> bool {
        // ORDERING: Acquire; see `cancel`.
        self.cancelled.load(Ordering::Acquire)
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}
