//! Stress tests: many random graphs over several tags, run from several
//! threads at once on one executor, with failures and cancellations mixed in.
//!
//! They run with the normal suite, and are what ThreadSanitizer runs:
//!
//! ```text
//! RUSTFLAGS="-Zsanitizer=thread" cargo +nightly test -Zbuild-std \
//!     --target x86_64-unknown-linux-gnu --test stress
//! ```
//!
//! `TASKFLOW_STRESS_ROUNDS` sets the rounds per caller thread (default 400).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Rng, watchdog_for};
use taskflow_engine::{
    CancelToken, Context, Executor, FailurePolicy, Graph, Outcome, RunOptions, Task, TaskId,
};

const TAGS: [&str; 3] = ["a", "b", "c"];

fn rounds() -> usize {
    std::env::var("TASKFLOW_STRESS_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(400)
}

/// A random graph: each task depends on up to three earlier tasks, picks a
/// tag, and returns its index plus the sum of its inputs. `failing` names the
/// task that returns an error instead, if any.
struct RandomGraph {
    graph: Graph<'static>,
    tasks: Vec<TaskId<u64>>,
    dependencies: Vec<Vec<usize>>,
    runs: Arc<Vec<AtomicUsize>>,
}

impl RandomGraph {
    fn new(rng: &mut Rng, size: usize, failing: Option<usize>) -> Self {
        let runs: Arc<Vec<AtomicUsize>> =
            Arc::new((0..size).map(|_| AtomicUsize::new(0)).collect());
        let mut graph = Graph::new();
        let mut tasks: Vec<TaskId<u64>> = Vec::with_capacity(size);
        let mut dependencies = Vec::with_capacity(size);
        for index in 0..size {
            let mut inputs: Vec<usize> = (0..rng.below(4).min(index))
                .map(|_| rng.below(index))
                .collect();
            inputs.sort_unstable();
            inputs.dedup();
            let reads: Vec<TaskId<u64>> = inputs.iter().map(|&input| tasks[input]).collect();
            let runs = Arc::clone(&runs);
            let task = Task::new("random", move |cx: &Context<'_>| {
                runs[index].fetch_add(1, Ordering::Relaxed);
                if failing == Some(index) {
                    return Err("planted failure".into());
                }
                let mut sum = index as u64;
                for &read in &reads {
                    sum += *cx.input(read)?;
                }
                Ok(sum)
            })
            .tag(TAGS[rng.below(TAGS.len())])
            .after_all(inputs.iter().map(|&input| tasks[input]));
            tasks.push(graph.add(task));
            dependencies.push(inputs);
        }
        RandomGraph {
            graph,
            tasks,
            dependencies,
            runs,
        }
    }

    /// What each task returns when every task succeeds.
    fn expected_outputs(&self) -> Vec<u64> {
        let mut outputs: Vec<u64> = Vec::with_capacity(self.tasks.len());
        for (index, inputs) in self.dependencies.iter().enumerate() {
            let sum = index as u64 + inputs.iter().map(|&input| outputs[input]).sum::<u64>();
            outputs.push(sum);
        }
        outputs
    }

    /// Whether each task depends, directly or not, on `failed`.
    fn downstream_of(&self, failed: usize) -> Vec<bool> {
        let mut below = vec![false; self.tasks.len()];
        for (index, inputs) in self.dependencies.iter().enumerate() {
            below[index] = inputs.iter().any(|&input| input == failed || below[input]);
        }
        below
    }
}

/// Several threads run random graphs on one executor; every run's outcomes
/// and outputs match a sequential calculation, and every task runs at most
/// once per run.
#[test]
fn random_graphs_from_several_threads() {
    watchdog_for(std::time::Duration::from_secs(300), || {
        let executor = Arc::new(
            Executor::builder()
                .workers_per_tag(2)
                .tag_workers("c", 1)
                .build()
                .expect("builds"),
        );
        let callers: Vec<_> = (0..3u64)
            .map(|caller| {
                let executor = Arc::clone(&executor);
                std::thread::spawn(move || {
                    let mut rng = Rng::new(caller + 1);
                    for _ in 0..rounds() {
                        let size = 1 + rng.below(120);
                        let failing = rng.chance(1, 3).then(|| rng.below(size));
                        let mut random = RandomGraph::new(&mut rng, size, failing);
                        let options = RunOptions::new().policy(FailurePolicy::KeepGoing);
                        let report = executor
                            .run_with(&mut random.graph, options)
                            .expect("random graphs are acyclic");
                        check_keep_going(&random, &report, failing);
                    }
                })
            })
            .collect();
        for caller in callers {
            caller.join().expect("a caller's checks hold");
        }
    });
}

fn check_keep_going(
    random: &RandomGraph,
    report: &taskflow_engine::RunReport,
    failing: Option<usize>,
) {
    let expected = random.expected_outputs();
    let skipped = failing.map(|failed| random.downstream_of(failed));
    for (index, &task) in random.tasks.iter().enumerate() {
        let runs = random.runs[index].load(Ordering::Relaxed);
        let is_skipped = skipped.as_ref().is_some_and(|below| below[index]);
        match report.outcome(task) {
            Outcome::Succeeded => {
                assert!(failing != Some(index) && !is_skipped);
                assert_eq!(runs, 1, "task {index} ran {runs} times");
                assert_eq!(random.graph.output(task), Some(&expected[index]));
            }
            Outcome::Failed(_) => {
                assert_eq!(failing, Some(index));
                assert_eq!(runs, 1, "failed task {index} ran {runs} times");
            }
            Outcome::Skipped => {
                assert!(
                    is_skipped,
                    "task {index} skipped without a failed dependency"
                );
                assert_eq!(runs, 0, "skipped task {index} ran");
            }
            other => panic!("task {index} ended {other:?} under keep-going"),
        }
    }
}

/// Runs cancelled from another thread at random moments: counts add up,
/// tasks that ran succeeded, tasks that did not are cancelled, and a task
/// never runs unless all its dependencies succeeded.
#[test]
fn cancellation_at_random_moments() {
    watchdog_for(std::time::Duration::from_secs(300), || {
        let executor = Executor::builder()
            .workers_per_tag(2)
            .build()
            .expect("builds");
        let mut rng = Rng::new(99);
        for _ in 0..rounds() {
            let size = 1 + rng.below(150);
            let mut random = RandomGraph::new(&mut rng, size, None);
            let token = CancelToken::new();
            let canceller = {
                let token = token.clone();
                let spins = rng.below(20_000);
                std::thread::spawn(move || {
                    for _ in 0..spins {
                        std::hint::spin_loop();
                    }
                    token.cancel();
                })
            };
            let report = executor
                .run_with(&mut random.graph, RunOptions::new().cancel_token(token))
                .expect("random graphs are acyclic");
            canceller.join().expect("the canceller does not panic");
            assert_eq!(report.succeeded() + report.cancelled(), size, "{report:?}");
            for (index, &task) in random.tasks.iter().enumerate() {
                let runs = random.runs[index].load(Ordering::Relaxed);
                match report.outcome(task) {
                    Outcome::Succeeded => {
                        assert_eq!(runs, 1);
                        for &input in &random.dependencies[index] {
                            assert!(report.outcome(random.tasks[input]).is_success());
                        }
                    }
                    Outcome::Cancelled => assert_eq!(runs, 0, "cancelled task {index} ran"),
                    other => panic!("task {index} ended {other:?}"),
                }
            }
        }
    });
}
