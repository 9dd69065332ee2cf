//! Cycle detection: which tasks of a graph lie on a cycle.
//!
//! Kahn's algorithm first peels off every task that is not on or below a
//! cycle; Tarjan's algorithm then finds, among the rest, the strongly
//! connected components with an internal edge. A task lies on a cycle
//! exactly when its component has two or more tasks or a self-edge. Both
//! passes are iterative, so deep graphs cannot overflow the stack.

use crate::graph::table::{Successors, TaskTable};

/// The tasks that lie on a cycle, in increasing order; empty when the graph
/// is acyclic.
pub(crate) fn tasks_on_cycles(table: &TaskTable) -> Vec<u32> {
    let task_count = table.task_count();
    let mut remaining_in: Vec<u32> = (0..task_count as u32)
        .map(|task| table.in_degree(task))
        .collect();
    let mut ready: Vec<u32> = (0..task_count as u32)
        .filter(|&task| remaining_in[task as usize] == 0)
        .collect();
    let mut peeled = vec![false; task_count];
    while let Some(task) = ready.pop() {
        peeled[task as usize] = true;
        for next in table.successors(task) {
            remaining_in[next as usize] -= 1;
            if remaining_in[next as usize] == 0 {
                ready.push(next);
            }
        }
    }
    if peeled.iter().all(|&done| done) {
        return Vec::new();
    }
    let mut search = Tarjan::new(table, |task| !peeled[task as usize]);
    for root in 0..task_count as u32 {
        if (search.include)(root) && !search.visited(root) {
            search.run_from(root);
        }
    }
    let mut on_cycle = search.on_cycle;
    on_cycle.sort_unstable();
    on_cycle
}

/// The state of Tarjan's strongly-connected-components search over the
/// tasks that `include` accepts, with an explicit call stack.
struct Tarjan<'a, F> {
    table: &'a TaskTable,
    include: F,
    /// Visit order of each task, `UNVISITED` before its visit.
    order: Vec<u32>,
    low_link: Vec<u32>,
    on_stack: Vec<bool>,
    stack: Vec<u32>,
    /// Frames of the depth-first search: a task and its untried successors.
    calls: Vec<(u32, Successors<'a>)>,
    next_order: u32,
    on_cycle: Vec<u32>,
}

impl<'a, F: Fn(u32) -> bool> Tarjan<'a, F> {
    const UNVISITED: u32 = u32::MAX;

    fn new(table: &'a TaskTable, include: F) -> Self {
        let task_count = table.task_count();
        Tarjan {
            table,
            include,
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
        self.calls.push((task, self.table.successors(task)));
    }

    fn run_from(&mut self, root: u32) {
        self.visit(root);
        while let Some((task, untried)) = self.calls.last_mut() {
            let (task, step) = (*task, untried.next());
            if let Some(next) = step {
                if !(self.include)(next) {
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
                self.close_component(task);
            }
        }
    }

    /// Pops the component rooted at `root` off the stack, keeping its tasks
    /// if it contains a cycle.
    fn close_component(&mut self, root: u32) {
        let start = self
            .stack
            .iter()
            .rposition(|&member| member == root)
            .expect("a component's root is on the stack");
        let component = self.stack.split_off(start);
        for &member in &component {
            self.on_stack[member as usize] = false;
        }
        if component.len() > 1 || self.table.has_edge(root, root) {
            self.on_cycle.extend(component);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tasks_on_cycles;
    use crate::graph::table::tests::table;

    #[test]
    fn an_acyclic_graph_has_none() {
        let diamond = table(4, &[(0, 1), (0, 2), (1, 3), (2, 3), (0, 3)]);
        assert!(tasks_on_cycles(&diamond).is_empty());
    }

    #[test]
    fn names_only_tasks_on_cycles() {
        // 0 -> 1 -> 2 -> 1 is a cycle; 3 hangs below it; 4 has a self-edge;
        // 5 -> 6 is acyclic.
        let graph = table(7, &[(0, 1), (1, 2), (2, 1), (2, 3), (4, 4), (5, 6)]);
        assert_eq!(tasks_on_cycles(&graph), vec![1, 2, 4]);
    }

    #[test]
    fn finds_a_long_cycle_without_recursion() {
        let length: u32 = if cfg!(miri) { 500 } else { 200_000 };
        let mut edges: Vec<(u32, u32)> = (0..length - 1).map(|t| (t, t + 1)).collect();
        edges.push((length - 1, 0));
        assert_eq!(
            tasks_on_cycles(&table(length as usize, &edges)).len(),
            length as usize
        );
    }
}
