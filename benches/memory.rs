//! Memory of built taskflow graphs: bytes per task and per edge, measured
//! with a counting global allocator (not estimated), after the build and
//! after the first run (which may reorganise the graph's storage: engines
//! before commit c8cdb8a compiled the edges into arrays then).
//!
//! For each shape of `../shared/BENCH-SHAPES.md` (from the repository root)
//! with the empty body, the bench records the bytes held by live allocations
//! before and after building the graph (the generator's shape and the body
//! flags exist before, the builder's temporary handle list is freed before
//! the second reading), then runs the graph once, drops the report and reads
//! how many bytes dropping the graph frees. Sizes are the requested sizes
//! (`Layout::size`): the allocator's own rounding and headers come on top
//! (glibc: 8 bytes per block, 16-byte granules, 32 bytes at least).
//!
//! The closures' captures are taken out: each task's closure captures only
//! its [`EmptyBody`](support::bodies::EmptyBody), a reference to its byte,
//! 8 bytes (measured with `size_of_val` below), which lives in the task's
//! body allocation; `capture × tasks` is subtracted. That allocation itself
//! is counted: it exists for every non-empty closure.
//!
//! Bytes per task are what the same tasks hold without any edge, divided by
//! the number of tasks; bytes per edge are what the edges add to that,
//! divided by the number of edges. (Declaring every edge a second time, as
//! this bench did before, would turn tasks with more than 16 successors
//! into hubs, which the graph indexes for its first run: `backward_dag`
//! has them only when doubled.) Both include the growth slack of the vectors the
//! graph fills while it is built.
//!
//! `cargo bench --bench memory` prints the table and leaves it in
//! `target/tmp/taskflow-bench/memory.md`. In criterion's test mode (`cargo
//! bench -- --test`) it runs at the quick sizes, where vector growth slack
//! differs, so its figures are only a smoke test.

#[allow(dead_code)] // Shared with the `shapes` bench, which uses all of it.
mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use support::bodies::{Flags, empty_body};
use support::graphs::{task_closure, taskflow_executor, taskflow_graph_with_copies};
use support::shapes::{Shape, ShapeSpec, Sizes};

/// The system allocator, counting the bytes and blocks that are live.
struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
static LIVE_BLOCKS: AtomicIsize = AtomicIsize::new(0);

fn count(bytes: isize, blocks: isize) {
    // ORDERING: Relaxed: the counters are read only after the measured code
    // settled (see `settle`), and carry no other data.
    LIVE_BYTES.fetch_add(bytes, Ordering::Relaxed);
    LIVE_BLOCKS.fetch_add(blocks, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments,
// which the caller guarantees valid as `GlobalAlloc` requires; counting has
// no effect on the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            count(layout.size() as isize, 1);
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            count(layout.size() as isize, 1);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller passes a block this allocator, that is
        // `System`, allocated with `layout`.
        unsafe { System.dealloc(pointer, layout) };
        count(-(layout.size() as isize), -1);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and the caller guarantees `new_size`.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            count(new_size as isize - layout.size() as isize, 0);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Bytes and blocks live at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Footprint {
    bytes: isize,
    blocks: isize,
}

impl std::ops::Sub for Footprint {
    type Output = Footprint;
    fn sub(self, other: Footprint) -> Footprint {
        Footprint {
            bytes: self.bytes - other.bytes,
            blocks: self.blocks - other.blocks,
        }
    }
}

/// The live footprint once it stopped changing: idle workers may still be
/// dropping what a run left them (its completion handle) for a moment after
/// the run returned.
fn settle() -> Footprint {
    let read = || Footprint {
        // ORDERING: Relaxed: see `count`.
        bytes: LIVE_BYTES.load(Ordering::Relaxed),
        blocks: LIVE_BLOCKS.load(Ordering::Relaxed),
    };
    let mut last = read();
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let now = read();
        if now == last {
            return now;
        }
        last = now;
    }
}

/// What one shape's graph holds after the build and after the first run.
#[derive(Clone, Copy, Debug)]
struct Held {
    built: Footprint,
    compiled: Footprint,
}

/// Builds `shape` with every edge declared `copies` times (0: no edges),
/// runs it once, and returns what the graph held.
fn held(
    shape: &'static Shape,
    flags: &'static Flags,
    executor: &taskflow_engine::Executor,
    copies: usize,
) -> Held {
    let before = settle();
    let mut graph =
        taskflow_graph_with_copies(shape, |task| empty_body(shape, flags, task), copies);
    let built = settle() - before;

    let report = executor.run(&mut graph).expect("the graph runs");
    assert!(report.is_success());
    drop(report);
    let held = settle();
    drop(graph);
    let compiled = held - settle();
    Held { built, compiled }
}

/// One shape's figures.
#[derive(Debug)]
struct Measured {
    shape: &'static str,
    tasks: usize,
    edges: usize,
    capture: usize,
    once: Held,
    without_edges: Held,
}

impl Measured {
    /// Bytes per edge: what the edges add to the same tasks without them.
    fn per_edge(&self, state: fn(&Held) -> Footprint) -> Option<f64> {
        (self.edges > 0).then(|| {
            (state(&self.once).bytes - state(&self.without_edges).bytes) as f64 / self.edges as f64
        })
    }

    /// Bytes per task: the tasks without edges, less the closures' captures.
    fn per_task(&self, state: fn(&Held) -> Footprint) -> f64 {
        let captures = (self.capture * self.tasks) as f64;
        (state(&self.without_edges).bytes as f64 - captures) / self.tasks as f64
    }

    fn blocks_per_task(&self, state: fn(&Held) -> Footprint) -> f64 {
        state(&self.once).blocks as f64 / self.tasks as f64
    }
}

fn measure(spec: ShapeSpec) -> Measured {
    let shape: &'static Shape = spec.generate().leak();
    let flags = Flags::leak(shape.tasks);
    let executor = taskflow_executor(shape, 1);
    let capture = std::mem::size_of_val(&task_closure(empty_body(shape, flags, 0)));
    let once = held(shape, flags, &executor, 1);
    let without_edges = held(shape, flags, &executor, 0);
    Measured {
        shape: spec.name(),
        tasks: shape.tasks,
        edges: shape.edges(),
        capture,
        once,
        without_edges,
    }
}

/// The criterion-style name filters among the arguments, skipping flags
/// and the values of flags that take one.
fn filters() -> Vec<String> {
    const TAKES_VALUE: [&str; 14] = [
        "--save-baseline",
        "--baseline",
        "--baseline-lenient",
        "--load-baseline",
        "--sample-size",
        "--warm-up-time",
        "--measurement-time",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--profile-time",
        "--color",
        "--output-format",
    ];
    let mut filters = Vec::new();
    let mut skip_value = false;
    for arg in std::env::args().skip(1) {
        if skip_value {
            skip_value = false;
        } else if arg.starts_with('-') {
            skip_value = TAKES_VALUE.contains(&arg.as_str());
        } else {
            filters.push(arg);
        }
    }
    filters
}

fn main() {
    let filters = filters();
    let sizes = Sizes::from_args();
    let wanted = |name: &str| filters.iter().any(|filter| name.contains(filter.as_str()));
    if !filters.is_empty()
        && !wanted("memory")
        && !sizes.all().iter().any(|spec| wanted(spec.name()))
    {
        return;
    }

    let measured: Vec<Measured> = sizes.all().into_iter().map(measure).collect();
    let built = |held: &Held| held.built;
    let compiled = |held: &Held| held.compiled;

    let mut table = String::new();
    let _ = writeln!(
        table,
        "Bytes held by a graph with the empty body, {} sizes, closures' captures ({} bytes per task) subtracted.\n",
        if sizes.quick { "quick" } else { "default" },
        measured[0].capture,
    );
    let _ = writeln!(
        table,
        "| shape | tasks | edges | after build: bytes/task | bytes/edge | blocks/task | after first run: bytes/task | bytes/edge | blocks/task |"
    );
    let _ = writeln!(table, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let edge = |bytes: Option<f64>| bytes.map_or("–".to_owned(), |bytes| format!("{bytes:.1}"));
    for m in &measured {
        let _ = writeln!(
            table,
            "| {} | {} | {} | {:.1} | {} | {:.2} | {:.1} | {} | {:.2} |",
            m.shape,
            m.tasks,
            m.edges,
            m.per_task(built),
            edge(m.per_edge(built)),
            m.blocks_per_task(built),
            m.per_task(compiled),
            edge(m.per_edge(compiled)),
            m.blocks_per_task(compiled),
        );
    }
    print!("{table}");

    let folder = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("taskflow-bench");
    if !sizes.quick {
        let written = std::fs::create_dir_all(&folder)
            .and_then(|()| std::fs::write(folder.join("memory.md"), &table));
        if let Err(error) = written {
            eprintln!("could not save the memory table: {error}");
        }
    }
}
