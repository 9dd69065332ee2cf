//! [`Held`]: the ready successors a pool's only worker holds back while it
//! walks a successor list, to queue them in the order the graph was built
//! (see "Order and exclusivity" in [`crate::runtime::run`]).

/// Ready successors a lone worker holds back during one walk of a successor
/// list, to queue them oldest edge first once the walk is over (the list
/// comes newest first). Holds up to eight; the walk queues any more at once.
#[derive(Default)]
pub(crate) struct Held {
    successors: [u32; 8],
    len: usize,
}

impl Held {
    /// Holds `successor` back, or returns false when full.
    pub(crate) fn push(&mut self, successor: u32) -> bool {
        let Some(slot) = self.successors.get_mut(self.len) else {
            return false;
        };
        *slot = successor;
        self.len += 1;
        true
    }

    pub(crate) fn oldest_first(&self) -> impl Iterator<Item = &u32> {
        self.successors[..self.len].iter().rev()
    }
}
