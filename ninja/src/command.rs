//! Running one command through `/bin/sh -c`, as ninja's `Subprocess`.
//!
//! A normal command gets `/dev/null` as stdin and one pipe for stdout and
//! stderr together (its output is printed whole after it ends, so outputs
//! never interleave), and its own process group, so a Ctrl-C at the terminal
//! reaches ninja and not the command; on interruption the runner sends SIGINT
//! to the group itself. A `console` pool command inherits the terminal and
//! stays in the foreground group, so it sees the Ctrl-C directly.
//!
//! Running commands are registered in [`Children`] from spawn until just
//! before they are reaped, so that a signal is never sent to a reused pid.
//!
//! Commands start with SIGINT, SIGTERM and SIGHUP at their default actions,
//! as ninja's do (it spawns them with `posix_spawnattr_setsigdefault`), even
//! when the runner itself was started with them ignored (by `nohup`, or as
//! a background job of a non-interactive shell): an ignored disposition is
//! inherited through `exec`, and a command that ignores SIGINT cannot be
//! interrupted. The runner resets its own dispositions once, before its
//! first command: it takes these signals with `sigwait` with them blocked
//! (see `crate::signal`), so the default action never runs in it.

use std::collections::HashSet;
use std::io::{self, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::sync::{Mutex, Once};

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Success,
    Failure,
    /// Killed by SIGINT (or SIGTERM, SIGHUP): the user interrupted the build.
    Interrupted,
}

/// The process groups of running, non-console commands.
#[derive(Debug, Default)]
pub struct Children {
    groups: Mutex<HashSet<i32>>,
}

impl Children {
    /// Sends `signal` to every running command's process group.
    pub fn signal_all(&self, signal: i32) {
        let groups = self.groups.lock().unwrap_or_else(|e| e.into_inner());
        for &pgid in groups.iter() {
            // SAFETY: kill has no memory effects; the group is alive (it is
            // removed from the set before its leader is reaped, under this lock).
            unsafe {
                libc::kill(-pgid, signal);
            }
        }
    }

    fn add(&self, pid: i32) {
        self.groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(pid);
    }

    fn remove(&self, pid: i32) {
        self.groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&pid);
    }
}

/// Sets SIGINT, SIGTERM and SIGHUP to their default actions in this
/// process, once, so that commands inherit those (module docs).
fn default_dispositions() {
    static RESET: Once = Once::new();
    RESET.call_once(|| {
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: SIG_DFL is a valid disposition for these signals; no
            // handler is installed or replaced (the runner takes them with
            // `sigwait`), and a failure leaves the disposition as it was.
            unsafe {
                libc::signal(signal, libc::SIG_DFL);
            }
        }
    });
}

/// Runs `command`; returns how it ended and what it printed.
pub fn run(command: &str, console: bool, children: &Children) -> io::Result<(Exit, Vec<u8>)> {
    default_dispositions();
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c").arg(command);
    if console {
        let status = cmd.status()?;
        return Ok((exit_of(status), Vec::new()));
    }
    let (mut reader, writer) = io::pipe()?;
    cmd.stdin(Stdio::null())
        .stdout(writer.try_clone()?)
        .stderr(writer)
        .process_group(0);
    let mut child = cmd.spawn()?;
    // The Command still holds our ends of the pipe's write side: drop it so
    // that the read sees EOF once the command (and its children) close it.
    drop(cmd);
    let pid = child.id() as i32;
    children.add(pid);
    let mut output = Vec::new();
    let read = reader.read_to_end(&mut output);
    // Wait for the exit without reaping, leave the registry, then reap: a
    // signal sent meanwhile still finds this process group.
    wait_exited(pid);
    children.remove(pid);
    let status = child.wait()?;
    read?;
    Ok((exit_of(status), output))
}

fn wait_exited(pid: i32) {
    loop {
        // SAFETY: siginfo_t is plain data that waitid fills in.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: a valid pointer to `info`; WNOWAIT leaves the child to
        // `Child::wait`.
        let rc = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if rc == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return;
        }
    }
}

fn exit_of(status: std::process::ExitStatus) -> Exit {
    match status.signal() {
        Some(libc::SIGINT | libc::SIGTERM | libc::SIGHUP) => Exit::Interrupted,
        _ if status.success() => Exit::Success,
        _ => Exit::Failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdout_and_stderr_share_one_buffer_in_order() {
        let children = Children::default();
        let (exit, out) = run("echo a; echo b >&2; echo c", false, &children).unwrap();
        assert_eq!(exit, Exit::Success);
        assert_eq!(out, b"a\nb\nc\n");
        let (exit, _) = run("exit 3", false, &children).unwrap();
        assert_eq!(exit, Exit::Failure);
        let (exit, _) = run("kill -INT $$", false, &children).unwrap();
        assert_eq!(exit, Exit::Interrupted);
    }

    #[test]
    fn stdin_is_empty() {
        let (_, out) = run("cat; echo done", false, &Children::default()).unwrap();
        assert_eq!(out, b"done\n");
    }
}
