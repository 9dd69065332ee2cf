//! The work queues of a pool, behind the small interface the engine needs:
//! a worker's own deque (push, LIFO pop), stealing (FIFO, in batches) and the
//! pool's shared injector.
//!
//! They are crossbeam-deque's Chase-Lev deque and injector. The interface
//! exists so that a loom-visible stand-in can replace them under
//! `taskflow_loom`: crossbeam-deque's atomics are invisible to loom.

use crossbeam_deque as deque;

/// The outcome of a steal.
#[derive(Debug)]
pub(crate) enum Steal<T> {
    /// A job was taken.
    Taken(T),
    /// The queue was empty.
    Empty,
    /// The steal lost a race and should be tried again.
    Retry,
}

impl<T> From<deque::Steal<T>> for Steal<T> {
    fn from(steal: deque::Steal<T>) -> Self {
        match steal {
            deque::Steal::Success(job) => Steal::Taken(job),
            deque::Steal::Empty => Steal::Empty,
            deque::Steal::Retry => Steal::Retry,
        }
    }
}

/// A worker's own deque: the owner pushes and pops at one end (LIFO),
/// thieves take from the other (FIFO).
#[derive(Debug)]
pub(crate) struct LocalQueue<T>(deque::Worker<T>);

impl<T> LocalQueue<T> {
    pub(crate) fn new() -> Self {
        LocalQueue(deque::Worker::new_lifo())
    }

    pub(crate) fn stealer(&self) -> Stealer<T> {
        Stealer(self.0.stealer())
    }

    pub(crate) fn push(&self, job: T) {
        self.0.push(job);
    }

    pub(crate) fn pop(&self) -> Option<T> {
        self.0.pop()
    }
}

/// The thieves' end of a [`LocalQueue`].
#[derive(Debug)]
pub(crate) struct Stealer<T>(deque::Stealer<T>);

impl<T> Stealer<T> {
    /// Moves about half of the victim's jobs into `local` and returns one.
    pub(crate) fn steal_into(&self, local: &LocalQueue<T>) -> Steal<T> {
        self.0.steal_batch_and_pop(&local.0).into()
    }
}

/// A pool's shared queue, fed from outside the pool's workers.
#[derive(Debug)]
pub(crate) struct Injector<T>(deque::Injector<T>);

impl<T> Injector<T> {
    pub(crate) fn new() -> Self {
        Injector(deque::Injector::new())
    }

    pub(crate) fn push(&self, job: T) {
        self.0.push(job);
    }

    /// Moves a batch of jobs into `local` and returns one.
    pub(crate) fn steal_into(&self, local: &LocalQueue<T>) -> Steal<T> {
        self.0.steal_batch_and_pop(&local.0).into()
    }
}
