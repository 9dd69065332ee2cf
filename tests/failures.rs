//! Failures: errors and panics, `KeepGoing` and `FailFast`, how failures are
//! reported, and that panics leave the executor fully usable.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Rendezvous, Rng, Signal, executor, wait_until, watchdog};
use taskflow_engine::{
    Context, Error, Executor, FailurePolicy, Graph, Outcome, RunOptions, RunReport, Task,
    TaskError, TaskId, TaskRef,
};

fn keep_going() -> RunOptions {
    RunOptions::new().policy(FailurePolicy::KeepGoing)
}

/// Calls per task name.
#[derive(Default)]
struct Calls(std::sync::Mutex<HashMap<&'static str, usize>>);

impl Calls {
    fn record(&self, name: &'static str) {
        *self.0.lock().unwrap().entry(name).or_default() += 1;
    }

    fn of(&self, name: &'static str) -> usize {
        self.0.lock().unwrap().get(name).copied().unwrap_or(0)
    }
}

fn ok_task(calls: &Arc<Calls>, name: &'static str) -> Task<'static, &'static str> {
    let calls = Arc::clone(calls);
    Task::new(name, move |_: &Context<'_>| {
        calls.record(name);
        Ok(name)
    })
}

fn err_task(
    calls: &Arc<Calls>,
    name: &'static str,
    message: &'static str,
) -> Task<'static, &'static str> {
    let calls = Arc::clone(calls);
    Task::new(
        name,
        move |_: &Context<'_>| -> Result<&'static str, Error> {
            calls.record(name);
            Err(message.into())
        },
    )
}

fn panic_task(calls: &Arc<Calls>, name: &'static str) -> Task<'static, &'static str> {
    let calls = Arc::clone(calls);
    Task::new(
        name,
        move |_: &Context<'_>| -> Result<&'static str, Error> {
            calls.record(name);
            panic!("{name} exploded with code {}", 7 * 6)
        },
    )
}

fn kind(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Succeeded => "succeeded",
        Outcome::Failed(TaskError::Error(_)) => "error",
        Outcome::Failed(TaskError::Panicked(_)) => "panicked",
        Outcome::Failed(_) => "failed otherwise",
        Outcome::Skipped => "skipped",
        Outcome::Cancelled => "cancelled",
        _ => "unknown outcome",
    }
}

#[test]
fn keep_going_skips_only_the_transitive_dependents_of_failures() {
    watchdog(|| {
        let calls = Arc::new(Calls::default());
        let mut graph = Graph::new();
        let bad = graph.add(err_task(&calls, "bad", "bad broke"));
        let child = graph.add(ok_task(&calls, "child").after(bad));
        let grandchild = graph.add(ok_task(&calls, "grandchild").after(child).tag("other"));
        let good = graph.add(ok_task(&calls, "good"));
        let good_child = graph.add(ok_task(&calls, "good_child").after(good).tag("other"));
        let mixed = graph.add(ok_task(&calls, "mixed").after(good).after(bad));
        let boom = graph.add(panic_task(&calls, "boom").tag("other"));
        let after_boom = graph.add(ok_task(&calls, "after_boom").after(boom));
        let lone = graph.add(ok_task(&calls, "lone"));

        let report = executor(2).run_with(&mut graph, keep_going()).unwrap();
        let expect: [(TaskRef, &str); 9] = [
            (bad.into(), "error"),
            (child.into(), "skipped"),
            (grandchild.into(), "skipped"),
            (good.into(), "succeeded"),
            (good_child.into(), "succeeded"),
            (mixed.into(), "skipped"),
            (boom.into(), "panicked"),
            (after_boom.into(), "skipped"),
            (lone.into(), "succeeded"),
        ];
        for (task, outcome) in expect {
            assert_eq!(kind(report.outcome(task)), outcome, "{task:?}: {report:?}");
        }
        assert!(!report.is_success());
        assert_eq!(
            (
                report.succeeded(),
                report.failed(),
                report.skipped(),
                report.cancelled()
            ),
            (3, 2, 4, 0)
        );
        for name in ["bad", "good", "good_child", "boom", "lone"] {
            assert_eq!(calls.of(name), 1, "{name} should have run once");
        }
        for name in ["child", "grandchild", "mixed", "after_boom"] {
            assert_eq!(calls.of(name), 0, "{name} must not run");
        }
        // Outputs exist exactly for the tasks that succeeded.
        assert_eq!(graph.output(good_child), Some(&"good_child"));
        assert_eq!(graph.output(lone), Some(&"lone"));
        for id in [bad, child, grandchild, mixed, boom, after_boom] {
            assert_eq!(graph.output(id), None, "{id:?}");
        }
    });
}

#[test]
fn keep_going_on_random_dags_matches_a_sequential_model() {
    watchdog(|| {
        let executor = Executor::builder()
            .workers_per_tag(2)
            .tag_workers("one", 1)
            .build()
            .unwrap();
        for seed in 1..=5u64 {
            let mut rng = Rng::new(seed * 77);
            let size = 2_000;
            let calls: Arc<Vec<AtomicUsize>> =
                Arc::new((0..size).map(|_| AtomicUsize::new(0)).collect());
            let mut graph = Graph::new();
            let mut ids: Vec<TaskId<usize>> = Vec::new();
            let mut model: Vec<&'static str> = Vec::new();
            for index in 0..size {
                let deps: Vec<usize> = if index == 0 {
                    Vec::new()
                } else {
                    (0..rng.below(4))
                        .map(|_| index - 1 - rng.below(index.min(20)))
                        .collect()
                };
                let failure = if rng.chance(1, 40) {
                    if rng.chance(1, 2) {
                        "error"
                    } else {
                        "panicked"
                    }
                } else {
                    "succeeded"
                };
                let expected = if deps.iter().any(|&dep| model[dep] != "succeeded") {
                    "skipped"
                } else {
                    failure
                };
                model.push(expected);
                let calls = Arc::clone(&calls);
                let task = Task::new(format!("t{index}"), move |_: &Context<'_>| {
                    calls[index].fetch_add(1, Ordering::SeqCst);
                    match failure {
                        "error" => Err(format!("t{index} failed").into()),
                        "panicked" => panic!("t{index} panicked"),
                        _ => Ok(index),
                    }
                })
                .after_all(deps.iter().map(|&dep| ids[dep]))
                .tag(["one", "two", "default"][index % 3]);
                ids.push(graph.add(task));
            }
            let report = executor.run_with(&mut graph, keep_going()).unwrap();
            for (index, id) in ids.iter().enumerate() {
                assert_eq!(
                    kind(report.outcome(*id)),
                    model[index],
                    "seed {seed}, t{index}"
                );
                let expected_calls = usize::from(model[index] != "skipped");
                assert_eq!(
                    calls[index].load(Ordering::SeqCst),
                    expected_calls,
                    "seed {seed}, t{index}"
                );
                let expected_output = (model[index] == "succeeded").then_some(&index);
                assert_eq!(graph.output(*id), expected_output, "seed {seed}, t{index}");
            }
            let count = |outcome| model.iter().filter(|&&m| m == outcome).count();
            assert_eq!(report.succeeded(), count("succeeded"), "seed {seed}");
            assert_eq!(report.skipped(), count("skipped"), "seed {seed}");
            assert_eq!(report.failed(), count("error") + count("panicked"));
            assert_eq!(report.cancelled(), 0);
            assert_eq!(report.failures().count(), report.failed());
            assert_eq!(report.is_success(), report.failed() == 0);
        }
    });
}

/// The fail-fast scenario: `watcher` is running when `trigger` fails (the
/// trigger waits until the watcher started), and the watcher keeps running
/// until it sees the run stopped.
///
/// ```text
/// trigger (fails) -> dep_of_trigger -> dep_of_dep
/// watcher (succeeds, saw the stop) -> after_watcher -> after_after_watcher
/// watcher + trigger -> mixed
/// after_watcher + dep_of_trigger -> joined
/// ```
fn fail_fast_scenario(panics: bool, options: Option<RunOptions>) {
    let calls = Arc::new(Calls::default());
    let watcher_started = Signal::new();
    let mut graph = Graph::new();
    let watcher = {
        let (calls, started) = (Arc::clone(&calls), Arc::clone(&watcher_started));
        graph.add(
            Task::new("watcher", move |cx: &Context<'_>| {
                calls.record("watcher");
                started.raise();
                wait_until("the run to stop", || cx.is_cancelled())?;
                Ok("watcher saw the stop")
            })
            .tag("watch"),
        )
    };
    let trigger = {
        let (calls, started) = (Arc::clone(&calls), Arc::clone(&watcher_started));
        graph.add(
            Task::new(
                "trigger",
                move |_: &Context<'_>| -> Result<&'static str, Error> {
                    calls.record("trigger");
                    started.wait()?;
                    if panics {
                        panic!("trigger panicked on purpose");
                    }
                    Err("trigger failed on purpose".into())
                },
            )
            .tag("fail"),
        )
    };
    let dep_of_trigger = graph.add(ok_task(&calls, "dep_of_trigger").after(trigger));
    let dep_of_dep = graph.add(ok_task(&calls, "dep_of_dep").after(dep_of_trigger));
    let after_watcher = graph.add(ok_task(&calls, "after_watcher").after(watcher));
    let after_after = graph.add(ok_task(&calls, "after_after_watcher").after(after_watcher));
    let mixed = graph.add(ok_task(&calls, "mixed").after(watcher).after(trigger));
    let joined = graph.add(
        ok_task(&calls, "joined")
            .after(after_watcher)
            .after(dep_of_trigger),
    );

    // Without options, `run` uses the default policy, which must be fail-fast.
    let executor = executor(2);
    let report = match options {
        Some(options) => executor.run_with(&mut graph, options),
        None => executor.run(&mut graph),
    }
    .unwrap();
    let failure = if panics { "panicked" } else { "error" };
    let expect: [(TaskRef, &str); 8] = [
        (watcher.into(), "succeeded"),
        (trigger.into(), failure),
        (dep_of_trigger.into(), "skipped"),
        (dep_of_dep.into(), "skipped"),
        (after_watcher.into(), "cancelled"),
        (after_after.into(), "cancelled"),
        (mixed.into(), "skipped"),
        (joined.into(), "skipped"),
    ];
    for (task, outcome) in expect {
        assert_eq!(kind(report.outcome(task)), outcome, "{task:?}: {report:?}");
    }
    assert!(!report.is_success());
    assert_eq!(
        (
            report.succeeded(),
            report.failed(),
            report.skipped(),
            report.cancelled()
        ),
        (1, 1, 4, 2)
    );
    // No task started after the failure.
    for name in [
        "dep_of_trigger",
        "dep_of_dep",
        "after_watcher",
        "after_after_watcher",
        "mixed",
        "joined",
    ] {
        assert_eq!(calls.of(name), 0, "{name} must not start after the failure");
    }
    // The running task finished normally and kept its output.
    assert_eq!(graph.output(watcher), Some(&"watcher saw the stop"));
    assert_eq!(graph.output(trigger), None);
}

#[test]
fn fail_fast_after_an_error_starts_nothing_and_lets_running_tasks_finish() {
    watchdog(|| fail_fast_scenario(false, None));
}

#[test]
fn fail_fast_after_a_panic_starts_nothing_and_lets_running_tasks_finish() {
    watchdog(|| fail_fast_scenario(true, None));
}

#[test]
fn fail_fast_is_the_default_of_run_options() {
    watchdog(|| fail_fast_scenario(false, Some(RunOptions::default())));
    watchdog(|| fail_fast_scenario(true, Some(RunOptions::new())));
}

#[test]
fn fail_fast_chosen_explicitly() {
    watchdog(|| {
        fail_fast_scenario(
            false,
            Some(RunOptions::new().policy(FailurePolicy::FailFast)),
        )
    });
}

#[test]
fn failure_reports_keep_the_tasks_own_messages() {
    watchdog(|| {
        let calls = Arc::new(Calls::default());
        let mut graph = Graph::new();
        let error = graph.add(err_task(&calls, "disk", "disk full: 0 bytes left"));
        let boom = graph.add(panic_task(&calls, "boom"));
        let static_panic = graph.add(Task::new(
            "static_panic",
            |_: &Context<'_>| -> Result<(), Error> { panic!("a static message") },
        ));
        let odd_payload = graph.add(Task::new(
            "odd_payload",
            |_: &Context<'_>| -> Result<(), Error> { std::panic::panic_any(12345u64) },
        ));
        let io_error = graph.add(Task::new("io", |_: &Context<'_>| -> Result<(), Error> {
            Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no such thing").into())
        }));
        let report = executor(2).run_with(&mut graph, keep_going()).unwrap();
        assert_eq!(report.failed(), 5);

        let message = |task: TaskRef, report: &RunReport| match report.outcome(task) {
            Outcome::Failed(error) => error.to_string(),
            other => panic!("{task:?} should have failed: {other:?}"),
        };
        assert!(message(error.into(), &report).contains("disk full: 0 bytes left"));
        match report.outcome(boom) {
            Outcome::Failed(TaskError::Panicked(text)) => {
                assert!(text.contains("boom exploded with code 42"), "{text}")
            }
            other => panic!("boom should have panicked: {other:?}"),
        }
        assert!(message(boom.into(), &report).contains("boom exploded with code 42"));
        assert!(message(static_panic.into(), &report).contains("a static message"));
        assert!(matches!(
            report.outcome(odd_payload),
            Outcome::Failed(TaskError::Panicked(_))
        ));
        match report.outcome(io_error) {
            Outcome::Failed(TaskError::Error(error)) => {
                let io = error
                    .downcast_ref::<std::io::Error>()
                    .expect("the task's own error");
                assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
            }
            other => panic!("io should have failed with its error: {other:?}"),
        }
        assert!(message(io_error.into(), &report).contains("no such thing"));

        let mut failures: Vec<(String, String)> = report
            .failures()
            .map(|(_, name, error)| (name.to_owned(), error.to_string()))
            .collect();
        failures.sort();
        let names: Vec<&str> = failures.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["boom", "disk", "io", "odd_payload", "static_panic"]);
        assert!(failures[1].1.contains("disk full"));
        // TaskError is a std error that keeps the task's message.
        let (disk_task, _, disk_error) = report
            .failures()
            .find(|(_, name, _)| *name == "disk")
            .unwrap();
        assert_eq!(disk_task, error.task_ref());
        let as_std: &dyn std::error::Error = disk_error;
        assert!(as_std.to_string().contains("disk full"), "{as_std}");
    });
}

/// A panic payload whose own destructor panics.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("the panic payload's destructor panicked too");
    }
}

#[test]
fn panics_leave_every_worker_alive() {
    watchdog(|| {
        let executor = executor(2);
        for round in 0..3 {
            let mut graph = Graph::new();
            for index in 0..20 {
                graph.add(Task::new(
                    "panicker",
                    move |_: &Context<'_>| -> Result<(), Error> {
                        if index % 5 == 0 {
                            std::panic::panic_any(PanicOnDrop);
                        }
                        panic!("panic {index} of round {round}")
                    },
                ));
            }
            let report = executor.run_with(&mut graph, keep_going()).unwrap();
            assert_eq!(report.failed(), 20, "round {round}: {report:?}");
            assert!(
                report
                    .failures()
                    .all(|(_, _, error)| matches!(error, TaskError::Panicked(_)))
            );
        }
        // Both workers still serve: two tasks that can only finish together.
        let meet = Rendezvous::new(2);
        let mut graph = Graph::new();
        let pair: Vec<TaskId<usize>> = (0..2)
            .map(|_| {
                let meet = Arc::clone(&meet);
                graph.add(Task::new("pair", move |cx: &Context<'_>| {
                    meet.meet()?;
                    Ok(cx.worker_index())
                }))
            })
            .collect();
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success(), "{report}");
        let mut workers: Vec<usize> = pair.iter().map(|id| *graph.output(*id).unwrap()).collect();
        workers.sort();
        assert_eq!(workers, [0, 1]);
    });
}

#[test]
fn panic_in_a_dependency_under_fail_fast_skips_dependents() {
    watchdog(|| {
        let calls = Arc::new(Calls::default());
        let mut graph = Graph::new();
        let source = graph.add(ok_task(&calls, "source"));
        let boom = graph.add(panic_task(&calls, "boom").after(source));
        let below = graph.add(ok_task(&calls, "below").after(boom));
        let report = executor(1).run(&mut graph).unwrap();
        assert_eq!(kind(report.outcome(source)), "succeeded");
        assert_eq!(kind(report.outcome(boom)), "panicked");
        assert_eq!(kind(report.outcome(below)), "skipped");
        assert_eq!(calls.of("below"), 0);
        assert_eq!(graph.output(source), Some(&"source"));
    });
}

/// Checks the outcome rules on a random DAG run under `policy`, where some
/// tasks fail and one may cancel the run's token:
/// - a task that ran (succeeded or failed) ran once, after all of its
///   dependencies succeeded, and has an output exactly when it succeeded;
/// - a task that did not run was skipped exactly when a dependency failed or
///   was skipped, and cancelled otherwise;
/// - cancelled tasks exist only in a stopped run.
fn check_random_run(seed: u64, policy: FailurePolicy, cancel_at: Option<usize>) {
    let mut rng = Rng::new(seed);
    let size = 1_500;
    let calls: Arc<Vec<AtomicUsize>> = Arc::new((0..size).map(|_| AtomicUsize::new(0)).collect());
    let done: Arc<Vec<std::sync::atomic::AtomicBool>> = Arc::new(
        (0..size)
            .map(|_| std::sync::atomic::AtomicBool::new(false))
            .collect(),
    );
    let early = Arc::new(AtomicUsize::new(0));
    let token = taskflow_engine::CancelToken::new();
    let mut graph = Graph::new();
    let mut ids: Vec<TaskId<usize>> = Vec::new();
    let mut all_deps: Vec<Vec<usize>> = Vec::new();
    for index in 0..size {
        let deps: Vec<usize> = if index == 0 {
            Vec::new()
        } else {
            (0..rng.below(4))
                .map(|_| index - 1 - rng.below(index.min(30)))
                .collect()
        };
        let fails = rng.chance(1, 300);
        let cancels = cancel_at == Some(index);
        let (calls, done, early, token) = (
            Arc::clone(&calls),
            Arc::clone(&done),
            Arc::clone(&early),
            token.clone(),
        );
        let deps_in_task = deps.clone();
        let task = Task::new(format!("t{index}"), move |_: &Context<'_>| {
            calls[index].fetch_add(1, Ordering::SeqCst);
            if deps_in_task
                .iter()
                .any(|&dep| !done[dep].load(Ordering::Acquire))
            {
                early.fetch_add(1, Ordering::SeqCst);
            }
            if cancels {
                token.cancel();
            }
            if fails {
                return Err(format!("t{index} fails").into());
            }
            done[index].store(true, Ordering::Release);
            Ok(index)
        })
        .after_all(deps.iter().map(|&dep| ids[dep]))
        .tag(["p", "q", "default"][rng.below(3)]);
        ids.push(graph.add(task));
        all_deps.push(deps);
    }
    let executor = Executor::builder()
        .workers_per_tag(2)
        .tag_workers("q", 1)
        .build()
        .unwrap();
    let report = executor
        .run_with(
            &mut graph,
            RunOptions::new().policy(policy).cancel_token(token.clone()),
        )
        .unwrap();
    let context = format!("seed {seed}, {policy:?}, cancel at {cancel_at:?}");
    assert_eq!(
        early.load(Ordering::SeqCst),
        0,
        "{context}: a task ran early"
    );
    let stopped =
        token.is_cancelled() || (policy == FailurePolicy::FailFast && report.failed() > 0);
    for (index, id) in ids.iter().enumerate() {
        let outcome = kind(report.outcome(*id));
        let ran = calls[index].load(Ordering::SeqCst);
        let dep_kinds: Vec<&str> = all_deps[index]
            .iter()
            .map(|&dep| kind(report.outcome(ids[dep])))
            .collect();
        let here = format!("{context}, t{index}: {outcome}, deps {dep_kinds:?}");
        match outcome {
            "succeeded" | "error" => {
                assert_eq!(ran, 1, "{here}");
                assert!(dep_kinds.iter().all(|&k| k == "succeeded"), "{here}");
                assert_eq!(
                    graph.output(*id).is_some(),
                    outcome == "succeeded",
                    "{here}"
                );
            }
            "skipped" => {
                assert_eq!(ran, 0, "{here}");
                assert!(
                    dep_kinds.iter().any(|&k| k == "error" || k == "skipped"),
                    "{here}"
                );
                assert_eq!(graph.output(*id), None, "{here}");
            }
            "cancelled" => {
                assert_eq!(ran, 0, "{here}");
                assert!(stopped, "{here}: cancelled in a run that was not stopped");
                assert!(
                    !dep_kinds.iter().any(|&k| k == "error" || k == "skipped"),
                    "{here}"
                );
                assert_eq!(graph.output(*id), None, "{here}");
            }
            other => panic!("{here}: unexpected outcome {other}"),
        }
    }
    if policy == FailurePolicy::KeepGoing && cancel_at.is_none() {
        assert_eq!(report.cancelled(), 0, "{context}");
    }
    assert_eq!(
        report.succeeded() + report.failed() + report.skipped() + report.cancelled(),
        size,
        "{context}"
    );
}

#[test]
fn random_runs_keep_the_outcome_rules_under_every_policy() {
    watchdog(|| {
        for seed in 1..=4u64 {
            for policy in [FailurePolicy::FailFast, FailurePolicy::KeepGoing] {
                check_random_run(seed, policy, None);
                check_random_run(seed, policy, Some(700 + seed as usize));
            }
        }
    });
}

/// An error type with a source, to see how a failure's chain prints.
#[derive(Debug)]
struct Wrapped(std::io::Error);

impl std::fmt::Display for Wrapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("could not read the manifest")
    }
}

impl std::error::Error for Wrapped {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Every message of an error's chain, as error reporters print it.
fn chain(error: &dyn std::error::Error) -> Vec<String> {
    let mut messages = vec![error.to_string()];
    let mut next = error.source();
    while let Some(source) = next {
        messages.push(source.to_string());
        next = source.source();
    }
    messages
}

#[test]
fn error_chains_print_every_message_once() {
    watchdog(|| {
        let mut graph = Graph::new();
        let task = graph.add(Task::new("manifest", |_| -> Result<(), Error> {
            Err(Wrapped(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such file",
            )))?
        }));
        let report = executor(1).run(&mut graph).unwrap();
        let error = report.outcome(task).error().expect("the task failed");
        assert_eq!(
            chain(error),
            ["could not read the manifest", "no such file"]
        );
        let wrapped = error
            .downcast_ref::<Wrapped>()
            .expect("the task's own error");
        assert_eq!(wrapped.0.kind(), std::io::ErrorKind::NotFound);
        assert!(error.downcast_ref::<std::fmt::Error>().is_none());

        // The errors of starting threads: the OS error once, as the source.
        let spawn = taskflow_engine::GraphError::WorkerSpawn {
            tag: "io".into(),
            source: std::io::Error::other("out of threads"),
        };
        assert_eq!(
            chain(&spawn),
            ["cannot start the workers of tag `io`", "out of threads"]
        );
        let build = taskflow_engine::BuildError::Spawn {
            tag: "io".into(),
            source: std::io::Error::other("out of threads"),
        };
        assert_eq!(
            chain(&build),
            ["cannot start the workers of tag `io`", "out of threads"]
        );
    });
}

#[test]
fn failures_and_iter_hand_out_handles() {
    watchdog(|| {
        let mut graph = Graph::new();
        let fine = graph.add(Task::new("fine", |_| Ok(())));
        let bad = graph.add(Task::new("bad", |_| -> Result<(), Error> { Err("bad")? }));
        let below = graph.add(Task::new("below", |_| Ok(())).after(bad));
        let report = executor(2).run_with(&mut graph, keep_going()).unwrap();
        let failures: Vec<(TaskRef, &str, String)> = report
            .failures()
            .map(|(task, name, error)| (task, name, error.to_string()))
            .collect();
        assert_eq!(failures, [(bad.task_ref(), "bad", "bad".to_owned())]);
        let outcomes: Vec<(TaskRef, bool, bool)> = report
            .iter()
            .map(|(task, outcome)| (task, outcome.is_success(), outcome.error().is_some()))
            .collect();
        assert_eq!(
            outcomes,
            [
                (fine.task_ref(), true, false),
                (bad.task_ref(), false, true),
                (below.task_ref(), false, false),
            ]
        );
        let owned: Vec<(TaskRef, String)> = report
            .into_failures()
            .map(|(task, name, _)| (task, name))
            .collect();
        assert_eq!(owned, [(bad.task_ref(), "bad".to_owned())]);
    });
}

#[test]
fn a_caught_panic_can_be_raised_again_with_its_own_payload() {
    watchdog(|| {
        #[derive(Debug, PartialEq)]
        struct Code(u32);
        let mut graph = Graph::new();
        let typed = graph.add(Task::new("typed", |_| -> Result<(), Error> {
            std::panic::panic_any(Code(7))
        }));
        let boxed_str = graph.add(Task::new("boxed", |_| -> Result<(), Error> {
            std::panic::panic_any(Box::new("a boxed str"))
        }));
        let report = executor(1).run_with(&mut graph, keep_going()).unwrap();
        for task in [typed, boxed_str] {
            match report.outcome(task) {
                Outcome::Failed(TaskError::Panicked(panic)) => {
                    assert_eq!(panic.message(), "Box<dyn Any>", "the documented message");
                }
                other => panic!("{task:?} should have panicked: {other:?}"),
            }
        }
        let (task, name, error) = report.into_failures().next().expect("two failures");
        assert_eq!((task, name.as_str()), (typed.task_ref(), "typed"));
        assert!(error.is_panic());
        let payload = error.into_panic();
        let raised = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            std::panic::resume_unwind(payload)
        }))
        .expect_err("resume_unwind raises the payload");
        assert_eq!(raised.downcast_ref::<Code>(), Some(&Code(7)));

        // An error gives itself back, boxed, as the payload.
        let mut graph = Graph::new();
        graph.add(Task::new("err", |_| -> Result<(), Error> { Err("plain")? }));
        let report = executor(1).run(&mut graph).unwrap();
        let (_, _, error) = report.into_failures().next().expect("one failure");
        let payload = error.into_panic();
        let error = payload.downcast_ref::<Error>().expect("a taskflow Error");
        assert_eq!(error.to_string(), "plain");
    });
}

/// Counts its drops in a shared counter.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A value whose destructor panics.
struct PanicsWhenDropped;

impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        panic!("a destructor panicked while the graph was dropped");
    }
}

/// When a destructor panics while a graph is dropped, the graph still drops
/// every other closure and output, and then the panic goes on to the caller,
/// as a `Vec` does.
#[test]
fn a_panicking_destructor_in_a_dropped_graph_leaks_nothing_else() {
    watchdog(|| {
        for culprit in ["output", "closure"] {
            let drops = Arc::new(AtomicUsize::new(0));
            let mut graph = Graph::new();
            if culprit == "output" {
                graph.add(Task::new("culprit", |_: &Context<'_>| {
                    Ok(PanicsWhenDropped)
                }));
            } else {
                let bomb = PanicsWhenDropped;
                graph.add(Task::new("culprit", move |_: &Context<'_>| {
                    let _held = &bomb;
                    Ok(())
                }));
            }
            for _ in 0..10 {
                let (held, made) = (DropCounter(Arc::clone(&drops)), Arc::clone(&drops));
                graph.add(Task::new("counted", move |_: &Context<'_>| {
                    let _held = &held;
                    Ok(DropCounter(Arc::clone(&made)))
                }));
            }
            assert!(executor(1).run(&mut graph).unwrap().is_success());
            let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(graph)));
            let payload = dropped.expect_err("the destructor's panic reaches the caller");
            assert_eq!(
                payload.downcast_ref::<&str>(),
                Some(&"a destructor panicked while the graph was dropped")
            );
            assert_eq!(
                drops.load(Ordering::SeqCst),
                20,
                "a panicking {culprit} left later closures and outputs undropped"
            );
        }
    });
}
