//! Dependencies: every task runs exactly once per run, only after all of its
//! dependencies succeeded, and reads their outputs through its context;
//! outputs reach the caller; large chains and fan-outs; tags mixed freely.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use common::{Rng, executor, watchdog};
use taskflow_engine::{
    Context, Error, Executor, FailurePolicy, Graph, InputError, Outcome, RunOptions, Tag, Task,
    TaskError, TaskId,
};

const MODULUS: u64 = 1_000_003;

/// What a random-DAG task checks and records while it runs.
struct Probe {
    started: Vec<AtomicU32>,
    done: Vec<AtomicBool>,
    violations: AtomicUsize,
}

impl Probe {
    fn new(size: usize) -> Arc<Self> {
        Arc::new(Probe {
            started: (0..size).map(|_| AtomicU32::new(0)).collect(),
            done: (0..size).map(|_| AtomicBool::new(false)).collect(),
            violations: AtomicUsize::new(0),
        })
    }

    /// Called by task `index` as it starts: a second start, or a dependency
    /// in `deps` that has not finished, is a violation.
    fn start(&self, index: usize, deps: &[usize]) {
        if self.started[index].fetch_add(1, Ordering::SeqCst) != 0 {
            self.violations.fetch_add(1, Ordering::SeqCst);
        }
        for &dep in deps {
            if !self.done[dep].load(Ordering::Acquire) {
                self.violations.fetch_add(1, Ordering::SeqCst);
            }
        }
    }

    /// Called by task `index` as it finishes.
    fn finish(&self, index: usize) {
        self.done[index].store(true, Ordering::Release);
    }

    /// Forgets the previous run.
    fn reset(&self) {
        for (started, done) in self.started.iter().zip(&self.done) {
            started.store(0, Ordering::SeqCst);
            done.store(false, Ordering::SeqCst);
        }
    }

    /// Asserts that the run (named `what` in messages) started every task
    /// exactly once, after its dependencies, and left the expected outputs.
    fn assert_ran_once(&self, what: &str, graph: &Graph, ids: &[TaskId<u64>], expected: &[u64]) {
        assert_eq!(self.violations.load(Ordering::SeqCst), 0, "{what}");
        for (index, id) in ids.iter().enumerate() {
            let runs = self.started[index].load(Ordering::SeqCst);
            assert_eq!(runs, 1, "{what} t{index}");
            assert_eq!(graph.output(*id), Some(&expected[index]), "{what} t{index}");
        }
    }
}

/// Builds a random DAG of `size` tasks over `tags`, where each task depends
/// on up to 4 earlier tasks (through `after` or `precede`, at random) and
/// outputs `(index + sum of its inputs) % MODULUS`. Returns the graph, the
/// handles, the probe and the expected outputs.
fn random_dag(
    seed: u64,
    size: usize,
    tags: &[&'static str],
) -> (Graph<'static>, Vec<TaskId<u64>>, Arc<Probe>, Vec<u64>) {
    let mut rng = Rng::new(seed);
    let probe = Probe::new(size);
    let mut graph = Graph::new();
    let mut ids: Vec<TaskId<u64>> = Vec::with_capacity(size);
    let mut expected: Vec<u64> = Vec::with_capacity(size);
    for index in 0..size {
        let mut deps: Vec<usize> = Vec::new();
        if index > 0 {
            for _ in 0..rng.below(5) {
                // Mostly recent tasks, sometimes far back.
                let dep = if rng.chance(1, 2) {
                    index - 1 - rng.below(index.min(8))
                } else {
                    rng.below(index)
                };
                if !deps.contains(&dep) {
                    deps.push(dep);
                }
            }
        }
        let dep_ids: Vec<TaskId<u64>> = deps.iter().map(|&dep| ids[dep]).collect();
        let (declared, preceded) = dep_ids.split_at(rng.below(dep_ids.len() + 1));
        let probe_in_task = Arc::clone(&probe);
        let deps_in_task = deps.clone();
        let reads = dep_ids.clone();
        let mut task = Task::new(format!("t{index}"), move |cx: &Context<'_>| {
            probe_in_task.start(index, &deps_in_task);
            let mut sum = index as u64;
            for &dep in &reads {
                sum += *cx.input(dep)?;
            }
            probe_in_task.finish(index);
            Ok(sum % MODULUS)
        })
        .after_all(declared.iter().copied());
        if !tags.is_empty() {
            task = task.tag(tags[rng.below(tags.len())]);
        }
        let id = graph.add(task);
        for &dep in preceded {
            graph.precede(dep, id).unwrap();
        }
        ids.push(id);
        expected
            .push((index as u64 + deps.iter().map(|&dep| expected[dep]).sum::<u64>()) % MODULUS);
    }
    (graph, ids, probe, expected)
}

#[test]
fn random_dags_run_each_task_once_after_its_dependencies() {
    watchdog(|| {
        let executor = Executor::builder()
            .workers_per_tag(2)
            .tag_workers("solo", 1)
            .build()
            .unwrap();
        for seed in 1..=6 {
            let tags: &[&'static str] = match seed % 3 {
                0 => &[],
                1 => &["solo", "duo"],
                _ => &["solo", "duo", "default", "x"],
            };
            let (mut graph, ids, probe, expected) = random_dag(seed, 3_000, tags);
            let report = executor.run(&mut graph).unwrap();
            assert!(report.is_success(), "seed {seed}: {report:?}");
            assert_eq!(report.succeeded(), ids.len());
            probe.assert_ran_once(&format!("seed {seed}"), &graph, &ids, &expected);
        }
    });
}

#[test]
fn dependents_read_outputs_through_after_after_all_and_precede() {
    watchdog(|| {
        let mut graph = Graph::new();
        let text =
            graph.add(Task::new("text", |_: &Context<'_>| Ok(String::from("abc"))).tag("io"));
        let number = graph.add(Task::new("number", |_: &Context<'_>| Ok(7usize)));
        let boxed = graph.add(Task::new("boxed", |_: &Context<'_>| {
            Ok(Box::new([1u8, 2, 3]))
        }));
        let via_after = graph.add(
            Task::new("via_after", move |cx: &Context<'_>| {
                Ok(cx.input(text)?.len() * 100)
            })
            .after(text),
        );
        let via_all = graph.add(
            Task::new("via_all", move |cx: &Context<'_>| {
                Ok(cx.input(text)?.len() + cx.input(number)? + cx.input(boxed)?.len())
            })
            .after_all([
                text.into(),
                number.into(),
                taskflow_engine::TaskRef::from(boxed),
            ]),
        );
        let via_precede = graph.add(Task::new("via_precede", move |cx: &Context<'_>| {
            Ok(format!("{}{}", cx.input(text)?, cx.input(via_all)?))
        }));
        graph.precede(text, via_precede).unwrap();
        graph.precede(via_all, via_precede).unwrap();

        let report = executor(2).run(&mut graph).unwrap();
        assert!(report.is_success(), "{report:?}");
        assert_eq!(graph.output(via_after), Some(&300));
        assert_eq!(graph.output(via_all), Some(&13));
        assert_eq!(graph.output(via_precede).map(String::as_str), Some("abc13"));
        assert_eq!(graph.output(boxed).map(|b| b.len()), Some(3));
        // take_output moves the output out; it is gone afterwards.
        assert_eq!(graph.take_output(via_precede), Some(String::from("abc13")));
        assert_eq!(graph.take_output(via_precede), None);
        assert_eq!(graph.output(via_precede), None);
        assert_eq!(graph.output(via_after), Some(&300), "other outputs stay");
    });
}

#[test]
fn input_refuses_tasks_that_are_not_declared_dependencies() {
    watchdog(|| {
        let mut other = Graph::new();
        let foreign = other.add(Task::new("foreign", |_: &Context<'_>| Ok(0u8)));

        let mut graph = Graph::new();
        let root = graph.add(Task::new("root", |_: &Context<'_>| Ok(1u8)));
        let middle = graph.add(Task::new("middle", |_: &Context<'_>| Ok(2u8)).after(root));
        let unrelated = graph.add(Task::new("unrelated", |_: &Context<'_>| Ok(3u8)));
        let leaf = graph.add(
            Task::new("leaf", move |cx: &Context<'_>| {
                let kind = |result: Result<&u8, Error>| -> String {
                    match result {
                        Ok(value) => format!("ok {value}"),
                        Err(error) => match error.downcast_ref::<InputError>() {
                            Some(InputError::NotADependency { .. }) => "not a dependency".into(),
                            Some(InputError::ForeignTask { .. }) => "foreign".into(),
                            Some(other) => format!("other input error {other:?}"),
                            None => format!("not an InputError: {error}"),
                        },
                    }
                };
                Ok([
                    // A transitive dependency, certainly finished, is still
                    // not a declared one.
                    kind(cx.input(root)),
                    kind(cx.input(unrelated)),
                    kind(cx.input(foreign)),
                    kind(cx.input(middle)),
                ])
            })
            .after(middle),
        );
        // `?` on a refused read fails the task with the InputError.
        let reader = graph.add(
            Task::new("reader", move |cx: &Context<'_>| Ok(*cx.input(root)?)).after(unrelated),
        );

        let report = executor(2)
            .run_with(
                &mut graph,
                taskflow_engine::RunOptions::new()
                    .policy(taskflow_engine::FailurePolicy::KeepGoing),
            )
            .unwrap();
        assert!(
            matches!(report.outcome(leaf), Outcome::Succeeded),
            "{report:?}"
        );
        assert_eq!(
            graph.output(leaf).unwrap(),
            &["not a dependency", "not a dependency", "foreign", "ok 2"]
        );
        match report.outcome(reader) {
            Outcome::Failed(TaskError::Error(error)) => {
                let input = error.downcast_ref::<InputError>();
                assert!(
                    matches!(input, Some(InputError::NotADependency { .. })),
                    "{error:?}"
                );
                assert!(error.to_string().contains("reader"), "{error}");
            }
            other => panic!("reader should fail with an InputError, got {other:?}"),
        }
    });
}

#[test]
fn chain_of_100_000_tasks_runs_in_order_with_correct_outputs() {
    watchdog(|| {
        const LENGTH: usize = 100_000;
        let calls = Arc::new(AtomicUsize::new(0));
        let mut graph = Graph::new();
        let mut previous = {
            let calls = Arc::clone(&calls);
            graph.add(Task::new("link", move |_: &Context<'_>| {
                calls.fetch_add(1, Ordering::Relaxed);
                Ok(1u64)
            }))
        };
        let first = previous;
        for _ in 1..LENGTH {
            let calls = Arc::clone(&calls);
            let before = previous;
            previous = graph.add(
                Task::new("link", move |cx: &Context<'_>| {
                    calls.fetch_add(1, Ordering::Relaxed);
                    Ok(cx.input(before)? + 1)
                })
                .after(before),
            );
        }
        assert_eq!(graph.len(), LENGTH);
        let started = Instant::now();
        let report = executor(2).run(&mut graph).unwrap();
        let elapsed = started.elapsed();
        assert!(report.is_success());
        assert_eq!(report.succeeded(), LENGTH);
        assert_eq!(calls.load(Ordering::SeqCst), LENGTH);
        assert_eq!(graph.output(previous), Some(&(LENGTH as u64)));
        assert_eq!(graph.output(first), Some(&1));
        eprintln!("100_000-task chain ran in {elapsed:?}");
    });
}

#[test]
fn wide_fan_out_and_fan_in_across_tags() {
    watchdog(|| {
        const WIDTH: usize = 20_000;
        let runs: Arc<Vec<AtomicU32>> = Arc::new((0..WIDTH).map(|_| AtomicU32::new(0)).collect());
        let mut graph = Graph::new();
        let source = graph.add(Task::new("source", |_: &Context<'_>| Ok(3u64)).tag("edge"));
        let middles: Vec<TaskId<u64>> = (0..WIDTH)
            .map(|index| {
                let runs = Arc::clone(&runs);
                graph.add(
                    Task::new("middle", move |cx: &Context<'_>| {
                        runs[index].fetch_add(1, Ordering::Relaxed);
                        Ok(cx.input(source)? * index as u64)
                    })
                    .after(source),
                )
            })
            .collect();
        let inputs = middles.clone();
        let sink = graph.add(
            Task::new("sink", move |cx: &Context<'_>| {
                let mut sum = 0u64;
                for &middle in &inputs {
                    sum += *cx.input(middle)?;
                }
                Ok(sum)
            })
            .tag("edge")
            .after_all(middles.iter().copied()),
        );
        let executor = executor(2);
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report:?}");
        assert_eq!(report.succeeded(), WIDTH + 2);
        let expected: u64 = (0..WIDTH as u64).map(|index| 3 * index).sum();
        assert_eq!(graph.output(sink), Some(&expected));
        assert!(runs.iter().all(|count| count.load(Ordering::SeqCst) == 1));
        assert_eq!(
            graph.output(middles[WIDTH - 1]),
            Some(&(3 * (WIDTH as u64 - 1)))
        );
    });
}

#[test]
fn wide_fan_out_of_sources_runs_each_once() {
    watchdog(|| {
        // Many sources, no edges: the engine spreads them over the pool.
        const SOURCES: usize = 50_000;
        let runs: Arc<Vec<AtomicU32>> = Arc::new((0..SOURCES).map(|_| AtomicU32::new(0)).collect());
        let mut graph = Graph::new();
        let ids: Vec<TaskId<usize>> = (0..SOURCES)
            .map(|index| {
                let runs = Arc::clone(&runs);
                graph.add(Task::new("source", move |_: &Context<'_>| {
                    runs[index].fetch_add(1, Ordering::Relaxed);
                    Ok(index)
                }))
            })
            .collect();
        let report = executor(3).run(&mut graph).unwrap();
        assert!(report.is_success());
        assert!(runs.iter().all(|count| count.load(Ordering::SeqCst) == 1));
        for (index, id) in ids.iter().enumerate() {
            assert_eq!(graph.output(*id), Some(&index));
        }
    });
}

#[test]
fn cross_tag_chain_runs_each_task_on_its_own_tag() {
    watchdog(|| {
        const LENGTH: usize = 3_000;
        let tags = ["red", "green", "blue"];
        let mut graph = Graph::new();
        let mut previous: Option<TaskId<usize>> = None;
        for index in 0..LENGTH {
            let tag = tags[index % tags.len()];
            let before = previous;
            let mut task = Task::new("hop", move |cx: &Context<'_>| {
                if cx.tag() != &Tag::from(tag) {
                    return Err(format!("task {index} ran on {:?}, not {tag}", cx.tag()).into());
                }
                let thread = std::thread::current();
                let expected = format!("taskflow-{tag}-{}", cx.worker_index());
                if thread.name() != Some(expected.as_str()) {
                    return Err(format!("task {index} ran on thread {:?}", thread.name()).into());
                }
                Ok(match before {
                    Some(before) => cx.input(before)? + 1,
                    None => 1,
                })
            })
            .tag(tag);
            if let Some(before) = before {
                task = task.after(before);
            }
            previous = Some(graph.add(task));
        }
        let report = executor(1).run(&mut graph).unwrap();
        let failures: Vec<String> = report.failures().map(|(_, _, e)| e.to_string()).collect();
        assert!(report.is_success(), "{failures:?}");
        assert_eq!(graph.output(previous.unwrap()), Some(&LENGTH));
    });
}

#[test]
fn slow_dependency_on_another_tag_is_waited_for() {
    watchdog(|| {
        let finished = Arc::new(AtomicBool::new(false));
        let mut graph = Graph::new();
        let slow = {
            let finished = Arc::clone(&finished);
            graph.add(
                Task::new("slow", move |_: &Context<'_>| {
                    // A task that runs for a while; the assertion below does
                    // not depend on how long.
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    finished.store(true, Ordering::Release);
                    Ok(42)
                })
                .tag("slow"),
            )
        };
        let fast = {
            let finished = Arc::clone(&finished);
            graph.add(
                Task::new("fast", move |cx: &Context<'_>| {
                    Ok((finished.load(Ordering::Acquire), *cx.input(slow)?))
                })
                .after(slow),
            )
        };
        let report = executor(2).run(&mut graph).unwrap();
        assert!(report.is_success());
        assert_eq!(graph.output(fast), Some(&(true, 42)));
    });
}

/// A lone worker of a lone tag runs a graph without atomic counting; when an
/// edge points from a later-added task to an earlier one it cannot use index
/// order either, and counts dependencies with plain loads and stores. Here
/// every edge points backward: task `i` depends on up to four tasks added
/// after it.
#[test]
fn one_worker_runs_a_graph_of_backward_edges_in_dependency_order() {
    watchdog(|| {
        const SIZE: usize = 2_000;
        let mut rng = Rng::new(11);
        let deps: Vec<Vec<usize>> = (0..SIZE)
            .map(|index| {
                let later = SIZE - 1 - index;
                let mut deps = Vec::new();
                for _ in 0..rng.below(5).min(later) {
                    let dep = index + 1 + rng.below(later);
                    if !deps.contains(&dep) {
                        deps.push(dep);
                    }
                }
                deps
            })
            .collect();
        let mut expected = vec![0u64; SIZE];
        for index in (0..SIZE).rev() {
            let inputs: u64 = deps[index].iter().map(|&dep| expected[dep]).sum();
            expected[index] = (index as u64 + inputs) % MODULUS;
        }
        let probe = Probe::new(SIZE);
        let handles: Arc<OnceLock<Vec<TaskId<u64>>>> = Arc::default();
        let mut graph = Graph::new();
        let ids: Vec<TaskId<u64>> = (0..SIZE)
            .map(|index| {
                let probe = Arc::clone(&probe);
                let handles = Arc::clone(&handles);
                let deps = deps[index].clone();
                graph.add(Task::new(format!("t{index}"), move |cx: &Context<'_>| {
                    probe.start(index, &deps);
                    let handles = handles.get().expect("handles are set before the run");
                    let mut sum = index as u64;
                    for &dep in &deps {
                        sum += *cx.input(handles[dep])?;
                    }
                    probe.finish(index);
                    Ok(sum % MODULUS)
                }))
            })
            .collect();
        handles.set(ids.clone()).unwrap();
        for (index, deps) in deps.iter().enumerate() {
            for &dep in deps {
                graph.precede(ids[dep], ids[index]).unwrap();
            }
        }
        let executor = executor(1);
        for run in 0..2 {
            probe.reset();
            let report = executor.run(&mut graph).unwrap();
            assert!(report.is_success(), "run {run}: {report:?}");
            probe.assert_ran_once(&format!("run {run}"), &graph, &ids, &expected);
        }
    });
}

/// The same path under failure: a backward diamond on a lone worker, one of
/// whose branches is a task longer, and whose other branch fails when asked
/// to. Every run feeds a new value from the source, so a sink run too early
/// would read a stale output and give a wrong sum. Keep-going skips exactly
/// the failure's dependent; the re-runs, after the failed run reset the
/// pending words, succeed everywhere; fail-fast stops the rest.
#[test]
fn one_worker_backward_diamond_skips_after_a_failure_and_recovers() {
    watchdog(|| {
        let round = Arc::new(AtomicU32::new(0));
        let fail = Arc::new(AtomicBool::new(true));
        // source, left, middle, right
        let handles: Arc<OnceLock<[TaskId<u32>; 4]>> = Arc::default();
        let input =
            |handles: &OnceLock<[TaskId<u32>; 4]>, which: usize| handles.get().unwrap()[which];
        let mut graph = Graph::new();
        // The sink is added first, so every edge points backward.
        let sink = {
            let handles = Arc::clone(&handles);
            graph.add(Task::new("sink", move |cx: &Context<'_>| {
                Ok(cx.input(input(&handles, 1))? + cx.input(input(&handles, 3))?)
            }))
        };
        let right = {
            let handles = Arc::clone(&handles);
            graph.add(Task::new("right", move |cx: &Context<'_>| {
                Ok(*cx.input(input(&handles, 2))?)
            }))
        };
        let middle = {
            let handles = Arc::clone(&handles);
            graph.add(Task::new("middle", move |cx: &Context<'_>| {
                Ok(cx.input(input(&handles, 0))? * 10)
            }))
        };
        let left = {
            let (handles, fail) = (Arc::clone(&handles), Arc::clone(&fail));
            graph.add(Task::new("left", move |cx: &Context<'_>| {
                if fail.load(Ordering::SeqCst) {
                    return Err("left fails while asked to".into());
                }
                Ok(cx.input(input(&handles, 0))? + 1)
            }))
        };
        let source = {
            let round = Arc::clone(&round);
            graph.add(Task::new("source", move |_: &Context<'_>| {
                Ok(round.load(Ordering::SeqCst))
            }))
        };
        handles.set([source, left, middle, right]).unwrap();
        graph.precede(source, left).unwrap();
        graph.precede(source, middle).unwrap();
        graph.precede(middle, right).unwrap();
        graph.precede(left, sink).unwrap();
        graph.precede(right, sink).unwrap();

        let executor = executor(1);
        let keep_going = || RunOptions::new().policy(FailurePolicy::KeepGoing);
        round.store(4, Ordering::SeqCst);
        let report = executor.run_with(&mut graph, keep_going()).unwrap();
        assert!(
            matches!(report.outcome(source), Outcome::Succeeded),
            "{report:?}"
        );
        assert!(
            matches!(report.outcome(left), Outcome::Failed(_)),
            "{report:?}"
        );
        assert!(
            matches!(report.outcome(right), Outcome::Succeeded),
            "{report:?}"
        );
        assert!(
            matches!(report.outcome(sink), Outcome::Skipped),
            "{report:?}"
        );
        assert_eq!(graph.output(right), Some(&40));
        assert_eq!(graph.output(sink), None);

        fail.store(false, Ordering::SeqCst);
        for value in [5, 6] {
            round.store(value, Ordering::SeqCst);
            let report = executor.run_with(&mut graph, keep_going()).unwrap();
            assert!(report.is_success(), "{report:?}");
            assert_eq!(graph.output(sink), Some(&(value + 1 + value * 10)));
        }

        fail.store(true, Ordering::SeqCst);
        round.store(7, Ordering::SeqCst);
        let report = executor.run(&mut graph).unwrap();
        assert!(
            matches!(report.outcome(left), Outcome::Failed(_)),
            "{report:?}"
        );
        assert!(
            matches!(report.outcome(sink), Outcome::Skipped),
            "{report:?}"
        );
        assert_eq!(report.failed(), 1, "{report:?}");
        let ended = report.succeeded() + report.failed() + report.skipped() + report.cancelled();
        assert_eq!(ended, 5, "{report:?}");
    });
}
