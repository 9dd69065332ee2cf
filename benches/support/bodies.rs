//! The task bodies of `../shared/BENCH-SHAPES.md` (from the repository root),
//! as small `Copy` values that every engine wraps in its own kind of closure,
//! plus a checking body that the suite runs once per engine and shape,
//! outside timing, to verify that the engine ran every task once and after
//! all of its predecessors.

use std::hint::black_box;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

use super::shapes::Shape;

/// What a task does when it runs. Engines call `run` once per task per run.
pub(crate) trait Body: Send + Sync + 'static {
    fn run(&self);
}

/// The **empty** body: stores 1 into the task's own byte of a shared array
/// (Relaxed), so it is never optimised away and never contended. Its only
/// capture is the reference to that byte: 8 bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EmptyBody {
    flag: &'static AtomicU8,
}

impl EmptyBody {
    pub(crate) fn new(flags: &'static Flags, task: usize) -> Self {
        EmptyBody {
            flag: &flags.bytes[task],
        }
    }
}

impl Body for EmptyBody {
    #[inline]
    fn run(&self) {
        self.flag.store(1, Ordering::Relaxed);
    }
}

/// The **work** body: `repetitions` times 32 iterations of
/// `x = sin(x) * 1.0000001 + cos(x)` from a start derived from the task
/// index, the result through `black_box` (about 0.9 µs per repetition on the
/// reference machine). One repetition everywhere but in the pipeline, whose
/// read, process and compress stages repeat it 4, 2 and 1 times.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WorkBody {
    start: f64,
    repetitions: u32,
}

impl WorkBody {
    pub(crate) fn new(task: usize, repetitions: u32) -> Self {
        WorkBody {
            start: (task % 1000) as f64 * 1e-3,
            repetitions,
        }
    }
}

impl Body for WorkBody {
    #[inline]
    fn run(&self) {
        for _ in 0..self.repetitions {
            let mut x = black_box(self.start);
            for _ in 0..32 {
                x = x.sin() * 1.000_000_1 + x.cos();
            }
            black_box(x);
        }
    }
}

/// Which body a benchmark's tasks run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// [`EmptyBody`].
    Empty,
    /// [`WorkBody`], repeated as [`Shape::work_repetitions`] says (once
    /// except in the pipeline).
    Work,
}

/// Makes task `task`'s body of a shape; one function per body type, so that
/// engines can be set up lazily, once the shape exists.
pub(crate) type MakeBody<B> = fn(&'static Shape, &'static Flags, usize) -> B;

/// [`MakeBody`] for [`EmptyBody`].
pub(crate) fn empty_body(_: &'static Shape, flags: &'static Flags, task: usize) -> EmptyBody {
    EmptyBody::new(flags, task)
}

/// [`MakeBody`] for [`WorkBody`].
pub(crate) fn work_body(shape: &'static Shape, _: &'static Flags, task: usize) -> WorkBody {
    WorkBody::new(task, shape.work_repetitions(task))
}

/// One byte per task that bodies set, and a count of ordering violations
/// that [`CheckedBody`] found. Leaked, one per shape, so that bodies can hold
/// plain `&'static` references into it.
#[derive(Debug)]
pub(crate) struct Flags {
    bytes: Box<[AtomicU8]>,
    violations: AtomicUsize,
}

impl Flags {
    pub(crate) fn leak(tasks: usize) -> &'static Flags {
        Box::leak(Box::new(Flags {
            bytes: (0..tasks).map(|_| AtomicU8::new(0)).collect(),
            violations: AtomicUsize::new(0),
        }))
    }

    pub(crate) fn reset(&self) {
        for byte in self.bytes.iter() {
            // ORDERING: Relaxed: reset between runs on the benchmark thread;
            // the engines' own hand-off orders it before the next run's tasks.
            byte.store(0, Ordering::Relaxed);
        }
        self.violations.store(0, Ordering::Relaxed);
    }

    /// Panics unless every task's byte is 1 and no violation was counted.
    pub(crate) fn assert_all_ran(&self, engine: &str) {
        // ORDERING: Relaxed: read after the engine's run returned, which
        // happens after every task finished.
        let missing = self
            .bytes
            .iter()
            .filter(|byte| byte.load(Ordering::Relaxed) != 1)
            .count();
        let violations = self.violations.load(Ordering::Relaxed);
        assert!(
            missing == 0 && violations == 0,
            "{engine}: {missing} tasks did not run, {violations} ordering violations"
        );
    }
}

/// The verification body: counts a violation if any predecessor has not
/// run yet or if this task already ran in this run, then marks the task as
/// run. Relaxed accesses suffice, and are the point: an engine that hands a
/// task over with proper release/acquire makes every predecessor's store
/// visible to it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CheckedBody {
    task: u32,
    shape: &'static Shape,
    flags: &'static Flags,
}

impl CheckedBody {
    pub(crate) fn new(shape: &'static Shape, flags: &'static Flags, task: usize) -> Self {
        CheckedBody {
            task: task as u32,
            shape,
            flags,
        }
    }
}

impl Body for CheckedBody {
    fn run(&self) {
        let task = self.task as usize;
        let bytes = &self.flags.bytes;
        let early = self
            .shape
            .predecessors(task)
            .iter()
            // ORDERING: Relaxed: see the type's docs.
            .filter(|&&predecessor| bytes[predecessor as usize].load(Ordering::Relaxed) != 1)
            .count();
        let twice = usize::from(bytes[task].swap(1, Ordering::Relaxed) != 0);
        if early + twice > 0 {
            self.flags
                .violations
                .fetch_add(early + twice, Ordering::Relaxed);
        }
    }
}
