//! The A/B of `scripts/ab-engines.sh`: the engine at a base revision
//! (`base_engine`) against this checkout (`new_engine`), in one process,
//! on every single-tag shape of BENCH-SHAPES.md (default sizes, empty
//! bodies or, with `BODY=work`, the work body; re-runs of a built graph, no
//! observer), at one and two workers. The rounds alternate which engine runs first; each
//! run is timed by the wall clock and by the process's CPU time (which
//! leaves out what other processes took). Prints the medians in ns per task
//! and the median of the per-round ratios new/base.
//!
//! Arguments: the number of rounds (default 15). `ONLY=<shape>` and
//! `WORKERS=<n>` narrow the cases; `BODY=work` runs the work body.
//! `PAIR=workers` compares instead this checkout at two workers with it at
//! one, interleaved the same way (issue 12's first bar, without the drift
//! between benchmarks measured seconds apart); `WORKERS` is then ignored.

#[allow(dead_code)]
#[path = "../../benches/support/shapes.rs"]
mod shapes;

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

fn cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec for the call to fill.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0);
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// The same graph building and running for both engines, whose APIs agree.
macro_rules! engine {
    ($name:ident, $krate:ident) => {
        mod $name {
            use super::shapes::{EdgeStyle, Shape};
            use std::sync::atomic::{AtomicU8, Ordering};
            use $krate::{Context, Error, Executor, Graph, Task, TaskId};

            pub struct Bench {
                executor: Executor,
                graph: Graph<'static>,
            }

            /// The shape as `benches/support/graphs.rs` builds it, run once.
            pub fn build(
                shape: &Shape,
                flags: &'static [AtomicU8],
                workers: usize,
                work: bool,
            ) -> Bench {
                let executor = Executor::builder()
                    .workers_per_tag(workers)
                    .build()
                    .unwrap();
                let mut graph = Graph::new();
                let task = |index: usize| {
                    let flag = &flags[index];
                    Task::new("task", move |_: &Context<'_>| -> Result<(), Error> {
                        if work {
                            super::work(index);
                        }
                        flag.store(1, Ordering::Relaxed);
                        Ok(())
                    })
                };
                match shape.style {
                    EdgeStyle::After => {
                        let mut ids: Vec<TaskId<()>> = Vec::with_capacity(shape.tasks);
                        for index in 0..shape.tasks {
                            let predecessors = shape.predecessors(index).iter();
                            let task =
                                task(index).after_all(predecessors.map(|&p| ids[p as usize]));
                            ids.push(graph.add(task));
                        }
                    }
                    EdgeStyle::Precede => {
                        let ids: Vec<TaskId<()>> = (0..shape.tasks)
                            .map(|index| graph.add(task(index)))
                            .collect();
                        for (index, &before) in ids.iter().enumerate() {
                            for &successor in shape.successors(index) {
                                graph.precede(before, ids[successor as usize]).unwrap();
                            }
                        }
                    }
                }
                let mut bench = Bench { executor, graph };
                run(&mut bench);
                bench
            }

            pub fn run(bench: &mut Bench) {
                let report = bench.executor.run(&mut bench.graph).unwrap();
                assert!(report.is_success());
            }
        }
    };
}
engine!(base, base_engine);
engine!(new, new_engine);

/// The work body of BENCH-SHAPES.md.
fn work(task: usize) {
    let mut x = std::hint::black_box((task % 1000) as f64 * 1e-3);
    for _ in 0..32 {
        x = x.sin() * 1.000_000_1 + x.cos();
    }
    std::hint::black_box(x);
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Per round, the (wall, CPU) ns per task of `a` and of `b`, alternating
/// which runs first.
type Rounds = Vec<((f64, f64), (f64, f64))>;

fn interleave(rounds: usize, tasks: usize, a: &mut dyn FnMut(), b: &mut dyn FnMut()) -> Rounds {
    let tasks = tasks as f64;
    let time = |run: &mut dyn FnMut()| {
        let (wall, cpu) = (Instant::now(), cpu_time());
        run();
        (
            wall.elapsed().as_nanos() as f64 / tasks,
            (cpu_time() - cpu).as_nanos() as f64 / tasks,
        )
    };
    (0..rounds)
        .map(|round| {
            if round % 2 == 0 {
                let x = time(a);
                (x, time(b))
            } else {
                let y = time(b);
                (time(a), y)
            }
        })
        .collect()
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or(15);
    let only = std::env::var("ONLY").ok();
    let only_workers: Option<usize> = std::env::var("WORKERS").ok().and_then(|w| w.parse().ok());
    let work = std::env::var("BODY").is_ok_and(|body| body == "work");
    let pair_workers = std::env::var("PAIR").is_ok_and(|pair| pair == "workers");
    let sizes = shapes::Sizes { quick: false };
    if pair_workers {
        println!(
            "{rounds} rounds; ns per task, medians; ratio: median of 2w/1w per round, this checkout"
        );
    } else {
        println!("{rounds} rounds; ns per task, medians; ratio: median of new/base per round");
    }
    for spec in [
        sizes.linear_chain(),
        sizes.independent(),
        sizes.binary_tree(),
        sizes.wavefront(),
        sizes.level_graph(),
        sizes.random_dag(),
        sizes.backward_dag(),
    ] {
        if only.as_deref().is_some_and(|name| name != spec.name()) {
            continue;
        }
        let shape = spec.generate();
        let flags: &'static [AtomicU8] =
            Box::leak((0..shape.tasks).map(|_| AtomicU8::new(0)).collect());
        let cases: Vec<(String, Rounds)> = if pair_workers {
            let mut a = new::build(&shape, flags, 1, work);
            let mut b = new::build(&shape, flags, 2, work);
            let rows = interleave(rounds, shape.tasks, &mut || new::run(&mut a), &mut || {
                new::run(&mut b)
            });
            vec![("2w/1w".to_owned(), rows)]
        } else {
            [1, 2]
                .into_iter()
                .filter(|&workers| only_workers.is_none_or(|only| only == workers))
                .map(|workers| {
                    let mut a = base::build(&shape, flags, workers, work);
                    let mut b = new::build(&shape, flags, workers, work);
                    let rows =
                        interleave(rounds, shape.tasks, &mut || base::run(&mut a), &mut || {
                            new::run(&mut b)
                        });
                    (format!("{workers}w"), rows)
                })
                .collect()
        };
        for flag in flags {
            assert_eq!(flag.load(Ordering::Relaxed), 1, "every task ran");
        }
        let (first, second) = if pair_workers {
            ("1w", "2w")
        } else {
            ("base", "new")
        };
        for (case, rows) in cases {
            let column = |pick: fn(&((f64, f64), (f64, f64))) -> f64| {
                median(rows.iter().map(pick).collect())
            };
            println!(
                "{:<13} {case:<5}  wall {first} {:6.2} {second} {:6.2} ratio {:.3} | cpu {first} {:6.2} {second} {:6.2} ratio {:.3}",
                spec.name(),
                column(|r| r.0.0),
                column(|r| r.1.0),
                column(|r| r.1.0 / r.0.0),
                column(|r| r.0.1),
                column(|r| r.1.1),
                column(|r| r.1.1 / r.0.1),
            );
        }
    }
}
