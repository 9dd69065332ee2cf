//! The work queues of a pool, behind the small interface the engine needs:
//! a worker's own deque (push, LIFO pop), stealing (FIFO, in batches) and the
//! pool's shared injector.
//!
//! They are crossbeam-deque's Chase-Lev deque and injector. The interface
//! exists so that a loom-visible stand-in can replace them under
//! `taskflow_loom`: crossbeam-deque's atomics are invisible to loom, and
//! running it under loom gives false reports (crossbeam issue 846). The
//! stand-in is a loom `Mutex<VecDeque>` with the same behaviour: the owner of
//! a shared deque pops the newest job, a pool's only worker the oldest and
//! has no thieves; thieves and the injector hand out the oldest, and a batch
//! steal moves about half (one job, into a lone worker's queue). The real
//! deque is covered by the stress, miri and ThreadSanitizer runs instead.

/// The outcome of a steal.
#[derive(Debug)]
pub(crate) enum Steal<T> {
    /// A job was taken.
    Taken(T),
    /// The queue was empty.
    Empty,
    /// The steal lost a race and should be tried again.
    #[cfg_attr(taskflow_loom, allow(dead_code))]
    Retry,
}

#[cfg(not(taskflow_loom))]
mod imp {
    use std::cell::RefCell;
    use std::collections::VecDeque;

    use super::Steal;
    use crossbeam_deque as deque;

    impl<T> From<deque::Steal<T>> for Steal<T> {
        fn from(steal: deque::Steal<T>) -> Self {
            match steal {
                deque::Steal::Success(job) => Steal::Taken(job),
                deque::Steal::Empty => Steal::Empty,
                deque::Steal::Retry => Steal::Retry,
            }
        }
    }

    /// A worker's own queue: the owner pushes and pops at one end (LIFO),
    /// thieves take from the other (FIFO).
    #[derive(Debug)]
    pub(crate) enum LocalQueue<T> {
        /// The deque of a worker whose pool has other workers to steal.
        Shared(deque::Worker<T>),
        /// The queue of a pool's only worker, first in, first out (see
        /// [`crate::runtime::run`] for why a lone worker runs ready tasks in that
        /// order). Nobody steals from it, so it needs none of the deque's
        /// synchronisation (a deque's pop costs a `SeqCst` fence).
        Solo(RefCell<VecDeque<T>>),
    }

    impl<T> LocalQueue<T> {
        /// A stealable deque, or a plain queue when `alone`.
        pub(crate) fn new(alone: bool) -> Self {
            if alone {
                LocalQueue::Solo(RefCell::new(VecDeque::new()))
            } else {
                LocalQueue::Shared(deque::Worker::new_lifo())
            }
        }

        /// The thieves' end, or `None` for a solo queue.
        pub(crate) fn stealer(&self) -> Option<Stealer<T>> {
            match self {
                LocalQueue::Shared(deque) => Some(Stealer(deque.stealer())),
                LocalQueue::Solo(_) => None,
            }
        }

        pub(crate) fn push(&self, job: T) {
            match self {
                LocalQueue::Shared(deque) => deque.push(job),
                LocalQueue::Solo(queue) => queue.borrow_mut().push_back(job),
            }
        }

        pub(crate) fn pop(&self) -> Option<T> {
            match self {
                LocalQueue::Shared(deque) => deque.pop(),
                LocalQueue::Solo(queue) => queue.borrow_mut().pop_front(),
            }
        }

        /// The newest job, whichever end the owner's `pop` takes: where a
        /// wait finds the work its task pushed last (see
        /// [`crate::runtime::spawn::help`]).
        pub(crate) fn pop_newest(&self) -> Option<T> {
            match self {
                LocalQueue::Shared(deque) => deque.pop(),
                LocalQueue::Solo(queue) => queue.borrow_mut().pop_back(),
            }
        }

        pub(crate) fn is_empty(&self) -> bool {
            match self {
                LocalQueue::Shared(deque) => deque.is_empty(),
                LocalQueue::Solo(queue) => queue.borrow().is_empty(),
            }
        }
    }

    /// The thieves' end of a [`LocalQueue`].
    #[derive(Debug)]
    pub(crate) struct Stealer<T>(deque::Stealer<T>);

    impl<T> Stealer<T> {
        /// Moves about half of the victim's jobs into `local` and returns one.
        /// Only a pool with several workers has stealers, so `local` is a
        /// deque.
        pub(crate) fn steal_into(&self, local: &LocalQueue<T>) -> Steal<T> {
            match local {
                LocalQueue::Shared(deque) => self.0.steal_batch_and_pop(deque).into(),
                LocalQueue::Solo(_) => self.0.steal().into(),
            }
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

        /// Moves a batch of jobs into `local` and returns one (just takes
        /// one for a solo queue, whose worker would find the others here).
        pub(crate) fn steal_into(&self, local: &LocalQueue<T>) -> Steal<T> {
            match local {
                LocalQueue::Shared(deque) => self.0.steal_batch_and_pop(deque).into(),
                LocalQueue::Solo(_) => self.0.steal().into(),
            }
        }
    }
}

#[cfg(taskflow_loom)]
mod imp {
    use std::collections::VecDeque;

    use super::Steal;
    use crate::sync::{Arc, Mutex};

    type Shared<T> = Arc<Mutex<VecDeque<T>>>;

    /// Moves the older half (rounded up) of `source` into `local`, keeping
    /// their order, and returns the oldest; for a solo `local`, only takes
    /// the oldest.
    ///
    /// The two locks are never held together: two workers stealing from each
    /// other would otherwise deadlock.
    fn steal_half<T>(source: &Mutex<VecDeque<T>>, local: &LocalQueue<T>) -> Steal<T> {
        let (first, batch) = {
            let mut source = source.lock();
            let Some(first) = source.pop_front() else {
                return Steal::Empty;
            };
            if local.alone {
                return Steal::Taken(first);
            }
            let extra = source.len().div_ceil(2);
            (first, source.drain(..extra).collect::<Vec<T>>())
        };
        if !batch.is_empty() {
            // The owner pops from the back, so the batch goes in newest
            // first to keep the oldest next in line.
            local.jobs.lock().extend(batch.into_iter().rev());
        }
        Steal::Taken(first)
    }

    /// The loom stand-in for a worker's deque (see the module docs).
    #[derive(Debug)]
    pub(crate) struct LocalQueue<T> {
        jobs: Shared<T>,
        /// A pool's only worker: first in, first out, and no thieves.
        alone: bool,
    }

    impl<T> LocalQueue<T> {
        pub(crate) fn new(alone: bool) -> Self {
            LocalQueue {
                jobs: Arc::new(Mutex::new(VecDeque::new())),
                alone,
            }
        }

        /// The thieves' end, or `None` for a solo queue.
        pub(crate) fn stealer(&self) -> Option<Stealer<T>> {
            (!self.alone).then(|| Stealer(Arc::clone(&self.jobs)))
        }

        pub(crate) fn push(&self, job: T) {
            self.jobs.lock().push_back(job);
        }

        pub(crate) fn pop(&self) -> Option<T> {
            let mut jobs = self.jobs.lock();
            if self.alone {
                jobs.pop_front()
            } else {
                jobs.pop_back()
            }
        }

        /// The newest job (see the real queue's `pop_newest`).
        pub(crate) fn pop_newest(&self) -> Option<T> {
            self.jobs.lock().pop_back()
        }

        pub(crate) fn is_empty(&self) -> bool {
            self.jobs.lock().is_empty()
        }
    }

    /// The loom stand-in for the thieves' end of a deque.
    #[derive(Debug)]
    pub(crate) struct Stealer<T>(Shared<T>);

    impl<T> Stealer<T> {
        pub(crate) fn steal_into(&self, local: &LocalQueue<T>) -> Steal<T> {
            steal_half(&self.0, local)
        }
    }

    /// The loom stand-in for a pool's injector.
    #[derive(Debug)]
    pub(crate) struct Injector<T>(Mutex<VecDeque<T>>);

    impl<T> Injector<T> {
        pub(crate) fn new() -> Self {
            Injector(Mutex::new(VecDeque::new()))
        }

        pub(crate) fn push(&self, job: T) {
            self.0.lock().push_back(job);
        }

        pub(crate) fn steal_into(&self, local: &LocalQueue<T>) -> Steal<T> {
            steal_half(&self.0, local)
        }
    }
}

pub(crate) use imp::{Injector, LocalQueue, Stealer};
