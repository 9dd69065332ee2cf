//! `-d trace=FILE`: one complete event per command that ran, named by its
//! description (or first output), and none for what ran no command (phony
//! edges, edges `restat` pruned, edges skipped after a failure).

mod support;

use std::time::{Duration, SystemTime};

use support::*;

/// The trace's events.
fn events_in(trace: &std::path::Path) -> Vec<serde_json::Value> {
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(trace).expect("the trace file")).expect("JSON");
    json["traceEvents"]
        .as_array()
        .expect("a traceEvents array")
        .clone()
}

/// The trace's complete events: (name, outcome), sorted.
fn commands_in(trace: &std::path::Path) -> Vec<(String, String)> {
    let mut commands: Vec<(String, String)> = events_in(trace)
        .iter()
        .filter(|event| event["ph"] == "X")
        .map(|event| {
            assert!(event["dur"].as_f64().is_some_and(|d| d >= 0.0), "{event}");
            (
                event["name"].as_str().unwrap().to_string(),
                event["args"]["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    commands.sort();
    commands
}

/// The name of the track the command `name` is on.
fn track_of(trace: &std::path::Path, name: &str) -> String {
    let events = events_in(trace);
    let tid = &events
        .iter()
        .find(|event| event["ph"] == "X" && event["name"] == name)
        .expect("the command's event")["tid"];
    events
        .iter()
        .find(|event| event["name"] == "thread_name" && &event["tid"] == tid)
        .expect("the track's name")["args"]["name"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn the_trace_holds_one_event_per_command_that_ran() {
    let dir = tempdir("trace");
    write(
        &dir,
        &[
            (
                "build.ninja",
                "rule t
  command = touch $out
  description = T $out
pool serial
  depth = 1
rule plain
  command = touch $out
  pool = serial
rule fail
  command = false
rule once
  command = test -e $out || touch $out
  restat = 1
build a: t
build b: plain a
build bad: fail
build after_bad: t bad
build c: once src
build d: t c
build all: phony a b d after_bad
default all
",
            ),
            ("src", ""),
        ],
    );
    let first = run(&dir, OURS, &["-k", "0", "-d", "trace=first.json"]);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stdout));
    let ok = |name: &str| (name.to_string(), "succeeded".to_string());
    assert_eq!(
        commands_in(&dir.join("first.json")),
        [
            ok("T a"),
            ok("T d"),
            ok("b"),
            ("bad".to_string(), "failed".to_string()),
            ok("c"),
        ],
        "phony `all` and the skipped `after_bad` ran no command"
    );
    let first = dir.join("first.json");
    // Pools are limits on the one pool of `-j` workers: every command of
    // any pool runs on a default worker.
    for command in ["b", "T a"] {
        let track = track_of(&first, command);
        assert!(track.starts_with("default worker "), "{command}: {track}");
    }

    // `src` newer than `c`: c's command runs and leaves it as it was, so
    // restat prunes `d`, which gets no event.
    let future = SystemTime::now() + Duration::from_secs(10);
    std::fs::File::options()
        .write(true)
        .open(dir.join("src"))
        .unwrap()
        .set_modified(future)
        .unwrap();
    let second = run(&dir, OURS, &["-v", "c", "d", "-d", "trace=second.json"]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stdout));
    assert_eq!(
        commands_run(&second.stdout),
        ["test -e c || touch c"],
        "only c's command runs"
    );
    assert_eq!(commands_in(&dir.join("second.json")), [ok("c")]);
}
