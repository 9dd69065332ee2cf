//! [`Subtrees`]: where one run keeps the subtrees of its tasks that
//! spawned, and [`SpareChunks`]: the chunks of them an executor keeps
//! between its runs.
//!
//! Subtrees are allocated in chunks of [`SUBTREE_CHUNK`], never moved, and
//! dropped when the run's state is dropped (one allocation per chunk, not
//! per task that spawns). They are kept as raw chunks, not as boxes of
//! subtrees, because workers use them through shared references while the
//! list grows (a `Box` asserts unique access to its value wherever it is
//! moved).
//!
//! Each spawning thread fills a chunk of its own (one of [`CURSORS`]
//! cursors, picked by [`thread_slot`]), so that two workers spawning at
//! once do not pass one lock's cache line between them on every subtree;
//! at the run's end every chunk but the ones the cursors still fill is
//! full.
//!
//! A run's chunks come from its executor's [`SpareChunks`] when it has
//! them, and go back there, emptied, when the run ends, as the node
//! table's segments do (see [`crate::runtime::spawn::nodes`]): a recursive
//! fan-out of 2^20 spawned tasks makes 2^19 subtrees, some 90 MB, and
//! freed and allocated afresh they cost every run a page fault per 4 KiB
//! (`clear_page`, the fault and the unmapping were 15 % of such a run's
//! samples). The executor keeps at most [`KEPT_CHUNKS`] chunks.

use std::mem::MaybeUninit;
use std::ptr::NonNull;

use crossbeam_utils::CachePadded;

use crate::runtime::spawn::subtree::Subtree;
use crate::sync::{Mutex, SpinLock, thread_slot};

/// How many subtrees one chunk holds.
const SUBTREE_CHUNK: usize = 256;

/// How many emptied chunks an executor keeps for its next runs: room for
/// about a million subtrees, as its node table keeps about a million nodes.
const KEPT_CHUNKS: usize = 4096;

/// One chunk's allocation, of [`SUBTREE_CHUNK`] slots.
struct Chunk<T>(NonNull<MaybeUninit<T>>);

// SAFETY: a chunk owns its allocation, and the subtrees in it are `Send`
// and `Sync` (see `Subtree`): the run hands out only shared references to
// them, and drops them once, in `Subtrees::drop`; a chunk in
// `SpareChunks` holds none.
unsafe impl<T: Send + Sync> Send for Chunk<T> {}

impl<T> Chunk<T> {
    fn new() -> Self {
        let slots: Box<[MaybeUninit<T>]> = Box::new_uninit_slice(SUBTREE_CHUNK);
        Chunk(NonNull::from(Box::leak(slots)).cast())
    }
}

impl<T> Drop for Chunk<T> {
    fn drop(&mut self) {
        // SAFETY: made by `Box::leak` of a slice of `SUBTREE_CHUNK` in
        // `new`, freed once, here; its slots hold no live subtree (the
        // owner dropped them first).
        drop(unsafe {
            Box::from_raw(std::ptr::slice_from_raw_parts_mut(
                self.0.as_ptr(),
                SUBTREE_CHUNK,
            ))
        });
    }
}

/// The emptied chunks an executor keeps between its runs (module docs).
pub(crate) struct SpareChunks<T = Subtree>(Mutex<Vec<Chunk<T>>>);

impl<T> Default for SpareChunks<T> {
    fn default() -> Self {
        SpareChunks(Mutex::new(Vec::new()))
    }
}

impl<T> std::fmt::Debug for SpareChunks<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpareChunks")
            .field("kept", &self.0.lock().len())
            .finish()
    }
}

impl<T> SpareChunks<T> {
    fn take(&self) -> Chunk<T> {
        self.0.lock().pop().unwrap_or_else(Chunk::new)
    }

    /// Keeps the emptied `chunks` for a later run, up to [`KEPT_CHUNKS`];
    /// frees the rest.
    fn give_back(&self, chunks: Vec<Chunk<T>>) {
        let mut kept = self.0.lock();
        let room = KEPT_CHUNKS.saturating_sub(kept.len());
        kept.extend(chunks.into_iter().take(room));
    }
}

/// The subtrees of one run (module docs).
pub(crate) struct Subtrees<T = Subtree> {
    /// Where each thread keeps its subtrees, by [`thread_slot`] modulo
    /// [`CURSORS`].
    cursors: [CachePadded<SpinLock<Cursor<T>>>; CURSORS],
    /// Every chunk the run took, for the run's end.
    taken: Mutex<Vec<Chunk<T>>>,
    spares: std::sync::Arc<SpareChunks<T>>,
}

/// How many threads keep subtrees without touching another's lock (see
/// [`Subtrees::keep`]).
const CURSORS: usize = 8;

/// One slot's chunk being filled, of which `used` slots hold subtrees (no
/// chunk before the slot's first subtree). Every other chunk the slot took
/// is full.
struct Cursor<T> {
    chunk: Option<NonNull<MaybeUninit<T>>>,
    used: usize,
}

// SAFETY: a cursor points into a chunk that `Subtrees::taken` owns; it is
// used under its lock only, to write a fresh slot.
unsafe impl<T: Send + Sync> Send for Cursor<T> {}

impl<T> Subtrees<T> {
    /// No subtree yet; chunks come from `spares`.
    pub(crate) fn new(spares: std::sync::Arc<SpareChunks<T>>) -> Self {
        Subtrees {
            cursors: std::array::from_fn(|_| {
                CachePadded::new(SpinLock::new(Cursor {
                    chunk: None,
                    used: 0,
                }))
            }),
            taken: Mutex::new(Vec::new()),
            spares,
        }
    }

    /// Keeps `subtree` until the run ends, and returns where it lives.
    ///
    /// Each thread fills a chunk of its own slot, under that slot's lock,
    /// which no other thread takes unless their numbers meet modulo
    /// [`CURSORS`]: one lock shared by every spawning thread was a quarter
    /// of a recursive fan-out's samples at two workers, the lock's cache
    /// line passing between them on every subtree. The run-wide list of
    /// chunks is locked once per chunk.
    pub(crate) fn keep(&self, subtree: T) -> NonNull<T> {
        let mut cursor = self.cursors[thread_slot() % CURSORS].lock();
        let chunk = match cursor.chunk {
            Some(chunk) if cursor.used < SUBTREE_CHUNK => chunk,
            _ => {
                let fresh = self.spares.take();
                let chunk = fresh.0;
                self.taken.lock().push(fresh);
                cursor.chunk = Some(chunk);
                cursor.used = 0;
                chunk
            }
        };
        // SAFETY: `used < SUBTREE_CHUNK`: a slot of the cursor's chunk that
        // holds nothing yet, written once, here, under the cursor's lock,
        // which is the only one that hands out this chunk's slots.
        let slot = unsafe { &mut *chunk.as_ptr().add(cursor.used) };
        cursor.used += 1;
        NonNull::from(slot.write(subtree))
    }
}

impl<T> Drop for Subtrees<T> {
    fn drop(&mut self) {
        let filling: Vec<(NonNull<MaybeUninit<T>>, usize)> = self
            .cursors
            .iter()
            .filter_map(|cursor| {
                let cursor = cursor.lock();
                cursor.chunk.map(|chunk| (chunk, cursor.used))
            })
            .collect();
        let taken = std::mem::take(&mut *self.taken.lock());
        for chunk in &taken {
            let used = filling
                .iter()
                .find(|(filled, _)| *filled == chunk.0)
                .map_or(SUBTREE_CHUNK, |&(_, used)| used);
            for offset in 0..used {
                // SAFETY: the first `used` slots of the chunk were written
                // by `keep` (a chunk no cursor still fills is full), and
                // are dropped once, here, after the run ended and nothing
                // uses them any more.
                unsafe { (*chunk.0.as_ptr().add(offset)).assume_init_drop() };
            }
        }
        self.spares.give_back(taken);
    }
}

#[cfg(all(test, not(taskflow_loom)))]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::{SUBTREE_CHUNK, SpareChunks, Subtrees};

    /// Counts its drops, and checks it is dropped with the value it was
    /// kept with.
    struct Counted {
        value: usize,
        drops: Arc<AtomicUsize>,
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn subtrees_kept_by_several_threads_are_each_dropped_once() {
        const THREADS: usize = 4;
        const KEPT: usize = 3 * SUBTREE_CHUNK + 7;
        let spares = Arc::new(SpareChunks::default());
        let drops = Arc::new(AtomicUsize::new(0));
        for run in 0..2 {
            let subtrees = Subtrees::new(Arc::clone(&spares));
            std::thread::scope(|scope| {
                for thread in 0..THREADS {
                    let (subtrees, drops) = (&subtrees, &drops);
                    scope.spawn(move || {
                        let values = (0..KEPT).map(|i| thread * KEPT + i);
                        let kept: Vec<_> = values
                            .map(|value| {
                                let drops = Arc::clone(drops);
                                (value, subtrees.keep(Counted { value, drops }))
                            })
                            .collect();
                        for (value, place) in kept {
                            // SAFETY: `place` came from `keep` on
                            // `subtrees`, which lives past this scope.
                            assert_eq!(unsafe { place.as_ref() }.value, value);
                        }
                    });
                }
            });
            assert_eq!(drops.load(Ordering::SeqCst), run * THREADS * KEPT);
            drop(subtrees);
            assert_eq!(drops.load(Ordering::SeqCst), (run + 1) * THREADS * KEPT);
            // A run fills 4 chunks a thread, fewer where two threads meet
            // on one cursor; had the second run not taken the first run's
            // chunks again, the executor would keep twice as many.
            let fewest = (THREADS * KEPT).div_ceil(SUBTREE_CHUNK);
            let kept = spares.0.lock().len();
            assert!((fewest..=THREADS * 4).contains(&kept), "{kept} chunks kept");
        }
    }

    #[test]
    fn an_emptied_chunk_is_taken_again() {
        let spares = SpareChunks::<u64>::default();
        let chunk = spares.take();
        let address = chunk.0;
        spares.give_back(vec![chunk]);
        assert_eq!(spares.take().0, address);
        assert_eq!(spares.0.lock().len(), 0);
    }
}
