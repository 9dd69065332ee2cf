//! The compiled shape of a graph: successor and predecessor lists in flat
//! arrays (CSR), the source tasks grouped by tag, and cycle detection.
//!
//! A graph compiles its edge list into a `Topology` on its first run and keeps
//! it for later runs until it is changed again.

/// A dependency edge: `to` runs after `from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Edge {
    pub(crate) from: u32,
    pub(crate) to: u32,
}

/// Successors and predecessors of every task as compressed sparse rows.
///
/// Task `i`'s successors are `successors[successor_offsets[i]..successor_offsets[i + 1]]`,
/// likewise for predecessors, which are sorted so that membership is a
/// binary search. Duplicate edges are kept: a task that depends twice on
/// another simply counts it twice.
#[derive(Debug)]
pub(crate) struct Topology {
    successor_offsets: Box<[u32]>,
    successors: Box<[u32]>,
    predecessor_offsets: Box<[u32]>,
    predecessors: Box<[u32]>,
    /// Tasks without predecessors, grouped by tag index.
    sources: Box<[u32]>,
    /// `sources[source_offsets[t]..source_offsets[t + 1]]` are tag `t`'s.
    source_offsets: Box<[u32]>,
}

impl Topology {
    /// Compiles `edges` between `task_tags.len()` tasks. The caller guarantees
    /// that every endpoint is a valid task index, that there are at most
    /// `u32::MAX` edges, and that every tag index is below `tag_count`.
    pub(crate) fn build(task_tags: &[u32], tag_count: usize, edges: &[Edge]) -> Topology {
        let task_count = task_tags.len();
        let successor_offsets = offsets(task_count, edges.iter().map(|edge| edge.from));
        let mut successors = vec![0u32; edges.len()].into_boxed_slice();
        let mut cursor = successor_offsets[..task_count].to_vec();
        for edge in edges {
            let slot = &mut cursor[edge.from as usize];
            successors[*slot as usize] = edge.to;
            *slot += 1;
        }

        let predecessor_offsets = offsets(task_count, edges.iter().map(|edge| edge.to));
        let mut predecessors = vec![0u32; edges.len()].into_boxed_slice();
        let mut cursor = predecessor_offsets[..task_count].to_vec();
        // Walking the sources in increasing order leaves every predecessor
        // list sorted.
        for from in 0..task_count {
            let range = successor_offsets[from] as usize..successor_offsets[from + 1] as usize;
            for &to in &successors[range] {
                let slot = &mut cursor[to as usize];
                predecessors[*slot as usize] = from as u32;
                *slot += 1;
            }
        }

        let is_source = |task: usize| predecessor_offsets[task] == predecessor_offsets[task + 1];
        let source_offsets = offsets(
            tag_count,
            (0..task_count)
                .filter(|&task| is_source(task))
                .map(|task| task_tags[task]),
        );
        let mut sources = vec![0u32; source_offsets[tag_count] as usize].into_boxed_slice();
        let mut cursor = source_offsets[..tag_count].to_vec();
        for task in (0..task_count).filter(|&task| is_source(task)) {
            let slot = &mut cursor[task_tags[task] as usize];
            sources[*slot as usize] = task as u32;
            *slot += 1;
        }

        Topology {
            successor_offsets,
            successors,
            predecessor_offsets,
            predecessors,
            sources,
            source_offsets,
        }
    }

    pub(crate) fn task_count(&self) -> usize {
        self.successor_offsets.len() - 1
    }

    pub(crate) fn successors(&self, task: u32) -> &[u32] {
        let task = task as usize;
        &self.successors
            [self.successor_offsets[task] as usize..self.successor_offsets[task + 1] as usize]
    }

    pub(crate) fn predecessors(&self, task: u32) -> &[u32] {
        let task = task as usize;
        &self.predecessors
            [self.predecessor_offsets[task] as usize..self.predecessor_offsets[task + 1] as usize]
    }

    /// The number of edges into `task`, duplicates included.
    pub(crate) fn in_degree(&self, task: usize) -> u32 {
        self.predecessor_offsets[task + 1] - self.predecessor_offsets[task]
    }

    /// The positions in the source list of tag `tag`'s tasks without
    /// predecessors.
    pub(crate) fn source_positions(&self, tag: usize) -> std::ops::Range<u32> {
        self.source_offsets[tag]..self.source_offsets[tag + 1]
    }

    /// The source task at `position` of the source list.
    pub(crate) fn source_at(&self, position: u32) -> u32 {
        self.sources[position as usize]
    }

    /// The edges, in order of their source task, for turning a compiled graph
    /// back into an editable edge list.
    pub(crate) fn edges(&self) -> impl Iterator<Item = Edge> + '_ {
        (0..self.task_count() as u32).flat_map(move |from| {
            self.successors(from)
                .iter()
                .map(move |&to| Edge { from, to })
        })
    }

    /// The tasks that lie on a cycle, in increasing order; empty when the
    /// graph is acyclic.
    ///
    /// Kahn's algorithm first peels off every task that is not on or below a
    /// cycle; Tarjan's algorithm then finds, among the rest, the strongly
    /// connected components with an internal edge. A task lies on a cycle
    /// exactly when its component has two or more tasks or a self-edge.
    /// Both passes are iterative, so deep graphs cannot overflow the stack.
    pub(crate) fn tasks_on_cycles(&self) -> Vec<u32> {
        let task_count = self.task_count();
        let mut remaining_in: Vec<u32> = (0..task_count).map(|t| self.in_degree(t)).collect();
        let mut ready: Vec<u32> = (0..task_count as u32)
            .filter(|&t| remaining_in[t as usize] == 0)
            .collect();
        let mut peeled = vec![false; task_count];
        while let Some(task) = ready.pop() {
            peeled[task as usize] = true;
            for &next in self.successors(task) {
                remaining_in[next as usize] -= 1;
                if remaining_in[next as usize] == 0 {
                    ready.push(next);
                }
            }
        }
        if peeled.iter().all(|&done| done) {
            return Vec::new();
        }
        let mut on_cycle = self.strongly_connected(|task| !peeled[task as usize]);
        on_cycle.sort_unstable();
        on_cycle
    }

    /// Tarjan's algorithm over the tasks that `include` accepts; returns the
    /// tasks of every component that contains a cycle.
    fn strongly_connected(&self, include: impl Fn(u32) -> bool) -> Vec<u32> {
        let mut search = Tarjan::new(self.task_count());
        for root in 0..self.task_count() as u32 {
            if include(root) && !search.visited(root) {
                search.run_from(self, root, &include);
            }
        }
        search.on_cycle
    }
}

/// The state of Tarjan's strongly-connected-components search, with an
/// explicit call stack instead of recursion.
struct Tarjan {
    /// Visit order of each task, `UNVISITED` before its visit.
    order: Vec<u32>,
    low_link: Vec<u32>,
    on_stack: Vec<bool>,
    stack: Vec<u32>,
    /// Frames of the depth-first search: (task, successors tried so far).
    calls: Vec<(u32, usize)>,
    next_order: u32,
    on_cycle: Vec<u32>,
}

impl Tarjan {
    const UNVISITED: u32 = u32::MAX;

    fn new(task_count: usize) -> Self {
        Tarjan {
            order: vec![Self::UNVISITED; task_count],
            low_link: vec![0; task_count],
            on_stack: vec![false; task_count],
            stack: Vec::new(),
            calls: Vec::new(),
            next_order: 0,
            on_cycle: Vec::new(),
        }
    }

    fn visited(&self, task: u32) -> bool {
        self.order[task as usize] != Self::UNVISITED
    }

    fn visit(&mut self, task: u32) {
        self.order[task as usize] = self.next_order;
        self.low_link[task as usize] = self.next_order;
        self.next_order += 1;
        self.stack.push(task);
        self.on_stack[task as usize] = true;
        self.calls.push((task, 0));
    }

    fn run_from(&mut self, topology: &Topology, root: u32, include: &impl Fn(u32) -> bool) {
        self.visit(root);
        while let Some(frame) = self.calls.last_mut() {
            let (task, tried) = *frame;
            let successors = topology.successors(task);
            if let Some(&next) = successors.get(tried) {
                frame.1 += 1;
                if !include(next) {
                    continue;
                }
                if !self.visited(next) {
                    self.visit(next);
                } else if self.on_stack[next as usize] {
                    let low = self.low_link[task as usize].min(self.order[next as usize]);
                    self.low_link[task as usize] = low;
                }
                continue;
            }
            self.calls.pop();
            if let Some(&(parent, _)) = self.calls.last() {
                let low = self.low_link[parent as usize].min(self.low_link[task as usize]);
                self.low_link[parent as usize] = low;
            }
            if self.low_link[task as usize] == self.order[task as usize] {
                let start = self
                    .stack
                    .iter()
                    .rposition(|&member| member == task)
                    .expect("a component's root is on the stack");
                let component = self.stack.split_off(start);
                for &member in &component {
                    self.on_stack[member as usize] = false;
                }
                if component.len() > 1 || successors.contains(&task) {
                    self.on_cycle.extend(component);
                }
            }
        }
    }
}

/// CSR offsets for `len` rows from the row of every entry.
fn offsets(len: usize, rows: impl Iterator<Item = u32>) -> Box<[u32]> {
    let mut offsets = vec![0u32; len + 1].into_boxed_slice();
    for row in rows {
        offsets[row as usize + 1] += 1;
    }
    for row in 0..len {
        offsets[row + 1] += offsets[row];
    }
    offsets
}

#[cfg(test)]
mod tests {
    use super::{Edge, Topology};

    fn topology(task_count: usize, edges: &[(u32, u32)]) -> Topology {
        let edges: Vec<Edge> = edges.iter().map(|&(from, to)| Edge { from, to }).collect();
        Topology::build(&vec![0; task_count], 1, &edges)
    }

    fn sources(topology: &Topology, tag: usize) -> Vec<u32> {
        topology
            .source_positions(tag)
            .map(|position| topology.source_at(position))
            .collect()
    }

    #[test]
    fn lists_successors_predecessors_and_sources() {
        let diamond = topology(4, &[(0, 2), (0, 1), (1, 3), (2, 3)]);
        assert_eq!(diamond.successors(0), &[2, 1]);
        assert_eq!(diamond.predecessors(3), &[1, 2]);
        assert_eq!(diamond.in_degree(3), 2);
        assert_eq!(sources(&diamond, 0), vec![0]);
        assert_eq!(diamond.edges().count(), 4);
        assert!(diamond.tasks_on_cycles().is_empty());
    }

    #[test]
    fn groups_sources_by_tag() {
        let edges = [Edge { from: 0, to: 1 }];
        let topology = Topology::build(&[1, 0, 0, 1], 2, &edges);
        assert_eq!(sources(&topology, 0), vec![2]);
        assert_eq!(sources(&topology, 1), vec![0, 3]);
    }

    #[test]
    fn names_only_tasks_on_cycles() {
        // 0 -> 1 -> 2 -> 1 is a cycle; 3 hangs below it; 4 has a self-edge;
        // 5 -> 6 is acyclic.
        let graph = topology(7, &[(0, 1), (1, 2), (2, 1), (2, 3), (4, 4), (5, 6)]);
        assert_eq!(graph.tasks_on_cycles(), vec![1, 2, 4]);
    }

    #[test]
    fn finds_a_long_cycle_without_recursion() {
        let length: u32 = if cfg!(miri) { 500 } else { 200_000 };
        let mut edges: Vec<(u32, u32)> = (0..length - 1).map(|t| (t, t + 1)).collect();
        edges.push((length - 1, 0));
        assert_eq!(
            topology(length as usize, &edges).tasks_on_cycles().len(),
            length as usize
        );
    }
}
