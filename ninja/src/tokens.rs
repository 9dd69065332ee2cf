//! The GNU make jobserver: every command holds a token while it runs.
//!
//! Under `make -j` (a jobserver in `MAKEFLAGS`, pipe or fifo style) the
//! tokens come from make, so the whole tree of makes and runners shares one
//! bound. Otherwise this runner is the server: a pool of `-j` tokens that its
//! own commands take too, passed on in `MAKEFLAGS` so that a sub-make or a
//! nested runner shares the bound. As everywhere in make, each process has
//! one implicit token it need not read from the pipe.
//!
//! The pipe's fds are made inheritable once, here, rather than per command
//! (which would need a `pre_exec` hook and so fork instead of `posix_spawn`).

use std::sync::atomic::{AtomicBool, Ordering};

/// Where the tokens come from.
#[derive(Debug)]
pub struct Tokens {
    client: jobserver::Client,
    implicit_taken: AtomicBool,
    /// Whether the tokens came from a parent make.
    pub from_parent: bool,
}

/// A held token; released when dropped.
#[derive(Debug)]
pub enum Token<'a> {
    Implicit(&'a AtomicBool),
    Acquired(#[allow(dead_code)] jobserver::Acquired),
}

impl Drop for Token<'_> {
    fn drop(&mut self) {
        if let Token::Implicit(flag) = self {
            // ORDERING: the flag guards nothing but itself.
            flag.store(false, Ordering::Release);
        }
    }
}

impl Tokens {
    /// The parent's jobserver, or a new one with `parallelism` tokens.
    /// Must run before any thread starts: it sets `MAKEFLAGS`.
    pub fn setup(parallelism: usize) -> Option<Tokens> {
        // SAFETY: called first thing in main, before any file is opened, so
        // the fds MAKEFLAGS names are the ones the parent passed (or none).
        let parent = unsafe { jobserver::Client::from_env() };
        let (client, from_parent) = match parent {
            Some(client) => (client, true),
            None => (
                jobserver::Client::new(parallelism.saturating_sub(1)).ok()?,
                false,
            ),
        };
        // The crate keeps the auth string private but writes it into a
        // command's MAKEFLAGS: read it from a command that is never run.
        let mut probe = std::process::Command::new("true");
        client.configure_make(&mut probe);
        let arg = probe
            .get_envs()
            .find(|(k, _)| *k == "MAKEFLAGS")
            .and_then(|(_, v)| {
                v?.to_str()?
                    .split("--jobserver-auth=")
                    .nth(1)
                    .map(str::to_string)
            })?;
        if let Some((read, write)) = arg.split_once(',') {
            for fd in [read, write] {
                if let Ok(fd) = fd.parse::<i32>() {
                    // SAFETY: fcntl on an fd the jobserver client owns; it
                    // only clears FD_CLOEXEC so that commands inherit it.
                    unsafe {
                        libc::fcntl(fd, libc::F_SETFD, 0);
                    }
                }
            }
        }
        if !from_parent {
            let flags = format!("-j{parallelism} --jobserver-fds={arg} --jobserver-auth={arg}");
            // SAFETY: no other thread exists yet (see above), so nothing
            // reads the environment concurrently.
            unsafe {
                std::env::set_var("MAKEFLAGS", flags);
            }
        }
        Some(Tokens {
            client,
            implicit_taken: AtomicBool::new(false),
            from_parent,
        })
    }

    /// Waits for a token.
    pub fn acquire(&self) -> std::io::Result<Token<'_>> {
        // ORDERING: only the flag itself is handed over.
        if self
            .implicit_taken
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            return Ok(Token::Implicit(&self.implicit_taken));
        }
        self.client.acquire().map(Token::Acquired)
    }
}
