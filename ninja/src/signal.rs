//! Ctrl-C: SIGINT, SIGTERM and SIGHUP are blocked in every thread and taken
//! by one thread with `sigwait`, which cancels the build in progress (no new
//! command starts) and passes SIGINT on to the running commands' process
//! groups, as ninja does; the commands end, their tasks see the
//! interruption, and the logs keep only what finished.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use taskflow_engine::CancelToken;

use crate::command::Children;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// The build in progress, if any: what the signal thread stops.
static CURRENT: Mutex<Option<(CancelToken, Arc<Children>)>> = Mutex::new(None);

/// Whether a signal asked the build to stop.
pub fn interrupted() -> bool {
    // ORDERING: the flag is written before the cancel token is cancelled,
    // and read after the run, whose end the token's cancellation precedes.
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Makes `token` and `children` the build a signal stops (or none).
pub fn set_current(current: Option<(CancelToken, Arc<Children>)>) {
    let mut guard = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
    if interrupted()
        && let Some((token, _)) = &current
    {
        token.cancel();
    }
    *guard = current;
}

fn signal_set() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data, initialised by sigemptyset.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to a sigset_t.
    unsafe {
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGHUP);
    }
    set
}

/// Blocks the signals in this thread (and so in every thread it starts) and
/// starts the thread that takes them. Call before any other thread starts.
/// Commands start with an empty mask (std resets it in the child).
pub fn install() {
    let set = signal_set();
    // SAFETY: valid sigset pointer; a null old-set pointer is allowed.
    unsafe {
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
    let _ = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            loop {
                let mut signal = 0;
                // SAFETY: valid pointers; the signals are blocked in every thread.
                if unsafe { libc::sigwait(&set, &mut signal) } != 0 {
                    return;
                }
                INTERRUPTED.store(true, Ordering::SeqCst);
                let guard = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((token, children)) = guard.as_ref() {
                    token.cancel();
                    children.signal_all(libc::SIGINT);
                }
            }
        });
}
