//! [`BodyArena`]: contiguous storage for a graph's task bodies.
//!
//! A body cell (a task's closure or [`TaskBody`](crate::TaskBody) value with
//! the slot for its output, see [`crate::graph::body`]) would otherwise be one heap
//! allocation per task: an allocator call while building, a free when the
//! graph drops, and a malloc header between neighbours that a run walks. The
//! arena packs the cells into large chunks instead. Cells are never freed
//! one by one; the graph drops them in place and the arena frees its chunks,
//! or, when the graph is cleared ([`BodyArena::reset`]), keeps them to fill
//! again.

use std::alloc::{self, Layout};
use std::ptr::NonNull;

/// The size of a chunk. Cells larger than a quarter of it, or aligned to
/// more than [`CHUNK_ALIGN`], get an allocation of their own.
const CHUNK_BYTES: usize = 64 * 1024;

/// The alignment of every chunk.
const CHUNK_ALIGN: usize = 16;

/// Bump-allocated memory for body cells.
#[derive(Debug, Default)]
pub(crate) struct BodyArena {
    /// The chunks, filled in order; kept by [`BodyArena::reset`].
    chunks: Vec<NonNull<u8>>,
    /// The allocations of cells too large or too aligned for a chunk, and
    /// those adopted; freed by [`BodyArena::reset`].
    blocks: Vec<(NonNull<u8>, Layout)>,
    /// The index in `chunks` of the chunk being filled (none yet when it is
    /// `chunks.len()`), and how many of its bytes are taken.
    current: usize,
    used: usize,
}

// SAFETY: the arena only hands out memory and frees it; it never reads or
// writes the cells itself. Whoever stores values in it (the graph) is
// responsible for their thread-safety.
unsafe impl Send for BodyArena {}

impl BodyArena {
    /// Memory for one value of `layout`, valid until the arena drops.
    pub(crate) fn allocate(&mut self, layout: Layout) -> NonNull<u8> {
        if layout.size() == 0 {
            // Any aligned, non-null address serves a zero-sized value.
            return NonNull::new(std::ptr::without_provenance_mut(layout.align()))
                .expect("an alignment is never zero");
        }
        if layout.align() > CHUNK_ALIGN || layout.size() > CHUNK_BYTES / 4 {
            let block = allocate(layout);
            self.blocks.push((block, layout));
            return block;
        }
        // Alignments are powers of two: round up with a mask, not a division.
        let mask = layout.align() - 1;
        let mut start = (self.used + mask) & !mask;
        if self.current == self.chunks.len() || start + layout.size() > CHUNK_BYTES {
            // The next chunk: one kept from before a reset, or a new one.
            if self.current < self.chunks.len() {
                self.current += 1;
            }
            if self.current == self.chunks.len() {
                self.chunks.push(allocate(chunk_layout()));
            }
            start = 0;
        }
        let chunk = self.chunks[self.current];
        self.used = start + layout.size();
        // SAFETY: `start + layout.size() <= CHUNK_BYTES`, so the offset stays
        // inside the chunk's allocation; the chunk is aligned to
        // `CHUNK_ALIGN`, a multiple of `layout.align()`, and `start` is a
        // multiple of `layout.align()`, so the result is aligned.
        unsafe { chunk.add(start) }
    }

    /// Takes over `block`, an allocation of `layout` made with the global
    /// allocator (or, for a zero-sized layout, a dangling pointer that was
    /// never allocated), to free it with the others.
    pub(crate) fn adopt(&mut self, block: NonNull<u8>, layout: Layout) {
        if layout.size() > 0 {
            self.blocks.push((block, layout));
        }
    }

    /// How many chunks the arena holds.
    #[cfg(test)]
    pub(crate) fn chunk_count(&self) -> usize {
        self.chunks.len()
    }

    /// Makes all the arena's memory free for new cells: frees the blocks of
    /// large and adopted cells and keeps the chunks, which new cells fill
    /// from the first again.
    ///
    /// # Safety
    ///
    /// Every value stored in the arena must have been dropped, and no
    /// pointer the arena handed out may be used again.
    pub(crate) unsafe fn reset(&mut self) {
        // SAFETY: the caller guarantees that nothing in the blocks is used
        // again.
        unsafe { self.free_blocks() };
        self.current = 0;
        self.used = 0;
    }

    /// Frees (and forgets) the blocks of large and adopted cells.
    ///
    /// # Safety
    ///
    /// Nothing in them may be used again.
    unsafe fn free_blocks(&mut self) {
        for (block, layout) in self.blocks.drain(..) {
            // SAFETY: every block was allocated with this layout, by
            // `allocate` or by whoever handed it to `adopt`, and is freed
            // once, here (drained). The caller guarantees it is unused.
            unsafe { alloc::dealloc(block.as_ptr(), layout) };
        }
    }
}

fn chunk_layout() -> Layout {
    Layout::from_size_align(CHUNK_BYTES, CHUNK_ALIGN).expect("a valid layout")
}

/// A new allocation of `layout`, which has a non-zero size.
fn allocate(layout: Layout) -> NonNull<u8> {
    // SAFETY: `layout` has a non-zero size (zero-sized requests return early
    // in `BodyArena::allocate`, and chunks are not empty).
    let block = unsafe { alloc::alloc(layout) };
    NonNull::new(block).unwrap_or_else(|| alloc::handle_alloc_error(layout))
}

impl Drop for BodyArena {
    fn drop(&mut self) {
        // SAFETY: the graph dropped the values in the arena first, and
        // nothing uses its memory after it drops.
        unsafe { self.free_blocks() };
        for &chunk in &self.chunks {
            // SAFETY: every chunk was allocated with `chunk_layout()` and is
            // freed once, here.
            unsafe { alloc::dealloc(chunk.as_ptr(), chunk_layout()) };
        }
    }
}

#[cfg(test)]
mod tests {
    use std::alloc::Layout;

    use super::{BodyArena, CHUNK_BYTES};

    #[test]
    fn hands_out_aligned_disjoint_memory() {
        let mut arena = BodyArena::default();
        let mut taken: Vec<(usize, usize)> = Vec::new();
        for round in 0..500 {
            let layout = match round % 5 {
                0 => Layout::new::<u8>(),
                1 => Layout::new::<[u64; 3]>(),
                2 => Layout::new::<u128>(),
                // Small enough for a chunk, big enough to fill several.
                3 => Layout::new::<[u8; 2048]>(),
                _ => Layout::from_size_align(CHUNK_BYTES / 2, 64).unwrap(),
            };
            let place = arena.allocate(layout);
            assert_eq!(place.as_ptr() as usize % layout.align(), 0);
            // SAFETY: the arena handed out `layout.size()` writable bytes.
            unsafe { place.as_ptr().write_bytes(0xA5, layout.size()) };
            taken.push((place.as_ptr() as usize, layout.size()));
        }
        taken.sort_unstable();
        for pair in taken.windows(2) {
            assert!(pair[0].0 + pair[0].1 <= pair[1].0, "allocations overlap");
        }
    }

    /// A reset arena fills the chunks it has, from the first, before it
    /// allocates another.
    #[test]
    fn a_reset_arena_reuses_its_chunks() {
        let mut arena = BodyArena::default();
        let cell = Layout::new::<[u64; 2]>();
        let per_chunk = CHUNK_BYTES / cell.size();
        let first: Vec<usize> = (0..per_chunk * 3)
            .map(|_| arena.allocate(cell).as_ptr() as usize)
            .collect();
        arena.allocate(Layout::from_size_align(CHUNK_BYTES, 16).unwrap());
        assert_eq!((arena.chunks.len(), arena.blocks.len()), (3, 1));
        // SAFETY: nothing was stored, and no pointer is used again.
        unsafe { arena.reset() };
        assert!(arena.blocks.is_empty(), "the large block is freed");
        let again: Vec<usize> = (0..per_chunk * 3)
            .map(|_| arena.allocate(cell).as_ptr() as usize)
            .collect();
        assert_eq!(again, first, "the same chunks, in the same order");
        assert_eq!(arena.chunks.len(), 3);
        arena.allocate(cell);
        assert_eq!(
            arena.chunks.len(),
            4,
            "a new chunk once the kept ones are full"
        );
    }
}
