//! Observers (`taskflow_engine::observe`): what events they get and when,
//! on which worker, in which order; observers of the executor and of one
//! run; a panicking observer; the Chrome trace, the progress counter and
//! (with the `log` feature) the log observer.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::Instant;

use common::{Rng, Signal, executor, watchdog};
use taskflow_engine::observe::{
    ChromeTrace, Observer, Progress, ProgressSnapshot, RunInfo, TaskEvent,
};
use taskflow_engine::{
    CancelToken, Cancelled, Context, Executor, ExecutorBuilder, FailurePolicy, Graph, Outcome,
    RunOptions, RunReport, Tag, Task, TaskRef,
};

/// One event as a [`Recorder`] saw it.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    RunStarted {
        run: u64,
        tasks: usize,
        thread: ThreadId,
    },
    Started(Sighting),
    Finished(Sighting, &'static str),
    RunFinished {
        run: u64,
        tasks: usize,
        succeeded: usize,
        thread: ThreadId,
    },
}

/// What a task event says, and where and when it was seen.
#[derive(Clone, Debug, PartialEq)]
struct Sighting {
    run: u64,
    task: TaskRef,
    name: String,
    tag: String,
    worker: usize,
    thread: ThreadId,
    at: Instant,
}

impl Sighting {
    fn of(event: &TaskEvent<'_>) -> Self {
        let at = event.at();
        assert_eq!(
            event.at(),
            at,
            "every read of an event's time gives the same instant"
        );
        Sighting {
            run: event.run_id(),
            task: event.task(),
            name: event.name().to_owned(),
            tag: event.tag().as_str().to_owned(),
            worker: event.worker_index(),
            thread: thread::current().id(),
            at,
        }
    }

    /// The worker the event happened on: its tag's pool and index.
    fn worker_key(&self) -> (String, usize) {
        (self.tag.clone(), self.worker)
    }
}

fn kind(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Succeeded => "succeeded",
        Outcome::Failed(_) => "failed",
        Outcome::Skipped => "skipped",
        Outcome::Cancelled => "cancelled",
        _ => "unknown",
    }
}

/// Records every event it gets, in one list, in the order it got them
/// (the lock orders them; each thread's own events stay in its order).
#[derive(Debug, Default)]
struct Recorder {
    seen: Mutex<Vec<Seen>>,
}

impl Recorder {
    fn new() -> Arc<Recorder> {
        Arc::new(Recorder::default())
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn push(&self, seen: Seen) {
        self.seen.lock().unwrap().push(seen);
    }
}

impl Observer for Recorder {
    fn run_started(&self, run: &RunInfo) {
        self.push(Seen::RunStarted {
            run: run.run_id(),
            tasks: run.tasks(),
            thread: thread::current().id(),
        });
    }

    fn task_started(&self, event: &TaskEvent<'_>) {
        self.push(Seen::Started(Sighting::of(event)));
    }

    fn task_finished(&self, event: &TaskEvent<'_>, outcome: &Outcome) {
        self.push(Seen::Finished(Sighting::of(event), kind(outcome)));
    }

    fn run_finished(&self, run: &RunInfo, report: &RunReport) {
        self.push(Seen::RunFinished {
            run: run.run_id(),
            tasks: report.len(),
            succeeded: report.succeeded(),
            thread: thread::current().id(),
        });
    }
}

/// The runs in `seen`, by id: each one's events in order.
fn by_run(seen: &[Seen]) -> BTreeMap<u64, Vec<Seen>> {
    let mut runs: BTreeMap<u64, Vec<Seen>> = BTreeMap::new();
    for event in seen {
        let run = match event {
            Seen::RunStarted { run, .. } | Seen::RunFinished { run, .. } => *run,
            Seen::Started(sighting) | Seen::Finished(sighting, _) => sighting.run,
        };
        runs.entry(run).or_default().push(event.clone());
    }
    runs
}

/// Checks the rules every observed run follows, on one run's events:
/// `run_started` first and `run_finished` last, once each; every task of the
/// report one `task_finished`, with the report's outcome; a `task_started`
/// exactly for the tasks that ran, before their `task_finished`, on the same
/// worker and thread. Returns the outcome each task was seen with.
fn check_run(events: &[Seen], report: &RunReport) -> HashMap<TaskRef, &'static str> {
    let Some(Seen::RunStarted { tasks, .. }) = events.first() else {
        panic!("run_started comes first: {events:?}");
    };
    assert_eq!(*tasks, report.len());
    let Some(Seen::RunFinished {
        tasks, succeeded, ..
    }) = events.last()
    else {
        panic!("run_finished comes last: {events:?}");
    };
    assert_eq!((*tasks, *succeeded), (report.len(), report.succeeded()));
    let mut started: HashMap<TaskRef, Sighting> = HashMap::new();
    let mut finished: HashMap<TaskRef, &'static str> = HashMap::new();
    for event in &events[1..events.len() - 1] {
        match event {
            Seen::Started(sighting) => {
                assert!(
                    started.insert(sighting.task, sighting.clone()).is_none(),
                    "{} started twice",
                    sighting.name
                );
                assert!(
                    !finished.contains_key(&sighting.task),
                    "{} started after it finished",
                    sighting.name
                );
            }
            Seen::Finished(sighting, outcome) => {
                assert!(
                    finished.insert(sighting.task, outcome).is_none(),
                    "{} finished twice",
                    sighting.name
                );
                if let Some(start) = started.get(&sighting.task) {
                    assert_eq!(
                        (start.worker_key(), start.thread),
                        (sighting.worker_key(), sighting.thread),
                        "{} ends on the worker and thread it started on",
                        sighting.name
                    );
                    assert!(start.at <= sighting.at);
                }
            }
            other => panic!("a run's events start and finish once each: {other:?}"),
        }
    }
    assert_eq!(finished.len(), report.len(), "every task finished once");
    for (task, outcome) in report.iter() {
        assert_eq!(
            finished[&task],
            kind(outcome),
            "the event's outcome is the report's"
        );
        let ran = matches!(outcome, Outcome::Succeeded | Outcome::Failed(_));
        if ran {
            assert!(started.contains_key(&task), "a task that ran started");
        } else if matches!(outcome, Outcome::Skipped) {
            assert!(!started.contains_key(&task), "a skipped task never started");
        }
    }
    finished
}

/// The only run in `recorder`, checked against `report`.
fn check_only_run(recorder: &Recorder, report: &RunReport) -> HashMap<TaskRef, &'static str> {
    let runs = by_run(&recorder.seen());
    assert_eq!(runs.len(), 1, "one run observed");
    let events = runs.into_values().next().unwrap();
    check_run(&events, report)
}

#[test]
fn the_observer_api_has_the_names_and_signatures_of_issue_10() {
    watchdog(|| {
        fn observer<T: Observer + Send + Sync + 'static>() {}
        observer::<ChromeTrace>();
        observer::<Progress>();
        observer::<Arc<dyn Observer>>();
        // Every method is provided.
        struct Silent;
        impl Observer for Silent {}
        observer::<Silent>();

        let _: fn(ExecutorBuilder, Silent) -> ExecutorBuilder = ExecutorBuilder::observer;
        let _: fn(RunOptions, Arc<dyn Observer>) -> RunOptions = RunOptions::observer;
        let _: fn() -> Arc<ChromeTrace> = ChromeTrace::new;
        let _ = |trace: &ChromeTrace, out: Vec<u8>| -> std::io::Result<()> { trace.write_to(out) };
        let _: fn() -> Arc<Progress> = Progress::new;
        let _: fn(&Progress) -> ProgressSnapshot = Progress::snapshot;
        let _ = |event: &TaskEvent<'_>| -> (TaskRef, String, Tag, usize, u64, Instant) {
            let name: &str = event.name();
            let tag: &Tag = event.tag();
            (
                event.task(),
                name.to_owned(),
                tag.clone(),
                event.worker_index(),
                event.run_id(),
                event.at(),
            )
        };
        let _ = |run: &RunInfo| -> (u64, usize) { (run.run_id(), run.tasks()) };
        let snapshot = ProgressSnapshot {
            total: 1,
            started: 1,
            finished: 1,
            failed: 0,
            skipped: 0,
            cancelled: 0,
        };
        let counts: [usize; 6] = [
            snapshot.total,
            snapshot.started,
            snapshot.finished,
            snapshot.failed,
            snapshot.skipped,
            snapshot.cancelled,
        ];
        assert_eq!(counts, [1, 1, 1, 0, 0, 0]);
        // The trait and the events are at the crate's root too.
        let _: Option<&dyn taskflow_engine::Observer> = None;
        let _: Option<taskflow_engine::RunInfo> = None;
    });
}

#[test]
fn events_describe_the_task_its_worker_and_its_run() {
    watchdog(|| {
        let recorder = Recorder::new();
        let executor = Executor::builder()
            .workers_per_tag(1)
            .observer(Arc::clone(&recorder))
            .build()
            .unwrap();
        let mut graph = Graph::new();
        let read = graph.add(Task::new("read", |_| Ok(3)).tag("io"));
        let double = graph.add(
            Task::new("double", move |cx| Ok(cx.input(read)? * 2))
                .tag("cpu")
                .after(read),
        );
        let before = Instant::now();
        let report = executor.run(&mut graph).unwrap();
        let after = Instant::now();
        assert!(report.is_success());
        check_only_run(&recorder, &report);
        let seen = recorder.seen();
        let Seen::RunStarted { run, tasks: 2, .. } = seen[0] else {
            panic!("{seen:?}")
        };
        let starts: Vec<&Sighting> = seen
            .iter()
            .filter_map(|event| match event {
                Seen::Started(sighting) => Some(sighting),
                _ => None,
            })
            .collect();
        assert_eq!(starts.len(), 2);
        for (sighting, (task, name, tag)) in starts.iter().zip([
            (read.task_ref(), "read", "io"),
            (double.task_ref(), "double", "cpu"),
        ]) {
            assert_eq!(
                (
                    sighting.run,
                    sighting.task,
                    &*sighting.name,
                    &*sighting.tag,
                    sighting.worker
                ),
                (run, task, name, tag, 0)
            );
            assert!(before <= sighting.at && sighting.at <= after);
        }
        assert_ne!(
            starts[0].thread, starts[1].thread,
            "io and cpu have their own workers"
        );
    });
}

#[test]
fn run_ids_differ_between_runs_and_executors() {
    watchdog(|| {
        let recorder = Recorder::new();
        let first = executor(1);
        let second = executor(1);
        let mut graph = Graph::new();
        graph.add(Task::new("only", |_| Ok(())));
        for executor in [&first, &second, &first] {
            let options = RunOptions::new().observer(recorder.clone());
            assert!(executor.run_with(&mut graph, options).unwrap().is_success());
        }
        let runs = by_run(&recorder.seen());
        assert_eq!(runs.len(), 3, "three runs, three ids: {runs:?}");
    });
}

#[test]
fn tasks_that_never_start_get_only_task_finished() {
    watchdog(|| {
        // Keep going: the failure's dependents are skipped.
        let recorder = Recorder::new();
        let executor = executor(2);
        let mut graph = Graph::new();
        let broken = graph.add(Task::new("broken", |_| -> Result<(), _> {
            Err("no disk")?
        }));
        let skipped = graph.add(Task::new("skipped", |_| Ok(())).after(broken));
        let also = graph.add(Task::new("also skipped", |_| Ok(())).after(skipped));
        let gives_up = graph.add(Task::new("gives up", |_| -> Result<(), _> {
            Err(Cancelled)?
        }));
        let after_give_up = graph.add(Task::new("after giving up", |_| Ok(())).after(gives_up));
        let fine = graph.add(Task::new("fine", |_| Ok(())));
        let options = RunOptions::new()
            .policy(FailurePolicy::KeepGoing)
            .observer(recorder.clone());
        let report = executor.run_with(&mut graph, options).unwrap();
        let outcomes = check_only_run(&recorder, &report);
        let expected = [
            (broken.task_ref(), "failed"),
            (skipped.task_ref(), "skipped"),
            (also.task_ref(), "skipped"),
            (gives_up.task_ref(), "cancelled"),
            (after_give_up.task_ref(), "skipped"),
            (fine.task_ref(), "succeeded"),
        ];
        assert_eq!(outcomes, expected.into_iter().collect());
        let started: Vec<String> = recorder
            .seen()
            .iter()
            .filter_map(|event| match event {
                Seen::Started(sighting) => Some(sighting.name.clone()),
                _ => None,
            })
            .collect();
        let mut started = started;
        started.sort();
        assert_eq!(
            started,
            ["broken", "fine", "gives up"],
            "only the tasks that ran started"
        );

        // A cancelled token: no task starts, every one is cancelled.
        let recorder = Recorder::new();
        let token = CancelToken::new();
        token.cancel();
        let options = RunOptions::new()
            .cancel_token(token)
            .observer(recorder.clone());
        let report = executor.run_with(&mut graph, options).unwrap();
        let outcomes = check_only_run(&recorder, &report);
        assert!(
            outcomes.values().all(|&outcome| outcome == "cancelled"),
            "{outcomes:?}"
        );
        assert!(
            !recorder
                .seen()
                .iter()
                .any(|event| matches!(event, Seen::Started(_)))
        );
    });
}

#[test]
fn every_task_finishes_exactly_once_on_random_graphs() {
    watchdog(|| {
        let mut rng = Rng::new(10);
        for workers in [1, 2, 3] {
            let executor = executor(workers);
            for round in 0..6 {
                let tasks = 300;
                let fail_at = rng.below(tasks);
                let mut graph = Graph::new();
                let mut ids = Vec::new();
                for index in 0..tasks {
                    let mut task = Task::new(
                        format!("t{index}"),
                        move |_| -> Result<(), taskflow_engine::Error> {
                            if index == fail_at && round % 2 == 1 {
                                return Err("planted".into());
                            }
                            Ok(())
                        },
                    )
                    .tag(["a", "b"][index % 2]);
                    for _ in 0..rng.below(3) {
                        if index > 0 {
                            task = task.after(ids[rng.below(index)]);
                        }
                    }
                    ids.push(graph.add(task));
                }
                let recorder = Recorder::new();
                let policy = if round % 4 == 1 {
                    FailurePolicy::FailFast
                } else {
                    FailurePolicy::KeepGoing
                };
                let options = RunOptions::new().policy(policy).observer(recorder.clone());
                let report = executor.run_with(&mut graph, options).unwrap();
                check_only_run(&recorder, &report);
            }
        }
    });
}

#[test]
fn starts_and_ends_nest_per_worker() {
    watchdog(|| {
        let recorder = Recorder::new();
        let executor = Executor::builder()
            .workers_per_tag(2)
            .observer(recorder.clone())
            .build()
            .unwrap();
        // Two runs at once on the same pools, from two threads, so that a
        // worker alternates between them.
        let callers: Vec<_> = (0..2)
            .map(|caller| {
                let executor = &executor;
                move || {
                    let mut graph = Graph::new();
                    let mut previous = Vec::new();
                    for index in 0..400usize {
                        let mut task = Task::new("work", |_| {
                            std::hint::black_box((0..200).sum::<u64>());
                            Ok(())
                        })
                        .tag(["x", "y"][(index + caller) % 2]);
                        if index % 3 != 0 {
                            task = task.after_all(previous.iter().rev().take(2).copied());
                        }
                        previous.push(graph.add(task));
                    }
                    let report = executor.run(&mut graph).unwrap();
                    assert!(report.is_success());
                }
            })
            .collect();
        thread::scope(|scope| {
            for caller in callers {
                scope.spawn(caller);
            }
        });
        // Per worker, the events alternate: a start, then its own finish.
        let mut open: HashMap<(String, usize), Sighting> = HashMap::new();
        let mut pairs = 0;
        for event in recorder.seen() {
            match event {
                Seen::Started(sighting) => {
                    if let Some(running) = open.insert(sighting.worker_key(), sighting.clone()) {
                        panic!("{sighting:?} started on a worker still running {running:?}");
                    }
                }
                Seen::Finished(sighting, _) => {
                    let started = open
                        .remove(&sighting.worker_key())
                        .expect("every task here ran");
                    assert_eq!((started.run, started.task), (sighting.run, sighting.task));
                    pairs += 1;
                }
                _ => {}
            }
        }
        assert!(open.is_empty());
        assert_eq!(pairs, 800);
    });
}

#[test]
fn a_nested_run_is_observed_inside_the_task_that_runs_it() {
    watchdog(|| {
        let recorder = Recorder::new();
        let outer_executor = executor(1);
        let inner_executor = Arc::new(executor(2));
        let mut graph = Graph::new();
        let (inner, observer) = (Arc::clone(&inner_executor), recorder.clone());
        graph.add(Task::new("outer", move |_| {
            let mut graph = Graph::new();
            let first = graph.add(Task::new("inner 1", |_| Ok(())));
            graph.add(Task::new("inner 2", |_| Ok(())).after(first));
            let options = RunOptions::new().observer(observer.clone());
            let report = inner.run_with(&mut graph, options)?;
            assert!(report.is_success());
            Ok(())
        }));
        let options = RunOptions::new().observer(recorder.clone());
        assert!(
            outer_executor
                .run_with(&mut graph, options)
                .unwrap()
                .is_success()
        );
        drop(graph);

        let seen = recorder.seen();
        let position = |wanted: &dyn Fn(&Seen) -> bool| seen.iter().position(wanted).unwrap();
        let outer_start = position(&|event| matches!(event, Seen::Started(s) if s.name == "outer"));
        let outer_end =
            position(&|event| matches!(event, Seen::Finished(s, _) if s.name == "outer"));
        let Seen::Started(outer) = &seen[outer_start] else {
            unreachable!()
        };
        let runs = by_run(&seen);
        assert_eq!(runs.len(), 2);
        let inner_run = runs.keys().copied().find(|&run| run != outer.run).unwrap();
        for (index, event) in seen.iter().enumerate() {
            match event {
                Seen::RunStarted { run, thread, .. } | Seen::RunFinished { run, thread, .. }
                    if *run == inner_run =>
                {
                    assert_eq!(
                        *thread, outer.thread,
                        "the nested run starts and ends on the outer task's thread"
                    );
                    assert!(
                        outer_start < index && index < outer_end,
                        "within the outer task's pair"
                    );
                }
                Seen::Started(s) | Seen::Finished(s, _) if s.run == inner_run => {
                    assert!(
                        outer_start < index && index < outer_end,
                        "within the outer task's pair"
                    );
                }
                _ => {}
            }
        }
    });
}

#[test]
fn every_executor_observer_sees_every_run() {
    watchdog(|| {
        let (first, second) = (Recorder::new(), Recorder::new());
        let executor = Executor::builder()
            .workers_per_tag(2)
            .observer(first.clone())
            .observer(second.clone())
            .build()
            .unwrap();
        let mut graph = Graph::new();
        let a = graph.add(Task::new("a", |_| Ok(())));
        graph.add(Task::new("b", |_| Ok(())).after(a));
        let mut reports = Vec::new();
        for _ in 0..3 {
            reports.push(executor.run(&mut graph).unwrap());
        }
        // A submitted run too.
        let mut submitted = Graph::new();
        submitted.add(Task::new("submitted", |_| Ok(())));
        let (_, report) = executor.submit(submitted, RunOptions::new()).wait();
        reports.push(report);
        for recorder in [&first, &second] {
            let runs = by_run(&recorder.seen());
            assert_eq!(runs.len(), 4);
            for (events, report) in runs.values().zip(&reports) {
                check_run(events, report);
            }
        }
    });
}

#[test]
fn a_run_observer_sees_only_its_run_after_the_executors() {
    watchdog(|| {
        /// Appends its name to a shared list at every event.
        struct Named(&'static str, Arc<Mutex<Vec<&'static str>>>);
        impl Observer for Named {
            fn task_started(&self, _: &TaskEvent<'_>) {
                self.1.lock().unwrap().push(self.0);
            }
        }
        let order = Arc::new(Mutex::new(Vec::new()));
        let executor = Executor::builder()
            .workers_per_tag(1)
            .observer(Named("executor 1", order.clone()))
            .observer(Named("executor 2", order.clone()))
            .build()
            .unwrap();
        let mut graph = Graph::new();
        graph.add(Task::new("only", |_| Ok(())));
        let options = RunOptions::new()
            .observer(Arc::new(Named("run 1", order.clone())))
            .observer(Arc::new(Named("run 2", order.clone())));
        assert!(executor.run_with(&mut graph, options).unwrap().is_success());
        assert_eq!(
            *order.lock().unwrap(),
            ["executor 1", "executor 2", "run 1", "run 2"]
        );
        order.lock().unwrap().clear();
        assert!(executor.run(&mut graph).unwrap().is_success());
        assert_eq!(
            *order.lock().unwrap(),
            ["executor 1", "executor 2"],
            "the run's observers saw that run only"
        );
    });
}

#[test]
fn run_finished_comes_after_every_task_finished_for_blocking_submitted_and_detached_runs() {
    watchdog(|| {
        fn graph(release: &Arc<Signal>) -> Graph<'static> {
            let mut graph = Graph::new();
            let gate = Arc::clone(release);
            let first = graph.add(Task::new("gated", move |_| gate.wait()));
            for index in 0..50 {
                graph.add(Task::new(format!("after {index}"), |_| Ok(())).after(first));
            }
            graph
        }
        let release = Signal::new();
        release.raise();

        // Blocking.
        let executor = executor(2);
        let recorder = Recorder::new();
        let mut blocking = graph(&release);
        let report = executor
            .run_with(&mut blocking, RunOptions::new().observer(recorder.clone()))
            .unwrap();
        check_only_run(&recorder, &report);

        // Submitted, waited for.
        let recorder = Recorder::new();
        let (_, report) = executor
            .submit(
                graph(&release),
                RunOptions::new().observer(recorder.clone()),
            )
            .wait();
        check_only_run(&recorder, &report);

        // Submitted, the handle dropped while the run is in flight: the
        // worker that finishes it builds the report for the observers.
        let recorder = Recorder::new();
        let held = Signal::new();
        let handle = executor.submit(graph(&held), RunOptions::new().observer(recorder.clone()));
        drop(handle);
        assert!(
            !recorder
                .seen()
                .iter()
                .any(|event| matches!(event, Seen::RunFinished { .. })),
            "the gated run cannot have finished"
        );
        held.raise();
        drop(executor); // waits for the detached run
        let seen = recorder.seen();
        let Some(Seen::RunFinished {
            tasks: 51,
            succeeded: 51,
            ..
        }) = seen.last()
        else {
            panic!("a detached run still reports run_finished, last: {seen:?}");
        };
        let finished = seen
            .iter()
            .filter(|event| matches!(event, Seen::Finished(..)))
            .count();
        assert_eq!(finished, 51);
    });
}

/// Panics in the methods `panics_in` names; counts the calls of each.
#[derive(Default)]
struct Panicky {
    panics_in: &'static [&'static str],
    calls: Mutex<HashMap<&'static str, usize>>,
}

impl Panicky {
    fn call(&self, method: &'static str) {
        *self.calls.lock().unwrap().entry(method).or_default() += 1;
        if self.panics_in.contains(&method) {
            panic!("planted panic in {method}");
        }
    }

    fn calls(&self, method: &str) -> usize {
        self.calls.lock().unwrap().get(method).copied().unwrap_or(0)
    }
}

impl Observer for Panicky {
    fn run_started(&self, _: &RunInfo) {
        self.call("run_started");
    }
    fn task_started(&self, _: &TaskEvent<'_>) {
        self.call("task_started");
    }
    fn task_finished(&self, _: &TaskEvent<'_>, _: &Outcome) {
        self.call("task_finished");
    }
    fn run_finished(&self, _: &RunInfo, _: &RunReport) {
        self.call("run_finished");
    }
}

fn chain(tasks: usize) -> Graph<'static> {
    let mut graph = Graph::new();
    let mut previous = None;
    for index in 0..tasks {
        let task = Task::new(format!("t{index}"), move |_| Ok(index));
        previous = Some(graph.add(match previous {
            Some(previous) => task.after(previous),
            None => task,
        }));
    }
    graph
}

#[test]
fn a_panicking_observer_breaks_neither_the_run_nor_the_executor_nor_other_observers() {
    watchdog(|| {
        let panicky = Arc::new(Panicky {
            panics_in: &["task_started"],
            ..Panicky::default()
        });
        let recorder = Recorder::new();
        let executor = Executor::builder()
            .workers_per_tag(2)
            .observer(panicky.clone())
            .observer(recorder.clone())
            .build()
            .unwrap();
        let mut graph = chain(20);
        let mut reports = Vec::new();
        for round in 1..=2 {
            let report = executor.run(&mut graph).unwrap();
            assert!(report.is_success(), "{report}");
            reports.push(report);
            // The method that panicked is called once, then muted; the others
            // go on, in every run.
            assert_eq!(panicky.calls("task_started"), 1);
            assert_eq!(panicky.calls("task_finished"), 20 * round);
            assert_eq!(panicky.calls("run_finished"), round);
        }
        // The observer after it saw everything.
        let runs = by_run(&recorder.seen());
        assert_eq!(runs.len(), 2);
        for (events, report) in runs.values().zip(&reports) {
            check_run(events, report);
        }
        let report = executor.run(&mut graph).unwrap();
        assert!(report.is_success());

        // A run's own observer, panicking in every method.
        let everywhere = Arc::new(Panicky {
            panics_in: &[
                "run_started",
                "task_started",
                "task_finished",
                "run_finished",
            ],
            ..Panicky::default()
        });
        let report = executor
            .run_with(&mut graph, RunOptions::new().observer(everywhere.clone()))
            .unwrap();
        assert!(report.is_success());
        for method in [
            "run_started",
            "task_started",
            "task_finished",
            "run_finished",
        ] {
            assert_eq!(everywhere.calls(method), 1, "{method}");
        }
    });
}

#[test]
#[ignore = "the scenario of `a_panicking_observer_is_reported_once_on_stderr`, run in a child process"]
fn panicking_observer_scenario() {
    watchdog(|| {
        let everywhere = Panicky {
            panics_in: &[
                "run_started",
                "task_started",
                "task_finished",
                "run_finished",
            ],
            ..Panicky::default()
        };
        let executor = Executor::builder()
            .workers_per_tag(2)
            .observer(everywhere)
            .build()
            .unwrap();
        let mut graph = chain(50);
        for _ in 0..3 {
            assert!(executor.run(&mut graph).unwrap().is_success());
        }
        println!("scenario done");
    });
}

#[test]
fn a_panicking_observer_is_reported_once_on_stderr() {
    watchdog(|| {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "panicking_observer_scenario",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .output()
            .expect("the test binary runs again");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && stdout.contains("scenario done"),
            "{stdout}\n{stderr}"
        );
        let reports: Vec<&str> = stderr
            .lines()
            .filter(|line| line.starts_with("taskflow: observer"))
            .collect();
        assert_eq!(
            reports.len(),
            1,
            "one report for 3 runs of 50 tasks: {stderr}"
        );
        assert!(
            reports[0].contains("Panicky") && reports[0].contains("planted panic in run_started"),
            "{}",
            reports[0]
        );
        // Each method panics once, then is muted: four panics through the
        // panic hook in all, not one per event.
        let hook_lines = stderr.matches("planted panic in").count();
        assert_eq!(hook_lines, 4 + 1, "four panics and the report: {stderr}");
    });
}

/// The trace's events as JSON values.
fn trace_events(trace: &ChromeTrace) -> Vec<serde_json::Value> {
    let mut json = Vec::new();
    trace.write_to(&mut json).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&json).expect("the trace is JSON");
    value["traceEvents"]
        .as_array()
        .expect("a traceEvents array")
        .clone()
}

#[test]
fn chrome_trace_records_every_task_as_a_complete_event() {
    watchdog(|| {
        let created = Instant::now();
        let trace = ChromeTrace::new();
        let executor = executor(2);
        let mut graph = Graph::new();
        // The body times itself: the trace's event must span at least that.
        let body_took = Arc::new(Mutex::new(None));
        let took = Arc::clone(&body_took);
        let read = graph.add(
            Task::new("read", move |_| {
                let start = Instant::now();
                let sum = std::hint::black_box((0..100_000u64).sum::<u64>());
                *took.lock().unwrap() = Some(start.elapsed());
                Ok(sum)
            })
            .tag("io"),
        );
        let broken = graph.add(
            Task::new("broken", move |cx| -> Result<(), _> {
                let _ = cx.input(read)?;
                Err("no disk")?
            })
            .tag("cpu")
            .after(read),
        );
        graph.add(Task::new("skipped", |_| Ok(())).tag("cpu").after(broken));
        graph.add(Task::new(String::from("owned name"), |_| Ok(())).tag("cpu"));
        let options = RunOptions::new()
            .policy(FailurePolicy::KeepGoing)
            .observer(trace.clone());
        let report = executor.run_with(&mut graph, options).unwrap();
        let elapsed_us = created.elapsed().as_secs_f64() * 1e6;
        drop(graph); // the trace keeps what it needs

        let events = trace_events(&trace);
        let tasks: Vec<&serde_json::Value> =
            events.iter().filter(|event| event["ph"] == "X").collect();
        assert_eq!(tasks.len(), report.len(), "one complete event per task");
        let mut by_name = BTreeMap::new();
        for event in &tasks {
            assert_eq!(event["pid"], 1);
            assert!(event["tid"].as_u64().is_some());
            let (ts, dur) = (
                event["ts"].as_f64().unwrap(),
                event["dur"].as_f64().unwrap(),
            );
            // Microseconds since the trace was created.
            assert!(
                ts >= 0.0 && dur >= 0.0 && ts + dur <= elapsed_us + 1e-3,
                "{event}"
            );
            assert_eq!(event["cat"], event["args"]["tag"]);
            by_name.insert(event["name"].as_str().unwrap().to_owned(), (*event).clone());
        }
        let outcome = |name: &str| {
            by_name[name]["args"]["outcome"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(outcome("read"), "succeeded");
        assert_eq!(outcome("broken"), "failed");
        assert_eq!(by_name["broken"]["args"]["error"], "no disk");
        assert_eq!(outcome("skipped"), "skipped");
        assert_eq!(
            by_name["skipped"]["dur"], 0.0,
            "a task that never started has no duration"
        );
        assert_eq!(outcome("owned name"), "succeeded");
        assert_eq!(by_name["read"]["args"]["tag"], "io");
        let body_took = body_took.lock().unwrap().unwrap().as_secs_f64() * 1e6;
        let read_dur = by_name["read"]["dur"].as_f64().unwrap();
        assert!(
            read_dur + 1e-3 >= body_took,
            "the event ({read_dur} µs) spans the body ({body_took} µs)"
        );
        let run = by_name["read"]["args"]["run"].as_u64().unwrap();
        assert!(tasks.iter().all(|event| event["args"]["run"] == run));
        let indices: Vec<u64> = by_name
            .values()
            .map(|event| event["args"]["task"].as_u64().unwrap())
            .collect();
        assert_eq!(
            indices
                .iter()
                .copied()
                .collect::<std::collections::BTreeSet<_>>()
                .len(),
            4
        );
    });
}

#[test]
fn chrome_trace_has_one_named_track_per_tag_and_worker() {
    watchdog(|| {
        let trace = ChromeTrace::new();
        let executor = Executor::builder()
            .workers_per_tag(2)
            .observer(trace.clone())
            .build()
            .unwrap();
        let rendezvous = common::Rendezvous::new(2);
        let mut graph = Graph::new();
        for tag in ["io", "cpu"] {
            for index in 0..2 {
                // Both tasks of a tag meet, so both workers of its pool run one.
                let meeting = Arc::clone(&rendezvous);
                let meeting = if tag == "io" { Some(meeting) } else { None };
                graph.add(
                    Task::new(format!("{tag} {index}"), move |_| {
                        if let Some(meeting) = &meeting {
                            meeting.meet()?;
                        }
                        Ok(())
                    })
                    .tag(tag),
                );
            }
        }
        assert!(executor.run(&mut graph).unwrap().is_success());
        let events = trace_events(&trace);
        let names: BTreeMap<u64, String> = events
            .iter()
            .filter(|event| event["ph"] == "M" && event["name"] == "thread_name")
            .map(|event| {
                (
                    event["tid"].as_u64().unwrap(),
                    event["args"]["name"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let mut used: BTreeMap<u64, Vec<String>> = BTreeMap::new();
        for event in events.iter().filter(|event| event["ph"] == "X") {
            used.entry(event["tid"].as_u64().unwrap())
                .or_default()
                .push(event["args"]["tag"].as_str().unwrap().to_owned());
        }
        assert_eq!(
            names.len(),
            used.len(),
            "every track is named, and only those used: {names:?}"
        );
        for (tid, tags) in &used {
            let name = &names[tid];
            let (tag, worker) = name
                .split_once(" worker ")
                .expect("named `<tag> worker <i>`");
            assert!(
                tags.iter().all(|t| t == tag),
                "a track holds one tag's tasks"
            );
            assert!(worker.parse::<usize>().unwrap() < 2);
        }
        let io_tracks: Vec<&String> = names
            .values()
            .filter(|name| name.starts_with("io "))
            .collect();
        assert_eq!(
            io_tracks,
            ["io worker 0", "io worker 1"],
            "the two io tasks met, so ran on both workers"
        );
    });
}

#[test]
fn chrome_trace_events_nest_per_track() {
    watchdog(|| {
        let trace = ChromeTrace::new();
        let executor = executor(2);
        let mut graph = Graph::new();
        let mut rng = Rng::new(3);
        let mut ids = Vec::new();
        for index in 0..500usize {
            let mut task = Task::new("t", |_| {
                std::hint::black_box((0..500).sum::<u64>());
                Ok(())
            })
            .tag(["a", "b"][index % 2]);
            if index > 0 {
                task = task.after(ids[rng.below(index)]);
            }
            ids.push(graph.add(task));
        }
        for _ in 0..2 {
            let report = executor
                .run_with(&mut graph, RunOptions::new().observer(trace.clone()))
                .unwrap();
            assert!(report.is_success());
        }
        let mut tracks: BTreeMap<u64, Vec<(f64, f64)>> = BTreeMap::new();
        for event in trace_events(&trace)
            .iter()
            .filter(|event| event["ph"] == "X")
        {
            let (ts, dur) = (
                event["ts"].as_f64().unwrap(),
                event["dur"].as_f64().unwrap(),
            );
            tracks
                .entry(event["tid"].as_u64().unwrap())
                .or_default()
                .push((ts, ts + dur));
        }
        assert_eq!(tracks.values().map(Vec::len).sum::<usize>(), 1000);
        // The rounding of nanoseconds to microseconds in f64, at most.
        let slack = 1e-3;
        for spans in tracks.values_mut() {
            spans.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
            let mut open: Vec<f64> = Vec::new();
            for &(start, end) in spans.iter() {
                while open
                    .last()
                    .is_some_and(|&outer_end| outer_end <= start + slack)
                {
                    open.pop();
                }
                if let Some(&outer_end) = open.last() {
                    assert!(end <= outer_end + slack, "overlapping events on one track");
                }
                open.push(end);
            }
        }
    });
}

#[test]
fn progress_can_be_read_from_another_thread_while_the_run_goes_on() {
    watchdog(|| {
        let progress = Progress::new();
        let executor = executor(1);
        let (running, release) = (Signal::new(), Signal::new());
        let mut graph = Graph::new();
        let (running_in, release_in) = (running.clone(), release.clone());
        let first = graph.add(Task::new("first", |_| Ok(())));
        let gated = graph.add(
            Task::new("gated", move |_| {
                running_in.raise();
                release_in.wait()
            })
            .after(first),
        );
        graph.add(Task::new("last", |_| Ok(())).after(gated));
        let handle = executor.submit(graph, RunOptions::new().observer(progress.clone()));
        running.wait().unwrap();
        let reader = Arc::clone(&progress);
        let midway = thread::spawn(move || reader.snapshot()).join().unwrap();
        assert_eq!(
            midway,
            ProgressSnapshot {
                total: 3,
                started: 2,
                finished: 1,
                ..ProgressSnapshot::default()
            },
            "read while `gated` runs"
        );
        release.raise();
        let (_, report) = handle.wait();
        assert!(report.is_success());
        assert_eq!(
            progress.snapshot(),
            ProgressSnapshot {
                total: 3,
                started: 3,
                finished: 3,
                ..ProgressSnapshot::default()
            }
        );
    });
}

#[test]
fn progress_counts_every_outcome_and_adds_up_runs() {
    watchdog(|| {
        let progress = Progress::new();
        let executor = Executor::builder()
            .workers_per_tag(2)
            .observer(progress.clone())
            .build()
            .unwrap();
        let mut graph = Graph::new();
        let broken = graph.add(Task::new("broken", |_| -> Result<(), _> { Err("no")? }));
        graph.add(Task::new("skipped", |_| Ok(())).after(broken));
        graph.add(Task::new("gives up", |_| -> Result<(), _> {
            Err(Cancelled)?
        }));
        graph.add(Task::new("fine", |_| Ok(())));
        let options = || RunOptions::new().policy(FailurePolicy::KeepGoing);
        let report = executor.run_with(&mut graph, options()).unwrap();
        let once = progress.snapshot();
        assert_eq!(
            once,
            ProgressSnapshot {
                total: 4,
                started: 3,
                finished: 4,
                failed: 1,
                skipped: 1,
                cancelled: 1
            }
        );
        assert_eq!(
            (once.succeeded(), once.failed, once.skipped, once.cancelled),
            (
                report.succeeded(),
                report.failed(),
                report.skipped(),
                report.cancelled()
            )
        );
        // Every run adds to the counts; a cancelled one's tasks never start.
        let token = CancelToken::new();
        token.cancel();
        let report = executor
            .run_with(&mut graph, options().cancel_token(token))
            .unwrap();
        assert_eq!(report.cancelled(), 4);
        assert_eq!(
            progress.snapshot(),
            ProgressSnapshot {
                total: 8,
                started: 3,
                finished: 8,
                failed: 1,
                skipped: 1,
                cancelled: 5
            }
        );
    });
}

#[test]
fn progress_snapshots_taken_during_a_parallel_run_are_consistent() {
    watchdog(|| {
        let progress = Progress::new();
        let executor = executor(2);
        let mut graph = Graph::new();
        for index in 0..20_000u32 {
            graph.add(Task::new(
                "t",
                move |_| -> Result<(), taskflow_engine::Error> {
                    if index % 7 == 0 {
                        return Err("seventh".into());
                    }
                    Ok(())
                },
            ));
        }
        let options = RunOptions::new()
            .policy(FailurePolicy::KeepGoing)
            .observer(progress.clone());
        let handle = executor.submit(graph, options);
        let mut reads = 0;
        while !handle.is_finished() {
            let snapshot = progress.snapshot();
            reads += 1;
            assert!(
                snapshot.failed + snapshot.skipped + snapshot.cancelled <= snapshot.finished,
                "{snapshot:?}"
            );
            assert!(
                snapshot.finished <= snapshot.total && snapshot.started <= snapshot.total,
                "{snapshot:?}"
            );
        }
        let (_, report) = handle.wait();
        let done = progress.snapshot();
        assert_eq!(
            (done.finished, done.failed),
            (report.len(), report.failed())
        );
        assert!(reads > 0);
    });
}

#[cfg(feature = "log")]
mod log_observer {
    use super::*;
    use taskflow_engine::observe::LogObserver;

    /// Keeps the records of target `taskflow`.
    struct Capture(Mutex<Vec<(log::Level, String)>>);

    impl log::Log for Capture {
        fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
            metadata.target() == "taskflow"
        }

        fn log(&self, record: &log::Record<'_>) {
            if self.enabled(record.metadata()) {
                self.0
                    .lock()
                    .unwrap()
                    .push((record.level(), record.args().to_string()));
            }
        }

        fn flush(&self) {}
    }

    static CAPTURE: Capture = Capture(Mutex::new(Vec::new()));

    #[test]
    fn log_observer_logs_each_start_and_end() {
        watchdog(|| {
            log::set_logger(&CAPTURE).expect("the only logger of this test binary");
            log::set_max_level(log::LevelFilter::Info);
            let executor = Executor::builder()
                .workers_per_tag(1)
                .observer(LogObserver::new())
                .build()
                .unwrap();
            let mut graph = Graph::new();
            let read = graph.add(Task::new("read a.txt", |_| Ok(())).tag("io"));
            let broken = graph.add(
                Task::new("parse a.txt", |_| -> Result<(), _> { Err("bad byte")? }).after(read),
            );
            graph.add(Task::new("never", |_| Ok(())).after(broken));
            let report = executor
                .run_with(
                    &mut graph,
                    RunOptions::new().policy(FailurePolicy::KeepGoing),
                )
                .unwrap();
            assert_eq!(report.failed(), 1);
            let records = CAPTURE.0.lock().unwrap().clone();
            let lines: Vec<String> = records
                .iter()
                .map(|(level, line)| format!("{level} {line}"))
                .collect();
            let has = |prefix: &str| lines.iter().any(|line| line.starts_with(prefix));
            assert!(has("INFO start read a.txt "), "{lines:#?}");
            assert!(
                lines
                    .iter()
                    .any(|line| line.starts_with("INFO end   read a.txt")
                        && line.contains("on io worker 0 after ")),
                "{lines:#?}"
            );
            assert!(has("INFO start parse a.txt"), "{lines:#?}");
            assert!(
                lines
                    .iter()
                    .any(|line| line.starts_with("WARN failed parse a.txt")
                        && line.ends_with(": bad byte")),
                "{lines:#?}"
            );
            assert!(has("INFO skip  never"), "{lines:#?}");
            assert!(
                has("INFO run ") && has("WARN run "),
                "the run's start and its unsuccessful end: {lines:#?}"
            );
            let starts = lines
                .iter()
                .filter(|line| line.starts_with("INFO start"))
                .count();
            assert_eq!(starts, 2, "a start per task that ran");
        });
    }
}

/// Spawned tasks are observed like the graph's: with children that
/// succeed, fail, and are skipped (a sibling named the failed one), the
/// progress counts and the trace's complete events match the report, and
/// `started` and `finished` never exceed `total`.
#[test]
fn spawned_tasks_are_observed_like_the_graphs() {
    watchdog(|| {
        let progress = Progress::new();
        let trace = ChromeTrace::new();
        let mut graph = Graph::new();
        graph.add(
            Task::new("parent", |cx: &Context<'_>| {
                for n in 0..8u32 {
                    cx.spawn(Task::new(format!("child {n}"), move |cx: &Context<'_>| {
                        if n % 2 == 0 {
                            cx.spawn(Task::new("grandchild", |_: &Context<'_>| Ok(())).tag("io"))?;
                        }
                        Ok(n)
                    }))?;
                }
                let broken = cx.spawn(Task::new("broken", |_: &Context<'_>| -> Result<(), _> {
                    Err("no")?
                }))?;
                cx.spawn(Task::new("after broken", |_: &Context<'_>| Ok(())).after(broken))?;
                Ok(())
            })
            .tag("io"),
        );
        graph.add(Task::new("static", |_: &Context<'_>| Ok(())));
        let options = RunOptions::new()
            .policy(FailurePolicy::KeepGoing)
            .observer(progress.clone())
            .observer(trace.clone());
        let report = executor(2).run_with(&mut graph, options).unwrap();
        // 2 static, 8 children, 4 grandchildren, `broken`, `after broken`.
        assert_eq!(report.len(), 16, "{report}");
        assert_eq!((report.failed(), report.skipped()), (1, 1), "{report}");
        let seen = progress.snapshot();
        assert_eq!(seen.total, report.len());
        assert_eq!(seen.finished, report.len());
        assert_eq!(
            seen.started,
            report.len() - report.skipped() - report.cancelled()
        );
        assert_eq!(
            (seen.failed, seen.skipped, seen.cancelled),
            (report.failed(), report.skipped(), report.cancelled())
        );
        let events = trace_events(&trace);
        let tasks = events.iter().filter(|event| event["ph"] == "X").count();
        assert_eq!(
            tasks,
            report.len(),
            "one complete event per task, spawned ones too"
        );
        let names: Vec<&str> = events
            .iter()
            .filter(|event| event["ph"] == "X")
            .filter_map(|event| event["name"].as_str())
            .collect();
        assert_eq!(
            names.iter().filter(|name| **name == "grandchild").count(),
            4
        );
        assert!(names.contains(&"after broken"), "{names:?}");
    });
}
