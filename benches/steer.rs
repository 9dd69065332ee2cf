//! What steering costs per task: `independent` (100,000 tasks without
//! edges) and `linear_chain` (100,000 tasks in one chain), empty bodies,
//! re-runs of a built graph, at one and two workers, in one criterion group
//! per shape so that the variants are measured in one run:
//!
//! - `plain`: no priority, weight or limit: the engine's ordinary path;
//! - `priority`: every task has a priority (`index % 7`), so the run is
//!   ordered: every ready task goes through its pool's ordered queue and a
//!   token;
//! - `critical_path`: no priority, `RunOptions::critical_path(true)` (the
//!   ranks are cached after the first run, so this is the ordered path with
//!   rank keys);
//! - `limit`: every task holds a permit of one `Limit` with more permits
//!   than workers (never full), so the run is steered and every task takes
//!   and gives back a permit.
//!
//! `cargo bench --bench steer`; in criterion's test mode (`-- --test`)
//! each body runs once.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use taskflow_engine::{Context, Executor, Graph, Limit, RunOptions, Task, TaskId};

const TASKS: usize = 100_000;

#[derive(Clone, Copy, Debug)]
enum Variant {
    Plain,
    Priority,
    CriticalPath,
    Limit,
}

impl Variant {
    const ALL: [Variant; 4] = [
        Variant::Plain,
        Variant::Priority,
        Variant::CriticalPath,
        Variant::Limit,
    ];

    fn name(self) -> &'static str {
        match self {
            Variant::Plain => "plain",
            Variant::Priority => "priority",
            Variant::CriticalPath => "critical_path",
            Variant::Limit => "limit",
        }
    }
}

/// `TASKS` tasks, in one chain when `chain`, steered as `variant` says.
fn graph(chain: bool, variant: Variant, limit: &Limit) -> Graph<'static> {
    let mut graph = Graph::new();
    let mut previous: Option<TaskId<()>> = None;
    for index in 0..TASKS {
        let mut task = Task::new("task", |_: &Context<'_>| Ok(()));
        match variant {
            Variant::Priority => task = task.priority((index % 7) as i32),
            Variant::Limit => task = task.limit(limit),
            Variant::Plain | Variant::CriticalPath => {}
        }
        if chain && let Some(previous) = previous {
            task = task.after(previous);
        }
        previous = Some(graph.add(task));
    }
    graph
}

fn main() {
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    let limit = Limit::new(1 << 20);
    for (shape, chain) in [("independent", false), ("linear_chain", true)] {
        let mut group = criterion.benchmark_group(format!("steer_{shape}"));
        group.throughput(Throughput::Elements(TASKS as u64));
        for workers in [1, 2] {
            let executor = Executor::builder()
                .workers_per_tag(workers)
                .build()
                .expect("an executor starts");
            for variant in Variant::ALL {
                let mut graph = graph(chain, variant, &limit);
                let options =
                    RunOptions::new().critical_path(matches!(variant, Variant::CriticalPath));
                let id = BenchmarkId::new(variant.name(), format!("{workers}w"));
                group.bench_function(id, |bench| {
                    bench.iter(|| {
                        let report = executor.run_with(&mut graph, options.clone()).unwrap();
                        assert!(report.is_success());
                    });
                });
            }
        }
        group.finish();
    }
    criterion.final_summary();
}
