//! The GNU make jobserver, both ways: under `make -jN` (pipe style, and
//! fifo style where make is 4.4 or newer) the runner runs at most N
//! commands at once however large its own `-j`; and with `-j N` it is the
//! server, whose tokens a sub-make run by a command takes.
//!
//! What runs at once is measured by the meter of `support/meter.rs`, which
//! every command goes through: a test passes only if the bound is reached
//! (the tokens were there) and never exceeded, and no timing decides that
//! it passes. Each test prints a loud `SKIPPED:` line
//! and passes where `make` (or a new enough one) is not installed; `.ci/run`
//! installs make.

mod support;

use std::ffi::CString;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

use support::meter::*;
use support::*;

/// make's version as (major, minor), or None after a loud SKIPPED line.
fn make_version(test: &str) -> Option<(u32, u32)> {
    let version = std::process::Command::new("make")
        .arg("--version")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| {
            let text = text(&out.stdout);
            let number = text.lines().next()?.strip_prefix("GNU Make ")?.to_string();
            let mut parts = number.split('.').map(|p| p.parse::<u32>().ok());
            Some((parts.next()??, parts.next().flatten().unwrap_or(0)))
        });
    if version.is_none() {
        eprintln!("SKIPPED: {test}: GNU make is not installed (apt-get install make)");
    }
    version
}

/// Runs ours with `-j 12` from a Makefile under `make -j3 extra...`: at
/// most 3 of its 12 commands run at once, and 3 do.
fn under_make_j3(name: &str, extra: &[&str]) {
    let dir = metered_dir(name);
    write(
        &dir,
        &[
            ("build.ninja", &metered_manifest(&dir, 12, 3)),
            ("Makefile", &format!("all:\n\t+\"{OURS}\" -j 12\n")),
        ],
    );
    let mut args = vec!["-j3"];
    args.extend(extra);
    let out = run(&dir, "make", &args);
    let printed = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{printed}");
    assert!(!printed.contains("jobserver"), "make warned: {printed}");
    assert_eq!(most_at_once(&dir, 12), 3, "under make -j3:\n{printed}");
}

#[test]
fn under_make_j3_pipe_style_at_most_3_commands_run_at_once() {
    if make_version("pipe-style jobserver").is_none() {
        return;
    }
    under_make_j3("make-pipe", &[]);
}

#[test]
fn under_make_j3_fifo_style_at_most_3_commands_run_at_once() {
    let Some(version) = make_version("fifo-style jobserver") else {
        return;
    };
    if version < (4, 4) {
        eprintln!(
            "SKIPPED: fifo-style jobserver under make: make {}.{} has no --jobserver-style=fifo \
             (4.4 does); the fifo client is still tested with a fifo of this test's own",
            version.0, version.1
        );
        return;
    }
    under_make_j3("make-fifo", &["--jobserver-style=fifo"]);
}

/// The fifo client without make: a fifo holding 2 tokens, named in
/// `MAKEFLAGS` as make 4.4 names it, is a bound of 3 (2 and the implicit
/// one), and every token is back in the fifo afterwards.
#[test]
fn a_fifo_jobserver_of_3_bounds_the_commands_and_gets_its_tokens_back() {
    let dir = metered_dir("own-fifo");
    write(&dir, &[("build.ninja", &metered_manifest(&dir, 12, 3))]);
    let fifo = dir.join("jobserver.fifo");
    let path = CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo reads the NUL-terminated path, valid for the call.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    // Held open for reading and writing, as make holds it: the runner's own
    // open never blocks and the tokens stay in the fifo.
    let mut tokens = std::fs::File::options()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .unwrap();
    std::io::Write::write_all(&mut tokens, b"++").unwrap();
    let mut command = command(&dir, OURS, &["-j", "12"]);
    command.env(
        "MAKEFLAGS",
        format!(" -j3 --jobserver-auth=fifo:{}", fifo.display()),
    );
    let out = output_within(command, Duration::from_secs(120));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(most_at_once(&dir, 12), 3);
    let mut back = [0u8; 8];
    let returned = tokens.read(&mut back).unwrap_or(0);
    assert_eq!(&back[..returned], b"++", "the tokens are back in the fifo");
}

/// Ours at `-j3` running a sub-make of 6 metered jobs (each waiting for 3
/// at once) beside `own` metered commands of its own: at most 3 run at once,
/// and 3 do.
fn sub_make_under_our_j3(name: &str, own: usize) {
    if make_version(name).is_none() {
        return;
    }
    let dir = metered_dir(name);
    let jobs = "j1 j2 j3 j4 j5 j6";
    let makefile = format!(
        "all: {jobs}\n{jobs}:\n\t{}\n.PHONY: all {jobs}\n",
        meter(&dir, 3)
    );
    let manifest = metered_manifest(&dir, own, 3)
        + "rule submake\n  command = make --no-print-directory -C sub && touch $out\n\
           build sub.done: submake\n";
    write(
        &dir,
        &[("sub/Makefile", &makefile), ("build.ninja", &manifest)],
    );
    let out = run(&dir, OURS, &["-j3"]);
    let printed = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{printed}");
    assert!(!printed.contains("jobserver"), "make warned: {printed}");
    assert_eq!(most_at_once(&dir, 6 + own), 3, "{printed}");
}

/// The server: a sub-make run by one of our commands takes our tokens, so
/// under `-j3` it runs 3 of its jobs at once (its implicit token and 2 of
/// ours); without them it would run one at a time.
#[test]
fn a_sub_make_gets_the_tokens_of_our_j3() {
    sub_make_under_our_j3("server", 0);
}

/// The server's bound is shared: our own commands and a sub-make's jobs
/// together run at most 3 at once under `-j3` (and reach 3). An excess is
/// seen here only when the commands happen to overlap; the client tests
/// above see every time a command that runs without a token.
#[test]
fn our_commands_and_a_sub_makes_jobs_share_the_bound_of_j3() {
    sub_make_under_our_j3("server-shared", 6);
}

/// The meter can see more than 3: ours alone at `-j 6` runs 6 at once.
#[test]
fn the_meter_sees_6_at_once_under_j6() {
    let dir = metered_dir("meter-control");
    write(&dir, &[("build.ninja", &metered_manifest(&dir, 12, 6))]);
    let out = run(&dir, OURS, &["-j", "6"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(most_at_once(&dir, 12), 6);
}
