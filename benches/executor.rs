//! The cost of starting and stopping an executor's workers, with and
//! without the builder's thread hooks (a name function, a stack size, start
//! and stop handlers), beside a bare `std::thread` spawn-and-join of as many
//! threads in the same group: the hooks run once per worker thread, never
//! per task, so this is the only place they can cost anything.
//!
//! `cargo bench --bench executor`; criterion's test mode (`-- --test`) runs
//! each body once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use taskflow_engine::{Executor, ExecutorBuilder};

/// Workers per executor: the pool of one tag, started by `build`.
const WORKERS: usize = 2;

fn executor_start(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("executor_start");
    group.bench_function("plain", |bencher| {
        bencher.iter(|| {
            let executor: Executor = ExecutorBuilder::new()
                .tag_workers("pool", WORKERS)
                .build()
                .expect("workers start");
            drop(executor);
        });
    });
    let started = Arc::new(AtomicUsize::new(0));
    group.bench_function("with_hooks", |bencher| {
        bencher.iter(|| {
            let (on_start, on_stop) = (Arc::clone(&started), Arc::clone(&started));
            let executor: Executor = ExecutorBuilder::new()
                .tag_workers("pool", WORKERS)
                .thread_name(|tag, index| format!("bench-{tag}-{index}"))
                .stack_size(2 << 20)
                .on_thread_start(move |_, _| {
                    on_start.fetch_add(1, Ordering::Relaxed);
                })
                .on_thread_stop(move |_, _| {
                    on_stop.fetch_add(1, Ordering::Relaxed);
                })
                .build()
                .expect("workers start");
            drop(executor);
        });
    });
    group.bench_function("std_threads", |bencher| {
        bencher.iter(|| {
            let threads: Vec<_> = (0..WORKERS).map(|_| std::thread::spawn(|| ())).collect();
            for thread in threads {
                thread.join().expect("an empty thread");
            }
        });
    });
    group.finish();
    // ORDERING: Relaxed: read after every executor of the group was joined.
    assert!(started.load(Ordering::Relaxed) > 0, "the hooks ran");
}

criterion_group!(benches, executor_start);
criterion_main!(benches);
