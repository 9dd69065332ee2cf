//! Critical-path ranks: each task's longest weighted path to the end of
//! the graph, ninja 1.12's rule with the caller's weights.
//!
//! A task's rank is its own weight plus the largest rank among its
//! successors (a task without successors ranks its weight): the time the
//! rest of the graph needs after the task starts, if every task took its
//! weight and workers were plenty. Starting the ready task of highest rank
//! first keeps the longest chain busy, which bounds the makespan from
//! below.
//!
//! The ranks are computed without recursion, in one pass over a reverse
//! topological order: the tasks by decreasing index for a graph whose edges
//! all point forward, otherwise an order found by Kahn's algorithm. Sums
//! saturate at `u64::MAX`.

use crate::graph::table::TaskTable;

/// The rank of every task of `table` (an acyclic table), by index.
pub(crate) fn longest_paths(
    table: &TaskTable,
    in_index_order: bool,
    weight: impl Fn(u32) -> u64,
) -> Box<[u64]> {
    let tasks = table.task_count() as u32;
    let mut ranks = vec![0u64; tasks as usize].into_boxed_slice();
    let rank_of = |task: u32, ranks: &mut [u64]| {
        let longest_after = table
            .successors(task)
            .map(|successor| ranks[successor as usize])
            .max()
            .unwrap_or(0);
        ranks[task as usize] = weight(task).saturating_add(longest_after);
    };
    if in_index_order {
        for task in (0..tasks).rev() {
            rank_of(task, &mut ranks);
        }
    } else {
        for &task in topological_order(table).iter().rev() {
            rank_of(task, &mut ranks);
        }
    }
    ranks
}

/// Every task of the acyclic `table`, each after all of its dependencies
/// (Kahn's algorithm).
fn topological_order(table: &TaskTable) -> Vec<u32> {
    let tasks = table.task_count() as u32;
    let mut waiting: Vec<u32> = (0..tasks).map(|task| table.in_degree(task)).collect();
    let mut order: Vec<u32> = (0..tasks)
        .filter(|&task| waiting[task as usize] == 0)
        .collect();
    let mut next = 0;
    while let Some(&task) = order.get(next) {
        next += 1;
        for successor in table.successors(task) {
            let count = &mut waiting[successor as usize];
            *count -= 1;
            if *count == 0 {
                order.push(successor);
            }
        }
    }
    debug_assert_eq!(order.len(), tasks as usize, "the table has a cycle");
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    /// a -> b -> d, a -> c -> d with weights 1, 5, 2, 1: the path through
    /// `b` is the longest, in either order of traversal.
    #[test]
    fn a_rank_is_the_longest_weighted_path_to_the_end() {
        let mut table = TaskTable::default();
        for _ in 0..4 {
            table.add_task(0);
        }
        for (from, to) in [(0, 1), (0, 2), (1, 3), (2, 3)] {
            table.add_edge(from, to);
        }
        table.finish_edges();
        let weights = [1, 5, 2, 1];
        for in_index_order in [true, false] {
            let ranks = longest_paths(&table, in_index_order, |task| weights[task as usize]);
            assert_eq!(&*ranks, &[7, 6, 3, 1]);
        }
    }

    /// A backward edge: Kahn's order handles what index order cannot.
    #[test]
    fn ranks_follow_edges_that_point_backward() {
        let mut table = TaskTable::default();
        for _ in 0..3 {
            table.add_task(0);
        }
        table.add_edge(2, 1);
        table.add_edge(1, 0);
        table.finish_edges();
        let ranks = longest_paths(&table, false, |_| 2);
        assert_eq!(&*ranks, &[2, 4, 6]);
    }
}
