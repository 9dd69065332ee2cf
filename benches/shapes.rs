//! Criterion benchmarks of taskflow on every shape of the benchmark shapes
//! document, `../shared/BENCH-SHAPES.md` (from the repository root), with the
//! baselines in the same groups so that one `cargo bench` compares them (see
//! `BENCHMARKS.md`).
//!
//! One group per shape and body: every shape with the empty body, and
//! `independent`, `level_graph`, `random_dag` and `backward_dag` also with
//! the work body (`<shape>_work`). In each, on a graph generated once:
//!
//! - `taskflow_build`: building the taskflow graph (tasks, closures, edges)
//!   in a new graph, whose memory is fresh (page faults included);
//! - `taskflow_rebuild`: the same build into a graph that was built once
//!   and emptied with `Graph::clear`, which keeps its memory (the clear is
//!   outside the timed part);
//! - `taskflow_first_run/<N>w`: running a freshly built, never-run graph,
//!   including whatever the engine prepares on a first run (the build is
//!   outside the timed part);
//! - `taskflow_rerun/<N>w`: running the same graph again, after a first run;
//! - `taskflow_rerun_after_build/<N>w`: the re-run of `taskflow_rerun`, each
//!   in the surroundings of a first run: a fresh graph of the same shape is
//!   built (on this thread, outside timing) right before it and dropped
//!   right after it, as `taskflow_first_run` builds and drops its graph. It
//!   differs from the first run only in the graph run, which ran before, so
//!   first run ÷ this is what a first run costs the engine, and this ÷
//!   re-run what the surroundings cost (issue 12's bar 4, see
//!   `BENCHMARKS.md`);
//! - `serial_topological`, `serial_kahn`, `plain_executor/<N>w` and, where
//!   the shape fits, `rayon_scope/<N>w` or `rayon_join/<N>w`: the baselines
//!   of `support::baselines`, each prepared once and then run repeatedly;
//!
//! with N = 1 and 2 workers (per tag, for the pipeline). Criterion reports
//! throughput in tasks per second; `scripts/bench_table.py` turns the
//! medians into ns per task.
//!
//! Before its first measurement every engine runs the shape once with a
//! checking body (every task ran once, after all its predecessors) and once
//! with the measured body (every task's byte set, for the empty body; a
//! successful report, for taskflow), outside timing.
//!
//! Sampling: a million-task graph takes 5 ms to 1 s per run, so the groups
//! use 10 samples, flat sampling, 1 s warm-up and 3 s measurement, which
//! makes every benchmark take about 4–15 s. Command-line flags override.
//!
//! Quick mode: in criterion's test mode (`cargo bench -- --test`) each
//! benchmark body runs once, at the quick sizes of `support::shapes::Sizes`.

mod support;

use std::cell::OnceCell;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use taskflow_engine::{Executor, Graph, RunReport};

use support::baselines::{
    PlainExecutor, PlainGraph, RayonJoin, RayonScope, SerialKahn, SerialTopological,
};
use support::bodies::{Body, BodyKind, CheckedBody, Flags, MakeBody, empty_body, work_body};
use support::graphs::{taskflow_executor, taskflow_graph, taskflow_rebuild};
use support::shapes::{Shape, ShapeSpec, Sizes, check_shapes};

/// The worker counts (per tag) every parallel engine runs with.
const WORKERS: [usize; 2] = [1, 2];

/// Which rayon baseline fits a shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RayonFit {
    /// `scope` + `spawn`, for `independent`.
    Scope,
    /// Recursive `join`, for `binary_tree`.
    Join,
}

/// One criterion group: a shape, the body its tasks run, and the rayon
/// baseline that fits it, if any.
#[derive(Clone, Copy, Debug)]
struct Case {
    group: &'static str,
    spec: ShapeSpec,
    body: BodyKind,
    rayon: Option<RayonFit>,
}

fn cases(sizes: Sizes) -> [Case; 12] {
    use BodyKind::{Empty, Work};
    let case = |group, spec, body, rayon| Case {
        group,
        spec,
        body,
        rayon,
    };
    [
        case(
            "independent",
            sizes.independent(),
            Empty,
            Some(RayonFit::Scope),
        ),
        case(
            "independent_work",
            sizes.independent(),
            Work,
            Some(RayonFit::Scope),
        ),
        case("linear_chain", sizes.linear_chain(), Empty, None),
        case(
            "binary_tree",
            sizes.binary_tree(),
            Empty,
            Some(RayonFit::Join),
        ),
        case("wavefront", sizes.wavefront(), Empty, None),
        case("level_graph", sizes.level_graph(), Empty, None),
        case("level_graph_work", sizes.level_graph(), Work, None),
        case("random_dag", sizes.random_dag(), Empty, None),
        case("random_dag_work", sizes.random_dag(), Work, None),
        case("backward_dag", sizes.backward_dag(), Empty, None),
        case("backward_dag_work", sizes.backward_dag(), Work, None),
        // The pipeline's bodies are the work body repeated 4, 2 and 1 times.
        case("pipeline", sizes.pipeline(), Work, None),
    ]
}

fn main() {
    check_shapes();
    let sizes = Sizes::from_args();
    let cases = cases(sizes);
    for spec in sizes.all() {
        assert!(
            cases.iter().any(|case| case.spec == spec),
            "the suite covers {}",
            spec.name()
        );
    }
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    for case in cases {
        match case.body {
            BodyKind::Empty => bench_case(&mut criterion, case, sizes, empty_body),
            BodyKind::Work => bench_case(&mut criterion, case, sizes, work_body),
        }
    }
    criterion.final_summary();
}

/// The shape of a case and its flags, generated when a benchmark of the
/// group first needs them (so that `--list` and filters generate nothing).
struct LazyShape {
    case: Case,
    sizes: Sizes,
    cell: OnceCell<(&'static Shape, &'static Flags)>,
}

impl LazyShape {
    fn get(&self) -> (&'static Shape, &'static Flags) {
        *self.cell.get_or_init(|| {
            let shape = self.case.spec.generate().leak();
            if !self.sizes.quick {
                record_shape(self.case.group, shape);
            }
            (shape, Flags::leak(shape.tasks))
        })
    }
}

/// Leaves the shape's task and edge counts where `scripts/bench_table.py`
/// finds them, for ns per edge.
fn record_shape(group: &str, shape: &Shape) {
    let folder = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("taskflow-bench");
    let written = std::fs::create_dir_all(&folder).and_then(|()| {
        std::fs::write(
            folder.join(format!("{group}.shape")),
            format!("{}\t{}\n", shape.tasks, shape.edges()),
        )
    });
    if let Err(error) = written {
        eprintln!("could not record the size of {group}: {error}");
    }
}

fn bench_case<B: Body>(criterion: &mut Criterion, case: Case, sizes: Sizes, make: MakeBody<B>) {
    let mut group = criterion.benchmark_group(case.group);
    group
        .throughput(Throughput::Elements(case.spec.tasks() as u64))
        .sampling_mode(SamplingMode::Flat);
    let lazy = LazyShape {
        case,
        sizes,
        cell: OnceCell::new(),
    };
    let verify = Verify { case };

    group.bench_function("taskflow_build", |bencher| {
        let (shape, flags) = lazy.get();
        bencher.iter_custom(|iters| {
            time_each(iters, || {
                let start = Instant::now();
                let graph = taskflow_graph(shape, |task| make(shape, flags, task));
                let elapsed = start.elapsed();
                black_box(&graph);
                elapsed
            })
        });
    });

    group.bench_function("taskflow_rebuild", |bencher| {
        let (shape, flags) = lazy.get();
        let mut graph = taskflow_graph(shape, |task| make(shape, flags, task));
        bencher.iter_custom(|iters| {
            time_each(iters, || {
                graph.clear();
                let start = Instant::now();
                taskflow_rebuild(&mut graph, shape, |task| make(shape, flags, task));
                start.elapsed()
            })
        });
    });

    for workers in WORKERS {
        let label = format!("{workers}w");
        let mut executor: Option<Executor> = None;
        let mut start_executor = || {
            let (shape, flags) = lazy.get();
            let executor = taskflow_executor(shape, workers);
            verify.taskflow(&executor, shape, flags, make);
            executor
        };

        group.bench_function(BenchmarkId::new("taskflow_first_run", &label), |bencher| {
            let (shape, flags) = lazy.get();
            let executor = executor.get_or_insert_with(&mut start_executor);
            bencher.iter_custom(|iters| {
                time_each(iters, || {
                    let mut graph = taskflow_graph(shape, |task| make(shape, flags, task));
                    let start = Instant::now();
                    let report = executor.run(&mut graph);
                    let elapsed = start.elapsed();
                    assert_success(report);
                    elapsed
                })
            });
        });

        let mut built: Option<Graph<'static>> = None;
        let run_once = |executor: &Executor| {
            let (shape, flags) = lazy.get();
            let mut graph = taskflow_graph(shape, |task| make(shape, flags, task));
            // The first run does what only a first run does (compiling the
            // edges, in engines that do); the measured runs are re-runs.
            assert_success(executor.run(&mut graph));
            graph
        };
        group.bench_function(BenchmarkId::new("taskflow_rerun", &label), |bencher| {
            let executor = executor.get_or_insert_with(&mut start_executor);
            let graph = built.get_or_insert_with(|| run_once(executor));
            bencher.iter_custom(|iters| {
                time_each(iters, || {
                    let start = Instant::now();
                    let report = executor.run(graph);
                    let elapsed = start.elapsed();
                    assert_success(report);
                    elapsed
                })
            });
        });

        group.bench_function(
            BenchmarkId::new("taskflow_rerun_after_build", &label),
            |bencher| {
                let (shape, flags) = lazy.get();
                let executor = executor.get_or_insert_with(&mut start_executor);
                let graph = built.get_or_insert_with(|| run_once(executor));
                bencher.iter_custom(|iters| {
                    time_each(iters, || {
                        let fresh = taskflow_graph(shape, |task| make(shape, flags, task));
                        let start = Instant::now();
                        let report = executor.run(graph);
                        let elapsed = start.elapsed();
                        assert_success(report);
                        drop(fresh);
                        elapsed
                    })
                });
            },
        );
        drop(built);
        drop(executor);

        let mut plain: Option<(PlainExecutor, Arc<PlainGraph>)> = None;
        group.bench_function(BenchmarkId::new("plain_executor", &label), |bencher| {
            let (executor, graph) = plain.get_or_insert_with(|| {
                let (shape, flags) = lazy.get();
                let executor = PlainExecutor::new(shape.tags().len(), workers);
                let checked = PlainGraph::new(shape, |t| CheckedBody::new(shape, flags, t));
                let graph = PlainGraph::new(shape, |task| make(shape, flags, task));
                verify.run(
                    "plain_executor",
                    flags,
                    || executor.run(&checked),
                    || {
                        executor.run(&graph);
                    },
                );
                (executor, graph)
            });
            bencher.iter_custom(|iters| time_each(iters, || timed(|| executor.run(graph))));
        });
        drop(plain);

        match case.rayon {
            Some(RayonFit::Scope) => {
                let mut rayon: Option<(RayonScope, Vec<B>)> = None;
                group.bench_function(BenchmarkId::new("rayon_scope", &label), |bencher| {
                    let (pool, bodies) = rayon.get_or_insert_with(|| {
                        let (shape, flags) = lazy.get();
                        let pool = RayonScope::new(workers);
                        let bodies = bodies(shape, flags, make);
                        let checked = bodies_checked(shape, flags);
                        verify.run(
                            "rayon_scope",
                            flags,
                            || pool.run(&checked),
                            || {
                                pool.run(&bodies);
                            },
                        );
                        (pool, bodies)
                    });
                    bencher.iter_custom(|iters| time_each(iters, || timed(|| pool.run(bodies))));
                });
            }
            Some(RayonFit::Join) => {
                let mut rayon: Option<(RayonJoin, Vec<B>)> = None;
                group.bench_function(BenchmarkId::new("rayon_join", &label), |bencher| {
                    let (pool, bodies) = rayon.get_or_insert_with(|| {
                        let (shape, flags) = lazy.get();
                        let pool = RayonJoin::new(workers);
                        let bodies = bodies(shape, flags, make);
                        let checked = bodies_checked(shape, flags);
                        verify.run(
                            "rayon_join",
                            flags,
                            || pool.run(&checked),
                            || {
                                pool.run(&bodies);
                            },
                        );
                        (pool, bodies)
                    });
                    bencher.iter_custom(|iters| time_each(iters, || timed(|| pool.run(bodies))));
                });
            }
            None => {}
        }
    }

    let mut serial: Option<SerialTopological> = None;
    group.bench_function("serial_topological", |bencher| {
        let serial = serial.get_or_insert_with(|| {
            let (shape, flags) = lazy.get();
            let mut checked = SerialTopological::new(shape, |t| CheckedBody::new(shape, flags, t));
            let mut serial = SerialTopological::new(shape, |task| make(shape, flags, task));
            verify.run(
                "serial_topological",
                flags,
                || checked.run(),
                || serial.run(),
            );
            serial
        });
        bencher.iter_custom(|iters| time_each(iters, || timed(|| serial.run())));
    });
    drop(serial);

    let mut kahn: Option<SerialKahn> = None;
    group.bench_function("serial_kahn", |bencher| {
        let kahn = kahn.get_or_insert_with(|| {
            let (shape, flags) = lazy.get();
            let mut checked = SerialKahn::new(shape, |t| CheckedBody::new(shape, flags, t));
            let mut kahn = SerialKahn::new(shape, |task| make(shape, flags, task));
            verify.run("serial_kahn", flags, || checked.run(), || kahn.run());
            kahn
        });
        bencher.iter_custom(|iters| time_each(iters, || timed(|| kahn.run())));
    });
    drop(kahn);

    group.finish();
}

/// Sums the durations that `run` measured itself, `iters` times.
fn time_each(iters: u64, mut run: impl FnMut() -> Duration) -> Duration {
    (0..iters).map(|_| run()).sum()
}

fn timed(run: impl FnOnce()) -> Duration {
    let start = Instant::now();
    run();
    start.elapsed()
}

fn assert_success(report: Result<RunReport, taskflow_engine::GraphError>) {
    let report = report.expect("the graph runs");
    assert!(report.is_success(), "every task succeeds");
}

fn bodies<B: Body>(shape: &'static Shape, flags: &'static Flags, make: MakeBody<B>) -> Vec<B> {
    (0..shape.tasks)
        .map(|task| make(shape, flags, task))
        .collect()
}

fn bodies_checked(shape: &'static Shape, flags: &'static Flags) -> Vec<CheckedBody> {
    bodies(shape, flags, CheckedBody::new)
}

/// The once-per-engine correctness check, outside timing.
#[derive(Clone, Copy, Debug)]
struct Verify {
    case: Case,
}

impl Verify {
    /// Runs the checking body with `checked` and the measured body with
    /// `measured`, and asserts that every task ran, in dependency order for
    /// the checking body.
    fn run(
        self,
        engine: &str,
        flags: &'static Flags,
        checked: impl FnOnce(),
        measured: impl FnOnce(),
    ) {
        let engine = format!("{} on {}", engine, self.case.group);
        flags.reset();
        checked();
        flags.assert_all_ran(&engine);
        flags.reset();
        measured();
        if self.case.body == BodyKind::Empty {
            flags.assert_all_ran(&engine);
        }
    }

    fn taskflow<B: Body>(
        self,
        executor: &Executor,
        shape: &'static Shape,
        flags: &'static Flags,
        make: MakeBody<B>,
    ) {
        let name = format!("taskflow ({} workers)", executor.workers("default"));
        let mut checked = taskflow_graph(shape, |t| CheckedBody::new(shape, flags, t));
        let mut measured = taskflow_graph(shape, |task| make(shape, flags, task));
        self.run(
            &name,
            flags,
            || assert_success(executor.run(&mut checked)),
            || assert_success(executor.run(&mut measured)),
        );
    }
}
