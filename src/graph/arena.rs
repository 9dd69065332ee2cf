//! [`BodyArena`]: contiguous storage for a graph's task bodies.
//!
//! A body cell (a task's closure or [`TaskBody`](crate::TaskBody) value with
//! the slot for its output, see [`crate::graph::body`]) would otherwise be one heap
//! allocation per task: an allocator call while building, a free when the
//! graph drops, and a malloc header between neighbours that a run walks. The
//! arena packs the cells into large chunks instead. Cells are never freed
//! one by one; the graph drops them in place and the arena frees its chunks.

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
    /// Every allocation the arena made, freed when it drops.
    blocks: Vec<(NonNull<u8>, Layout)>,
    /// The chunk being filled, and how many of its bytes are taken.
    current: Option<NonNull<u8>>,
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
            return self.allocate_block(layout);
        }
        // Alignments are powers of two: round up with a mask, not a division.
        let mask = layout.align() - 1;
        let mut start = (self.used + mask) & !mask;
        let chunk = match self.current {
            Some(chunk) if start + layout.size() <= CHUNK_BYTES => chunk,
            _ => {
                let chunk = self.allocate_block(
                    Layout::from_size_align(CHUNK_BYTES, CHUNK_ALIGN).expect("a valid layout"),
                );
                self.current = Some(chunk);
                start = 0;
                chunk
            }
        };
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

    fn allocate_block(&mut self, layout: Layout) -> NonNull<u8> {
        // SAFETY: `layout` has a non-zero size (zero-sized requests return
        // early in `allocate`, and chunks are not empty).
        let block = unsafe { alloc::alloc(layout) };
        let Some(block) = NonNull::new(block) else {
            alloc::handle_alloc_error(layout)
        };
        self.blocks.push((block, layout));
        block
    }
}

impl Drop for BodyArena {
    fn drop(&mut self) {
        for &(block, layout) in &self.blocks {
            // SAFETY: every block was allocated with this layout, by
            // `allocate_block` or by whoever handed it to `adopt`, and is
            // freed once, here. The graph dropped the values in it first.
            unsafe { alloc::dealloc(block.as_ptr(), layout) };
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
}
