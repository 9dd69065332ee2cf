//! The task bodies: one body for every node, the graph's and the spawned
//! ones, which records what it sees in the run's [`RunState`], checks on the
//! spot what only it can see (its inputs, its context, the pool's
//! occupancy, what a refused read or spawn says), and follows its spawn
//! plan: spawning children (whose bodies are this body again), joining,
//! running nested graphs. What the body computes is exactly what
//! [`super::oracle`] predicts, from the values it actually reads.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use taskflow_engine::{
    Context, Error, Executor, Graph, GraphError, InputError, JoinError, Task, TaskId,
};

use super::input::{Behaviour, Probe, TaskSpec};
use super::oracle::{self, JOIN_REFUSED};
use super::plan::{Layout, NestedSpec, OnJoinError, Step};
use super::records::{JoinRecord, RunState, lock};
use crate::common::{self, FuzzPanic, fold_value};

/// The executor the scenario runs on, which nested runs use too.
#[derive(Debug)]
pub enum Runner {
    /// [`common::shared_executor`].
    Shared,
    /// An executor of the scenario's own, owned by the caller of the run
    /// (so that no body drops it on one of its own workers).
    Fresh(Weak<Executor>),
}

/// What every body of one copy of a scenario shares.
#[derive(Debug)]
pub struct Shared {
    /// The worker count of each pool.
    pub pools: Vec<usize>,
    /// The graph's tasks (for their probes).
    pub tasks: Vec<TaskSpec>,
    /// Every node of the scenario.
    pub layout: Layout,
    /// The graph's tasks' handles, set once the graph is built.
    pub ids: OnceLock<Vec<TaskId<u64>>>,
    /// A task of another graph, for probes and refused spawns.
    pub foreign: TaskId<u64>,
    /// The state of each run, set before it starts.
    pub runs: Vec<OnceLock<RunState>>,
    /// The run in progress, an index into `runs`.
    pub current: AtomicUsize,
    /// The executor nested runs use.
    pub runner: Runner,
}

impl Shared {
    /// The tag of `pool` in this scenario.
    pub fn tag(&self, pool: usize) -> &'static str {
        common::run_tag(pool, self.pools[pool])
    }

    /// The body of the graph's task `task`.
    pub fn run_static(self: &Arc<Self>, task: usize, cx: &Context<'_>) -> Result<u64, Error> {
        let ids = self.ids.get().expect("ids are set before the first run");
        let declared: Vec<TaskId<u64>> = self.layout.nodes[task]
            .declared
            .iter()
            .map(|&input| ids[input])
            .collect();
        self.run_node(task, &declared, cx)
    }

    /// The body of `node`, whose declared dependencies have the handles
    /// `declared`.
    fn run_node(
        self: &Arc<Self>,
        node: usize,
        declared: &[TaskId<u64>],
        cx: &Context<'_>,
    ) -> Result<u64, Error> {
        let Some(run) = self.runs[self.current.load(SeqCst)].get() else {
            return Err("the scenario did not set up this run".into());
        };
        let spec = &self.layout.nodes[node];
        let record = &run.nodes[node];
        let start = run.clock.tick();
        record.starts.fetch_add(1, SeqCst);
        record.start.store(start, SeqCst);
        let size = self.pools[spec.pool];
        let worker = cx.worker_index();
        record.worker.store(worker, SeqCst);
        record.thread.store(common::thread_number(), SeqCst);
        *lock(&record.seen_as) = Some(cx.task());
        run.occupy(&spec.name, spec.pool, size, worker);
        let is_static = node < self.layout.statics;
        let tag = self.tag(spec.pool);
        if cx.name() != spec.name
            || cx.tag().as_str() != tag
            || is_static && cx.task().index() != node
        {
            run.violation(format!(
                "{}: context says name {:?}, tag {}, index {}; expected {0}, {tag}",
                spec.name,
                cx.name(),
                cx.tag(),
                cx.task().index()
            ));
        }
        let dependencies = if is_static {
            &run.dependencies[node]
        } else {
            &spec.declared
        };
        for &dependency in dependencies {
            let end = run.nodes[dependency].end.load(SeqCst);
            if end == 0 || end > start {
                run.violation(format!(
                    "{}: started (event {start}) before its dependency {} ended (event {end})",
                    spec.name, self.layout.nodes[dependency].name
                ));
            }
        }
        let mut value = oracle::node_seed(node, spec.salt);
        for (&input, &handle) in spec.declared.iter().zip(declared) {
            match cx.input(handle) {
                Ok(&actual) => {
                    let returned = *lock(&run.nodes[input].value);
                    if Some(actual) != returned {
                        run.violation(format!(
                            "{}: input {} is {actual:#x}, its body returned {returned:x?}",
                            spec.name, self.layout.nodes[input].name
                        ));
                    }
                    value = fold_value(value, actual);
                }
                Err(error) => run.violation(format!(
                    "{}: input {} refused: {error}",
                    spec.name, self.layout.nodes[input].name
                )),
            }
        }
        if let Some(probe) = self.tasks.get(node).and_then(|task| task.probe) {
            self.probe(run, node, probe, cx);
        }
        let result = self
            .follow_plan(run, node, declared, value, cx)
            .inspect(|_| behave(run, node, spec.behaviour, cx));
        record.saw_stop.store(cx.is_cancelled(), SeqCst);
        run.vacate(spec.pool, size, worker);
        if let (Ok(value), false) = (&result, spec.behaviour.fails()) {
            *lock(&record.value) = Some(*value);
        }
        record.end.store(run.clock.tick(), SeqCst);
        let value = result?;
        match spec.behaviour {
            Behaviour::Fail => Err(format!("fuzz error {}", spec.name).into()),
            Behaviour::PanicStr => panic!("fuzz panic"),
            Behaviour::PanicString => panic!("fuzz panic {}", spec.name),
            Behaviour::PanicAny => std::panic::panic_any(FuzzPanic(node)),
            _ => Ok(value),
        }
    }

    /// Follows `node`'s plan from `value`; `Err` is a refused join's error
    /// to return.
    fn follow_plan(
        self: &Arc<Self>,
        run: &RunState,
        node: usize,
        declared: &[TaskId<u64>],
        mut value: u64,
        cx: &Context<'_>,
    ) -> Result<u64, Error> {
        let spec = &self.layout.nodes[node];
        let (pool, size, worker) = (spec.pool, self.pools[spec.pool], cx.worker_index());
        let mut spawned: Vec<TaskId<u64>> = Vec::new();
        let mut joined = 0;
        for step in &spec.plan.steps {
            match step {
                Step::Spawn(child_spec) => {
                    let child = spec.children[spawned.len()];
                    let names: Vec<TaskId<u64>> = child_spec
                        .siblings
                        .iter()
                        .map(|&sibling| spawned[sibling])
                        .chain(child_spec.parent_dependencies.iter().map(|&d| declared[d]))
                        .collect();
                    let task = self.child_task(child, names);
                    run.nodes[child].spawned_at.store(run.event(node), SeqCst);
                    match cx.spawn(task) {
                        Ok(id) => {
                            *lock(&run.nodes[child].handle) = Some(id);
                            spawned.push(id);
                        }
                        Err(error) => {
                            run.violation(format!(
                                "{}: spawning {} was refused: {error}",
                                spec.name, self.layout.nodes[child].name
                            ));
                            return Err(error.into());
                        }
                    }
                }
                Step::Join => {
                    run.vacate(pool, size, worker);
                    run.event(node);
                    let answer = cx.join();
                    let returned = run.event(node);
                    run.occupy(&spec.name, pool, size, worker);
                    let covered = spawned.len();
                    let record = |answer| {
                        lock(&run.nodes[node].joins).push(JoinRecord {
                            covered,
                            answer,
                            returned,
                        });
                    };
                    // Covered from now on, whatever the answer: the join
                    // waited for them.
                    let newly_joined = std::mem::replace(&mut joined, covered);
                    match answer {
                        Ok(()) => {
                            record(Ok(()));
                            for (position, &child) in spawned.iter().enumerate().skip(newly_joined)
                            {
                                let output = self.read_child(run, node, position, child, cx);
                                value = fold_value(value, output);
                            }
                        }
                        Err(error) => {
                            let names = match error.downcast_ref::<JoinError>() {
                                Some(refused) => refused.names().map(str::to_owned).collect(),
                                None => {
                                    run.violation(format!(
                                        "{}: join failed with {error}, not a JoinError",
                                        spec.name
                                    ));
                                    Vec::new()
                                }
                            };
                            record(Err(names));
                            if spec.plan.on_join_error == OnJoinError::Propagate {
                                return Err(error);
                            }
                            value = fold_value(value, JOIN_REFUSED);
                        }
                    }
                }
                Step::Nested(nested) => {
                    run.vacate(pool, size, worker);
                    run.event(node);
                    let output = self.nested_run(node, nested);
                    run.event(node);
                    run.occupy(&spec.name, pool, size, worker);
                    match output {
                        Ok(output) => value = fold_value(value, output),
                        Err(problem) => run.violation(format!("{}: {problem}", spec.name)),
                    }
                }
                Step::PeekUnjoined => {
                    if let Some(&newest) = spawned.get(joined..).and_then(<[_]>::last) {
                        let expected = InputError::NotADependency {
                            reader: spec.name.clone().into(),
                            dependency: self.layout.nodes[spec.children[spawned.len() - 1]]
                                .name
                                .clone()
                                .into(),
                        };
                        let result = cx.input(newest).map(|_| ());
                        if !matches!(&result, Err(error) if error.downcast_ref::<InputError>() == Some(&expected))
                        {
                            run.violation(format!(
                                "{}: reading an unjoined child gave {result:?}, expected {expected:?}",
                                spec.name
                            ));
                        }
                    }
                }
                Step::BadSpawn { foreign } => {
                    let named = if *foreign {
                        self.foreign.task_ref()
                    } else {
                        cx.task()
                    };
                    let task = Task::new("refused", |_: &Context<'_>| Ok(0u64)).after(named);
                    let result = cx.spawn(task);
                    if !matches!(result, Err(GraphError::ForeignTask)) {
                        run.violation(format!(
                            "{}: spawning a task after {} gave {result:?}, expected ForeignTask",
                            spec.name,
                            if *foreign {
                                "a task of another graph"
                            } else {
                                "its spawner"
                            }
                        ));
                    }
                }
            }
        }
        Ok(value)
    }

    /// The task that spawns `child`, naming `declared`.
    fn child_task(
        self: &Arc<Self>,
        child: usize,
        declared: Vec<TaskId<u64>>,
    ) -> Task<'static, u64> {
        let spec = &self.layout.nodes[child];
        let shared = Arc::clone(self);
        let names = declared.clone();
        Task::new(spec.name.clone(), move |cx: &Context<'_>| {
            shared.run_node(child, &declared, cx)
        })
        .tag(self.tag(spec.pool))
        .after_all(names)
    }

    /// Reads the joined child at `position` of `node`'s children: it must
    /// be what that child's body returned.
    fn read_child(
        &self,
        run: &RunState,
        node: usize,
        position: usize,
        handle: TaskId<u64>,
        cx: &Context<'_>,
    ) -> u64 {
        let spec = &self.layout.nodes[node];
        let child = spec.children[position];
        let returned = *lock(&run.nodes[child].value);
        match cx.input(handle) {
            Ok(&actual) => {
                if Some(actual) != returned {
                    run.violation(format!(
                        "{}: joined child {} reads {actual:#x}, its body returned {returned:x?}",
                        spec.name, self.layout.nodes[child].name
                    ));
                }
                actual
            }
            Err(error) => {
                run.violation(format!(
                    "{}: joined child {} refused: {error}",
                    spec.name, self.layout.nodes[child].name
                ));
                0
            }
        }
    }

    /// Runs the nested graph `spec` from inside `node`'s body, on the same
    /// executor, and returns its last task's output.
    fn nested_run(&self, node: usize, spec: &NestedSpec) -> Result<u64, String> {
        let tag = self.tag(spec.pool);
        let name = &self.layout.nodes[node].name;
        let (first_seed, child_seed, spawns) = (
            oracle::nested_seed(node, 0),
            oracle::nested_seed(node, 7),
            spec.spawns,
        );
        let mut graph = Graph::new();
        let mut last = graph.add(
            Task::new(format!("{name} nested 0"), move |cx: &Context<'_>| {
                let mut value = first_seed;
                if spawns {
                    let child = cx.spawn(
                        Task::new("nested child", move |_: &Context<'_>| Ok(child_seed)).tag(tag),
                    )?;
                    cx.join()?;
                    value = fold_value(value, *cx.input(child)?);
                }
                Ok(value)
            })
            .tag(tag),
        );
        for position in 1..spec.tasks {
            let (previous, seed) = (last, oracle::nested_seed(node, position));
            last = graph.add(
                Task::new(
                    format!("{name} nested {position}"),
                    move |cx: &Context<'_>| Ok(fold_value(*cx.input(previous)?, seed)),
                )
                .tag(tag)
                .after(previous),
            );
        }
        let report = match &self.runner {
            Runner::Shared => common::shared_executor().run(&mut graph),
            Runner::Fresh(executor) => executor
                .upgrade()
                .ok_or("the scenario's executor is gone")?
                .run(&mut graph),
        }
        .map_err(|error| format!("a nested run was refused: {error}"))?;
        let tasks = spec.tasks + usize::from(spawns);
        if !report.is_success() || report.len() != tasks {
            return Err(format!("a nested run of {tasks} tasks reported {report}"));
        }
        graph
            .output(last)
            .copied()
            .ok_or_else(|| "a nested run left no output".to_owned())
    }

    fn probe(&self, run: &RunState, index: usize, probe: Probe, cx: &Context<'_>) {
        let ids = self.ids.get().expect("ids are set before the first run");
        let name = |task: usize| self.layout.nodes[task].name.clone();
        let (result, expected) = match probe {
            Probe::NotADependency(_) | Probe::Itself => {
                let target = match probe {
                    Probe::NotADependency(target) => target,
                    _ => index,
                };
                (
                    cx.input(ids[target]).map(|_| ()),
                    InputError::NotADependency {
                        reader: name(index).into(),
                        dependency: name(target).into(),
                    },
                )
            }
            Probe::Foreign => (
                cx.input(self.foreign).map(|_| ()),
                InputError::ForeignTask {
                    reader: name(index).into(),
                },
            ),
        };
        let refused_right = match &result {
            Err(error) => error.downcast_ref::<InputError>() == Some(&expected),
            Ok(()) => false,
        };
        if !refused_right {
            run.violation(format!(
                "{}: probe {probe:?} gave {result:?}, expected {expected:?}",
                name(index)
            ));
        }
    }
}

/// What `node`'s behaviour does before the body returns.
fn behave(run: &RunState, node: usize, behaviour: Behaviour, cx: &Context<'_>) {
    match behaviour {
        Behaviour::Yield => std::thread::yield_now(),
        Behaviour::Sleep(micros) => std::thread::sleep(Duration::from_micros(micros.into())),
        Behaviour::Poll => {
            for _ in 0..16 {
                if cx.is_cancelled() {
                    break;
                }
                std::thread::yield_now();
            }
        }
        Behaviour::Cancel => {
            run.token.cancel();
            run.nodes[node].cancelled_token.store(true, SeqCst);
            if run.token_in_run && !cx.is_cancelled() {
                run.violation(format!(
                    "{}: cancelled its run's token, then is_cancelled() was false",
                    cx.name()
                ));
            }
        }
        _ => {}
    }
}
