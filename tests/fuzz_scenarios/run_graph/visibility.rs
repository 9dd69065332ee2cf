//! No task started after a stop was visible to it, and every worker is one
//! thread of one pool: the checks that go by thread, over the events every
//! body recorded (module docs of [`super`], "What visible means here").

use std::collections::HashMap;
use std::sync::atomic::Ordering::SeqCst;

use taskflow_engine::FailurePolicy;

use super::checker::Actual;
use super::input::{RunSpec, TokenMode};
use super::oracle::Verdict;
use super::records::lock;

/// One event of a body on its thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// The body started.
    Start,
    /// A spawn, or a wait's start or end, inside the body.
    Inside,
    /// The body ended.
    End,
}

/// Checks one run's starts against its stops, by thread.
pub fn check(actual: &Actual<'_>, run: &RunSpec, violations: &mut Vec<String>) {
    let state = actual.state;
    let nodes = actual.layout.nodes.len();
    let started: Vec<usize> = (0..nodes).filter(|&n| actual.started(n)).collect();
    let end = |n: usize| state.nodes[n].end.load(SeqCst);
    if state.token_in_run && run.token == TokenMode::PreCancelled {
        for &node in &started {
            violations.push(format!(
                "{}: started although the run's token was cancelled before the run",
                actual.name(node)
            ));
        }
        return;
    }
    // The first event known to follow a stop.
    let stop_event = started
        .iter()
        .copied()
        .filter(|&n| end(n) != 0)
        .filter(|&n| {
            (state.token_in_run && state.nodes[n].cancelled_token.load(SeqCst))
                || state.nodes[n].saw_stop.load(SeqCst)
        })
        .map(|n| (end(n), n))
        .min();

    // A worker (pool and index) is one thread, and a thread serves one pool.
    let mut worker_threads: HashMap<(usize, usize), (u64, usize)> = HashMap::new();
    let mut thread_pools: HashMap<u64, (usize, usize)> = HashMap::new();
    let mut threads: HashMap<u64, Vec<(u64, Event, usize)>> = HashMap::new();
    for &node in &started {
        let record = &state.nodes[node];
        let pool = actual.layout.nodes[node].pool;
        let worker = (pool, record.worker.load(SeqCst));
        let thread = record.thread.load(SeqCst);
        let (known, first) = *worker_threads.entry(worker).or_insert((thread, node));
        if known != thread {
            violations.push(format!(
                "{}: ran on worker {worker:?} on another thread than {} did",
                actual.name(node),
                actual.name(first)
            ));
        }
        let (known_pool, first) = *thread_pools.entry(thread).or_insert((pool, node));
        if known_pool != pool {
            violations.push(format!(
                "{}: ran on pool {pool} on the thread that ran {} of pool {known_pool}: a worker ran another tag's task",
                actual.name(node),
                actual.name(first)
            ));
        }
        let events = threads.entry(thread).or_default();
        events.push((record.start.load(SeqCst), Event::Start, node));
        events.extend(
            lock(&record.events)
                .iter()
                .map(|&tick| (tick, Event::Inside, node)),
        );
        if end(node) != 0 {
            events.push((end(node), Event::End, node));
        }
    }
    let fail_fast = run.policy == FailurePolicy::FailFast;
    for events in threads.values_mut() {
        events.sort_unstable();
        let mut previous = 0;
        let mut failed_here: Option<usize> = None;
        for &(clock, event, node) in events.iter() {
            if event == Event::Start {
                if let Some(failed) = failed_here.filter(|_| fail_fast) {
                    violations.push(format!(
                        "{}: started (event {clock}) on the thread where {} had already failed \
                         under fail-fast (ended at event {})",
                        actual.name(node),
                        actual.name(failed),
                        end(failed)
                    ));
                }
                if let Some((stop, stopper)) = stop_event {
                    let (pre, via) = decided_after(actual, node, previous);
                    if pre >= stop {
                        violations.push(format!(
                            "{}: started (event {clock}) after {via} (event {pre}), which \
                             happens after {} {} (event {stop})",
                            actual.name(node),
                            actual.name(stopper),
                            if state.nodes[stopper].cancelled_token.load(SeqCst) {
                                "cancelled the run's token"
                            } else {
                                "saw is_cancelled()"
                            }
                        ));
                    }
                }
            } else if event == Event::End
                && matches!(actual.verdicts[node], Some(Verdict::Failed(_)))
            {
                failed_here = Some(node);
            }
            previous = clock;
        }
    }
}

/// The latest event known to happen before the engine decided to run
/// `node`, whose thread's previous event was `previous`: that one, the
/// end of every task of its dependencies' subtrees, and its spawn.
fn decided_after(actual: &Actual<'_>, node: usize, previous: u64) -> (u64, String) {
    let state = actual.state;
    let mut latest = (previous, "the previous event on its thread".to_owned());
    for &dependency in actual.dependencies(node) {
        for member in actual.subtree(dependency) {
            let end = state.nodes[member].end.load(SeqCst);
            if end > latest.0 {
                latest = (
                    end,
                    format!(
                        "the end of {} (its dependency's subtree)",
                        actual.name(member)
                    ),
                );
            }
        }
    }
    let spawned_at = state.nodes[node].spawned_at.load(SeqCst);
    if spawned_at > latest.0 {
        latest = (spawned_at, "its spawn".to_owned());
    }
    latest
}
