//! [`TaskTable`]: what the engine touches per task while it runs a graph,
//! kept ready to run as the graph is built, so that no compile pass stands
//! between building and running.
//!
//! Each task has one 16-byte [`Slot`]: the run's pending word, the task's
//! in-degree (which also decides whether a successor needs
//! an atomic decrement at all, see [`crate::runtime::run`]), its tag, its out-degree,
//! how far back its latest dependency lies (for the sweep of
//! [`crate::runtime::sweep`]) and the head of its successor list, so
//! processing a task and handing on each successor touch one slot each.
//!
//! Successors are stored as a *forward star*: every edge is one 8-byte link
//! (its target and the next link of the same source) in one flat array, and
//! each slot holds the index of its task's newest link. Walking a task's
//! successors follows its links, newest first.
//!
//! Adding an edge is O(1) but touches two slots: the source's, to thread
//! the link into its list, and the target's, to count its in-degree. Either
//! may be far from the tasks just built: with [`Task::after`](crate::Task::after)
//! the source is any earlier task, with [`Graph::precede`](crate::Graph::precede)
//! both ends are. Waiting for each such slot edge by edge would pay one
//! memory latency per edge (it was the largest cost of building
//! `backward_dag` of BENCH-SHAPES.md), and deferring the counts to a pass
//! before the first run made that run pay it instead (6–12 ns per task on
//! graphs built with `precede`). So a new link is written at once, holding
//! its source where its `next` will go, both slots are prefetched, and the
//! link is *settled* (threaded and counted) [`LINK_DELAY`] edges later, by
//! when both slots have arrived: the misses of consecutive edges overlap
//! instead of queueing. An edge whose two slots are in cache already (near
//! the previous edge's, or among the newest tasks: chains, grids, trees)
//! settles at once when no link waits. The links not yet settled are always
//! the newest ones, at most `LINK_DELAY`, so one count says which they are;
//! [`TaskTable::finish_edges`] settles them before every run, and
//! [`TaskTable::successors`] is walked only after it.
//!
//! The links are stored in fixed-size blocks ([`Links`]), so that the
//! graph's largest array never moves and holds little unused room.
//!
//! Predecessors are not stored: [`Context::input`](crate::Context::input)
//! checks a declared dependency by walking the dependency's successors,
//! which is short for almost every task. A *hub*, a task with more than
//! [`HUB_DEGREE`] successors, also gets a sorted list of them in the
//! table's [`HubIndex`], kept up to date as its edges settle.

use crate::graph::hubs::HubIndex;
use crate::sync::atomic::{AtomicU32, Ordering};

/// No link: the end of a successor list.
const NONE: u32 = u32::MAX;

/// How many edges the settling of a new link waits behind (see the module
/// docs): enough for its prefetches to arrive while the caller builds the
/// next few tasks, few enough that the slots in flight stay in the
/// first-level cache.
const LINK_DELAY: usize = 16;

/// How close (in tasks) a slot must be to one touched by the previous edge,
/// or to the newest task, to count as cached: four slots share a cache
/// line.
const NEAR_SLOTS: u32 = 8;

/// A slot's [`reach`](TaskTable::reach) when the task has no dependency
/// that points forward to it.
pub(crate) const NO_REACH: u8 = u8::MAX;

/// The out-degree above which a task is a hub: dependents of a hub are
/// checked through the [`HubIndex`] instead of the hub's list.
pub(crate) const HUB_DEGREE: u32 = 32;

/// The most distinct tags a graph may have (tags are 16-bit in a slot).
pub(crate) const MAX_TAGS: usize = 1 << 16;

/// One edge in a successor list.
#[derive(Clone, Copy, Debug)]
struct Link {
    /// The task that runs after the list's owner.
    to: u32,
    /// The next (older) link of the same owner, or [`NONE`]; until the link
    /// is settled (see the module docs), the owner.
    next: u32,
}

/// One task's record.
#[derive(Debug)]
pub(crate) struct Slot {
    /// The run's pending word (see [`crate::runtime::state`]). Between runs it equals
    /// `in_degree`: a run resets every word it used.
    pub(crate) pending: AtomicU32,
    /// The number of edges into the task, duplicates included, as of the
    /// last [`TaskTable::finish_edges`].
    in_degree: u32,
    /// The task's newest successor link, or [`NONE`].
    head: u32,
    /// The task's index into its graph's tag table.
    tag: u16,
    /// The number of edges out of the task, saturating at `u8::MAX`: only
    /// whether it exceeds [`HUB_DEGREE`] matters.
    out_degree: u8,
    /// `floor(log2)` of the distance from the task back to its latest
    /// earlier dependency, or [`NO_REACH`] (see [`TaskTable::reach`]).
    reach: u8,
}

/// The slots and successor links of a graph's tasks.
#[derive(Debug, Default)]
pub(crate) struct TaskTable {
    slots: Vec<Slot>,
    links: Links,
    /// How many links, from the first, are settled: threaded into their
    /// source's list, their target's in-degree counted. The rest, at most
    /// [`LINK_DELAY`], hold their source instead of a next link.
    settled_links: usize,
    /// The two ends of the newest edge, whose slots are in cache.
    last_edge: (u32, u32),
    /// The sorted successors of the tasks with more than [`HUB_DEGREE`].
    hubs: HubIndex,
}

impl TaskTable {
    /// Adds a task of tag `tag`, without edges.
    pub(crate) fn add_task(&mut self, tag: u16) {
        self.slots.push(Slot {
            pending: AtomicU32::new(0),
            in_degree: 0,
            head: NONE,
            tag,
            out_degree: 0,
            reach: NO_REACH,
        });
    }

    /// Adds the edge `from -> to`, settled now or [`LINK_DELAY`] edges
    /// later, or by [`finish_edges`](TaskTable::finish_edges) (see the module
    /// docs). The caller guarantees both are tasks, that no run is in
    /// progress (it holds `&mut Graph`), and that there are fewer than
    /// `u32::MAX` links.
    pub(crate) fn add_edge(&mut self, from: u32, to: u32) {
        let link = self.links.len();
        let newest = self.slots.len() as u32 - 1;
        let (last_from, last_to) = self.last_edge;
        let cached = |task: u32, last: u32| {
            task.abs_diff(last) < NEAR_SLOTS || task.abs_diff(newest) < NEAR_SLOTS
        };
        let settle_now =
            self.settled_links == link && cached(from, last_from) && cached(to, last_to);
        self.last_edge = (from, to);
        self.links.push(Link { to, next: from });
        if settle_now {
            self.settle_oldest_link();
            return;
        }
        self.prefetch_slot(from);
        self.prefetch_slot(to);
        if link - self.settled_links >= LINK_DELAY {
            self.settle_oldest_link();
        }
    }

    /// Settles the oldest link not yet settled: threads it into its
    /// source's list as the newest link, and counts its target.
    fn settle_oldest_link(&mut self) {
        let index = self.settled_links;
        let link = self.links.get_mut(index).expect("an unsettled link exists");
        let (from, to) = (link.next, link.to);
        let source = &mut self.slots[from as usize];
        link.next = source.head;
        source.head = index as u32;
        let was_hub = u32::from(source.out_degree) > HUB_DEGREE;
        source.out_degree = source.out_degree.saturating_add(1);
        if was_hub {
            self.hubs.add(from, to);
        } else if u32::from(source.out_degree) > HUB_DEGREE {
            let successors = Successors {
                links: &self.links,
                next: index as u32,
            };
            self.hubs.start(from, successors);
        }
        let target = &mut self.slots[to as usize];
        target.in_degree += 1;
        if from < to {
            target.reach = target.reach.min((to - from).ilog2() as u8);
        }
        // ORDERING: Relaxed: no run is in progress, and the next one reaches
        // the word through a synchronising job hand-off.
        target.pending.store(target.in_degree, Ordering::Relaxed);
        self.settled_links += 1;
    }

    /// Starts loading `task`'s slot into the cache, for the link that
    /// [`settle_oldest_link`](TaskTable::settle_oldest_link) settles soon.
    #[inline]
    fn prefetch_slot(&self, task: u32) {
        let Some(slot) = self.slots.get(task as usize) else {
            return;
        };
        #[cfg(target_arch = "x86_64")]
        #[allow(unused_unsafe)] // A safe function from Rust 1.87 on.
        // SAFETY: a prefetch is a hint that never faults and changes no
        // memory; the address is that of a live slot anyway.
        unsafe {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(slot).cast());
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = slot;
    }

    /// Removes every task and edge, keeping the memory of the slots and
    /// links for the tasks and edges added next.
    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.links.clear();
        self.settled_links = 0;
        self.last_edge = (0, 0);
        self.hubs.clear();
    }

    /// The slots and link blocks the table holds memory for.
    #[cfg(test)]
    pub(crate) fn reserved(&self) -> (usize, usize) {
        (self.slots.capacity(), self.links.blocks.len())
    }

    /// Makes the table ready to run and to walk: settles the links still
    /// waiting (see the module docs), which leaves every pending word equal
    /// to its task's in-degree, and sorts the hub lists that need it. Called with no run in progress (the caller
    /// holds `&mut Graph`).
    pub(crate) fn finish_edges(&mut self) {
        while self.settled_links < self.links.len() {
            self.settle_oldest_link();
        }
        self.hubs.sort();
    }

    pub(crate) fn task_count(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn edge_count(&self) -> usize {
        self.links.len()
    }

    /// The record of `task`.
    #[inline]
    pub(crate) fn slot(&self, task: u32) -> &Slot {
        &self.slots[task as usize]
    }

    /// The number of edges into `task`, duplicates included.
    #[inline]
    pub(crate) fn in_degree(&self, task: u32) -> u32 {
        self.slots[task as usize].in_degree
    }

    /// The index of `task`'s tag in its graph's tag table.
    #[inline]
    pub(crate) fn tag(&self, task: u32) -> u32 {
        u32::from(self.slots[task as usize].tag)
    }

    /// How far back `task`'s dependencies reach, as of the last
    /// [`finish_edges`](TaskTable::finish_edges): `k` such that every
    /// dependency of it that has a lower index lies at or before
    /// `task - 2^k` (`2^k` is at most the distance to the latest one, and
    /// more than half of it), or [`NO_REACH`] if it has none. One byte, in
    /// the slot's spare room: a sweep in index order
    /// ([`crate::runtime::sweep`]) runs the task once every task up to
    /// `task - 2^k` is done.
    #[inline]
    pub(crate) fn reach(&self, task: u32) -> u8 {
        self.slots[task as usize].reach
    }

    /// Whether `task` has more than [`HUB_DEGREE`] successors (as of the
    /// last [`finish_edges`](TaskTable::finish_edges)).
    pub(crate) fn is_hub(&self, task: u32) -> bool {
        u32::from(self.slots[task as usize].out_degree) > HUB_DEGREE
    }

    /// The sorted successors of the hubs, if the table has any (as of the
    /// last [`finish_edges`](TaskTable::finish_edges)).
    pub(crate) fn hub_index(&self) -> Option<&HubIndex> {
        (!self.hubs.is_empty()).then_some(&self.hubs)
    }

    /// The tasks that run after `task`, newest edge first, as of the last
    /// [`finish_edges`](TaskTable::finish_edges).
    #[inline]
    pub(crate) fn successors(&self, task: u32) -> Successors<'_> {
        debug_assert_eq!(
            self.settled_links,
            self.links.len(),
            "successors walked before finish_edges"
        );
        self.threaded_successors(task)
    }

    /// The tasks that run after `task`, in the order their edges were added,
    /// those not yet settled included: for reading the structure of a
    /// graph that may have been changed since its last run
    /// ([`Graph::write_dot`](crate::Graph::write_dot)).
    pub(crate) fn successors_as_added(&self, task: u32) -> Vec<u32> {
        let mut successors: Vec<u32> = self.threaded_successors(task).collect();
        // Settled links run newest first; every unsettled one is newer.
        successors.reverse();
        for index in self.settled_links..self.links.len() {
            let link = self.links.get(index).expect("unsettled links exist");
            if link.next == task {
                successors.push(link.to);
            }
        }
        successors
    }

    fn threaded_successors(&self, task: u32) -> Successors<'_> {
        Successors {
            links: &self.links,
            next: self.slots[task as usize].head,
        }
    }

    /// Whether `to` runs after `from` (walks `from`'s successors).
    pub(crate) fn has_edge(&self, from: u32, to: u32) -> bool {
        self.successors(from).any(|successor| successor == to)
    }
}

/// An iterator over one task's successors.
#[derive(Clone, Debug)]
pub(crate) struct Successors<'a> {
    links: &'a Links,
    next: u32,
}

impl Iterator for Successors<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        let link = *self.links.get(self.next as usize)?;
        self.next = link.next;
        Some(link.to)
    }
}

/// The links, in fixed-size blocks that are allocated whole and never
/// moved: a graph's largest array grows without a reallocation copying it,
/// and holds at most one block of unused room instead of up to as much
/// again as it uses (the doubling of a `Vec`), except after a
/// [`clear`](Links::clear), which keeps every block.
#[derive(Debug, Default)]
struct Links {
    blocks: Vec<Vec<Link>>,
    len: usize,
}

impl Links {
    /// Links per block (a power of two): 32 KiB blocks.
    const BLOCK: usize = 1 << 12;

    fn push(&mut self, link: Link) {
        if self.len / Self::BLOCK == self.blocks.len() {
            self.blocks.push(Vec::with_capacity(Self::BLOCK));
        }
        self.blocks[self.len / Self::BLOCK].push(link);
        self.len += 1;
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Removes every link, keeping the blocks (empty) to fill again.
    fn clear(&mut self) {
        for block in &mut self.blocks {
            block.clear();
        }
        self.len = 0;
    }

    #[inline]
    fn get(&self, index: usize) -> Option<&Link> {
        self.blocks
            .get(index / Self::BLOCK)?
            .get(index % Self::BLOCK)
    }

    fn get_mut(&mut self, index: usize) -> Option<&mut Link> {
        self.blocks
            .get_mut(index / Self::BLOCK)?
            .get_mut(index % Self::BLOCK)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::{HUB_DEGREE, TaskTable};

    pub(crate) fn table(task_count: usize, edges: &[(u32, u32)]) -> TaskTable {
        let mut table = TaskTable::default();
        for task in 0..task_count {
            table.add_task(task as u16 % 3);
        }
        for &(from, to) in edges {
            table.add_edge(from, to);
        }
        table.finish_edges();
        table
    }

    fn pending(table: &TaskTable, task: u32) -> u32 {
        table
            .slot(task)
            .pending
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    #[test]
    fn lists_successors_newest_first_with_degrees_and_slots() {
        let diamond = table(4, &[(0, 1), (0, 2), (1, 3), (2, 3)]);
        assert_eq!(diamond.successors(0).collect::<Vec<_>>(), vec![2, 1]);
        assert_eq!(diamond.successors(3).count(), 0);
        assert_eq!(diamond.in_degree(3), 2);
        assert!(!diamond.is_hub(0));
        assert!(diamond.has_edge(2, 3));
        assert!(!diamond.has_edge(3, 2));
        assert!(diamond.hub_index().is_none());
        assert_eq!(diamond.tag(2), 2);
        assert_eq!(pending(&diamond, 3), 2);
    }

    /// A hub's list starts when it passes `HUB_DEGREE` successors and
    /// follows every later edge, in order or not, across runs.
    #[test]
    fn indexes_the_successors_of_hubs() {
        let edges: Vec<(u32, u32)> = (2..=HUB_DEGREE + 2).rev().map(|to| (0, to)).collect();
        let mut graph = table(HUB_DEGREE as usize + 4, &edges);
        let index = graph.hub_index().expect("task 0 is a hub");
        for to in 2..=HUB_DEGREE + 2 {
            assert!(index.has_edge(0, to));
        }
        assert!(!index.has_edge(0, 1));
        assert!(graph.is_hub(0) && !graph.is_hub(2));
        // Far and near edges, some waiting to settle, after the index exists.
        graph.add_edge(0, 1);
        graph.add_edge(0, HUB_DEGREE + 3);
        graph.add_edge(2, 1);
        graph.finish_edges();
        let index = graph.hub_index().expect("still a hub");
        assert!(index.has_edge(0, 1) && index.has_edge(0, HUB_DEGREE + 3));
        assert!(!index.has_edge(2, 1), "2 is no hub");
        assert!(graph.has_edge(2, 1));
        graph.clear();
        assert!(graph.hub_index().is_none());
    }

    /// A task's reach bounds its latest dependency from above by at most
    /// a factor of two of the distance, whatever order edges come in.
    #[test]
    fn reach_bounds_the_latest_dependency() {
        let graph = table(
            20,
            &[(0, 19), (11, 19), (3, 19), (18, 19), (4, 9), (0, 9), (2, 3)],
        );
        assert_eq!(graph.reach(19), 0, "the previous task: 2^0");
        assert_eq!(graph.reach(9), 2, "distance 5: 2^2 <= 5 < 2^3");
        assert_eq!(graph.reach(3), 0);
        assert_eq!(graph.reach(0), super::NO_REACH);
        for task in 0..20u32 {
            let latest = (0..task).rev().find(|&from| graph.has_edge(from, task));
            match latest {
                Some(latest) => {
                    let bound = task - (1 << graph.reach(task));
                    assert!(latest <= bound && task - latest < 2 * (task - bound));
                }
                None => assert_eq!(graph.reach(task), super::NO_REACH),
            }
        }
        assert_eq!(
            std::mem::size_of::<super::Slot>(),
            16,
            "the reach fits the spare byte"
        );
    }

    #[test]
    fn counts_in_degrees_of_new_edges_only_once() {
        let mut graph = table(3, &[(0, 2)]);
        graph.add_edge(1, 2);
        graph.add_edge(0, 1);
        graph.finish_edges();
        graph.finish_edges();
        assert_eq!((graph.in_degree(1), graph.in_degree(2)), (1, 2));
        assert_eq!(pending(&graph, 2), 2);
    }

    /// Edges between far-apart tasks settle late (module docs); once
    /// finished, every list and count is as if each edge had settled at
    /// once, and a list read before finishing already shows every edge.
    #[test]
    fn far_edges_settle_late_into_the_same_lists() {
        // Small enough for Miri, large enough for many edges to wait.
        const TASKS: u32 = if cfg!(miri) { 200 } else { 1000 };
        let mut graph = TaskTable::default();
        for _ in 0..TASKS {
            graph.add_task(0);
        }
        // Pseudo-random far edges and near ones, interleaved, duplicates kept.
        let mut state = 7u32;
        let mut edges = Vec::new();
        for round in 0..3 * TASKS {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let from = if round % 3 == 0 {
                round / 3
            } else {
                state % TASKS
            };
            let to = (state >> 8) % TASKS;
            graph.add_edge(from, to);
            edges.push((from, to));
        }
        assert!(graph.settled_links < edges.len(), "some edges wait");
        for task in [0, 17, TASKS - 1] {
            let declared: Vec<u32> = edges
                .iter()
                .filter(|&&(from, _)| from == task)
                .map(|&(_, to)| to)
                .collect();
            assert_eq!(graph.successors_as_added(task), declared);
        }
        graph.finish_edges();
        for task in 0..TASKS {
            let mut declared: Vec<u32> = edges
                .iter()
                .filter(|&&(from, _)| from == task)
                .map(|&(_, to)| to)
                .collect();
            assert_eq!(graph.successors_as_added(task), declared);
            declared.reverse();
            assert_eq!(graph.successors(task).collect::<Vec<_>>(), declared);
            let in_degree = edges.iter().filter(|&&(_, to)| to == task).count() as u32;
            assert_eq!(graph.in_degree(task), in_degree);
            assert_eq!(pending(&graph, task), in_degree);
        }
    }
}
