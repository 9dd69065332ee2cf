//! [`ReadyQueues`]: the ready tasks of a steered run, one ordered queue per
//! pool, best first.
//!
//! A task's place is its [`ReadyKey`]: its critical-path rank when the run
//! asked for one (else 0), then its priority, then the lower index first.
//! The queues hold task indices only; the pool's deques hold interchangeable
//! *tokens*, one per queued task, and whoever pops a token takes the best
//! task of its pool's queue (see [`crate::steer`], "The ordered ready
//! queue", for why a token always finds one).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use crate::sync::Mutex;

/// Where a ready task stands among the ready tasks of its pool: greater
/// starts first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReadyKey {
    rank: u64,
    priority: i32,
    /// The lower index first among equals: the order the graph was built.
    index: Reverse<u32>,
}

impl ReadyKey {
    pub(crate) fn new(rank: u64, priority: i32, task: u32) -> Self {
        ReadyKey {
            rank,
            priority,
            index: Reverse(task),
        }
    }

    pub(crate) fn task(&self) -> u32 {
        self.index.0
    }
}

impl Ord for ReadyKey {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.rank, self.priority, self.index).cmp(&(other.rank, other.priority, other.index))
    }
}

impl PartialOrd for ReadyKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One ordered queue of ready tasks per pool of a run, by tag index.
#[derive(Debug)]
pub(crate) struct ReadyQueues {
    queues: Box<[Mutex<BinaryHeap<ReadyKey>>]>,
}

impl ReadyQueues {
    pub(crate) fn new(tags: usize) -> Self {
        ReadyQueues {
            queues: (0..tags).map(|_| Mutex::new(BinaryHeap::new())).collect(),
        }
    }

    /// Queues a ready task for the pool of tag `tag`.
    pub(crate) fn push(&self, tag: u32, key: ReadyKey) {
        self.queues[tag as usize].lock().push(key);
    }

    /// Takes the best ready task of the pool of tag `tag`.
    pub(crate) fn pop(&self, tag: u32) -> Option<u32> {
        self.queues[tag as usize].lock().pop().map(|key| key.task())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_comes_before_priority_and_priority_before_index() {
        let queues = ReadyQueues::new(1);
        for key in [
            ReadyKey::new(0, 5, 1),
            ReadyKey::new(3, 0, 2),
            ReadyKey::new(0, 5, 0),
            ReadyKey::new(3, 1, 3),
            ReadyKey::new(0, -1, 4),
        ] {
            queues.push(0, key);
        }
        let order: Vec<u32> = std::iter::from_fn(|| queues.pop(0)).collect();
        assert_eq!(order, [3, 2, 0, 1, 4]);
    }
}
