//! The `run_spawn` scenario: a small random graph whose tasks spawn
//! children (with dependencies on earlier siblings and on their parent's
//! own dependencies), some of which spawn grandchildren; parents that join
//! or do not; and tasks that run a nested graph on the same executor. Each
//! run is checked against a serial reference.
//!
//! # The oracle
//!
//! [`reference`] computes, serially, every task's expected outcome and
//! value under `KeepGoing`: a child fails by its behaviour, is skipped when
//! a sibling it names did not succeed (with its whole subtree), and
//! otherwise folds the values of what it names into its own; a graph task
//! is skipped when a dependency or the subtree of one did not succeed. The
//! bodies check on the spot the values they read (siblings, the parent's
//! dependencies, joined children, a nested run's output) and what `join`
//! answers. After the run, under `KeepGoing`, every outcome the report
//! gives for a graph task and for every spawn handle must equal the
//! reference, and the report's length must count every spawn. Under
//! `FailFast` the run may stop anywhere, so only what holds regardless is
//! checked: the counts add up, every spawn handle has an outcome, and no
//! task that the reference skips succeeded.

use std::sync::{Arc, Mutex, OnceLock};

use arbitrary::Unstructured;
use taskflow_engine::{
    Context, Error, Executor, FailurePolicy, Graph, JoinError, Outcome, RunOptions, RunReport,
    Task, TaskId,
};

use crate::common::{self, byte, fold_value, in_range, seed_value};

/// Most graph tasks in a scenario.
const MAX_TASKS: usize = 6;
/// Most children a task spawns.
const MAX_CHILDREN: usize = 5;

/// One spawned child.
#[derive(Clone, Debug)]
pub struct ChildSpec {
    pool: usize,
    fails: bool,
    /// Earlier siblings it names in `after`.
    siblings: Vec<usize>,
    /// Whether it names (and reads) its parent's first dependency.
    reads_parent_dependency: bool,
    /// Grandchildren it spawns (each succeeds), not joined.
    grandchildren: usize,
}

/// One graph task.
#[derive(Clone, Debug)]
pub struct TaskSpec {
    pool: usize,
    dependencies: Vec<usize>,
    children: Vec<ChildSpec>,
    joins: bool,
    /// A nested graph of this many tasks, run from inside the body.
    nested: usize,
}

/// A decoded scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    tasks: Vec<TaskSpec>,
    workers: [usize; 2],
    keep_going: bool,
}

pub fn decode(data: &[u8]) -> Scenario {
    let mut u = Unstructured::new(data);
    let workers = [in_range(&mut u, 1, 2), in_range(&mut u, 1, 2)];
    let keep_going = byte(&mut u) % 4 != 0;
    let count = in_range(&mut u, 1, MAX_TASKS);
    let mut tasks = Vec::with_capacity(count);
    for index in 0..count {
        let dependencies = (0..in_range(&mut u, 0, index.min(2)))
            .map(|_| usize::from(byte(&mut u)) % index)
            .collect();
        let children = (0..in_range(&mut u, 0, MAX_CHILDREN))
            .map(|child| ChildSpec {
                pool: usize::from(byte(&mut u) % 2),
                fails: byte(&mut u) % 8 == 0,
                siblings: (0..in_range(&mut u, 0, child.min(2)))
                    .map(|_| usize::from(byte(&mut u)) % child)
                    .collect(),
                reads_parent_dependency: byte(&mut u) % 3 == 0,
                grandchildren: in_range(&mut u, 0, 2),
            })
            .collect();
        tasks.push(TaskSpec {
            pool: usize::from(byte(&mut u) % 2),
            dependencies,
            children,
            joins: byte(&mut u) % 2 == 0,
            nested: in_range(&mut u, 0, 2),
        });
    }
    Scenario {
        tasks,
        workers,
        keep_going,
    }
}

/// The expected outcome and value of every graph task and every child,
/// under `KeepGoing`: `Some(value)` for a success, `None` otherwise (and
/// whether the subtree succeeded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    /// Per graph task: its value if it runs (and succeeds), and whether its
    /// whole subtree succeeded.
    tasks: Vec<(Option<u64>, bool)>,
    /// Per graph task, per child: its value if it succeeds, and whether its
    /// subtree succeeded.
    children: Vec<Vec<(Option<u64>, bool)>>,
}

fn child_value(task: usize, child: usize) -> u64 {
    seed_value(task * 16 + child, 0x5ba5)
}

fn task_value(task: usize) -> u64 {
    seed_value(task, 0x7a5c)
}

pub fn reference(scenario: &Scenario) -> Expected {
    let mut tasks: Vec<(Option<u64>, bool)> = Vec::new();
    let mut children = Vec::new();
    for (index, spec) in scenario.tasks.iter().enumerate() {
        let runs = spec
            .dependencies
            .iter()
            .all(|&dependency| tasks[dependency].1);
        let mut own: Vec<(Option<u64>, bool)> = Vec::new();
        if runs {
            for (child, child_spec) in spec.children.iter().enumerate() {
                let named_ok = child_spec.siblings.iter().all(|&sibling| own[sibling].1);
                let value = if !named_ok || child_spec.fails {
                    None
                } else {
                    let mut value = child_value(index, child);
                    for &sibling in &child_spec.siblings {
                        value =
                            fold_value(value, own[sibling].0.expect("a named sibling succeeded"));
                    }
                    if child_spec.reads_parent_dependency {
                        if let Some(&dependency) = spec.dependencies.first() {
                            value = fold_value(value, tasks[dependency].0.expect("ran"));
                        }
                    }
                    Some(value)
                };
                own.push((value, value.is_some()));
            }
        }
        let subtree_ok = runs && own.iter().all(|&(_, ok)| ok);
        let value = runs.then(|| {
            let mut value = task_value(index);
            if spec.joins && subtree_ok {
                for &(child, _) in &own {
                    value = fold_value(value, child.expect("joined children succeeded"));
                }
            }
            value + spec.nested as u64
        });
        tasks.push((value, subtree_ok));
        children.push(own);
    }
    Expected { tasks, children }
}

pub fn check_bytes(data: &[u8]) -> Result<(), String> {
    common::silence_intentional_panics();
    let scenario = decode(data);
    let _watch = common::watch(format!("run_spawn {scenario:?}"));
    check(&scenario).map_err(|problems| format!("{scenario:#?}\n{}", problems.join("\n")))
}

/// The tag of pool `pool` of a scenario with `workers` workers there: its
/// own tags, apart from the other scenarios', which may run at once.
fn tag(scenario: &Scenario, pool: usize) -> &'static str {
    const TAGS: [[&str; 2]; 2] = [["s0w1", "s0w2"], ["s1w1", "s1w2"]];
    TAGS[pool][scenario.workers[pool] - 1]
}

/// The executor of every `run_spawn` input, with a pool per tag of [`tag`],
/// started up front; nested runs use it too.
fn executor() -> &'static Executor {
    static EXECUTOR: OnceLock<Executor> = OnceLock::new();
    EXECUTOR.get_or_init(|| {
        let mut builder = Executor::builder().workers_per_tag(1);
        for (tag, workers) in [("s0w1", 1), ("s0w2", 2), ("s1w1", 1), ("s1w2", 2)] {
            builder = builder.tag_workers(tag, workers);
        }
        builder.build().expect("the fuzz executor starts")
    })
}

/// Problems the bodies find, by description.
type Problems = Arc<Mutex<Vec<String>>>;

fn complain(problems: &Problems, problem: String) {
    problems.lock().unwrap().push(problem);
}

pub fn check(scenario: &Scenario) -> Result<(), Vec<String>> {
    let expected = reference(scenario);
    let problems: Problems = Arc::default();
    let handles: Arc<Mutex<Vec<Vec<TaskId<u64>>>>> =
        Arc::new(Mutex::new(vec![Vec::new(); scenario.tasks.len()]));
    let mut graph = Graph::new();
    let mut ids: Vec<TaskId<u64>> = Vec::new();
    for (index, spec) in scenario.tasks.iter().enumerate() {
        let dependencies: Vec<TaskId<u64>> = spec.dependencies.iter().map(|&d| ids[d]).collect();
        let body = task_body(
            scenario,
            index,
            &dependencies,
            &expected,
            &problems,
            &handles,
        );
        let task = Task::new(format!("task {index}"), body)
            .tag(tag(scenario, spec.pool))
            .after_all(dependencies.iter().copied());
        ids.push(graph.add(task));
    }
    let policy = if scenario.keep_going {
        FailurePolicy::KeepGoing
    } else {
        FailurePolicy::FailFast
    };
    let report = executor()
        .run_with(&mut graph, RunOptions::new().policy(policy))
        .map_err(|error| vec![format!("the run refused the graph: {error}")])?;
    let mut problems = std::mem::take(&mut *problems.lock().unwrap());
    let handles = handles.lock().unwrap();
    verify(scenario, &expected, &report, &ids, &handles, &mut problems);
    if scenario.keep_going {
        for (index, &id) in ids.iter().enumerate() {
            let value = expected.tasks[index].0;
            if graph.output(id).copied() != value {
                problems.push(format!(
                    "task {index}: output {:?}, expected {value:?}",
                    graph.output(id)
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn task_body(
    scenario: &Scenario,
    index: usize,
    dependencies: &[TaskId<u64>],
    expected: &Expected,
    problems: &Problems,
    handles: &Arc<Mutex<Vec<Vec<TaskId<u64>>>>>,
) -> impl FnMut(&Context<'_>) -> Result<u64, Error> + Send + 'static {
    let spec = scenario.tasks[index].clone();
    let tags = [tag(scenario, 0), tag(scenario, 1)];
    let dependencies = dependencies.to_vec();
    let own_expected = expected.children[index].clone();
    let (problems, handles) = (Arc::clone(problems), Arc::clone(handles));
    let keep_going = scenario.keep_going;
    move |cx: &Context<'_>| {
        let mut spawned: Vec<TaskId<u64>> = Vec::new();
        for (child, child_spec) in spec.children.iter().enumerate() {
            let named: Vec<TaskId<u64>> = child_spec.siblings.iter().map(|&s| spawned[s]).collect();
            let parent_dependency = dependencies
                .first()
                .copied()
                .filter(|_| child_spec.reads_parent_dependency);
            let task = child_task(index, child, child_spec, &named, parent_dependency, tags);
            let task = task
                .after_all(named.iter().copied())
                .after_all(parent_dependency);
            let id = cx.spawn(task)?;
            handles.lock().unwrap()[index].push(id);
            spawned.push(id);
        }
        let mut value = task_value(index);
        if spec.joins {
            let answer = cx.join();
            let all_ok = own_expected.iter().all(|&(_, ok)| ok);
            if keep_going && answer.is_ok() != all_ok {
                complain(
                    &problems,
                    format!("task {index}: join said {answer:?}, expected ok = {all_ok}"),
                );
            }
            if let Err(error) = &answer {
                if error.downcast_ref::<JoinError>().is_none() {
                    complain(&problems, format!("task {index}: join failed with {error}"));
                }
            }
            if answer.is_ok() {
                for &child in &spawned {
                    value = fold_value(value, *cx.input(child)?);
                }
            }
        }
        for _ in 0..spec.nested {
            value += nested_run(tags[spec.pool], index)?;
        }
        Ok(value)
    }
}

fn child_task(
    index: usize,
    child: usize,
    spec: &ChildSpec,
    named: &[TaskId<u64>],
    parent_dependency: Option<TaskId<u64>>,
    tags: [&'static str; 2],
) -> Task<'static, u64> {
    let named = named.to_vec();
    let (fails, grandchildren, pool) = (spec.fails, spec.grandchildren, spec.pool);
    Task::new(format!("child {index}.{child}"), move |cx: &Context<'_>| {
        for _ in 0..grandchildren {
            cx.spawn(Task::new("grandchild", |_: &Context<'_>| Ok(1u64)).tag(tags[1 - pool]))?;
        }
        if fails {
            return Err(format!("{} child {index}.{child}", common::PANIC_PREFIX).into());
        }
        let mut value = child_value(index, child);
        for &sibling in &named {
            value = fold_value(value, *cx.input(sibling)?);
        }
        if let Some(dependency) = parent_dependency {
            value = fold_value(value, *cx.input(dependency)?);
        }
        Ok(value)
    })
    .tag(tags[pool])
}

/// Runs a graph of two tasks on `tag` from inside a task, on the same
/// executor, and returns 1 if it gave the right answer.
fn nested_run(tag: &'static str, index: usize) -> Result<u64, Error> {
    let mut nested = Graph::new();
    let first =
        nested.add(Task::new("nested first", move |_: &Context<'_>| Ok(index as u64)).tag(tag));
    let second = nested.add(
        Task::new("nested second", move |cx: &Context<'_>| {
            Ok(*cx.input(first)? + 1)
        })
        .tag(tag)
        .after(first),
    );
    let report = executor().run(&mut nested)?;
    if !report.is_success() || nested.output(second) != Some(&(index as u64 + 1)) {
        return Err(format!("the nested run of task {index} went wrong: {report}").into());
    }
    Ok(1)
}

fn verify(
    scenario: &Scenario,
    expected: &Expected,
    report: &RunReport,
    ids: &[TaskId<u64>],
    handles: &[Vec<TaskId<u64>>],
    problems: &mut Vec<String>,
) {
    let spawned: usize = handles.iter().map(Vec::len).sum();
    let grandchildren: usize = scenario
        .tasks
        .iter()
        .zip(handles)
        .map(|(spec, made)| {
            spec.children[..made.len()]
                .iter()
                .map(|c| c.grandchildren)
                .sum::<usize>()
        })
        .sum();
    let counted = report.succeeded() + report.failed() + report.skipped() + report.cancelled();
    if counted != report.len() {
        problems.push(format!(
            "the counts add up to {counted}, not {}",
            report.len()
        ));
    }
    let at_least = ids.len() + spawned;
    if report.len() < at_least || report.len() > at_least + grandchildren {
        problems.push(format!(
            "the report has {} tasks, not {at_least} to {}",
            report.len(),
            at_least + grandchildren
        ));
    }
    for (index, &id) in ids.iter().enumerate() {
        let outcome = report.outcome(id);
        let (value, _) = expected.tasks[index];
        if scenario.keep_going {
            if outcome.is_success() != value.is_some() {
                problems.push(format!("task {index}: {outcome:?}, expected {value:?}"));
            }
        } else if value.is_none() && outcome.is_success() {
            problems.push(format!(
                "task {index} succeeded where the reference skips it"
            ));
        }
        for (child, &handle) in handles[index].iter().enumerate() {
            let Some(outcome) = report.get(handle) else {
                problems.push(format!("child {index}.{child} is not in the report"));
                continue;
            };
            let (value, _) = expected.children[index][child];
            let ok = matches!(outcome, Outcome::Succeeded);
            if scenario.keep_going && ok != value.is_some() {
                problems.push(format!(
                    "child {index}.{child}: {outcome:?}, expected {value:?}"
                ));
            }
            if !scenario.keep_going && ok && value.is_none() {
                problems.push(format!(
                    "child {index}.{child} succeeded where it should not"
                ));
            }
        }
    }
}
