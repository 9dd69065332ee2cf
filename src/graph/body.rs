//! Task bodies: the public [`TaskBody`] trait, and the type-erased cell the
//! graph stores per task, which holds the body together with the slot for its
//! latest output. A task under construction keeps its cell inline
//! ([`PendingBody`]); the graph moves it into its arena ([`RawBody`]), so
//! neither building nor running allocates per task.

use std::alloc::Layout;
use std::any::Any;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::ptr::NonNull;

use crate::graph::arena::BodyArena;

use crate::results::error::Error;
use crate::runtime::context::Context;

/// The work of a task, for tasks written as types rather than closures.
///
/// Every `FnMut(&Context<'_>) -> Result<T, Error>` closure is a `TaskBody`;
/// implement it yourself when a task carries state or configuration, like the
/// task classes of other task-graph libraries.
///
/// ```
/// use taskflow_engine::{Context, Error, Executor, Graph, Task, TaskBody};
///
/// struct Checksum { bytes: Vec<u8> }
///
/// impl TaskBody for Checksum {
///     type Output = u32;
///     fn run(&mut self, _: &Context<'_>) -> Result<u32, Error> {
///         Ok(self.bytes.iter().map(|&b| u32::from(b)).sum())
///     }
/// }
///
/// let mut graph = Graph::new();
/// let sum = graph.add(Task::from_body("checksum", Checksum { bytes: vec![1, 2, 3] }));
/// Executor::builder().workers_per_tag(1).build()?.run(&mut graph)?;
/// assert_eq!(graph.output(sum), Some(&6));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait TaskBody: Send {
    /// What the task produces for its dependents and for the caller.
    type Output: Send + Sync + 'static;

    /// Does the task's work. Called once per run in which the task starts.
    ///
    /// The output of the task's previous run is dropped just before, under
    /// the same panic guard as the call: should its destructor panic, this
    /// run fails with that panic and the body is not called.
    ///
    /// A task that is skipped or cancelled drops its previous output too,
    /// but there a panic of that destructor is caught and dropped silently:
    /// the task stays [`Skipped`](crate::Outcome::Skipped) or
    /// [`Cancelled`](crate::Outcome::Cancelled), and nothing reports the
    /// panic.
    fn run(&mut self, cx: &Context<'_>) -> Result<Self::Output, Error>;
}

impl<F, T> TaskBody for F
where
    F: FnMut(&Context<'_>) -> Result<T, Error> + Send,
    T: Send + Sync + 'static,
{
    type Output = T;

    fn run(&mut self, cx: &Context<'_>) -> Result<T, Error> {
        self(cx)
    }
}

/// A task body and its output slot, with the types erased.
pub(crate) trait ErasedBody: Send {
    /// Runs the body, replacing the output slot with what it returns. The
    /// previous output is dropped first, so a failed run leaves no output.
    fn run(&mut self, cx: &Context<'_>) -> Result<(), Error>;

    /// The output slot, an `Option<Output>` behind `dyn Any`.
    fn output(&self) -> &dyn Any;

    /// The output slot, mutably, for taking the output out.
    fn output_mut(&mut self) -> &mut dyn Any;

    /// Drops the output of an earlier run.
    fn clear_output(&mut self);
}

/// The concrete cell behind [`ErasedBody`].
struct BodyCell<B: TaskBody> {
    body: B,
    output: Option<B::Output>,
}

impl<B: TaskBody> ErasedBody for BodyCell<B> {
    fn run(&mut self, cx: &Context<'_>) -> Result<(), Error> {
        self.output = None;
        self.output = Some(self.body.run(cx)?);
        Ok(())
    }

    fn output(&self) -> &dyn Any {
        &self.output
    }

    fn output_mut(&mut self) -> &mut dyn Any {
        &mut self.output
    }

    fn clear_output(&mut self) {
        self.output = None;
    }
}

/// How many bytes of cell a task under construction holds inline.
const INLINE_BYTES: usize = 48;

/// Inline room for a cell, aligned like the arena's chunks.
#[repr(C, align(16))]
struct InlineCell(MaybeUninit<[u8; INLINE_BYTES]>);

/// A task's body cell before the task joins a graph: inline when it fits,
/// so that `Task::new` allocates nothing, else in an allocation of its own.
/// [`PendingBody::into_arena`] moves it into a graph's [`BodyArena`].
///
/// The body may borrow data (a `Task<'env, T>` holds it); its lifetime is
/// erased here and in [`RawBody`], and kept by the types that own them
/// (`Task<'env, T>`, `Graph<'env>`), which never let the body be used or
/// dropped after `'env` ends (see `attach`).
pub(crate) struct PendingBody {
    inline: InlineCell,
    /// The cell's own allocation, when it does not fit inline.
    heap: Option<NonNull<u8>>,
    /// The cell's type, as far as its owners need it: one static value per
    /// body type, so that a task carries a pointer, not the layout and the
    /// function (a pending body is moved with every task built).
    kind: &'static CellKind,
}

/// What a [`PendingBody`] knows of its cell's type.
struct CellKind {
    layout: Layout,
    /// Turns the address of a cell of this type into a trait-object pointer.
    attach: fn(NonNull<u8>) -> NonNull<dyn ErasedBody>,
}

// SAFETY: a pending body owns one `BodyCell<B>` with `B: Send` and an
// output that is `Send` (`TaskBody` requires both); nothing else can reach
// the cell, so moving the owner to another thread moves the cell with it.
unsafe impl Send for PendingBody {}

impl PendingBody {
    pub(crate) fn new<'env, B: TaskBody + 'env>(body: B) -> Self {
        let cell = BodyCell { body, output: None };
        let kind: &'static CellKind = const {
            &CellKind {
                layout: Layout::new::<BodyCell<B>>(),
                attach: attach::<'env, B>,
            }
        };
        let layout = kind.layout;
        let mut pending = PendingBody {
            inline: InlineCell(MaybeUninit::uninit()),
            heap: None,
            kind,
        };
        if layout.size() <= INLINE_BYTES && layout.align() <= align_of::<InlineCell>() {
            let place = NonNull::from(&mut pending.inline).cast::<BodyCell<B>>();
            // SAFETY: the inline room is at least `layout.size()` bytes and
            // aligned to at least `layout.align()`, and holds nothing yet.
            unsafe { place.write(cell) };
        } else {
            pending.heap = Some(NonNull::from(Box::leak(Box::new(cell))).cast());
        }
        pending
    }

    /// Where the cell is now.
    fn cell(&mut self) -> NonNull<u8> {
        match self.heap {
            Some(heap) => heap,
            None => NonNull::from(&mut self.inline).cast(),
        }
    }

    /// The cell, for a task that runs from where it was built: a spawned
    /// task keeps its pending body in the run's node table (see
    /// [`crate::runtime::spawn`]).
    pub(crate) fn erased_mut(&mut self) -> &mut dyn ErasedBody {
        let cell = (self.kind.attach)(self.cell());
        // SAFETY: the pending body owns a live cell at `cell`, and `&mut
        // self` makes this the only access to it for the borrow.
        unsafe { &mut *cell.as_ptr() }
    }

    /// The cell, shared (see [`erased_mut`](PendingBody::erased_mut)).
    pub(crate) fn erased(&self) -> &dyn ErasedBody {
        let place = match self.heap {
            Some(heap) => heap,
            None => NonNull::from(&self.inline).cast(),
        };
        let cell = (self.kind.attach)(place);
        // SAFETY: the pending body owns a live cell at `cell`, and `&self`
        // keeps every writer away for the borrow.
        unsafe { &*cell.as_ptr() }
    }

    /// Moves the cell into `arena` (an inline cell is copied there; a cell
    /// with an allocation of its own hands the allocation to the arena).
    pub(crate) fn into_arena(self, arena: &mut BodyArena) -> RawBody {
        let mut this = ManuallyDrop::new(self);
        let place = match this.heap {
            Some(heap) => {
                arena.adopt(heap, this.kind.layout);
                heap
            }
            None => {
                let place = arena.allocate(this.kind.layout);
                let source = this.cell();
                // SAFETY: the inline cell holds `layout.size()` initialised
                // bytes of a live cell; `place` is fresh arena memory of that
                // layout, so the two do not overlap. Copying the bytes moves
                // the cell (every Rust value can be moved by copying), and
                // `ManuallyDrop` keeps the old copy from being dropped.
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        source.as_ptr(),
                        place.as_ptr(),
                        this.kind.layout.size(),
                    )
                };
                place
            }
        };
        RawBody((this.kind.attach)(place))
    }
}

impl Drop for PendingBody {
    fn drop(&mut self) {
        let cell = (self.kind.attach)(self.cell());
        // SAFETY: the pending body owns a live cell at `cell` (it was not
        // moved into an arena: `into_arena` does not drop the pending body),
        // and drops it exactly once, here.
        unsafe { std::ptr::drop_in_place(cell.as_ptr()) };
        let layout = self.kind.layout;
        if let Some(heap) = self.heap.filter(|_| layout.size() > 0) {
            // SAFETY: `heap` is the allocation of a `Box<BodyCell<B>>`, whose
            // layout is `layout` (a zero-sized box allocates nothing and is
            // skipped), and its value was just dropped.
            unsafe { std::alloc::dealloc(heap.as_ptr(), layout) };
        }
    }
}

impl std::fmt::Debug for PendingBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingBody")
            .field("bytes", &self.kind.layout.size())
            .field("inline", &self.heap.is_none())
            .finish()
    }
}

/// The trait-object pointer to the `BodyCell<B>` at `cell`, with the
/// lifetime of what the body borrows erased.
fn attach<'env, B: TaskBody + 'env>(cell: NonNull<u8>) -> NonNull<dyn ErasedBody> {
    let cell: NonNull<dyn ErasedBody + 'env> = cell.cast::<BodyCell<B>>();
    // SAFETY: only the lifetime bound of the trait object changes, which
    // does not change its layout (a data pointer and a vtable pointer). The
    // pointer never outlives `'env` in use: it is owned by a `Task<'env, _>`
    // and then a `Graph<'env>`, which drop the cell before `'env` ends (both
    // tell the drop check so: the task through a marker with drop glue that
    // names `'env`, the graph through its `Drop` impl), and
    // the body runs only inside `Executor::run_with(&mut Graph<'env>)`,
    // which returns only after every task of the run has finished (and a
    // submitted graph is `Graph<'static>`).
    unsafe { std::mem::transmute::<NonNull<dyn ErasedBody + 'env>, NonNull<dyn ErasedBody>>(cell) }
}

/// A body cell in a graph's arena, owned by the graph, which drops it with
/// [`RawBody::drop_in_place`] before the arena frees the memory.
pub(crate) struct RawBody(NonNull<dyn ErasedBody>);

// SAFETY: as for `PendingBody`: the graph owns the cell, which is `Send`.
unsafe impl Send for RawBody {}

impl RawBody {
    /// The cell, shared.
    ///
    /// # Safety
    ///
    /// The cell must be alive (its graph not dropped) for `'a`, and nothing
    /// may write it during `'a`.
    pub(crate) unsafe fn get<'a>(&self) -> &'a dyn ErasedBody {
        // SAFETY: the caller guarantees the cell is alive and not written.
        unsafe { self.0.as_ref() }
    }

    /// The cell, exclusively.
    ///
    /// # Safety
    ///
    /// The cell must be alive for `'a`, and nothing else may read or write
    /// it during `'a`.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn get_mut<'a>(&self) -> &'a mut dyn ErasedBody {
        // SAFETY: the caller guarantees the cell is alive and unaliased.
        unsafe { &mut *self.0.as_ptr() }
    }

    /// Drops the cell.
    ///
    /// # Safety
    ///
    /// The cell must be alive and must not be used afterwards.
    pub(crate) unsafe fn drop_in_place(&self) {
        // SAFETY: the caller guarantees the cell is alive and unused after.
        unsafe { std::ptr::drop_in_place(self.0.as_ptr()) };
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{INLINE_BYTES, PendingBody};
    use crate::graph::arena::BodyArena;
    use crate::results::error::Error;
    use crate::runtime::context::Context;

    /// A body holding `N` bytes besides a counted handle, so tests can tell
    /// when it is dropped.
    fn body_of<const N: usize>(
        drops: &Arc<()>,
    ) -> impl FnMut(&Context<'_>) -> Result<usize, Error> + Send + 'static {
        let (handle, padding) = (Arc::clone(drops), [7u8; N]);
        move |_: &Context<'_>| Ok(padding.len() + Arc::strong_count(&handle))
    }

    #[test]
    fn small_bodies_stay_inline_and_large_ones_do_not() {
        let drops = Arc::new(());
        let small = PendingBody::new(body_of::<8>(&drops));
        let large = PendingBody::new(body_of::<{ INLINE_BYTES * 2 }>(&drops));
        assert!(small.heap.is_none());
        assert!(large.heap.is_some());
        assert_eq!(Arc::strong_count(&drops), 3);
        drop((small, large));
        assert_eq!(
            Arc::strong_count(&drops),
            1,
            "dropping a pending body drops its closure"
        );
    }

    #[test]
    fn moving_into_the_arena_moves_without_dropping() {
        let drops = Arc::new(());
        let mut arena = BodyArena::default();
        let moved = [
            PendingBody::new(body_of::<8>(&drops)).into_arena(&mut arena),
            PendingBody::new(body_of::<{ INLINE_BYTES * 2 }>(&drops)).into_arena(&mut arena),
        ];
        assert_eq!(
            Arc::strong_count(&drops),
            3,
            "moving neither drops nor copies a body"
        );
        for body in &moved {
            // SAFETY: the cell is alive in `arena` and nothing else uses it.
            let cell = unsafe { body.get_mut() };
            cell.clear_output();
            assert!(
                cell.output()
                    .downcast_ref::<Option<usize>>()
                    .unwrap()
                    .is_none()
            );
            // SAFETY: alive, and not used again.
            unsafe { body.drop_in_place() };
        }
        assert_eq!(Arc::strong_count(&drops), 1);
    }

    #[test]
    fn zero_sized_bodies_need_no_memory() {
        let mut arena = BodyArena::default();
        let body = PendingBody::new(
            |_: &Context<'_>| -> Result<std::convert::Infallible, Error> {
                Err("never succeeds".into())
            },
        );
        let moved = body.into_arena(&mut arena);
        // SAFETY: alive, and not used again.
        unsafe { moved.drop_in_place() };
    }
}
