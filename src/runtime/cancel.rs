//! [`CancelToken`]: asking a run to stop, from outside it or from a task;
//! and [`Cancelled`], the error a task returns to end `Cancelled` itself.
//!
//! # Tokens, children and waiting
//!
//! A token is a flag with an optional parent. It counts as cancelled when
//! its own flag or any ancestor's is set, so cancelling a parent cancels
//! every child at once, without the parent having to know its children,
//! and cancelling a child leaves the parent alone.
//!
//! Every token of one family (a root made by [`CancelToken::new`] and all
//! its descendants) shares one mutex and condition variable, which
//! [`CancelToken::wait_timeout`] blocks on. No wake-up is lost:
//!
//! 1. `cancel` sets the flag, then locks the family's mutex and notifies
//!    every waiter.
//! 2. A waiter locks the mutex, checks its flags (its own and its
//!    ancestors'), and only if none is set waits on the condition variable,
//!    which releases the mutex atomically.
//!
//! If the waiter's check came before the flag was set, the canceller's lock
//! (step 1) comes after the waiter released the mutex by waiting, so its
//! notification reaches the waiter. If it came after, the check sees the
//! flag: the mutex orders the store before it.
//!
//! # Cancel hooks
//!
//! The engine can register a hook on a token ([`CancelToken::on_cancel`]),
//! for work that waits somewhere a condition variable does not reach: a
//! run's tasks parked in a [`Limit`](crate::Limit) (see [`crate::steer`]).
//! The hooks live in the family's mutex; a cancel of any token of the
//! family calls every hook, under that mutex, after setting its flag and
//! notifying, and each hook checks whether its own token is cancelled now.
//! A hook registered after that call sees its token cancelled in whatever
//! it guards (the flag was set before), so no hook needs calling at once.

use std::fmt;
use std::time::{Duration, Instant};

use crate::mutant::planted;
use crate::sync::atomic::{AtomicBool, Ordering};
use crate::sync::{Arc, Condvar, Mutex};

/// A shared flag that stops the runs it is given to.
///
/// Give a clone to [`RunOptions::cancel_token`](crate::RunOptions::cancel_token)
/// and call [`cancel`](CancelToken::cancel) from any thread, including from a
/// task of the run itself. Once cancelled, no further task of the run starts:
/// tasks that had not started end [`Cancelled`](crate::Outcome::Cancelled)
/// (or [`Skipped`](crate::Outcome::Skipped), those downstream of a failed,
/// skipped or self-cancelled task),
/// running tasks see [`Context::is_cancelled`](crate::Context::is_cancelled)
/// and their outcome is whatever they return. A token stays cancelled; use a
/// new one for the next run.
///
/// [`child`](CancelToken::child) makes a token that is cancelled with its
/// parent but can also be cancelled alone, for example one per build step
/// under one per build. A task that waits on something outside the engine
/// (a child process, a socket) can block in
/// [`wait_timeout`](CancelToken::wait_timeout) instead of polling.
///
/// ```
/// use std::time::Duration;
/// use taskflow_engine::{CancelToken, Executor, Graph, Outcome, RunOptions, Task};
///
/// let token = CancelToken::new();
/// let mut graph = Graph::new();
/// let stopper = token.clone();
/// let first = graph.add(Task::new("first", move |_| {
///     stopper.cancel(); // stops the run from inside it
///     Ok(())
/// }));
/// let second = graph.add(Task::new("second", |_| Ok(())).after(first));
/// let report = Executor::new().run_with(&mut graph, RunOptions::new().cancel_token(token.clone()))?;
/// assert!(report.outcome(first).is_success());
/// assert!(matches!(report.outcome(second), Outcome::Cancelled));
/// assert!(token.wait_timeout(Duration::from_secs(1)), "already cancelled: returns at once");
/// # Ok::<(), taskflow_engine::GraphError>(())
/// ```
#[derive(Clone)]
pub struct CancelToken {
    node: Arc<Node>,
}

/// One token's own flag, its parent's node, and its family's waiting place.
struct Node {
    cancelled: AtomicBool,
    parent: Option<Arc<Node>>,
    family: Arc<Family>,
}

/// Where the tokens of one family wait for a cancellation, and the hooks
/// their cancels call.
struct Family {
    lock: Mutex<Hooks>,
    signal: Condvar,
}

/// Engine code a cancel in the family calls (module docs): it must not call
/// user code, nor cancel a token of the family.
type Hook = Box<dyn Fn() + Send + Sync>;

/// The hooks of one family, each with the id its [`CancelHook`] removes it by.
#[derive(Default)]
struct Hooks {
    next_id: u64,
    hooks: Vec<(u64, Hook)>,
}

/// A hook registered with [`CancelToken::on_cancel`]; dropping this removes it.
pub(crate) struct CancelHook {
    family: Arc<Family>,
    id: u64,
}

impl Drop for CancelHook {
    fn drop(&mut self) {
        let removed = {
            let mut hooks = self.family.lock.lock();
            let position = hooks.hooks.iter().position(|(id, _)| *id == self.id);
            position.map(|position| hooks.hooks.swap_remove(position))
        };
        // What the hook owns is dropped outside the lock.
        drop(removed);
    }
}

impl CancelToken {
    /// A token that is not cancelled.
    #[must_use]
    pub fn new() -> Self {
        CancelToken {
            node: Arc::new(Node {
                cancelled: AtomicBool::new(false),
                parent: None,
                family: Arc::new(Family {
                    lock: Mutex::new(Hooks::default()),
                    signal: Condvar::new(),
                }),
            }),
        }
    }

    /// A new token that is cancelled whenever this one is (and so is
    /// already cancelled if this one is), and that can be cancelled on its
    /// own without cancelling this one.
    ///
    /// ```
    /// use taskflow_engine::CancelToken;
    ///
    /// let build = CancelToken::new();
    /// let (step_a, step_b) = (build.child(), build.child());
    /// step_a.cancel();
    /// assert!(!build.is_cancelled() && !step_b.is_cancelled());
    /// build.cancel();
    /// assert!(step_b.is_cancelled());
    /// ```
    #[must_use]
    pub fn child(&self) -> CancelToken {
        CancelToken {
            node: Arc::new(Node {
                cancelled: AtomicBool::new(false),
                parent: Some(Arc::clone(&self.node)),
                family: Arc::clone(&self.node.family),
            }),
        }
    }

    /// Cancels every run this token, a clone of it or a descendant of it was
    /// given to, and wakes every thread waiting in
    /// [`wait_timeout`](CancelToken::wait_timeout) on them. Idempotent.
    pub fn cancel(&self) {
        // ORDERING: Release, paired with the Acquire in `is_cancelled`, so
        // whatever the canceller wrote before cancelling is visible to a task
        // that sees the token cancelled.
        self.node.cancelled.store(true, Ordering::Release);
        // Step 1 of the module docs: the lock orders this notification
        // after any waiter's check that missed the flag. The planted bug
        // `cancel_unlocked` notifies without it; the loom models must then
        // find the lost wake-up.
        let hooks = if planted("cancel_unlocked") {
            self.node.family.signal.notify_all();
            self.node.family.lock.lock()
        } else {
            let hooks = self.node.family.lock.lock();
            self.node.family.signal.notify_all();
            hooks
        };
        for (_, hook) in &hooks.hooks {
            hook();
        }
    }

    /// Registers `hook`, which every cancel of a token of this token's
    /// family calls from then on (module docs), until the returned guard is
    /// dropped.
    pub(crate) fn on_cancel(&self, hook: Hook) -> CancelHook {
        let family = Arc::clone(&self.node.family);
        let id = {
            let mut hooks = family.lock.lock();
            let id = hooks.next_id;
            hooks.next_id += 1;
            hooks.hooks.push((id, hook));
            id
        };
        CancelHook { family, id }
    }

    /// Whether [`cancel`](CancelToken::cancel) was called on this token, a
    /// clone of it, or an ancestor.
    #[must_use]
    pub fn is_cancelled(&self) -> bool {
        let mut node = &self.node;
        loop {
            // ORDERING: Acquire; see `cancel`.
            if node.cancelled.load(Ordering::Acquire) {
                return true;
            }
            match &node.parent {
                Some(parent) => node = parent,
                None => return false,
            }
        }
    }

    /// Blocks until the token is cancelled or `timeout` has passed, and
    /// returns whether it is cancelled. Returns at once if it already is.
    /// The thread sleeps meanwhile; it does not poll.
    ///
    /// ```
    /// use std::time::Duration;
    /// use taskflow_engine::CancelToken;
    ///
    /// let token = CancelToken::new();
    /// assert!(!token.wait_timeout(Duration::from_millis(1)), "timed out");
    /// let canceller = token.clone();
    /// let thread = std::thread::spawn(move || canceller.cancel());
    /// assert!(token.wait_timeout(Duration::from_secs(60)));
    /// thread.join().unwrap();
    /// ```
    #[allow(
        clippy::must_use_candidate,
        reason = "a wait is also called for its effect alone"
    )]
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let family = &self.node.family;
        let mut guard = family.lock.lock();
        loop {
            if self.is_cancelled() {
                return true;
            }
            let remaining = match deadline {
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(remaining) if !remaining.is_zero() => remaining,
                    _ => return false,
                },
                // A timeout too long for the clock: wait as long as it can.
                None => Duration::MAX,
            };
            guard = family.signal.wait_timeout(guard, remaining);
        }
    }
}

impl Default for CancelToken {
    fn default() -> Self {
        CancelToken::new()
    }
}

impl fmt::Debug for CancelToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelToken")
            .field("cancelled", &self.is_cancelled())
            .field("child", &self.node.parent.is_some())
            .finish()
    }
}

/// The error a task returns to end [`Cancelled`](crate::Outcome::Cancelled)
/// rather than [`Failed`](crate::Outcome::Failed): typically after it saw
/// [`Context::is_cancelled`](crate::Context::is_cancelled) and stopped
/// early, so that it need not make up an output.
///
/// A task that cancels itself does not stop the run (use a
/// [`CancelToken`] for that); its dependents cannot run without its output
/// and end [`Skipped`](crate::Outcome::Skipped).
///
/// ```
/// use taskflow_engine::{Cancelled, Executor, Graph, Outcome, Task};
///
/// let mut graph = Graph::new();
/// let step = graph.add(Task::new("step", |cx| {
///     if cx.is_cancelled() || true {
///         return Err(Cancelled.into());
///     }
///     Ok(42)
/// }));
/// let report = Executor::new().run(&mut graph)?;
/// assert!(matches!(report.outcome(step), Outcome::Cancelled));
/// # Ok::<(), taskflow_engine::GraphError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Cancelled;

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the task was cancelled")
    }
}

impl std::error::Error for Cancelled {}
