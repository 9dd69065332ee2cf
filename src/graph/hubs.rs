//! [`HubIndex`]: the successors of every *hub* (a task with more than
//! [`HUB_DEGREE`] successors), sorted, so that
//! [`Context::input`](crate::Context::input) checks a declared dependency on
//! a hub by a binary search instead of a walk of the hub's long list.
//!
//! The index is kept as the graph is built, not before a run: a task's list
//! starts when its edge count passes [`HUB_DEGREE`] (from a walk of the
//! successors it has then) and grows by one entry per later edge out of it,
//! which the table settles anyway (see [`crate::graph::table`]). Successors
//! added in increasing index order, as `Task::after` adds them, keep a list
//! sorted for free; a list that received one out of order is sorted before
//! the next run ([`HubIndex::sort`]), once. So a first run pays nothing per
//! task for hubs, and a graph without hubs has an empty index.

use std::collections::HashMap;

use crate::graph::table::HUB_DEGREE;

/// The sorted successor lists of a graph's hubs.
#[derive(Debug, Default)]
pub(crate) struct HubIndex {
    /// Each hub's place in `lists`.
    places: HashMap<u32, usize>,
    lists: Vec<HubList>,
    /// The hub that received the latest successor, and its place: a task
    /// that names a hub among its dependencies names it again in the next
    /// task, so most additions skip the hash lookup.
    latest: Option<(u32, usize)>,
    /// Whether some list received a successor out of order since the last
    /// [`HubIndex::sort`].
    unsorted: bool,
}

/// One hub's successors, duplicates included.
#[derive(Debug)]
struct HubList {
    successors: Vec<u32>,
    sorted: bool,
}

impl HubIndex {
    /// Starts the list of `hub`, which has just passed [`HUB_DEGREE`]
    /// successors: all of them, the newest included.
    pub(crate) fn start(&mut self, hub: u32, successors: impl Iterator<Item = u32>) {
        let mut successors: Vec<u32> = successors.collect();
        debug_assert!(successors.len() as u32 > HUB_DEGREE);
        successors.sort_unstable();
        self.places.insert(hub, self.lists.len());
        self.latest = Some((hub, self.lists.len()));
        self.lists.push(HubList {
            successors,
            sorted: true,
        });
    }

    /// Adds the successor `to` to the list of `hub`, which was started.
    pub(crate) fn add(&mut self, hub: u32, to: u32) {
        let place = match self.latest {
            Some((latest, place)) if latest == hub => place,
            _ => *self.places.get(&hub).expect("a hub's list was started"),
        };
        self.latest = Some((hub, place));
        let list = &mut self.lists[place];
        if list.successors.last().is_some_and(|&last| last > to) {
            list.sorted = false;
            self.unsorted = true;
        }
        list.successors.push(to);
    }

    /// Sorts the lists that received a successor out of order.
    pub(crate) fn sort(&mut self) {
        if !self.unsorted {
            return;
        }
        for list in self.lists.iter_mut().filter(|list| !list.sorted) {
            list.successors.sort_unstable();
            list.sorted = true;
        }
        self.unsorted = false;
    }

    /// Whether the index holds no hub.
    pub(crate) fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// Forgets every hub.
    pub(crate) fn clear(&mut self) {
        self.places.clear();
        self.lists.clear();
        self.latest = None;
        self.unsorted = false;
    }

    /// Whether `to` runs after the hub `from` (false for a task that is not
    /// a hub). Only after [`HubIndex::sort`].
    pub(crate) fn has_edge(&self, from: u32, to: u32) -> bool {
        debug_assert!(!self.unsorted, "a hub list searched before sorting");
        self.places
            .get(&from)
            .is_some_and(|&place| self.lists[place].successors.binary_search(&to).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::HubIndex;
    use crate::graph::table::HUB_DEGREE;

    #[test]
    fn finds_the_edges_of_hubs_added_in_any_order() {
        let mut index = HubIndex::default();
        assert!(index.is_empty());
        index.start(7, (10..=10 + HUB_DEGREE).rev());
        index.add(7, 100);
        assert!(!index.unsorted, "in order");
        index.add(7, 5);
        index.add(7, 5);
        index.sort();
        for to in [5, 10, 10 + HUB_DEGREE, 100] {
            assert!(index.has_edge(7, to), "7 -> {to}");
        }
        assert!(!index.has_edge(7, 6));
        assert!(!index.has_edge(8, 10), "not a hub");
        index.clear();
        assert!(index.is_empty());
    }
}
