//! Small task fixtures the spawn and nesting tests share: tasks that count
//! when they are done, and the task that reads the count after them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use taskflow_engine::{Context, Task};

/// A task that sleeps `pause` (not at all for zero), then adds one to
/// `counter`.
pub(crate) fn counting(
    name: &'static str,
    counter: &Arc<AtomicUsize>,
    pause: Duration,
) -> Task<'static, ()> {
    let counter = Arc::clone(counter);
    Task::new(name, move |_: &Context<'_>| {
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(())
    })
}

/// A task whose output is `counter`'s value when it runs: after a task
/// whose subtree counts, it says how many had counted by then.
pub(crate) fn reading_count(
    name: &'static str,
    counter: &Arc<AtomicUsize>,
) -> Task<'static, usize> {
    let counter = Arc::clone(counter);
    Task::new(name, move |_: &Context<'_>| {
        Ok(counter.load(Ordering::SeqCst))
    })
}
