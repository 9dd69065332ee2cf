//! Whose permits a run started from inside a task waits behind: the
//! [`Holds`] of the tasks that cannot return before the calling thread's
//! current work does, so that such a run that needs a limit whose every
//! permit they hold is refused ([`GraphError::LimitHeldByCaller`]) instead
//! of waiting for ever, as a thread that takes a mutex it holds would.
//!
//! # What counts
//!
//! A task that holds a permit of a limit while its body waits for a run it
//! started ([`Executor::run`](crate::Executor::run) from the body) keeps
//! the permit until that run ended. So does every task below it on the
//! same thread's stack: a worker that helps inside a wait runs other tasks
//! on top of the waiting one, which returns only after they did. And so
//! does every task that waits, through nested runs, for the run whose task
//! the thread runs now, on whatever thread it waits.
//!
//! - Each thread keeps a stack of [`Hold`]s: a steered task's permits,
//!   pushed when a worker admits it, and its run's *enclosing* holds (what
//!   waits for its run), popped when it settled. Both are pushed only by
//!   steered runs ([`crate::steer`]): a run of tasks without limits whose
//!   caller holds nothing pushes nothing, and an unsteered run pays nothing.
//! - [`Executor::run`](crate::Executor::run) takes a copy of the calling
//!   thread's stack, [`Holds::of_this_thread`]: the run's enclosing holds.
//!   A run with enclosing holds is steered (so that its tasks push them),
//!   and refused at once if a task of its graph needs a limit of which the
//!   enclosing holds name as many distinct holders as the limit has
//!   permits: that task could never start, and the run would never end.
//!   A run that needs such a limit while only some of its permits are held
//!   so waits for the others, as any task does.
//!
//! A hold names its holder (run and task), so a holder seen twice (on the
//! thread's stack, and in its run's enclosing holds) counts once.
//!
//! What is not seen: a task that waits through
//! [`Context::join`](crate::Context::join) for a spawned child, on another
//! thread, that runs the graph (on the joining thread the stack shows it);
//! a wait on a [`RunHandle`](crate::RunHandle) or on another thread; and
//! cycles through several holders each waiting for the others' runs. Those
//! deadlock as mutexes do (see [`Limit`](crate::Limit)).

use std::cell::RefCell;

use crate::graph::GraphView;
use crate::results::error::GraphError;
use crate::steer::limit::Limit;

/// One permit held by a task that waits for the current thread's work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Hold {
    /// The holder: its run's id and its index in that run.
    holder: (u64, u32),
    /// The held limit's id ([`Limit::id`]).
    limit: u64,
}

/// The holds a run waits behind: those of the tasks that wait for it
/// (module docs). Empty for a run started from outside every task.
#[derive(Clone, Debug, Default)]
pub(crate) struct Holds(Box<[Hold]>);

crate::sync::thread_local! {
    /// The holds of the tasks on this thread's stack, with their runs'
    /// enclosing holds, innermost last.
    #[allow(clippy::missing_const_for_thread_local)]
    static HELD: RefCell<Vec<Hold>> = RefCell::new(Vec::new());
}

impl Holds {
    /// The holds that wait for the calling thread's current work.
    pub(crate) fn of_this_thread() -> Holds {
        HELD.with(|held| {
            let held = held.borrow();
            Holds(held.as_slice().into())
        })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn as_slice(&self) -> &[Hold] {
        &self.0
    }

    /// Refuses a run of `graph` waiting behind these holds if one of its
    /// tasks needs a limit whose every permit they hold (module docs).
    pub(crate) fn refuse_held(&self, graph: &GraphView<'_>) -> Result<(), GraphError> {
        if self.is_empty() || !graph.steering.has_limits() {
            return Ok(());
        }
        for limit in graph.steering.distinct_limits() {
            if self.holders_of(&limit) < limit.permits() {
                continue;
            }
            let task = (0..graph.names.len() as u32)
                .find(|&task| graph.steering.limits(task).contains(&limit))
                .expect("a distinct limit of the graph is some task's");
            return Err(GraphError::LimitHeldByCaller {
                task: graph.names[task as usize].as_str().to_owned(),
            });
        }
        Ok(())
    }

    /// How many distinct holders of `limit` these holds name.
    fn holders_of(&self, limit: &Limit) -> usize {
        let mut holders: Vec<(u64, u32)> = self
            .as_slice()
            .iter()
            .filter(|hold| hold.limit == limit.id())
            .map(|hold| hold.holder)
            .collect();
        holders.sort_unstable();
        holders.dedup();
        holders.len()
    }
}

/// Marks the calling thread's stack of holds as it was before a task was
/// admitted; [`leave`] goes back to it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mark(u32);

/// A task is about to run on this thread: pushes its run's `enclosing`
/// holds and, if it holds them, a hold for each of its `limits` (it is
/// `task` of the run `run`).
pub(crate) fn enter(enclosing: &Holds, held: Option<(u64, u32, &[Limit])>) -> Mark {
    HELD.with(|stack| {
        let mut stack = stack.borrow_mut();
        let mark = Mark(stack.len() as u32);
        stack.extend_from_slice(enclosing.as_slice());
        if let Some((run, task, limits)) = held {
            stack.extend(limits.iter().map(|limit| Hold {
                holder: (run, task),
                limit: limit.id(),
            }));
        }
        mark
    })
}

/// The task [`enter`] returned `mark` for settled: pops what it pushed.
pub(crate) fn leave(mark: Mark) {
    HELD.with(|stack| stack.borrow_mut().truncate(mark.0 as usize));
}
