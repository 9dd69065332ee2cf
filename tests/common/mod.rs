//! Helpers shared by the behaviour tests: a watchdog that turns a hang into a
//! test failure, a rendezvous with a timeout, a concurrency meter, a small
//! deterministic random number generator, a thread's CPU time, executor
//! and run-option shortcuts, and ([`tasks`]) task fixtures.
//!
//! Every integration test file includes this module but uses only part of it.
#![allow(dead_code)]

use std::panic;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use taskflow_engine::{Error, Executor, FailurePolicy, RunOptions};

pub(crate) mod tasks;

/// How long a test may run before the watchdog declares it hung.
pub(crate) const WATCHDOG: Duration = Duration::from_secs(20);

/// How long a task waits for a rendezvous or a signal before giving up.
/// Far above any legitimate wait, and below [`WATCHDOG`] so that a missing
/// partner shows up as a task failure rather than a hang.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// Runs `body` on a fresh thread and returns its result, failing the test
/// with a clear message if it does not finish within [`WATCHDOG`]. A panic
/// in `body` (a failed assertion) is re-raised with its own message.
pub(crate) fn watchdog<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    watchdog_for(WATCHDOG, body)
}

/// [`watchdog`] with an explicit limit.
pub(crate) fn watchdog_for<T: Send + 'static>(
    limit: Duration,
    body: impl FnOnce() -> T + Send + 'static,
) -> T {
    let test = thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_owned();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let handle = thread::Builder::new()
        .name(format!("watched {test}"))
        .spawn(move || {
            // Dropped on return and on unwind alike, so the watchdog hears of
            // both.
            let _done = done_tx;
            body()
        })
        .expect("spawn the watched test thread");
    match done_rx.recv_timeout(limit) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Ok(value) => value,
            Err(payload) => panic::resume_unwind(payload),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "watchdog: test `{test}` still running after {limit:?}; it is hung \
             (a deadlock, a lost wake-up or a run that never completes)"
        ),
    }
}

/// An executor whose pools all have `workers` workers.
pub(crate) fn executor(workers: usize) -> Executor {
    Executor::builder()
        .workers_per_tag(workers)
        .build()
        .expect("build an executor")
}

/// Run options with the keep-going failure policy.
pub(crate) fn keep_going() -> RunOptions {
    RunOptions::new().policy(FailurePolicy::KeepGoing)
}

/// The CPU time the calling thread has used, from the scheduler's own
/// account (Linux: `/proc/thread-self/schedstat`, nanoseconds on a CPU).
#[cfg(target_os = "linux")]
pub(crate) fn thread_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").expect("Linux schedstat");
    let nanos: u64 = stat
        .split_whitespace()
        .next()
        .and_then(|field| field.parse().ok())
        .expect("the first field counts nanoseconds on a CPU");
    Duration::from_nanos(nanos)
}

/// A meeting point for `parties` threads with a timeout: every party returns
/// `Ok` only if all of them arrived within the timeout, which proves that
/// they ran at the same time.
#[derive(Debug)]
pub(crate) struct Rendezvous {
    parties: usize,
    arrived: Mutex<usize>,
    all_here: Condvar,
}

impl Rendezvous {
    pub(crate) fn new(parties: usize) -> Arc<Self> {
        Arc::new(Rendezvous {
            parties,
            arrived: Mutex::new(0),
            all_here: Condvar::new(),
        })
    }

    /// Arrives and waits up to [`WAIT`] for the others.
    pub(crate) fn meet(&self) -> Result<(), Error> {
        self.meet_within(WAIT)
    }

    /// Arrives and waits up to `limit` for the others.
    pub(crate) fn meet_within(&self, limit: Duration) -> Result<(), Error> {
        let deadline = Instant::now() + limit;
        let mut arrived = self.arrived.lock().unwrap();
        *arrived += 1;
        if *arrived >= self.parties {
            self.all_here.notify_all();
            return Ok(());
        }
        while *arrived < self.parties {
            let now = Instant::now();
            if now >= deadline {
                return Err(format!(
                    "rendezvous timed out: {} of {} parties arrived within {limit:?}",
                    *arrived, self.parties
                )
                .into());
            }
            arrived = self
                .all_here
                .wait_timeout(arrived, deadline - now)
                .unwrap()
                .0;
        }
        Ok(())
    }
}

/// A one-shot signal one thread raises and others wait for, with a timeout.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    raised: Mutex<bool>,
    changed: Condvar,
}

impl Signal {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Signal::default())
    }

    pub(crate) fn raise(&self) {
        *self.raised.lock().unwrap() = true;
        self.changed.notify_all();
    }

    pub(crate) fn is_raised(&self) -> bool {
        *self.raised.lock().unwrap()
    }

    /// Waits up to [`WAIT`]; `Err` if the signal was not raised by then.
    pub(crate) fn wait(&self) -> Result<(), Error> {
        let deadline = Instant::now() + WAIT;
        let mut raised = self.raised.lock().unwrap();
        while !*raised {
            let now = Instant::now();
            if now >= deadline {
                return Err(format!("signal not raised within {WAIT:?}").into());
            }
            raised = self.changed.wait_timeout(raised, deadline - now).unwrap().0;
        }
        Ok(())
    }
}

/// Polls `condition` until it holds or [`WAIT`] passes; `Err` on timeout.
/// For conditions nobody can signal (such as `Context::is_cancelled`).
pub(crate) fn wait_until(what: &str, mut condition: impl FnMut() -> bool) -> Result<(), Error> {
    let deadline = Instant::now() + WAIT;
    while !condition() {
        if Instant::now() >= deadline {
            return Err(format!("gave up waiting, after {WAIT:?}, for {what}").into());
        }
        thread::sleep(Duration::from_micros(200));
    }
    Ok(())
}

/// Counts how many holders of its guard exist at once, and the most ever.
#[derive(Debug, Default)]
pub(crate) struct Meter {
    now: AtomicUsize,
    max: AtomicUsize,
}

impl Meter {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Meter::default())
    }

    pub(crate) fn enter(&self) -> MeterGuard<'_> {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        MeterGuard(self)
    }

    /// The most guards that were held at once.
    pub(crate) fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }
}

#[derive(Debug)]
pub(crate) struct MeterGuard<'a>(&'a Meter);

impl Drop for MeterGuard<'_> {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A small deterministic generator (xorshift64*), so that "random" graphs
/// are the same on every run.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..bound` (`bound` > 0).
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }

    /// True with probability `numerator / denominator`.
    pub(crate) fn chance(&mut self, numerator: usize, denominator: usize) -> bool {
        self.below(denominator) < numerator
    }
}
