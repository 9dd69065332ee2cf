//! What a spawned task costs: one parent spawning 1,000,000 empty children,
//! and a recursive binary fan-out of 2^20 tasks by spawn, at 1 and 2
//! workers, beside rayon (`scope` + `spawn`, and recursive `rayon::join`)
//! and beside a static graph of the same shape run by the same executor,
//! all in the same criterion group. The target (issue 9) is a spawned task
//! costing at most twice a static graph's task, and less than rayon's
//! `scope.spawn`; compare the medians within one group, one run.
//!
//! `cargo bench --bench spawn`; criterion's test mode (`-- --test`) runs
//! each body once.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use taskflow_engine::{Context, Executor, Graph, Task};

/// The children of the flat shape.
const CHILDREN: u32 = 1_000_000;

/// The depth of the fan-out: `2^DEPTH` leaves, `2^(DEPTH+1) - 1` tasks
/// with the inner ones; 2^20 tasks in all with `DEPTH = 19`.
const DEPTH: u32 = 19;

/// The tasks of the fan-out.
const TREE_TASKS: u64 = (1 << (DEPTH + 1)) - 1;

fn executor(workers: usize) -> Executor {
    Executor::builder()
        .workers_per_tag(workers)
        .build()
        .expect("the workers start")
}

fn rayon_pool(workers: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .build()
        .expect("rayon's workers start")
}

/// A graph whose one task spawns `CHILDREN` empty children.
fn flat_spawn() -> Graph<'static> {
    let mut graph = Graph::new();
    graph.add(Task::new("parent", |cx: &Context<'_>| {
        for _ in 0..CHILDREN {
            cx.spawn(Task::new("child", |_: &Context<'_>| Ok(())))?;
        }
        Ok(())
    }));
    graph
}

/// The same shape, static: one task and `CHILDREN` empty dependents.
fn flat_static() -> Graph<'static> {
    let mut graph = Graph::new();
    let parent = graph.add(Task::new("parent", |_: &Context<'_>| Ok(())));
    for _ in 0..CHILDREN {
        graph.add(Task::new("child", |_: &Context<'_>| Ok(())).after(parent));
    }
    graph
}

/// An inner task of the fan-out: spawns its two halves, down to `depth` 0.
fn fan_out(depth: u32) -> Task<'static, ()> {
    Task::new("node", move |cx: &Context<'_>| {
        if depth > 0 {
            cx.spawn(fan_out(depth - 1))?;
            cx.spawn(fan_out(depth - 1))?;
        }
        Ok(())
    })
}

fn tree_spawn() -> Graph<'static> {
    let mut graph = Graph::new();
    graph.add(fan_out(DEPTH));
    graph
}

/// The fan-out as a static out-tree: task `i`'s children are `2i + 1` and
/// `2i + 2`.
fn tree_static() -> Graph<'static> {
    let mut graph = Graph::new();
    let mut tasks = Vec::with_capacity(TREE_TASKS as usize);
    for index in 0..TREE_TASKS as usize {
        let task = Task::new("node", |_: &Context<'_>| Ok(()));
        let task = if index == 0 {
            task
        } else {
            task.after(tasks[(index - 1) / 2])
        };
        tasks.push(graph.add(task));
    }
    graph
}

fn rayon_tree_join(depth: u32) {
    if depth > 0 {
        rayon::join(|| rayon_tree_join(depth - 1), || rayon_tree_join(depth - 1));
    }
}

fn rayon_tree_scope<'s>(scope: &rayon::Scope<'s>, depth: u32) {
    if depth > 0 {
        scope.spawn(move |scope| rayon_tree_scope(scope, depth - 1));
        scope.spawn(move |scope| rayon_tree_scope(scope, depth - 1));
    }
}

fn run(executor: &Executor, graph: &mut Graph<'_>, tasks: usize) {
    let report = executor.run(graph).expect("a valid graph");
    assert!(report.is_success() && report.len() == tasks, "{report}");
}

fn flat(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("spawn_flat_1m");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(u64::from(CHILDREN)));
    let tasks = CHILDREN as usize + 1;
    for workers in [1, 2] {
        let executor = executor(workers);
        let mut spawning = flat_spawn();
        group.bench_function(BenchmarkId::new("taskflow_spawn", workers), |bencher| {
            bencher.iter(|| run(&executor, &mut spawning, tasks));
        });
        let mut fixed = flat_static();
        group.bench_function(BenchmarkId::new("taskflow_static", workers), |bencher| {
            bencher.iter(|| run(&executor, &mut fixed, tasks));
        });
        let pool = rayon_pool(workers);
        group.bench_function(BenchmarkId::new("rayon_scope_spawn", workers), |bencher| {
            bencher.iter(|| {
                pool.scope(|scope| {
                    for _ in 0..CHILDREN {
                        scope.spawn(|_| black_box(()));
                    }
                });
            });
        });
    }
    group.finish();
}

fn tree(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("spawn_tree_2p20");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(TREE_TASKS));
    for workers in [1, 2] {
        let executor = executor(workers);
        let mut spawning = tree_spawn();
        group.bench_function(BenchmarkId::new("taskflow_spawn", workers), |bencher| {
            bencher.iter(|| run(&executor, &mut spawning, TREE_TASKS as usize));
        });
        let mut fixed = tree_static();
        group.bench_function(BenchmarkId::new("taskflow_static", workers), |bencher| {
            bencher.iter(|| run(&executor, &mut fixed, TREE_TASKS as usize));
        });
        let pool = rayon_pool(workers);
        group.bench_function(BenchmarkId::new("rayon_scope_spawn", workers), |bencher| {
            bencher.iter(|| pool.scope(|scope| rayon_tree_scope(scope, DEPTH)));
        });
        group.bench_function(BenchmarkId::new("rayon_join", workers), |bencher| {
            bencher.iter(|| pool.install(|| rayon_tree_join(DEPTH)));
        });
    }
    group.finish();
}

criterion_group!(benches, flat, tree);
criterion_main!(benches);
