//! What the scenarios share: the executors (one per process, reused across
//! inputs so memory stays flat), the panic-hook filter for the panics the
//! scenarios cause on purpose, the hang watchdog, the failure message,
//! value mixing, a deterministic PRNG and the global event clock the oracles
//! reason with.

use std::collections::HashMap;
use std::fmt::{Debug, Write as _};
use std::panic::PanicHookInfo;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use arbitrary::Unstructured;
use taskflow_engine::Executor;

/// How long one input may take before the watchdog aborts the process. An
/// input takes milliseconds, even under AddressSanitizer; a run that is still
/// going after this long is hung.
pub const WATCHDOG_TIMEOUT: Duration = Duration::from_secs(20);

/// Most pools a `run_graph` scenario uses, and most workers per pool.
pub const MAX_POOLS: usize = 3;
/// See [`MAX_POOLS`].
pub const MAX_WORKERS: usize = 3;

/// The tag of pool `pool` of a `run_graph` scenario when it has `workers`
/// workers. Every (pool, size) pair has its own tag, so one executor serves
/// every worker configuration: a scenario with pools of 2 and 3 workers
/// uses tags `p0w2` and `p1w3`, and never shares a pool with itself.
pub fn run_tag(pool: usize, workers: usize) -> &'static str {
    const TAGS: [[&str; MAX_WORKERS]; MAX_POOLS] = [
        ["p0w1", "p0w2", "p0w3"],
        ["p1w1", "p1w2", "p1w3"],
        ["p2w1", "p2w2", "p2w3"],
    ];
    TAGS[pool][workers - 1]
}

/// The tags of `build_graph` scenarios and their pool sizes: separate from
/// `run_graph`'s, so the replay test can run both at once without the two
/// sharing pools.
pub const BUILD_TAGS: [(&str, usize); 2] = [("b0w2", 2), ("b1w1", 1)];

/// The process-wide executor: one pool per tag of [`run_tag`] and
/// [`BUILD_TAGS`], all started up front (24 threads, idle between inputs).
pub fn shared_executor() -> &'static Executor {
    static EXECUTOR: OnceLock<Executor> = OnceLock::new();
    EXECUTOR.get_or_init(|| {
        let mut builder = Executor::builder().workers_per_tag(1);
        for pool in 0..MAX_POOLS {
            for workers in 1..=MAX_WORKERS {
                builder = builder.tag_workers(run_tag(pool, workers), workers);
            }
        }
        for (tag, workers) in BUILD_TAGS {
            builder = builder.tag_workers(tag, workers);
        }
        builder.build().expect("the fuzz executor starts")
    })
}

/// The prefix of every panic message a scenario causes on purpose.
pub const PANIC_PREFIX: &str = "fuzz panic";

/// The payload of a deliberate panic whose payload is not a string.
#[derive(Debug)]
pub struct FuzzPanic(pub usize);

/// Keeps the panic hook quiet about the panics task bodies cause on purpose
/// and passes every other panic to the hook that was installed before:
/// libFuzzer's, which aborts so the input is saved, or the test harness's.
/// Call it at the start of every input: it installs itself once, after
/// libFuzzer installed its hook.
pub fn silence_intentional_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !is_intentional(info) {
                previous(info);
            }
        }));
    });
}

fn is_intentional(info: &PanicHookInfo<'_>) -> bool {
    let payload = info.payload();
    payload.is::<FuzzPanic>()
        || payload
            .downcast_ref::<&str>()
            .is_some_and(|message| message.starts_with(PANIC_PREFIX))
        || payload
            .downcast_ref::<String>()
            .is_some_and(|message| message.starts_with(PANIC_PREFIX))
}

/// Aborts the process if an input runs longer than [`WATCHDOG_TIMEOUT`], so
/// that a hang becomes a crash libFuzzer records, or a failed test rather
/// than a stuck CI job. Armed while the returned guard lives.
pub fn watch(label: String) -> WatchdogGuard {
    static NEXT_ID: AtomicU64 = AtomicU64::new(0);
    let watchdog = watchdog();
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let deadline = Instant::now() + WATCHDOG_TIMEOUT;
    lock(&watchdog.armed).insert(id, (deadline, label));
    WatchdogGuard { id }
}

/// Disarms its watch when dropped.
#[derive(Debug)]
pub struct WatchdogGuard {
    id: u64,
}

impl Drop for WatchdogGuard {
    fn drop(&mut self) {
        lock(&watchdog().armed).remove(&self.id);
    }
}

struct Watchdog {
    armed: Mutex<HashMap<u64, (Instant, String)>>,
}

fn watchdog() -> &'static Watchdog {
    static WATCHDOG: OnceLock<Watchdog> = OnceLock::new();
    WATCHDOG.get_or_init(|| {
        thread::Builder::new()
            .name("fuzz-watchdog".into())
            .spawn(|| {
                loop {
                    thread::sleep(Duration::from_millis(100));
                    let armed = lock(&watchdog().armed);
                    let now = Instant::now();
                    if let Some((_, label)) = armed.values().find(|(deadline, _)| now > *deadline) {
                        eprintln!(
                            "WATCHDOG: {label} did not finish within {WATCHDOG_TIMEOUT:?}: \
                             the run hangs; aborting"
                        );
                        std::process::abort();
                    }
                }
            })
            .expect("the watchdog thread starts");
        Watchdog {
            armed: Mutex::new(HashMap::new()),
        }
    })
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What a target reports when `scenario` failed its oracle: the scenario,
/// then every violation found, one a line.
pub fn failure_message(target: &str, scenario: &dyn Debug, violations: Vec<String>) -> String {
    let mut message = format!("{target} oracle failed for {scenario:#?}\n");
    for violation in violations {
        let _ = writeln!(message, "  - {violation}");
    }
    message
}

/// SplitMix64's finaliser: a bijective mix of 64 bits.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The value a task starts from before folding in its inputs.
pub fn seed_value(task: usize, salt: u64) -> u64 {
    mix(salt ^ ((task as u64) << 32))
}

/// Folds one input into a task's value. Order matters, so inputs read in
/// the wrong order or from the wrong task change the result.
pub fn fold_value(value: u64, input: u64) -> u64 {
    mix(value ^ input.rotate_left(17))
}

/// A deterministic PRNG (SplitMix64) for the replay test's generated inputs.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator with this seed.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0.wrapping_sub(0x9e37_79b9_7f4a_7c15))
    }

    /// `len` random bytes, with `len` drawn from `0..=max_len`.
    pub fn bytes(&mut self, max_len: usize) -> Vec<u8> {
        let len = (self.next_u64() % (max_len as u64 + 1)) as usize;
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// A byte of the input, 0 once it is used up.
pub fn byte(u: &mut Unstructured<'_>) -> u8 {
    u.arbitrary().unwrap_or(0)
}

/// A number in `low..=high` from the input, `low` once it is used up.
pub fn in_range(u: &mut Unstructured<'_>, low: usize, high: usize) -> usize {
    u.int_in_range(low..=high).unwrap_or(low)
}

/// A number that identifies the calling thread within the process.
pub fn thread_number() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        static NUMBER: u64 = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    NUMBER.with(|number| *number)
}

/// The event clock of one run: every task body takes a number from it when
/// it starts and when it ends.
///
/// The clock is one atomic counter advanced only by `SeqCst` read-modify-
/// writes, so its values are a total order that is contained in
/// happens-before: each increment reads the previous one and synchronises
/// with it (each heads and continues a release sequence). So whatever
/// happened before an event numbered `a` also happened before every event
/// numbered `b > a`, on any thread. The `run_graph` oracle relies on this
/// to tell which task starts a stop must have been visible to. (The clock
/// adds synchronisation between task bodies, which can hide a missing
/// memory-ordering edge in the engine; finding those is loom's job, not the
/// fuzzer's.)
#[derive(Debug)]
pub struct Clock(AtomicU64);

impl Clock {
    /// A clock whose first event is numbered 1 (0 means "never").
    pub fn new() -> Self {
        Clock(AtomicU64::new(0))
    }

    /// Takes the next event number.
    pub fn tick(&self) -> u64 {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}
