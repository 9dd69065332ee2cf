//! Golden tests against the real ninja: the same manifest in two fresh
//! directories, ninja in one and ours in the other, and what they print (or
//! run, or leave behind) must agree. Each test prints a loud `SKIPPED:` line
//! and passes when ninja is not installed; `.ci/run` installs it.

mod support;

use support::*;

/// Both tools on `manifest` (with `files` beside it), `args` each.
fn both(
    name: &str,
    manifest: &str,
    files: &[(&str, &str)],
    args: &[&str],
) -> Option<[std::process::Output; 2]> {
    let ninja = ninja(name)?;
    let out = [(ninja, "ninja"), (OURS, "ours")].map(|(bin, who)| {
        let dir = tempdir(&format!("{name}-{who}"));
        write(&dir, &[("build.ninja", manifest)]);
        write(&dir, files);
        run(&dir, bin, args)
    });
    Some(out)
}

/// `-t commands` (exact) and `-n -v` (the same commands and total) agree.
fn same_commands(name: &str, manifest: &str, files: &[(&str, &str)], targets: &[&str]) {
    let mut args = vec!["-t", "commands"];
    args.extend(targets);
    let Some([theirs, ours]) = both(name, manifest, files, &args) else {
        return;
    };
    assert_eq!(
        text(&ours.stderr),
        text(&theirs.stderr),
        "{name}: -t commands stderr"
    );
    assert_eq!(
        text(&ours.stdout),
        text(&theirs.stdout),
        "{name}: -t commands"
    );
    assert!(
        !theirs.stdout.is_empty() || !theirs.stderr.is_empty(),
        "{name}: ninja printed nothing"
    );
    let mut args = vec!["-n", "-v"];
    args.extend(targets);
    let [theirs, ours] = both(name, manifest, files, &args).unwrap();
    assert_eq!(
        commands_run(&ours.stdout),
        commands_run(&theirs.stdout),
        "{name}: -n -v"
    );
    let total = |o: &std::process::Output| {
        text(&o.stdout).lines().last().map(|l| {
            l.split(']')
                .next()
                .unwrap_or("")
                .split('/')
                .nth(1)
                .map(str::to_string)
        })
    };
    assert_eq!(total(&ours), total(&theirs), "{name}: -n -v total");
    assert_eq!(
        ours.status.code(),
        theirs.status.code(),
        "{name}: exit status"
    );
}

#[test]
fn variables_and_scoping() {
    same_commands(
        "scoping",
        "x = file
rule r
  command = echo $x $y [$in] [$out] $undefined.
  description = R $out
y = top
build a b: r c d | e || f
  x = edge-$x
build g: r a
x = late
subninja sub.ninja
include inc.ninja
build h: r g
",
        &[
            (
                "sub.ninja",
                "y = sub\nrule s\n  command = sub $x $y $in\nbuild sub1: s a\nbuild sub2: r a\n",
            ),
            ("inc.ninja", "y = inc\nbuild inc1: r g\n"),
            ("c", ""),
            ("d", ""),
            ("e", ""),
            ("f", ""),
        ],
        &["h", "sub1", "sub2", "inc1"],
    );
}

#[test]
fn escapes_and_quoting() {
    same_commands(
        "escapes",
        "rule r
  command = printf '%s\\n' $in $out $$HOME a$ b c$:d $
      continued ${v}x
v = val
build out$ with$ space$:colon: r in$ put 'quo\"te' x$$y
build $$dollar: r a/./b/../c
",
        &[],
        &["out with space:colon", "$dollar"],
    );
}

#[test]
fn implicit_order_only_phony_and_default() {
    let manifest = "rule cc
  command = cc -c $in -o $out
rule link
  command = ld $in -o $out
build gen.h: cc gen.in
build a.o | a.side: cc a.c | a.h || gen.h
build b.o: cc b.c || gen.h
build prog: link a.o b.o
build all: phony prog
build other: link b.o
default all
";
    let files = [("gen.in", ""), ("a.c", ""), ("a.h", ""), ("b.c", "")];
    same_commands("implicit", manifest, &files, &[]);
    same_commands("implicit-target", manifest, &files, &["other", "a.side"]);
    same_commands("implicit-s", manifest, &files, &["-s", "prog"]);
}

#[test]
fn pools_and_rspfiles() {
    let manifest = "pool link_pool
  depth = 1
rule link
  command = cat $out.rsp > $out
  rspfile = $out.rsp
  rspfile_content = $in_newline
  pool = link_pool
rule con
  command = echo console $out > $out
  pool = console
build x: link a b c
build y: link c b a
build z: con x y
";
    let files = [("a", "A\n"), ("b", "B\n"), ("c", "C\n")];
    same_commands("pools", manifest, &files, &["z"]);
    // A real build: the files the rspfiles fed are the same.
    let Some([theirs, ours]) = both("pools-build", manifest, &files, &["-j4", "z"]) else {
        return;
    };
    assert_eq!(theirs.status.code(), Some(0), "{}", text(&theirs.stdout));
    assert_eq!(ours.status.code(), Some(0), "{}", text(&ours.stdout));
    for (who, o) in [("ninja", &theirs), ("ours", &ours)] {
        assert_eq!(
            text(&o.stdout).lines().count(),
            3,
            "{who}: {}",
            text(&o.stdout)
        );
    }
    let read = |who: &str, f: &str| {
        std::fs::read(tempdir_path(&format!("pools-build-{who}")).join(f)).unwrap()
    };
    for f in ["x", "y", "z"] {
        assert_eq!(read("ours", f), read("ninja", f), "{f}");
    }
    assert!(
        !tempdir_path("pools-build-ours").join("x.rsp").exists(),
        "rspfile kept"
    );
}

fn tempdir_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("tfninja-{}-{name}", std::process::id()))
}

/// Builds in `dir` with `bin`, returns the commands it ran.
fn build(dir: &std::path::Path, bin: &str, args: &[&str]) -> (Vec<String>, String, Option<i32>) {
    let mut all = vec!["-v"];
    all.extend(args);
    let o = run(dir, bin, &all);
    (
        commands_run(&o.stdout),
        text(&o.stdout) + &text(&o.stderr),
        o.status.code(),
    )
}

/// The same steps in two directories: each step changes the files, then
/// both tools build; the commands each step runs must agree.
fn same_steps(name: &str, manifest: &str, files: &[(&str, &str)], steps: &[(&str, &[&str])]) {
    let Some(ninja) = ninja(name) else { return };
    let dirs = [(ninja, "ninja"), (OURS, "ours")].map(|(bin, who)| {
        let dir = tempdir(&format!("{name}-{who}"));
        write(&dir, &[("build.ninja", manifest)]);
        write(&dir, files);
        (bin, dir)
    });
    for (i, (shell, args)) in steps.iter().enumerate() {
        let results: Vec<_> = dirs
            .iter()
            .map(|(bin, dir)| {
                if !shell.is_empty() {
                    let ok = std::process::Command::new("/bin/sh")
                        .args(["-c", shell])
                        .current_dir(dir)
                        .status()
                        .unwrap()
                        .success();
                    assert!(ok, "{name} step {i}: {shell}");
                }
                build(dir, bin, args)
            })
            .collect();
        assert_eq!(
            results[1].0, results[0].0,
            "{name} step {i} ({shell}): commands\nninja: {}\nours: {}",
            results[0].1, results[1].1
        );
        assert_eq!(
            results[1].2, results[0].2,
            "{name} step {i}: exit status\nninja: {}\nours: {}",
            results[0].1, results[1].1
        );
        if results[0].1.contains("no work to do") {
            assert!(
                results[1].1.contains("ninja: no work to do."),
                "{name} step {i}: {}",
                results[1].1
            );
        }
    }
}

#[test]
fn restat_prunes_dependents() {
    // `gen` rewrites its output only when the content changes; `use` must
    // run only when it did.
    same_steps(
        "restat",
        "rule gen
  command = cat in > tmp && (cmp -s tmp mid || cp tmp mid); rm -f tmp
  restat = 1
rule use
  command = cat mid > $out
build mid: gen in
build out: use mid
",
        &[("in", "one\n")],
        &[
            ("", &[]),
            ("", &[]),
            ("sleep 0.01; touch in", &[]),
            ("sleep 0.01; echo two > in", &[]),
            ("", &[]),
        ],
    );
}

/// Validations (`|@`): built beside the targets whose edges name them,
/// even when those are up to date, waiting for nothing of them; a
/// validation that depends on the edge naming it is no cycle; one with no
/// edge is not built.
const VALIDATIONS: &str = "rule cc
  command = touch $out
rule check
  command = echo checking $in > $out
rule fail
  command = echo failing $out; exit 1
build a.o: cc a.c |@ a.check
build a.check: check a.o
build lib: cc a.o |@ lint
build lint: check src
build prog: cc lib
build other: cc x |@ missing_src
build broken: cc x |@ bad.check
build bad.check: fail
build nested: cc x |@ v1
build v1: check x |@ v2
build v2: check x
default prog other
";

#[test]
fn validations_are_built_beside_their_targets() {
    let files = [("a.c", ""), ("src", ""), ("x", "")];
    same_commands("validations", VALIDATIONS, &files, &[]);
    same_commands("validations-nested", VALIDATIONS, &files, &["nested"]);
    same_steps(
        "validations-build",
        VALIDATIONS,
        &files,
        &[
            ("", &[]),
            ("", &[]),
            // Only the validation is out of date: its target is not.
            ("sleep 0.01; touch src", &["prog"]),
            ("sleep 0.01; touch a.c", &["lib"]),
            ("", &["nested"]),
            ("", &["nested"]),
            ("sleep 0.01; touch x", &["v1"]),
            // A failing validation fails the build, its target is built.
            ("", &["broken"]),
            ("", &["-k", "0", "broken", "nested"]),
        ],
    );
}

#[test]
fn command_changes_and_missing_outputs_rebuild() {
    same_steps(
        "changes",
        "flag = 1
rule r
  command = echo $flag > $out
build a: r
build b: r a
",
        &[],
        &[
            ("", &[]),
            ("rm a", &[]),
            ("sed -i 's/flag = 1/flag = 2/' build.ninja", &[]),
            ("", &[]),
        ],
    );
}

#[test]
fn the_manifest_rebuilds_itself_and_is_reloaded() {
    same_steps(
        "generator",
        "rule regen
  command = sed 's/VALUE/'\"$$(cat value)\"'/' build.in > build.ninja
  generator = 1
rule r
  command = echo old > $out
build build.ninja: regen build.in value
build out: r
",
        &[
            (
                "build.in",
                "rule regen\n  command = sed 's/VALUE/'\"$$(cat value)\"'/' build.in > build.ninja\n  generator = 1\nrule r\n  command = echo VALUE > $out\nbuild build.ninja: regen build.in value\nbuild out: r\n",
            ),
            ("value", "first"),
        ],
        &[
            ("", &[]),
            ("", &[]),
            ("sleep 0.01; echo second > value", &[]),
            ("", &[]),
        ],
    );
}

#[test]
fn keep_going_and_failures() {
    let manifest = "rule ok
  command = echo ok > $out
rule bad
  command = echo failing $out; exit 1
build b1: bad
build b2: bad
build after: ok b1
build good1: ok
build good2: ok
build all: phony after b2 good1 good2
";
    same_steps(
        "keepgoing",
        manifest,
        &[],
        &[("", &["-k", "0", "-j1"]), ("", &["-k", "0", "-j1"])],
    );
    let Some([theirs, ours]) = both("keepgoing-msg", manifest, &[], &["-k", "0", "-j1"]) else {
        return;
    };
    let last = |o: &std::process::Output| text(&o.stdout).lines().last().unwrap_or("").to_string();
    assert_eq!(last(&ours), last(&theirs));
    assert_eq!(ours.status.code(), theirs.status.code());
    // The FAILED block: the outputs, the command, then its output.
    let block = |o: &std::process::Output| {
        let out = text(&o.stdout);
        let i = out.find("FAILED: b1").expect("FAILED block");
        out[i..]
            .lines()
            .take(3)
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(block(&ours), block(&theirs));
    // -k 1 (the default): the first failure stops the build.
    let [theirs, ours] = both("keepgoing-1", manifest, &[], &["-j1", "b1", "good1"]).unwrap();
    assert_eq!(last(&ours), last(&theirs));
    assert_eq!(ours.status.code(), Some(1));
}

#[test]
fn tools_print_as_ninja_prints() {
    let manifest = "rule cat
  command = cat $in > $out
build out1 : cat in1
build out2 : cat in2 out1
build out3 : cat out2 out1 | implicit || order_only
build all: phony out3
default out3
";
    for args in [
        &["-t", "query", "out2", "out3"][..],
        &["-t", "targets", "all"],
        &["-t", "targets"],
        &["-t", "targets", "depth", "0"],
        &["-t", "targets", "rule", "cat"],
        &["-t", "inputs", "out3"],
        &["-t", "commands", "all"],
    ] {
        let Some([theirs, ours]) = both("tools", manifest, &[], args) else {
            return;
        };
        assert_eq!(text(&ours.stdout), text(&theirs.stdout), "{args:?}");
        assert_eq!(ours.status.code(), theirs.status.code(), "{args:?}");
    }
}

/// The files left in `dir`, sorted.
fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    files
}

#[test]
fn clean_removes_what_ninja_removes() {
    let manifest = "rule cc
  command = touch $out
  depfile = $out.d
rule gen
  command = touch $out
  generator = 1
rule rsp
  command = touch $out
  rspfile = $out.rsp
  rspfile_content = x
build a b: cc src
build c: rsp a
build g: gen src
build d: cc c || g
build all: phony d g
subninja sub.ninja
";
    let files = [
        (
            "sub.ninja",
            "rule cc
  command = touch $out
rule local
  command = touch $out
build s1: cc src
build s2: local src
",
        ),
        ("src", ""),
        ("a", ""),
        ("b", ""),
        ("c", ""),
        ("g", ""),
        ("d", ""),
        ("s1", ""),
        ("s2", ""),
        ("d.d", ""),
        ("c.rsp", ""),
    ];
    for args in [
        &["-t", "clean"][..],
        &["-t", "clean", "-g"],
        &["-v", "-t", "clean", "-g"],
        &["-t", "clean", "c"],
        &["-v", "-t", "clean", "all", "./s1"],
        &["-t", "clean", "nosuch", "c"],
        &["-t", "clean", "-r", "cc", "rsp"],
        &["-v", "-t", "clean", "cc", "-r"],
        &["-t", "clean", "-r", "local", "gen"],
        &["-t", "clean", "-r"],
        &["-n", "-t", "clean", "-r", "cc"],
        &["-n", "-t", "clean"],
        &["-t", "clean", "-x"],
        &["-t", "clean", "-h"],
        &["-t", "clean", "--", "-g"],
    ] {
        let Some([theirs, ours]) = both("clean", manifest, &files, args) else {
            return;
        };
        assert_eq!(text(&ours.stdout), text(&theirs.stdout), "{args:?}");
        assert_eq!(text(&ours.stderr), text(&theirs.stderr), "{args:?}");
        assert_eq!(ours.status.code(), theirs.status.code(), "{args:?}");
        assert_eq!(
            files_in(&tempdir_path("clean-ours")),
            files_in(&tempdir_path("clean-ninja")),
            "{args:?}: the files left"
        );
    }
}

#[test]
fn parse_errors_read_as_ninja_writes_them() {
    for (i, manifest) in [
        "build x y\n",
        "x\n",
        "rule r\n  command = x\nbuild o: q\n",
        "rule r\n  command = x\n  foo = b\n",
        "default nope\n",
        "rule r\n  command = x\nbuild o: r\nbuild o: r\n",
        "x = $!\n",
        "rule r\n  command = x\n  pool = nope\nbuild o: r\n",
        "build o: phony\n  x = ${\n",
        "pool p\n",
        "include missing.ninja\n",
        "\tx = 1\n",
        "rule r\n  command = x\nrule r\n  command = y\n",
    ]
    .iter()
    .enumerate()
    {
        let name = format!("errors{i}");
        let Some([theirs, ours]) = both(&name, manifest, &[], &["-t", "commands"]) else {
            return;
        };
        assert_eq!(text(&ours.stderr), text(&theirs.stderr), "{manifest:?}");
        assert_eq!(ours.status.code(), theirs.status.code(), "{manifest:?}");
    }
}
