//! The cost of observing a run: the `independent` shape of
//! `../shared/BENCH-SHAPES.md` (from the repository root; 1,000,000 tasks,
//! empty bodies) re-run on one worker with no observer, with
//! [`Progress`] and with [`ChromeTrace`], in one criterion group
//! (`observe_independent`), so that they are measured in one run:
//!
//! - `no_observer/1w`: `executor.run(&mut graph)`, as `taskflow_rerun/1w`
//!   of the `shapes` bench;
//! - `empty_observer/1w`: with an observer that implements no method, for
//!   what the engine's dispatch of the events costs by itself;
//! - `progress/1w`: with one `Progress` as the run's observer (the same one
//!   throughout: its counts only grow);
//! - `chrome_trace/1w`: with a fresh `ChromeTrace` per run, made before and
//!   dropped after the timed part, as a program tracing one run would.
//!
//! After criterion's report the bench runs the variants again in
//! interleaved rounds (`TASKFLOW_OBSERVE_ROUNDS`, default 30; 0 for none)
//! and prints each one's ns per task, by the wall clock and by the
//! process's CPU time, and its difference to the run without an observer,
//! paired by round (see `summarise`); the table is left in
//! `target/tmp/taskflow-bench/observe.md`.
//!
//! `cargo bench --bench observe`; in criterion's test mode (`-- --test`)
//! each body runs once, at the quick size, and there is no summary.

#[allow(dead_code)] // Shared with the `shapes` bench, which uses all of it.
mod support;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use taskflow_engine::observe::{ChromeTrace, Observer, Progress};
use taskflow_engine::{Executor, Graph, RunOptions, RunReport};

use support::bodies::{Flags, empty_body};
use support::graphs::{taskflow_executor, taskflow_graph};
use support::shapes::Sizes;

/// What a measured run is observed by.
#[derive(Clone, Copy, Debug)]
enum Variant {
    NoObserver,
    EmptyObserver,
    Progress,
    ChromeTrace,
}

impl Variant {
    const ALL: [Variant; 4] = [
        Variant::NoObserver,
        Variant::EmptyObserver,
        Variant::Progress,
        Variant::ChromeTrace,
    ];

    fn name(self) -> &'static str {
        match self {
            Variant::NoObserver => "no_observer",
            Variant::EmptyObserver => "empty_observer",
            Variant::Progress => "progress",
            Variant::ChromeTrace => "chrome_trace",
        }
    }
}

/// An observer with only the provided methods: what the engine's dispatch
/// of events costs by itself.
struct Empty;

impl Observer for Empty {}

/// Interleaved rounds of the summary, unless `TASKFLOW_OBSERVE_ROUNDS`
/// says otherwise.
const DEFAULT_ROUNDS: usize = 30;

fn main() {
    let sizes = Sizes::from_args();
    let shape = sizes.independent().generate().leak();
    let flags = Flags::leak(shape.tasks);
    let tasks = shape.tasks;

    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let mut group = criterion.benchmark_group("observe_independent");
    group
        .throughput(Throughput::Elements(tasks as u64))
        .sampling_mode(SamplingMode::Flat);

    let executor = taskflow_executor(shape, 1);
    let mut graph = taskflow_graph(shape, |task| empty_body(shape, flags, task));
    // The first run does what only a first run does; the measured runs
    // are re-runs, as `taskflow_rerun` of the `shapes` bench.
    flags.reset();
    assert_success(executor.run(&mut graph));
    flags.assert_all_ran("taskflow, observed");
    let progress = Progress::new();

    for variant in Variant::ALL {
        group.bench_function(BenchmarkId::new(variant.name(), "1w"), |bencher| {
            bencher.iter_custom(|iters| {
                (0..iters)
                    .map(|_| timed_run(&executor, &mut graph, variant, &progress).wall)
                    .sum()
            });
        });
    }
    group.finish();
    criterion.final_summary();

    let counted = progress.snapshot();
    assert_eq!(counted.finished, counted.total, "Progress saw every task");
    let rounds = std::env::var("TASKFLOW_OBSERVE_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .unwrap_or(DEFAULT_ROUNDS);
    if !sizes.quick && rounds > 0 {
        summarise(tasks, rounds, |variant| {
            timed_run(&executor, &mut graph, variant, &progress)
        });
    }
}

/// How long a run took.
#[derive(Clone, Copy, Debug)]
struct Took {
    wall: Duration,
    /// The process's CPU time over the run: on one worker, the worker's
    /// (the caller blocks), without the time the machine's other work
    /// preempted it for.
    cpu: Duration,
}

/// One timed re-run of `graph` observed as `variant` says.
fn timed_run(
    executor: &Executor,
    graph: &mut Graph<'static>,
    variant: Variant,
    progress: &Arc<Progress>,
) -> Took {
    let (options, trace) = match variant {
        Variant::NoObserver => (None, None),
        Variant::EmptyObserver => (Some(RunOptions::new().observer(Arc::new(Empty))), None),
        Variant::Progress => (Some(RunOptions::new().observer(progress.clone())), None),
        Variant::ChromeTrace => {
            let trace = ChromeTrace::new();
            (Some(RunOptions::new().observer(trace.clone())), Some(trace))
        }
    };
    let (start, cpu_start) = (Instant::now(), process_cpu_time());
    let report = match options {
        None => executor.run(graph),
        Some(options) => executor.run_with(graph, options),
    };
    let (wall, cpu) = (start.elapsed(), process_cpu_time() - cpu_start);
    assert_success(report);
    drop(trace);
    Took { wall, cpu }
}

/// The CPU time of every thread of the process so far.
#[cfg(unix)]
fn process_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the call to fill.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "the process CPU clock is readable");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// Where no process CPU clock is at hand: zero, which the summary shows as
/// zero CPU time.
#[cfg(not(unix))]
fn process_cpu_time() -> Duration {
    Duration::ZERO
}

fn assert_success(report: Result<RunReport, taskflow_engine::GraphError>) {
    let report = report.expect("the graph runs");
    assert!(report.is_success(), "every task succeeds");
}

/// Runs `rounds` rounds of every variant, interleaved (each round starts
/// with another, so that none always runs first), and prints, and leaves in
/// `target/tmp/taskflow-bench/observe.md`, each variant's median and least
/// ns per task, by the wall clock and by CPU time, and the median of its
/// differences to the run without an observer of the same round. Paired
/// differences cancel the drift of a shared machine's load; CPU time leaves
/// out the time other processes took the core.
fn summarise(tasks: usize, rounds: usize, mut run: impl FnMut(Variant) -> Took) {
    let mut wall: Vec<[f64; 4]> = Vec::with_capacity(rounds);
    let mut cpu: Vec<[f64; 4]> = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let (mut wall_ns, mut cpu_ns) = ([0.0; 4], [0.0; 4]);
        for offset in 0..Variant::ALL.len() {
            let slot = (round + offset) % Variant::ALL.len();
            let took = run(Variant::ALL[slot]);
            wall_ns[slot] = took.wall.as_nanos() as f64 / tasks as f64;
            cpu_ns[slot] = took.cpu.as_nanos() as f64 / tasks as f64;
        }
        wall.push(wall_ns);
        cpu.push(cpu_ns);
    }
    let median = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let column = |rows: &[[f64; 4]], slot: usize| -> (f64, f64, f64) {
        let values: Vec<f64> = rows.iter().map(|row| row[slot]).collect();
        let least = values.iter().copied().fold(f64::INFINITY, f64::min);
        let difference = median(rows.iter().map(|row| row[slot] - row[0]).collect());
        (median(values), least, difference)
    };
    let mut table = format!(
        "independent ({tasks} tasks, empty bodies), 1 worker, re-run; {rounds} interleaved \
         rounds; ns per task\n\n\
         | observer | wall, median | wall, least | wall, difference | CPU, median | CPU, least | CPU, difference |\n\
         |---|---:|---:|---:|---:|---:|---:|\n"
    );
    for (slot, variant) in Variant::ALL.into_iter().enumerate() {
        let (wall_median, wall_least, wall_difference) = column(&wall, slot);
        let (cpu_median, cpu_least, cpu_difference) = column(&cpu, slot);
        let _ = writeln!(
            table,
            "| {} | {wall_median:.2} | {wall_least:.2} | {wall_difference:+.2} \
             | {cpu_median:.2} | {cpu_least:.2} | {cpu_difference:+.2} |",
            variant.name(),
        );
    }
    table.push_str(
        "\n(difference: the median over the rounds of the variant's time minus \
         no_observer's in the same round)\n",
    );
    println!("\n{table}");
    let folder = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("taskflow-bench");
    let written = std::fs::create_dir_all(&folder)
        .and_then(|()| std::fs::write(folder.join("observe.md"), &table));
    if let Err(error) = written {
        eprintln!("could not write the summary: {error}");
    }
}
