//! Every synchronisation primitive the engine uses, in one place.
//!
//! The rest of the crate takes its atomics, locks, condition variables,
//! thread spawns and `UnsafeCell`s from here and never from `std` directly.
//! Under `--cfg taskflow_loom` this module hands out loom's model-checked
//! types instead, so `tests/loom.rs` explores the engine's own code. The cfg is
//! prefixed so that a user's `--cfg loom` does not switch taskflow over.
//!
//! The wrappers below give both back ends one API: locks that ignore poisoning
//! (no engine code runs user code while holding a lock, so a poisoned lock
//! only means some unrelated thread panicked) and an `UnsafeCell` with tokio's
//! `with`/`with_mut` access style, which loom needs to track every access.

#[cfg(not(taskflow_loom))]
mod imp {
    pub(crate) use std::sync::Arc;
    pub(crate) use std::sync::atomic;
    pub(crate) use std::thread;

    pub(crate) use std::sync::Condvar as RawCondvar;
    pub(crate) use std::sync::Mutex as RawMutex;
    pub(crate) use std::sync::MutexGuard;

    /// `std::cell::UnsafeCell` behind the access API of loom's `UnsafeCell`.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T: ?Sized>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            Self(std::cell::UnsafeCell::new(value))
        }
    }

    impl<T: ?Sized> UnsafeCell<T> {
        /// Calls `f` with a pointer through which the value may be read.
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Calls `f` with a pointer through which the value may be written.
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }

        /// Exclusive access, checked by the borrow checker.
        pub(crate) fn get_mut(&mut self) -> &mut T {
            self.0.get_mut()
        }
    }
}

#[cfg(taskflow_loom)]
mod imp {
    pub(crate) use loom::sync::Arc;
    pub(crate) use loom::sync::atomic;
    pub(crate) use loom::thread;

    pub(crate) use loom::sync::Condvar as RawCondvar;
    pub(crate) use loom::sync::Mutex as RawMutex;
    pub(crate) use loom::sync::MutexGuard;

    /// loom's `UnsafeCell`, which records every access and reports the ones
    /// that are not ordered by a happens-before edge.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T: ?Sized>(loom::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(loom::cell::UnsafeCell::new(value))
        }
    }

    impl<T: ?Sized> UnsafeCell<T> {
        /// Calls `f` with a pointer through which the value may be read.
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            self.0.with(f)
        }

        /// Calls `f` with a pointer through which the value may be written.
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            self.0.with_mut(f)
        }

        /// Exclusive access, checked by the borrow checker.
        pub(crate) fn get_mut(&mut self) -> &mut T {
            // SAFETY: `&mut self` proves that no other reference to the value
            // exists, so handing out `&mut T` for its lifetime is sound.
            self.0.with_mut(|value| unsafe { &mut *value })
        }
    }
}

pub(crate) use imp::{Arc, MutexGuard, UnsafeCell, atomic, thread};

#[cfg(not(taskflow_loom))]
mod spin;

#[cfg(taskflow_loom)]
use loom::hint::spin_loop;
/// Thread-locals: loom runs a model's threads on one OS thread, so under
/// loom they must be loom's, one per modelled thread.
#[cfg(taskflow_loom)]
pub(crate) use loom::thread_local;
#[cfg(not(taskflow_loom))]
pub(crate) use std::thread_local;

/// A mutex whose `lock` cannot fail: poisoning is ignored (see module docs).
#[derive(Debug, Default)]
pub(crate) struct Mutex<T>(imp::RawMutex<T>);

impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(imp::RawMutex::new(value))
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn into_inner(self) -> T {
        self.0
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A lock for critical sections of a few instructions that run no user
/// code and never block, whose release is a plain store (see
/// [`spin`](self::spin)): the children list of a subtree, taken by every
/// spawn. Under loom it is [`Mutex`], whose exclusion it models.
#[cfg(not(taskflow_loom))]
pub(crate) use spin::SpinLock;

/// See the non-loom `SpinLock`.
#[cfg(taskflow_loom)]
pub(crate) type SpinLock<T> = Mutex<T>;

/// A condition variable paired with [`Mutex`], ignoring poisoning likewise.
#[derive(Debug, Default)]
pub(crate) struct Condvar(imp::RawCondvar);

impl Condvar {
    pub(crate) fn new() -> Self {
        Self(imp::RawCondvar::new())
    }

    pub(crate) fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        self.0
            .wait(guard)
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits for a notification or until `timeout` has passed (under loom,
    /// which does not model time, only for a notification).
    pub(crate) fn wait_timeout<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        timeout: std::time::Duration,
    ) -> MutexGuard<'a, T> {
        match self.0.wait_timeout(guard, timeout) {
            Ok((guard, _)) => guard,
            Err(poisoned) => poisoned.into_inner().0,
        }
    }

    pub(crate) fn notify_one(&self) {
        self.0.notify_one();
    }

    pub(crate) fn notify_all(&self) {
        self.0.notify_all();
    }
}

/// A process-wide unique, non-zero number, used to give every graph an
/// identity that its task handles carry.
///
/// This counter is not part of the scheduling protocol, so it stays a plain
/// `std` atomic even under loom (loom cannot model a `static`). Uniqueness
/// needs only the atomicity of `fetch_add`.
pub(crate) fn next_unique_id() -> std::num::NonZeroU64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    // ORDERING: Relaxed: only the uniqueness of the returned values matters,
    // and every fetch_add on one atomic returns a distinct value.
    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::num::NonZeroU64::new(id).expect("2^64 graphs were created; the id counter wrapped")
}

/// A number of the calling thread, the same on every call from it: the
/// threads of the process take consecutive numbers in the order of their
/// first call, so that the first few threads to ask (an executor's
/// workers, most often) spread over the slots of a small table indexed by
/// it modulo its length. Not unique modulo that length: a table indexed by
/// it guards each slot as any shared value (see
/// [`crate::runtime::spawn::subtrees`]).
///
/// The counter is a plain `std` atomic, as for [`next_unique_id`].
#[cfg(not(taskflow_loom))]
pub(crate) fn thread_slot() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    thread_local! {
        // ORDERING: Relaxed: only the distinctness of the numbers matters.
        static SLOT: usize = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    SLOT.with(|slot| *slot)
}

/// Under loom every modelled thread takes number 0: loom runs its threads
/// on one OS thread, so a `std` thread-local would be shared by them and
/// outlive an execution, and a process-wide counter would differ between
/// executions. The models then check the case where threads meet on one
/// slot, the one where the slot's guard matters.
#[cfg(taskflow_loom)]
pub(crate) fn thread_slot() -> usize {
    0
}

/// Spinning before sleeping: crossbeam's exponential backoff, which spins
/// and then yields. Under loom a spin would only multiply the interleavings
/// to explore, so there the backoff is complete at once and an idle worker
/// goes straight to the sleep protocol.
#[cfg(not(taskflow_loom))]
pub(crate) use crossbeam_utils::Backoff;

/// See the non-loom `Backoff`.
#[cfg(taskflow_loom)]
#[derive(Debug, Default)]
pub(crate) struct Backoff;

#[cfg(taskflow_loom)]
impl Backoff {
    pub(crate) fn new() -> Self {
        Backoff
    }

    pub(crate) fn is_completed(&self) -> bool {
        true
    }

    pub(crate) fn snooze(&self) {
        spin_loop();
    }

    pub(crate) fn reset(&self) {}
}

/// The clock that times walks of source tasks (see `WorkerThread`). Under
/// loom a decision taken on wall-clock time would differ between the
/// executions of one model, which loom must replay identically, so there
/// every walk counts as slow.
#[cfg(not(taskflow_loom))]
pub(crate) use std::time::Instant;

/// See the non-loom `Instant`.
#[cfg(taskflow_loom)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Instant;

#[cfg(taskflow_loom)]
impl Instant {
    pub(crate) fn now() -> Self {
        Instant
    }

    pub(crate) fn elapsed(&self) -> std::time::Duration {
        std::time::Duration::MAX
    }

    pub(crate) fn duration_since(&self, _earlier: Instant) -> std::time::Duration {
        std::time::Duration::MAX
    }
}

/// `len` atomic bytes, all zero.
#[cfg(not(taskflow_loom))]
pub(crate) fn zeroed_bytes(len: usize) -> Box<[atomic::AtomicU8]> {
    let bytes = vec![0u8; len].into_boxed_slice();
    // SAFETY: `AtomicU8` has the same size, alignment and bit validity as
    // `u8` (its documentation guarantees it), and the box is uniquely owned,
    // so its allocation holds valid atomic bytes of the same layout.
    unsafe { Box::from_raw(Box::into_raw(bytes) as *mut [atomic::AtomicU8]) }
}

/// The values of `len` atomic bytes that no other thread can reach any more.
#[cfg(not(taskflow_loom))]
pub(crate) fn into_bytes(atomics: Box<[atomic::AtomicU8]>) -> Box<[u8]> {
    // SAFETY: as in `zeroed_bytes`, in the other direction: the box is owned,
    // so no other reference can observe the bytes stop being atomic.
    unsafe { Box::from_raw(Box::into_raw(atomics) as *mut [u8]) }
}

/// See the non-loom `zeroed_bytes`; loom's atomics have another layout.
#[cfg(taskflow_loom)]
pub(crate) fn zeroed_bytes(len: usize) -> Box<[atomic::AtomicU8]> {
    (0..len).map(|_| atomic::AtomicU8::new(0)).collect()
}

/// See the non-loom `into_bytes` (same signature, hence the box).
#[cfg(taskflow_loom)]
#[allow(clippy::boxed_local)]
pub(crate) fn into_bytes(atomics: Box<[atomic::AtomicU8]>) -> Box<[u8]> {
    atomics
        .iter()
        // ORDERING: Relaxed: the caller owns the box after the run's
        // completion, which synchronised with every write to it.
        .map(|byte| byte.load(atomic::Ordering::Relaxed))
        .collect()
}
