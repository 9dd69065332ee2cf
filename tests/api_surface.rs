//! The public API of the contract: names, signatures and trait bounds,
//! checked at compile time, plus the small behaviours of each type.

mod common;

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::{Debug, Display};
use std::hash::Hash;

use common::{executor, watchdog};
use taskflow_engine::{
    BuildError, CancelToken, Context, Error, Executor, ExecutorBuilder, FailurePolicy, Graph,
    GraphError, InputError, Outcome, RunOptions, RunReport, Tag, Task, TaskBody, TaskError, TaskId,
    TaskRef,
};

fn is_send<T: Send>() {}
fn is_sync<T: Sync>() {}
fn is_copy<T: Copy>() {}
fn is_default<T: Default>() {}
fn is_debug<T: Debug>() {}
fn is_error<T: std::error::Error + Send + Sync + 'static>() {}
fn is_handle<T: Copy + Eq + Hash + Debug>() {}

#[test]
fn trait_bounds_of_the_contract() {
    is_send::<Graph<'static>>();
    is_default::<Graph<'static>>();

    is_send::<Executor>();
    is_sync::<Executor>();

    is_copy::<TaskId<String>>();
    // A `TaskId` is `Copy` whatever its output type.
    is_copy::<TaskId<Vec<Box<dyn Debug + Send + Sync>>>>();
    is_handle::<TaskRef>();

    fn tag_bounds<T: Clone + Eq + Hash + Debug + From<&'static str> + From<String>>() {}
    tag_bounds::<Tag>();

    fn token_bounds<T: Clone + Send + Sync + Debug + Default>() {}
    token_bounds::<CancelToken>();

    is_default::<RunOptions>();

    is_debug::<RunReport>();
    is_send::<RunReport>();
    is_sync::<RunReport>();

    // A handle moves into async tasks and is shared to cancel the run.
    fn handle_bounds<
        T: Send + Sync + Unpin + Debug + std::future::Future<Output = (Graph<'static>, RunReport)>,
    >() {
    }
    handle_bounds::<taskflow_engine::RunHandle>();
    is_error::<TaskError>();
    is_error::<taskflow_engine::Cancelled>();
    fn panic_bounds<T: Send + Sync + Debug + Display>() {}
    panic_bounds::<taskflow_engine::Panic>();
    fn task_bounds<T: Send + Debug>() {}
    task_bounds::<Task<'static, u32>>();

    is_debug::<Outcome>();
    fn error_with_display<T: Debug + Display + std::error::Error>() {}
    error_with_display::<TaskError>();
    error_with_display::<GraphError>();
    is_error::<BuildError>();
    is_error::<InputError>();

    // `Error` is exactly the boxed, thread-safe error of the contract.
    fn same_error(error: Error) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        error
    }
    let error = same_error("x".into());
    assert_eq!(error.to_string(), "x");

    // `TaskRef: From<TaskId<T>>`.
    fn to_ref<T>(id: TaskId<T>) -> TaskRef {
        id.into()
    }
    let mut graph = Graph::new();
    let id = graph.add(Task::new("t", |_: &Context<'_>| Ok(1u8)));
    assert_eq!(to_ref(id), TaskRef::from(id));
}

#[test]
fn signatures_of_the_contract() {
    // Each binding pins a signature: a changed one fails to compile.
    let _: fn() -> Graph<'static> = Graph::new;
    let _: fn(&mut Graph<'static>, Task<'static, u32>) -> TaskId<u32> = Graph::add::<u32>;
    let _: fn(&mut Graph<'static>, TaskId<u32>, TaskRef) -> Result<(), GraphError> = Graph::precede;
    let _: fn(&Graph<'static>) -> usize = Graph::len;
    let _: fn(&Graph<'static>) -> bool = Graph::is_empty;
    let _: for<'g> fn(&'g Graph<'static>, TaskId<u32>) -> Option<&'g u32> = Graph::output::<u32>;
    let _: fn(&mut Graph<'static>, TaskId<u32>) -> Option<u32> = Graph::take_output::<u32>;

    let _: fn() -> Executor = Executor::new;
    let _: fn() -> ExecutorBuilder = Executor::builder;
    let _: fn(&Executor, &mut Graph<'static>) -> Result<RunReport, GraphError> = Executor::run;
    let _: fn(&Executor, &mut Graph<'static>, RunOptions) -> Result<RunReport, GraphError> =
        Executor::run_with;
    let _: fn(ExecutorBuilder, usize) -> ExecutorBuilder = ExecutorBuilder::workers_per_tag;
    let _: fn(ExecutorBuilder, &'static str, usize) -> ExecutorBuilder =
        ExecutorBuilder::tag_workers;
    let _: fn(ExecutorBuilder, bool) -> ExecutorBuilder = ExecutorBuilder::pin_workers;
    let _: fn(ExecutorBuilder) -> Result<Executor, BuildError> = ExecutorBuilder::build;

    let _: fn() -> RunOptions = RunOptions::new;
    let _: fn(RunOptions, FailurePolicy) -> RunOptions = RunOptions::policy;
    let _: fn(RunOptions, CancelToken) -> RunOptions = RunOptions::cancel_token;

    let _: fn() -> CancelToken = CancelToken::new;
    let _: fn(&CancelToken) = CancelToken::cancel;
    let _: fn(&CancelToken) -> bool = CancelToken::is_cancelled;

    let _: fn(&RunReport) -> bool = RunReport::is_success;
    let _: for<'r> fn(&'r RunReport, TaskRef) -> &'r Outcome = RunReport::outcome;
    let _: fn(&RunReport) -> usize = RunReport::succeeded;
    let _: fn(&RunReport) -> usize = RunReport::failed;
    let _: fn(&RunReport) -> usize = RunReport::skipped;
    let _: fn(&RunReport) -> usize = RunReport::cancelled;

    let _: fn(Task<'static, u32>, &'static str) -> Task<'static, u32> = Task::tag;
    let _: fn(Task<'static, u32>, TaskRef) -> Task<'static, u32> = Task::after;
    let _: fn(Task<'static, u32>, Vec<TaskRef>) -> Task<'static, u32> =
        Task::after_all::<Vec<TaskRef>>;

    let _: fn(&Context<'static>, Task<'static, u32>) -> Result<TaskId<u32>, GraphError> =
        Context::spawn::<u32>;
    let _: fn(&Context<'static>) -> Result<(), Error> = Context::join;
    let _: fn(&taskflow_engine::JoinError) -> Vec<&str> = |error| error.names().collect();
    let _: fn(&taskflow_engine::JoinError) -> Vec<(TaskRef, &str)> =
        |error| error.tasks().collect();
    is_error::<taskflow_engine::JoinError>();
    fn join_error_bounds<T: Clone + PartialEq + Eq + Debug + Display>() {}
    join_error_bounds::<taskflow_engine::JoinError>();
    assert!(matches!(GraphError::WaitTooDeep, GraphError::WaitTooDeep));

    let _: usize = Executor::MAX_WORKERS;
    let _: Tag = Tag::DEFAULT;
    assert!(matches!(FailurePolicy::default(), FailurePolicy::FailFast));
}

#[test]
fn task_names_may_be_static_owned_and_repeated() {
    watchdog(|| {
        let mut graph = Graph::new();
        let a = graph.add(Task::new("same", |cx: &Context<'_>| {
            Ok(cx.name().to_owned())
        }));
        let b = graph.add(Task::new(String::from("same"), |cx: &Context<'_>| {
            Ok(cx.name().to_owned())
        }));
        let c = graph.add(Task::new(Cow::Borrowed("other"), |cx: &Context<'_>| {
            Ok(cx.name().to_owned())
        }));
        assert_eq!(graph.len(), 3);
        let report = executor(1).run(&mut graph).unwrap();
        assert!(report.is_success());
        assert_eq!(report.succeeded(), 3);
        assert_eq!(graph.output(a).map(String::as_str), Some("same"));
        assert_eq!(graph.output(b).map(String::as_str), Some("same"));
        assert_eq!(graph.output(c).map(String::as_str), Some("other"));
    });
}

/// A task written as a type: state kept between runs.
struct Counter {
    calls: u32,
}

impl TaskBody for Counter {
    type Output = u32;

    fn run(&mut self, cx: &Context<'_>) -> Result<u32, Error> {
        assert_eq!(cx.name(), "counter");
        self.calls += 1;
        Ok(self.calls * 10)
    }
}

#[test]
fn task_from_body_runs_a_task_body() {
    watchdog(|| {
        let mut graph = Graph::new();
        let counter = graph.add(Task::from_body("counter", Counter { calls: 0 }));
        let double = graph.add(
            Task::new("double", move |cx: &Context<'_>| Ok(cx.input(counter)? * 2)).after(counter),
        );
        let executor = executor(2);
        assert!(executor.run(&mut graph).unwrap().is_success());
        assert_eq!(graph.output(counter), Some(&10));
        assert_eq!(graph.output(double), Some(&20));
        assert!(executor.run(&mut graph).unwrap().is_success());
        assert_eq!(graph.output(counter), Some(&20));
        assert_eq!(graph.output(double), Some(&40));
    });
}

#[test]
fn context_reports_name_tag_task_and_worker() {
    watchdog(|| {
        let mut graph = Graph::new();
        type Seen = (String, Tag, TaskRef, usize);
        let seen = |cx: &Context<'_>| -> Result<Seen, Error> {
            Ok((
                cx.name().to_owned(),
                cx.tag().clone(),
                cx.task(),
                cx.worker_index(),
            ))
        };
        let plain = graph.add(Task::new("plain", seen));
        let io = graph.add(Task::new("io-task", seen).tag("io"));
        let owned = graph.add(Task::new("owned-tag", seen).tag(String::from("db")));
        let executor = Executor::builder()
            .workers_per_tag(2)
            .tag_workers("io", 3)
            .build()
            .unwrap();
        assert!(executor.run(&mut graph).unwrap().is_success());

        let (name, tag, task, worker) = graph.output(plain).unwrap();
        assert_eq!(name, "plain");
        assert_eq!(*tag, Tag::DEFAULT);
        assert_eq!(*task, TaskRef::from(plain));
        assert!(*worker < 2, "worker index {worker} in a pool of 2");

        let (name, tag, task, worker) = graph.output(io).unwrap();
        assert_eq!(name, "io-task");
        assert_eq!(*tag, Tag::from("io"));
        assert_eq!(*task, TaskRef::from(io));
        assert!(*worker < 3, "worker index {worker} in a pool of 3");

        let (_, tag, task, _) = graph.output(owned).unwrap();
        assert_eq!(*tag, Tag::from("db"));
        assert_eq!(*task, TaskRef::from(owned));
        assert_ne!(TaskRef::from(plain), TaskRef::from(io));
    });
}

#[test]
fn tags_from_str_and_string_are_equal() {
    assert_eq!(Tag::from("io"), Tag::from(String::from("io")));
    assert_ne!(Tag::from("io"), Tag::from("cpu"));
    assert_ne!(Tag::from("io"), Tag::DEFAULT);
    let set: HashSet<Tag> = [Tag::from("a"), Tag::from(String::from("a")), Tag::from("b")]
        .into_iter()
        .collect();
    assert_eq!(set.len(), 2);
    assert!(format!("{:?}", Tag::from("io")).contains("io"));
}

#[test]
fn task_handles_are_distinct_per_task_and_per_graph() {
    let mut first = Graph::new();
    let mut second = Graph::default();
    let a = first.add(Task::new("a", |_: &Context<'_>| Ok(())));
    let b = first.add(Task::new("b", |_: &Context<'_>| Ok(())));
    let other = second.add(Task::new("a", |_: &Context<'_>| Ok(())));
    let refs: HashSet<TaskRef> = [a.into(), b.into(), other.into()].into_iter().collect();
    assert_eq!(
        refs.len(),
        3,
        "handles of different tasks or graphs must differ"
    );
    let copy = a;
    assert_eq!(TaskRef::from(copy), TaskRef::from(a));
    let debug = format!("{:?}", TaskRef::from(a));
    assert!(debug.starts_with("TaskRef(graph "), "{debug}");
}

#[test]
fn cancel_token_clones_share_one_flag() {
    let token = CancelToken::new();
    let clone = token.clone();
    assert!(!token.is_cancelled());
    assert!(!CancelToken::default().is_cancelled());
    clone.cancel();
    assert!(token.is_cancelled());
    assert!(clone.is_cancelled());
    clone.cancel();
    assert!(token.is_cancelled(), "cancel is idempotent");
    assert!(
        !CancelToken::new().is_cancelled(),
        "a new token is independent"
    );
    assert!(format!("{token:?}").contains("CancelToken"));
}

#[test]
fn report_counts_and_failures() {
    watchdog(|| {
        let mut graph = Graph::new();
        let ok = graph.add(Task::new("ok", |_: &Context<'_>| Ok(1)));
        let bad = graph.add(Task::new("bad", |_: &Context<'_>| -> Result<i32, Error> {
            Err("bad went wrong".into())
        }));
        let below = graph.add(Task::new("below", |_: &Context<'_>| Ok(2)).after(bad));
        let report = executor(2)
            .run_with(
                &mut graph,
                RunOptions::new().policy(FailurePolicy::KeepGoing),
            )
            .unwrap();
        assert!(!report.is_success());
        assert_eq!(
            (
                report.succeeded(),
                report.failed(),
                report.skipped(),
                report.cancelled()
            ),
            (1, 1, 1, 0)
        );
        assert!(matches!(report.outcome(ok), Outcome::Succeeded));
        assert!(matches!(
            report.outcome(bad),
            Outcome::Failed(TaskError::Error(_))
        ));
        assert!(matches!(report.outcome(below), Outcome::Skipped));
        let failures: Vec<(String, String)> = report
            .failures()
            .map(|(task, name, error)| {
                assert_eq!(task, bad.task_ref());
                (name.to_owned(), error.to_string())
            })
            .collect();
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].0, "bad");
        assert!(failures[0].1.contains("bad went wrong"), "{failures:?}");
        let debug = format!("{report:?}");
        assert!(
            debug.contains("failed: 1") && debug.contains("bad"),
            "{debug}"
        );
        // A report outlives the graph's borrow: outputs can be taken while it is kept.
        assert_eq!(graph.take_output(ok), Some(1));
        assert!(matches!(
            report.outcome(TaskRef::from(ok)),
            Outcome::Succeeded
        ));
    });
}

#[test]
fn empty_graph_runs_successfully() {
    watchdog(|| {
        let mut graph = Graph::new();
        assert!(graph.is_empty());
        assert_eq!(graph.len(), 0);
        let report = Executor::new().run(&mut graph).unwrap();
        assert!(report.is_success());
        assert_eq!(
            report.succeeded() + report.failed() + report.skipped() + report.cancelled(),
            0
        );
    });
}

#[test]
fn build_errors_are_errors_with_a_message() {
    let error = Executor::builder().workers_per_tag(0).build().unwrap_err();
    assert!(
        matches!(error, BuildError::ZeroWorkers { tag: None }),
        "{error:?}"
    );
    let as_dyn: &dyn std::error::Error = &error;
    assert_eq!(as_dyn.to_string(), "workers_per_tag must be at least 1");
    assert!(as_dyn.source().is_none());
}
