//! [`SpinLock`]: mutual exclusion whose release is a plain store.
//!
//! A `std` mutex releases with an atomic swap (to learn whether a waiter
//! sleeps), and on x86 every such locked instruction waits until the
//! stores before it reach the cache. A spawn writes its node (over a
//! hundred bytes) under the children lock, into memory that is seldom
//! cached, so the swap waited for those stores: a quarter of the samples
//! of the spawn's own function, in `perf annotate`. Released with a store,
//! the node's stores drain while the spawning body goes on.
//!
//! Taking it is one compare-and-swap when it is free. A taker that finds
//! it held spins, then yields its time slice, until it is free: it never
//! sleeps, so it suits only short critical sections that run no user code
//! and do not wait for another thread. The children list's holds a
//! spawn's few instructions, and once per segment of the node table that
//! segment's allocation; a holder leaves it within nanoseconds unless it
//! is preempted (then the yield lets it run).

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_utils::Backoff;

/// A spinning lock around a `T` (module docs).
#[derive(Debug, Default)]
pub(crate) struct SpinLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to the value to one thread at a time
// (a guard exists only while `locked` is held by its thread), so sharing
// the lock shares a `T` only as a `Mutex<T>` would: `T: Send` suffices.
unsafe impl<T: Send> Sync for SpinLock<T> {}

/// Access to a [`SpinLock`]'s value; releases it when dropped.
pub(crate) struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> SpinLock<T> {
    pub(crate) fn new(value: T) -> Self {
        SpinLock {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    pub(crate) fn lock(&self) -> SpinGuard<'_, T> {
        let backoff = Backoff::new();
        loop {
            // ORDERING: Acquire: takes in everything the last holder did
            // before its Release store in `drop`; Relaxed on failure, which
            // takes nothing.
            if self
                .locked
                .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return SpinGuard { lock: self };
            }
            // ORDERING: Relaxed: only a hint of when to try again; the
            // compare-and-swap above is what takes the lock.
            while self.locked.load(Ordering::Relaxed) {
                backoff.snooze();
            }
        }
    }
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard's thread holds the lock, so no other reference
        // to the value is in use (see `Sync` above).
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this the guard's
        // only reference.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        // ORDERING: Release: publishes every access made under the lock to
        // its next holder's Acquire.
        self.lock.locked.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::SpinLock;

    #[test]
    fn holders_exclude_each_other() {
        const THREADS: usize = 4;
        const ROUNDS: usize = if cfg!(miri) { 100 } else { 10_000 };
        let lock = SpinLock::new((0usize, false));
        std::thread::scope(|scope| {
            for _ in 0..THREADS {
                scope.spawn(|| {
                    for _ in 0..ROUNDS {
                        let mut held = lock.lock();
                        assert!(!held.1, "two holders at once");
                        held.1 = true;
                        held.0 += 1;
                        std::hint::spin_loop();
                        held.1 = false;
                    }
                });
            }
        });
        assert_eq!(lock.lock().0, THREADS * ROUNDS);
    }
}
