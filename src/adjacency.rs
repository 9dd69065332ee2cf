//! [`Adjacency`]: a graph's edges, kept ready to run while the graph is
//! built, so that no compile pass stands between building and running.
//!
//! Successors are stored as a *forward star*: every edge is one 8-byte link
//! (its target and the next link of the same source) in one flat array, and
//! every task holds the index of its newest link. Adding an edge is O(1) and
//! walking a task's successors follows its links, newest first. Per task the
//! structure keeps its in-degree (which also decides whether a successor
//! needs an atomic decrement at all, see [`crate::run`]) and its out-degree.
//!
//! Predecessors are not stored: [`Context::input`](crate::Context::input)
//! checks a declared dependency by walking the dependency's successors,
//! which is short for almost every task. Only a graph with a *hub*, a task
//! with more than [`HUB_DEGREE`] successors, also gets a sorted predecessor
//! index ([`PredecessorIndex`]), built before the run that needs it and kept
//! until the graph changes.

/// No link: the end of a successor list.
const NONE: u32 = u32::MAX;

/// The out-degree above which a task is a hub: dependents of a hub are
/// checked through the predecessor index instead of the hub's list.
pub(crate) const HUB_DEGREE: u32 = 32;

/// One edge in a successor list.
#[derive(Clone, Copy, Debug)]
struct Link {
    /// The task that runs after the list's owner.
    to: u32,
    /// The next (older) link of the same owner, or [`NONE`].
    next: u32,
}

/// Successor lists, in- and out-degrees of every task.
#[derive(Debug, Default)]
pub(crate) struct Adjacency {
    /// Each task's newest link, or [`NONE`].
    heads: Vec<u32>,
    links: Vec<Link>,
    in_degree: Vec<u32>,
    out_degree: Vec<u32>,
    /// Whether some task has more than [`HUB_DEGREE`] successors.
    has_hub: bool,
}

impl Adjacency {
    /// Adds a task without edges.
    pub(crate) fn add_task(&mut self) {
        self.heads.push(NONE);
        self.in_degree.push(0);
        self.out_degree.push(0);
    }

    /// Adds the edge `from -> to`. The caller guarantees both are tasks and
    /// that there are fewer than `u32::MAX` links.
    pub(crate) fn add_edge(&mut self, from: u32, to: u32) {
        let link = self.links.len() as u32;
        self.links.push(Link {
            to,
            next: self.heads[from as usize],
        });
        self.heads[from as usize] = link;
        self.in_degree[to as usize] += 1;
        let out_degree = &mut self.out_degree[from as usize];
        *out_degree += 1;
        self.has_hub |= *out_degree > HUB_DEGREE;
    }

    pub(crate) fn task_count(&self) -> usize {
        self.heads.len()
    }

    pub(crate) fn edge_count(&self) -> usize {
        self.links.len()
    }

    /// The number of edges into `task`, duplicates included.
    pub(crate) fn in_degree(&self, task: u32) -> u32 {
        self.in_degree[task as usize]
    }

    pub(crate) fn out_degree(&self, task: u32) -> u32 {
        self.out_degree[task as usize]
    }

    pub(crate) fn has_hub(&self) -> bool {
        self.has_hub
    }

    /// The tasks that run after `task`, newest edge first.
    pub(crate) fn successors(&self, task: u32) -> Successors<'_> {
        Successors {
            links: &self.links,
            next: self.heads[task as usize],
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
    links: &'a [Link],
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

/// Every task's predecessors, sorted, as compressed sparse rows: task `t`'s
/// are `predecessors[offsets[t]..offsets[t + 1]]`. Built only for graphs
/// with a hub (see the module docs).
#[derive(Debug)]
pub(crate) struct PredecessorIndex {
    offsets: Box<[u32]>,
    predecessors: Box<[u32]>,
}

impl PredecessorIndex {
    pub(crate) fn build(adjacency: &Adjacency) -> Self {
        let task_count = adjacency.task_count();
        let mut offsets = vec![0u32; task_count + 1].into_boxed_slice();
        for task in 0..task_count {
            offsets[task + 1] = offsets[task] + adjacency.in_degree[task];
        }
        let mut cursor = offsets[..task_count].to_vec();
        let mut predecessors = vec![0u32; adjacency.edge_count()].into_boxed_slice();
        // Walking the sources in increasing order leaves every list sorted.
        for from in 0..task_count as u32 {
            for to in adjacency.successors(from) {
                let slot = &mut cursor[to as usize];
                predecessors[*slot as usize] = from;
                *slot += 1;
            }
        }
        PredecessorIndex {
            offsets,
            predecessors,
        }
    }

    /// Whether `to` runs after `from`.
    pub(crate) fn has_edge(&self, from: u32, to: u32) -> bool {
        let to = to as usize;
        self.predecessors[self.offsets[to] as usize..self.offsets[to + 1] as usize]
            .binary_search(&from)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::{Adjacency, HUB_DEGREE, PredecessorIndex};

    fn adjacency(task_count: usize, edges: &[(u32, u32)]) -> Adjacency {
        let mut adjacency = Adjacency::default();
        for _ in 0..task_count {
            adjacency.add_task();
        }
        for &(from, to) in edges {
            adjacency.add_edge(from, to);
        }
        adjacency
    }

    #[test]
    fn lists_successors_newest_first_with_degrees() {
        let diamond = adjacency(4, &[(0, 1), (0, 2), (1, 3), (2, 3)]);
        assert_eq!(diamond.successors(0).collect::<Vec<_>>(), vec![2, 1]);
        assert_eq!(diamond.successors(3).count(), 0);
        assert_eq!(diamond.in_degree(3), 2);
        assert_eq!(diamond.out_degree(0), 2);
        assert!(diamond.has_edge(2, 3));
        assert!(!diamond.has_edge(3, 2));
        assert!(!diamond.has_hub());
    }

    #[test]
    fn indexes_predecessors_of_hubs_sorted() {
        let mut edges: Vec<(u32, u32)> = (1..=HUB_DEGREE + 1).map(|to| (0, to)).collect();
        edges.push((5, 1));
        edges.push((2, 1));
        let graph = adjacency(HUB_DEGREE as usize + 2, &edges);
        assert!(graph.has_hub());
        let index = PredecessorIndex::build(&graph);
        for from in [0, 2, 5] {
            assert!(index.has_edge(from, 1));
        }
        assert!(!index.has_edge(3, 1));
        assert!(index.has_edge(0, HUB_DEGREE + 1));
    }
}
