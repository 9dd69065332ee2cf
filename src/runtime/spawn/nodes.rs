//! [`Node`] and [`Nodes`]: the spawned tasks of one run, in a table that
//! grows while workers read it.
//!
//! The table is a list of segments, the first [`FIRST_SEGMENT`] nodes long
//! and each next one twice as long as the one before, allocated when the
//! first node that falls into it is spawned. Nodes never move, so a worker
//! may hold `&Node` while others spawn. A node's index comes from one
//! run-wide counter; the spawner writes the node into its slot before it
//! hands the index to anyone (a job, a successor list, the spawn's
//! returned handle), and every such hand-off synchronises, so a reader of
//! an index sees the node written.
//!
//! A run's segments come from its executor's [`SpareSegments`] when it has
//! them, and go back there when the run ends (its nodes dropped): a run
//! that spawns as much as an earlier one writes into memory that is
//! already mapped, instead of faulting in and zeroing fresh pages for
//! every node. The executor keeps the first [`KEPT_SEGMENTS`] segments
//! (about a million nodes' worth) until it is dropped; larger ones are
//! freed with their run.

use std::borrow::Cow;
use std::mem::MaybeUninit;
use std::ptr::NonNull;

use crate::graph::body::PendingBody;
use crate::graph::handle::TaskRef;
use crate::runtime::pool::Pool;
use crate::runtime::spawn::subtree::Subtree;
use crate::sync::atomic::{AtomicPtr, AtomicU8, AtomicU32, AtomicUsize, Ordering};
use crate::sync::{Mutex, UnsafeCell};

/// The length of the first segment (a power of two).
const FIRST_SEGMENT: usize = 1 << 10;

/// Enough segments for more nodes than a `u32` counts.
const SEGMENTS: usize = 23;

/// How many of the first segments an executor keeps for its next runs:
/// `FIRST_SEGMENT * (2^KEPT_SEGMENTS - 1)` nodes, just over a million.
const KEPT_SEGMENTS: usize = 10;

/// One spawned task, aligned to the cache line so that each node of a
/// segment takes two lines of its own (see [`Declared`]).
#[repr(align(64))]
pub(crate) struct Node {
    pub(crate) name: Cow<'static, str>,
    /// The pool it runs on, held by the run (see [`crate::runtime::spawn`]).
    pub(crate) pool: NonNull<Pool>,
    /// Written by the node's owner only: the worker that runs it, then the
    /// parent after its `join`, and the siblings that name it, after it
    /// ended, read it.
    pub(crate) body: UnsafeCell<PendingBody>,
    /// Unfinished sibling dependencies, and [`POISONED`](crate::runtime::state::POISONED).
    pub(crate) pending: AtomicU32,
    /// The subtree of the parent, which counts this node's subtree.
    pub(crate) parent: NonNull<Subtree>,
    /// The tasks it declared in `after`: siblings, and the parent's own
    /// dependencies, whose outputs it may read.
    pub(crate) dependencies: Declared,
    /// Its outcome code (see [`crate::runtime::state`]), 0 until settled.
    pub(crate) outcome: AtomicU8,
    /// Whether its subtree ended, and how, and whether a sibling waits for
    /// that ([`ENDED`], [`ENDED_POISONED`], [`AWAITED`]; see
    /// [`crate::runtime::spawn`], steps 5 and 2).
    pub(crate) end: AtomicU8,
    /// The next child of the same parent, once there is one: written under
    /// the parent's children lock (see [`Subtree::children`]).
    pub(crate) next_sibling: AtomicU32,
}

/// The tasks a spawned task declared, behind one thin pointer (null for
/// none, as most spawns declare), so that a node fills exactly two cache
/// lines: 128 bytes, where a slice's pointer and length made it 144, and
/// one node in two straddled a third line.
pub(crate) struct Declared(Option<Box<Box<[TaskRef]>>>);

impl Declared {
    pub(crate) fn new(dependencies: &[TaskRef]) -> Self {
        Declared((!dependencies.is_empty()).then(|| Box::new(dependencies.into())))
    }

    pub(crate) fn contains(&self, task: &TaskRef) -> bool {
        self.0
            .as_ref()
            .is_some_and(|declared| declared.contains(task))
    }
}

/// In [`Node::end`]: the node's subtree ended.
pub(crate) const ENDED: u8 = 1;

/// In [`Node::end`], with [`ENDED`]: it ended poisoned.
pub(crate) const ENDED_POISONED: u8 = 2;

/// In [`Node::end`]: a sibling that names the node waits in its parent's
/// [`Subtree::waiting`] (set before the subtree ended, else the sibling
/// counts the end itself).
pub(crate) const AWAITED: u8 = 4;

/// The spawned tasks of one run (module docs).
pub(crate) struct Nodes {
    segments: [AtomicPtr<MaybeUninit<Node>>; SEGMENTS],
    /// Indices handed out.
    next: AtomicUsize,
    /// Held while a segment is installed (see [`Nodes::install`]).
    installing: Mutex<()>,
    /// Where segments come from and go back to.
    spares: std::sync::Arc<SpareSegments>,
}

/// The unused segments an executor keeps between its runs (module docs),
/// at most one of each of the first [`KEPT_SEGMENTS`] lengths: a run takes
/// a segment when it first needs it, and gives it back when it ends.
#[derive(Default)]
pub(crate) struct SpareSegments(Mutex<[Option<Segment>; KEPT_SEGMENTS]>);

impl std::fmt::Debug for SpareSegments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = self.0.lock().iter().flatten().count();
        f.debug_struct("SpareSegments")
            .field("kept", &kept)
            .finish()
    }
}

/// One segment's allocation, with no node in it.
pub(crate) struct Segment {
    base: NonNull<MaybeUninit<Node>>,
    len: usize,
}

// SAFETY: a segment owns its allocation and holds no node (no value of
// its slots is live), so it may move between threads.
unsafe impl Send for Segment {}

impl Segment {
    fn new(len: usize) -> Self {
        let fresh: Box<[MaybeUninit<Node>]> = Box::new_uninit_slice(len);
        let base = NonNull::from(Box::leak(fresh)).cast::<MaybeUninit<Node>>();
        Segment { base, len }
    }

    /// Gives up ownership of the allocation.
    fn into_raw(self) -> *mut MaybeUninit<Node> {
        let base = self.base.as_ptr();
        std::mem::forget(self);
        base
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` as a boxed slice of `len`, freed once;
        // its slots hold no live node.
        drop(unsafe {
            Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                self.base.as_ptr(),
                self.len,
            ))
        });
    }
}

impl SpareSegments {
    /// A segment of number `segment`: a kept one, or a fresh one.
    fn take(&self, segment: usize) -> Segment {
        let kept = (segment < KEPT_SEGMENTS)
            .then(|| self.0.lock()[segment].take())
            .flatten();
        kept.unwrap_or_else(|| Segment::new(segment_len(segment)))
    }

    /// Keeps the emptied `spare` (of number `segment`) for a later run, or
    /// frees it.
    fn give_back(&self, segment: usize, spare: Segment) {
        if segment < KEPT_SEGMENTS {
            let mut kept = self.0.lock();
            if kept[segment].is_none() {
                kept[segment] = Some(spare);
            }
        }
    }
}

impl Nodes {
    /// An empty table, whose segments come from `spares`.
    pub(crate) fn new(spares: std::sync::Arc<SpareSegments>) -> Self {
        Nodes {
            segments: std::array::from_fn(|_| AtomicPtr::new(std::ptr::null_mut())),
            next: AtomicUsize::new(0),
            installing: Mutex::new(()),
            spares,
        }
    }
}

/// The segment of `index` and its position in it.
fn place(index: usize) -> (usize, usize) {
    let shifted = index / FIRST_SEGMENT + 1;
    let segment = (usize::BITS - 1 - shifted.leading_zeros()) as usize;
    let start = ((1 << segment) - 1) * FIRST_SEGMENT;
    (segment, index - start)
}

fn segment_len(segment: usize) -> usize {
    FIRST_SEGMENT << segment
}

impl Nodes {
    /// A fresh node index, or `None` when the run holds as many spawned
    /// tasks as a `u32` indexes. The caller writes its node with
    /// [`write`](Nodes::write) before it hands the index to anyone.
    pub(crate) fn reserve(&self) -> Option<u32> {
        // ORDERING: Relaxed: only the uniqueness of indices matters here; the
        // node is published by the hand-offs of its index (module docs).
        let index = self.next.fetch_add(1, Ordering::Relaxed);
        (index < u32::MAX as usize).then_some(index as u32)
    }

    /// Stores the node that `node` makes at `index`, which
    /// [`reserve`](Nodes::reserve) gave the caller. The node is made once
    /// its slot is known, and inlined here, so that it is built in its slot
    /// rather than built on the stack and copied there (such copies took
    /// 15 % of a spawn's time).
    #[inline(always)]
    pub(crate) fn write(&self, index: u32, node: impl FnOnce() -> Node) {
        let (segment, offset) = place(index as usize);
        let base = self.segment(segment);
        // SAFETY: `offset` is within the segment, and the slot of a fresh
        // index is written by its reserver alone, once, before any reader
        // can learn the index.
        unsafe { base.add(offset).cast::<Node>().write(node()) };
    }

    /// The segment `segment`, allocated if it is the first use.
    fn segment(&self, segment: usize) -> *mut MaybeUninit<Node> {
        // ORDERING: Acquire: takes in the allocation of whoever stored it.
        let current = self.segments[segment].load(Ordering::Acquire);
        if !current.is_null() {
            return current;
        }
        self.install(segment)
    }

    /// The first use of segment `segment`, by one thread at a time: two
    /// spawners that both found it missing and raced to install one used
    /// to take the executor's kept segment and a fresh one, and when the
    /// fresh one won, the run wrote its nodes into memory never touched
    /// (at two workers, up to 20,000 page faults a run of a 2^20 fan-out,
    /// where one worker took 32).
    #[cold]
    fn install(&self, segment: usize) -> *mut MaybeUninit<Node> {
        let _installing = self.installing.lock();
        // ORDERING: Relaxed: stores to it are made under this lock, which
        // takes them in.
        let current = self.segments[segment].load(Ordering::Relaxed);
        if !current.is_null() {
            return current;
        }
        let base = self.spares.take(segment).into_raw();
        // ORDERING: Release: publishes the allocation to the lock-free
        // readers of `segment` and `get`.
        self.segments[segment].store(base, Ordering::Release);
        base
    }

    /// The node at `index`.
    ///
    /// `index` must have been handed to the caller through a synchronising
    /// hand-off after its node was written (module docs).
    pub(crate) fn get(&self, index: u32) -> &Node {
        let (segment, offset) = place(index as usize);
        // ORDERING: Acquire: as in `segment`.
        let base = self.segments[segment].load(Ordering::Acquire);
        debug_assert!(!base.is_null(), "a node index names a written node");
        // SAFETY: the index was handed out by `push`, which wrote the node
        // before the index reached the caller (see above).
        unsafe { (*base.add(offset)).assume_init_ref() }
    }

    /// How many nodes were spawned.
    pub(crate) fn len(&self) -> usize {
        // ORDERING: Relaxed: read after the run completed, which ordered
        // every spawn before it.
        self.next.load(Ordering::Relaxed).min(u32::MAX as usize)
    }
}

impl Nodes {
    /// Every node's outcome code, in index order, read as the node is
    /// dropped: one pass over the table at the end of the run, not two.
    /// Called once the run completed.
    pub(crate) fn into_outcomes(mut self) -> Box<[u8]> {
        let mut codes = Vec::with_capacity(self.len());
        self.drop_nodes(|node| {
            // ORDERING: Relaxed: the run's completion ordered every store to
            // it before the caller's return from its wait.
            codes.push(node.outcome.load(Ordering::Relaxed));
        });
        codes.into_boxed_slice()
    }

    /// Drops every node, after `last_look` at each, and gives every
    /// segment back; the table is empty afterwards.
    fn drop_nodes(&mut self, mut last_look: impl FnMut(&Node)) {
        let mut left = self.len();
        // ORDERING: Relaxed: `&mut self`: every other thread is done.
        self.next.store(0, Ordering::Relaxed);
        for (segment, pointer) in self.segments.iter().enumerate() {
            // ORDERING: Relaxed: `&mut self`: every other thread is done.
            let base = pointer.load(Ordering::Relaxed);
            if base.is_null() {
                break;
            }
            let len = segment_len(segment);
            let written = left.min(len);
            for offset in 0..written {
                // SAFETY: the first `len()` indices were all written (every
                // spawn finished before the run completed) and are dropped
                // once, here (`next` is 0 from now on).
                let node = unsafe { &mut *base.add(offset) };
                // SAFETY: as above.
                last_look(unsafe { node.assume_init_ref() });
                // SAFETY: as above.
                unsafe { node.assume_init_drop() };
            }
            left -= written;
            // ORDERING: Relaxed: as above.
            pointer.store(std::ptr::null_mut(), Ordering::Relaxed);
            let emptied = Segment {
                // SAFETY: not null (tested above).
                base: unsafe { NonNull::new_unchecked(base) },
                len,
            };
            self.spares.give_back(segment, emptied);
        }
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        self.drop_nodes(|_| {});
    }
}

#[cfg(test)]
mod tests {
    use super::{FIRST_SEGMENT, Node, place};

    #[test]
    #[cfg(all(not(taskflow_loom), target_pointer_width = "64"))]
    fn a_node_fills_two_cache_lines() {
        assert_eq!((size_of::<Node>(), align_of::<Node>()), (128, 64));
    }

    #[test]
    fn indices_fill_segments_in_order() {
        assert_eq!(place(0), (0, 0));
        assert_eq!(place(FIRST_SEGMENT - 1), (0, FIRST_SEGMENT - 1));
        assert_eq!(place(FIRST_SEGMENT), (1, 0));
        assert_eq!(place(3 * FIRST_SEGMENT - 1), (1, 2 * FIRST_SEGMENT - 1));
        assert_eq!(place(3 * FIRST_SEGMENT), (2, 0));
        assert!(place(u32::MAX as usize - 1).0 < super::SEGMENTS);
    }
}
