//! Ours alone: Ctrl-C stops the build as ninja does, and a torn log costs
//! only its torn record.

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

#[test]
fn sigint_stops_the_build_kills_commands_and_exits_2() {
    let dir = tempdir("sigint");
    write(
        &dir,
        &[(
            "build.ninja",
            "rule slow\n  command = touch started; sleep 30; touch $out\nbuild a: slow\nbuild b: slow a\n",
        )],
    );
    let mut child = Command::new(OURS)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait (with a watchdog) until the command runs, then interrupt.
    let start = Instant::now();
    while !dir.join("started").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "watchdog: the command never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: kill on a child we spawned and have not reaped.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let stopped = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if stopped.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("watchdog: not stopped 10 s after SIGINT (the sleep was not killed)");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("ninja: build stopped: interrupted by user."),
        "{}",
        text(&out.stdout)
    );
    assert!(!dir.join("a").exists() && !dir.join("b").exists());
    assert!(
        !text(&out.stdout).contains("FAILED"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_torn_build_log_rebuilds_only_the_torn_record() {
    let dir = tempdir("torn-log");
    let mut manifest = String::from("rule t\n  command = touch $out\n");
    for i in 0..20 {
        manifest += &format!("build o{i}: t\n");
    }
    write(&dir, &[("build.ninja", &manifest)]);
    let first = run(&dir, OURS, &["-j1"]);
    assert_eq!(first.status.code(), Some(0));
    let log = dir.join(".taskflow_log");
    let len = std::fs::metadata(&log).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&log).unwrap();
    file.set_len(len - 3).unwrap();
    let second = run(&dir, OURS, &["-v", "-j1"]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert_eq!(
        commands_run(&second.stdout).len(),
        1,
        "{}",
        text(&second.stdout)
    );
    assert!(
        text(&second.stderr).contains("torn"),
        "{}",
        text(&second.stderr)
    );
    let third = run(&dir, OURS, &[]);
    assert!(
        text(&third.stdout).contains("ninja: no work to do."),
        "{}",
        text(&third.stdout)
    );
    // Garbage instead of a log: everything rebuilds once, nothing panics.
    std::fs::write(&log, b"\xff\x00garbage").unwrap();
    let fourth = run(&dir, OURS, &["-v"]);
    assert_eq!(fourth.status.code(), Some(0));
    assert_eq!(commands_run(&fourth.stdout).len(), 20);
}

#[test]
fn deps_gcc_records_headers_and_deletes_the_depfile() {
    let dir = tempdir("deps-gcc");
    write(
        &dir,
        &[
            (
                "build.ninja",
                "rule cc\n  command = cat $in > $out && printf '%s: %s h.h\\n' $out $in > $out.d\n  depfile = $out.d\n  deps = gcc\nbuild a.o: cc a.c\n",
            ),
            ("a.c", "a"),
            ("h.h", "h"),
        ],
    );
    assert_eq!(run(&dir, OURS, &[]).status.code(), Some(0));
    assert!(!dir.join("a.o.d").exists(), "depfile kept");
    let deps = run(&dir, OURS, &["-t", "deps"]);
    assert!(
        text(&deps.stdout).contains("a.o: #deps 2"),
        "{}",
        text(&deps.stdout)
    );
    assert!(text(&run(&dir, OURS, &[]).stdout).contains("no work to do"));
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(dir.join("h.h"), "changed").unwrap();
    let again = run(&dir, OURS, &["-v"]);
    assert_eq!(
        commands_run(&again.stdout).len(),
        1,
        "{}",
        text(&again.stdout)
    );
}
