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
//! A run's chunks come from its executor's [`SpareChunks`] when it has
//! them, and go back there, emptied, when the run ends, as the node
//! table's segments do (see [`crate::runtime::spawn::nodes`]): a recursive
//! fan-out of 2^20 spawned tasks makes 2^19 subtrees, some 90 MB, and
//! freed and allocated afresh they cost every run a page fault per 4 KiB
//! (`clear_page`, the fault and the unmapping were 15 % of such a run's
//! samples). The executor keeps at most [`KEPT_CHUNKS`] chunks.

use std::mem::MaybeUninit;
use std::ptr::NonNull;

use crate::runtime::spawn::subtree::Subtree;
use crate::sync::Mutex;

/// How many subtrees one chunk holds.
const SUBTREE_CHUNK: usize = 256;

/// How many emptied chunks an executor keeps for its next runs: room for
/// about a million subtrees, as its node table keeps about a million nodes.
const KEPT_CHUNKS: usize = 4096;

/// One chunk's allocation, of [`SUBTREE_CHUNK`] slots.
struct Chunk(NonNull<MaybeUninit<Subtree>>);

// SAFETY: a chunk owns its allocation, and the subtrees in it are `Send`
// and `Sync` (see `Subtree`): the run hands out only shared references to
// them, and drops them once, in `Subtrees::drop`; a chunk in
// `SpareChunks` holds none.
unsafe impl Send for Chunk {}

impl Chunk {
    fn new() -> Self {
        let slots: Box<[MaybeUninit<Subtree>]> = Box::new_uninit_slice(SUBTREE_CHUNK);
        Chunk(NonNull::from(Box::leak(slots)).cast())
    }
}

impl Drop for Chunk {
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
#[derive(Default)]
pub(crate) struct SpareChunks(Mutex<Vec<Chunk>>);

impl std::fmt::Debug for SpareChunks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpareChunks")
            .field("kept", &self.0.lock().len())
            .finish()
    }
}

impl SpareChunks {
    fn take(&self) -> Chunk {
        self.0.lock().pop().unwrap_or_else(Chunk::new)
    }

    /// Keeps the emptied `chunks` for a later run, up to [`KEPT_CHUNKS`];
    /// frees the rest.
    fn give_back(&self, chunks: Vec<Chunk>) {
        let mut kept = self.0.lock();
        let room = KEPT_CHUNKS.saturating_sub(kept.len());
        kept.extend(chunks.into_iter().take(room));
    }
}

/// The subtrees of one run (module docs).
pub(crate) struct Subtrees {
    list: Mutex<Chunks>,
    spares: std::sync::Arc<SpareChunks>,
}

/// The chunks of [`Subtrees`]: every one full but the last, which holds
/// `used`.
#[derive(Default)]
struct Chunks {
    chunks: Vec<Chunk>,
    used: usize,
}

impl Subtrees {
    /// No subtree yet; chunks come from `spares`.
    pub(crate) fn new(spares: std::sync::Arc<SpareChunks>) -> Self {
        Subtrees {
            list: Mutex::new(Chunks::default()),
            spares,
        }
    }

    /// Keeps `subtree` until the run ends, and returns where it lives.
    pub(crate) fn keep(&self, subtree: Subtree) -> NonNull<Subtree> {
        let mut list = self.list.lock();
        if list.chunks.is_empty() || list.used == SUBTREE_CHUNK {
            let chunk = self.spares.take();
            list.chunks.push(chunk);
            list.used = 0;
        }
        let chunk = list.chunks.last().expect("a chunk with room").0;
        // SAFETY: `used < SUBTREE_CHUNK`, a slot of the last chunk that
        // holds nothing yet, written once, here, under the lock.
        let slot = unsafe { &mut *chunk.as_ptr().add(list.used) };
        list.used += 1;
        NonNull::from(slot.write(subtree))
    }
}

impl Drop for Subtrees {
    fn drop(&mut self) {
        let list = std::mem::take(&mut *self.list.lock());
        let last = list.chunks.len().saturating_sub(1);
        for (position, chunk) in list.chunks.iter().enumerate() {
            let used = if position == last {
                list.used
            } else {
                SUBTREE_CHUNK
            };
            for offset in 0..used {
                // SAFETY: the first `used` slots of the chunk were written
                // by `keep`, and are dropped once, here, after the run
                // ended and nothing uses them any more.
                unsafe { (*chunk.0.as_ptr().add(offset)).assume_init_drop() };
            }
        }
        self.spares.give_back(list.chunks);
    }
}

#[cfg(test)]
mod tests {
    use super::SpareChunks;

    #[test]
    fn an_emptied_chunk_is_taken_again() {
        let spares = SpareChunks::default();
        let chunk = spares.take();
        let address = chunk.0;
        spares.give_back(vec![chunk]);
        assert_eq!(spares.take().0, address);
        assert_eq!(spares.0.lock().len(), 0);
    }
}
