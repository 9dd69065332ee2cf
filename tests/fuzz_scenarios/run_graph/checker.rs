//! Checking one run after it returned: the report against itself and
//! against what the bodies recorded, every outcome against the outcomes of
//! the task's dependencies' whole subtrees, every join's answer against
//! the report, values and outputs against the reference, and (where no
//! stop could happen) everything against the reference exactly. The rules
//! are listed in the module docs of [`super`].

use std::sync::atomic::Ordering::SeqCst;

use taskflow_engine::{FailurePolicy, Graph, Outcome, RunReport, TaskError, TaskId, TaskRef};

use super::builder::foreign_task;
use super::input::{Behaviour, RunSpec, TokenMode};
use super::oracle::{Failure, Verdict};
use super::plan::Layout;
use super::records::{RunState, lock};
use super::visibility;

/// The actual outcome of every node of one run, as the report gives them.
pub struct Actual<'a> {
    /// Every node of the scenario.
    pub layout: &'a Layout,
    /// What the bodies recorded.
    pub state: &'a RunState,
    /// Per node: `None` if it was never spawned.
    pub verdicts: Vec<Option<Verdict>>,
}

impl Actual<'_> {
    /// `node` and every descendant of it that was spawned.
    pub fn subtree(&self, node: usize) -> Vec<usize> {
        self.layout
            .subtree(node)
            .into_iter()
            .filter(|&n| self.verdicts[n].is_some())
            .collect()
    }

    fn any_in_subtree(&self, node: usize, test: impl Fn(&Verdict) -> bool) -> bool {
        self.subtree(node)
            .into_iter()
            .any(|n| self.verdicts[n].as_ref().is_some_and(&test))
    }

    /// Whether something in `node`'s subtree failed or was skipped: its
    /// dependents are skipped then.
    pub fn poisons(&self, node: usize) -> bool {
        self.any_in_subtree(node, |v| matches!(v, Verdict::Failed(_) | Verdict::Skipped))
    }

    /// Whether `node` succeeded and nothing in its subtree failed or was
    /// skipped: what a `join` calls success.
    pub fn joins_clean(&self, node: usize) -> bool {
        matches!(self.verdicts[node], Some(Verdict::Succeeded(_))) && !self.poisons(node)
    }

    /// The dependencies of `node` in this run.
    pub fn dependencies(&self, node: usize) -> &[usize] {
        if node < self.layout.statics {
            &self.state.dependencies[node]
        } else {
            &self.layout.nodes[node].declared
        }
    }

    /// Whether `node`'s body started.
    pub fn started(&self, node: usize) -> bool {
        self.state.nodes[node].started()
    }

    /// `node`'s name.
    pub fn name(&self, node: usize) -> &str {
        &self.layout.nodes[node].name
    }
}

fn verdict_of(outcome: &Outcome) -> Result<Verdict, String> {
    Ok(match outcome {
        Outcome::Succeeded => Verdict::Succeeded(0),
        Outcome::Failed(TaskError::Error(error)) => {
            Verdict::Failed(match error.downcast_ref::<taskflow_engine::JoinError>() {
                Some(refused) => Failure::JoinRefused(refused.names().map(str::to_owned).collect()),
                None => Failure::Error(error.to_string()),
            })
        }
        Outcome::Failed(TaskError::Panicked(message)) => {
            Verdict::Failed(Failure::Panicked(message.message().to_owned()))
        }
        Outcome::Skipped => Verdict::Skipped,
        Outcome::Cancelled => Verdict::Cancelled,
        other => return Err(format!("unknown outcome {other:?}")),
    })
}

/// What one run is checked with.
pub struct Inputs<'a> {
    /// Every node of the scenario.
    pub layout: &'a Layout,
    /// The run's policy, token and edges.
    pub run: &'a RunSpec,
    /// What the bodies recorded.
    pub state: &'a RunState,
    /// What the run returned.
    pub report: &'a RunReport,
    /// The graph's tasks, by index.
    pub ids: &'a [TaskId<u64>],
    /// Handles spawned in earlier runs of the same graph.
    pub stale: &'a [TaskId<u64>],
}

/// Checks one run; appends what is wrong to `violations`.
pub fn verify(
    inputs: &Inputs<'_>,
    graph: &mut Graph<'_>,
    last: bool,
    violations: &mut Vec<String>,
) {
    let Inputs {
        layout,
        run,
        state,
        report,
        ids,
        stale,
    } = *inputs;
    violations.extend(lock(&state.violations).drain(..));
    let Some(actual) = read_report(inputs, violations) else {
        return;
    };
    let nodes = layout.nodes.len();
    let exists = |n: usize| actual.verdicts[n].is_some();
    let verdict = |n: usize| actual.verdicts[n].as_ref().expect("exists");

    if report.get(foreign_task()).is_some() {
        violations.push("report.get() answered for a task of another graph".to_owned());
    }
    if let Some(old) = stale.iter().find(|&&old| report.get(old).is_some()) {
        violations.push(format!(
            "report.get() answered for {old:?}, spawned in an earlier run"
        ));
    }

    // Every node started at most once, exactly when it ran.
    for node in (0..nodes).filter(|&n| exists(n)) {
        let record = &state.nodes[node];
        let starts = record.starts.load(SeqCst);
        if starts > 1 {
            violations.push(format!("{}: started {starts} times", actual.name(node)));
        }
        let ran = matches!(verdict(node), Verdict::Succeeded(_) | Verdict::Failed(_));
        if actual.started(node) != ran {
            violations.push(format!(
                "{}: outcome {:?} but its body {} started",
                actual.name(node),
                verdict(node),
                if actual.started(node) { "" } else { "never" }
            ));
        }
        if actual.started(node) && record.end.load(SeqCst) == 0 {
            violations.push(format!(
                "{}: started but never reached its end",
                actual.name(node)
            ));
        }
        if let Some(handle) = record.handle() {
            let seen = *lock(&record.seen_as);
            if actual.started(node) && seen != Some(handle.task_ref()) {
                violations.push(format!(
                    "{}: Context::task() said {seen:?}, spawn returned {handle:?}",
                    actual.name(node)
                ));
            }
        }
    }

    let fail_fast = run.policy == FailurePolicy::FailFast;
    let any_failed = actual
        .verdicts
        .iter()
        .flatten()
        .any(|v| matches!(v, Verdict::Failed(_)));
    let cancelled_token = (0..nodes).any(|n| state.nodes[n].cancelled_token.load(SeqCst));
    let stopped = (fail_fast && any_failed)
        || (state.token_in_run && (run.token == TokenMode::PreCancelled || cancelled_token));

    for node in (0..nodes).filter(|&n| exists(n)) {
        check_dependencies(&actual, node, stopped, violations);
        check_failure(&actual, node, violations);
        check_joins(&actual, node, violations);
        if state.nodes[node].saw_stop.load(SeqCst) && !stopped {
            violations.push(format!(
                "{}: is_cancelled() was true, but the run was never stopped",
                actual.name(node)
            ));
        }
    }

    // Where no stop can happen, everything equals the reference.
    let reference = &state.reference;
    let reference_fails = reference
        .verdicts
        .iter()
        .flatten()
        .any(|v| matches!(v, Verdict::Failed(_)));
    let reference_cancels = (0..nodes).any(|n| {
        layout.nodes[n].behaviour == Behaviour::Cancel
            && matches!(reference.verdicts[n], Some(Verdict::Succeeded(_)))
    });
    let exact = !(fail_fast && reference_fails)
        && !(state.token_in_run && (run.token == TokenMode::PreCancelled || reference_cancels));
    if exact {
        check_exact(&actual, violations);
    }
    check_values(&actual, violations);
    visibility::check(&actual, run, violations);

    // Outputs: what the body returned for tasks that succeeded, none otherwise.
    for (index, &id) in ids.iter().enumerate() {
        let expected = match verdict(index) {
            Verdict::Succeeded(_) => *lock(&state.nodes[index].value),
            _ => None,
        };
        let output = graph.output(id).copied();
        if output != expected {
            violations.push(format!(
                "t{index}: output {output:?}, expected {expected:?} (outcome {:?})",
                verdict(index)
            ));
        }
        if last {
            let taken = graph.take_output(id);
            if taken != expected || graph.output(id).is_some() {
                violations.push(format!(
                    "t{index}: take_output gave {taken:?}, expected {expected:?}, and must leave none"
                ));
            }
        }
    }
}

/// Every node's outcome from the report, checked for consistency: its
/// length and counts, `iter()` and `failures()`. `None` if it is too far
/// off to check more.
fn read_report<'a>(inputs: &Inputs<'a>, violations: &mut Vec<String>) -> Option<Actual<'a>> {
    let Inputs {
        layout,
        state,
        report,
        ids,
        ..
    } = *inputs;
    let handles: Vec<Option<TaskId<u64>>> = state.nodes.iter().map(|r| r.handle()).collect();
    let spawned = handles.iter().flatten().count();
    let total = layout.statics + spawned;
    if report.len() != total {
        violations.push(format!(
            "report has {} tasks, the graph {} and {spawned} were spawned",
            report.len(),
            layout.statics
        ));
        return None;
    }
    let mut verdicts = Vec::with_capacity(layout.nodes.len());
    for node in 0..layout.nodes.len() {
        let outcome = if node < layout.statics {
            Some(report.outcome(ids[node]))
        } else if let Some(handle) = handles[node] {
            let outcome = report.get(handle);
            if outcome.is_none() {
                violations.push(format!(
                    "{}: spawned but not in the report",
                    layout.nodes[node].name
                ));
                return None;
            }
            outcome
        } else {
            None
        };
        match outcome.map(verdict_of).transpose() {
            Ok(verdict) => verdicts.push(verdict),
            Err(error) => {
                violations.push(format!("{}: {error}", layout.nodes[node].name));
                return None;
            }
        }
    }
    let all: Vec<&Verdict> = verdicts.iter().flatten().collect();
    let count = |f: fn(&Verdict) -> bool| all.iter().filter(|v| f(v)).count();
    let counts = (
        count(|v| matches!(v, Verdict::Succeeded(_))),
        count(|v| matches!(v, Verdict::Failed(_))),
        count(|v| matches!(v, Verdict::Skipped)),
        count(|v| matches!(v, Verdict::Cancelled)),
    );
    let reported = (
        report.succeeded(),
        report.failed(),
        report.skipped(),
        report.cancelled(),
    );
    if counts != reported {
        violations.push(format!(
            "report counts (succeeded, failed, skipped, cancelled) {reported:?}, its outcomes {counts:?}"
        ));
    }
    if report.is_success() != (counts.0 == total) {
        violations.push(format!(
            "is_success() is {} for {report}",
            report.is_success()
        ));
    }
    // iter() and failures(): the graph's tasks by index, then the spawned
    // ones in spawn order, which is the order of their handles' indices.
    let mut order: Vec<(TaskRef, usize)> = ids
        .iter()
        .enumerate()
        .map(|(t, id)| (id.task_ref(), t))
        .collect();
    let mut spawn_order: Vec<(TaskRef, usize)> = handles
        .iter()
        .enumerate()
        .filter_map(|(node, handle)| handle.map(|h| (h.task_ref(), node)))
        .collect();
    spawn_order.sort_by_key(|(handle, _)| handle.index());
    order.extend(spawn_order);
    let listed: Vec<(TaskRef, Result<Verdict, String>)> = report
        .iter()
        .map(|(task, outcome)| (task, verdict_of(outcome)))
        .collect();
    let expected: Vec<(TaskRef, Result<Verdict, String>)> = order
        .iter()
        .map(|&(task, node)| (task, Ok(verdicts[node].clone().expect("exists"))))
        .collect();
    if listed != expected {
        violations.push(format!(
            "report.iter() gives {listed:?}, its outcomes say {expected:?}"
        ));
    }
    let failures: Vec<&str> = report.failures().map(|(_, name, _)| name).collect();
    let failed: Vec<&str> = order
        .iter()
        .filter(|&&(_, node)| matches!(verdicts[node], Some(Verdict::Failed(_))))
        .map(|&(_, node)| layout.nodes[node].name.as_str())
        .collect();
    if failures != failed {
        violations.push(format!(
            "report.failures() names {failures:?}, the failed tasks are {failed:?}"
        ));
    }
    // The children of one parent take indices in spawn order.
    for node in &layout.nodes {
        let indices: Vec<usize> = node
            .children
            .iter()
            .filter_map(|&child| handles[child].map(|h| h.index()))
            .collect();
        if indices.windows(2).any(|pair| pair[0] >= pair[1]) {
            violations.push(format!(
                "{}: its children's handles are not in spawn order: {indices:?}",
                node.name
            ));
        }
    }
    Some(Actual {
        layout,
        state,
        verdicts,
    })
}

/// `node`'s outcome follows from its dependencies' subtrees, and it started
/// only after each of them ended and succeeded.
fn check_dependencies(
    actual: &Actual<'_>,
    node: usize,
    stopped: bool,
    violations: &mut Vec<String>,
) {
    let verdict = actual.verdicts[node].as_ref().expect("exists");
    let dependencies = actual.dependencies(node);
    let poisoned = dependencies.iter().any(|&d| actual.poisons(d));
    let after_cancelled = dependencies
        .iter()
        .any(|&d| actual.any_in_subtree(d, |v| *v == Verdict::Cancelled));
    let wrong = if poisoned {
        (*verdict != Verdict::Skipped).then_some("a dependency's subtree failed or was skipped")
    } else if after_cancelled {
        (*verdict != Verdict::Cancelled)
            .then_some("a dependency's subtree had a cancelled task and none failed or was skipped")
    } else if *verdict == Verdict::Skipped {
        Some("skipped, but every dependency's subtree succeeded")
    } else if *verdict == Verdict::Cancelled && !stopped {
        Some("cancelled, but the run was never stopped")
    } else {
        None
    };
    if let Some(why) = wrong {
        violations.push(format!("{}: outcome {verdict:?}: {why}", actual.name(node)));
    }
    if !actual.started(node) {
        return;
    }
    let start = actual.state.nodes[node].start.load(SeqCst);
    for &dependency in dependencies {
        for member in actual.subtree(dependency) {
            let member_verdict = actual.verdicts[member].as_ref().expect("exists");
            let end = actual.state.nodes[member].end.load(SeqCst);
            if !matches!(member_verdict, Verdict::Succeeded(_)) {
                violations.push(format!(
                    "{}: started although {} (of its dependency {}'s subtree) ended {member_verdict:?}",
                    actual.name(node),
                    actual.name(member),
                    actual.name(dependency)
                ));
            } else if end == 0 || end > start {
                violations.push(format!(
                    "{}: started (event {start}) before {} (of its dependency {}'s subtree) ended (event {end})",
                    actual.name(node),
                    actual.name(member),
                    actual.name(dependency)
                ));
            }
        }
    }
}

/// A failed node failed by its own behaviour, or with the error of a join
/// it recorded.
fn check_failure(actual: &Actual<'_>, node: usize, violations: &mut Vec<String>) {
    let Some(Verdict::Failed(failure)) = &actual.verdicts[node] else {
        return;
    };
    let spec = &actual.layout.nodes[node];
    let explained = match failure {
        Failure::JoinRefused(names) => lock(&actual.state.nodes[node].joins)
            .last()
            .is_some_and(|join| join.answer.as_ref().err() == Some(names)),
        failure => super::oracle::behaviour_failure(&spec.name, spec.behaviour)
            .is_some_and(|expected| expected.matches(failure)),
    };
    if !explained {
        violations.push(format!(
            "{}: failed with {failure:?}; its behaviour is {:?} and its joins answered {:?}",
            spec.name,
            spec.behaviour,
            lock(&actual.state.nodes[node].joins)
        ));
    }
}

/// Each join of `node` refused exactly the children it covered whose
/// subtree did not succeed, and returned only after every task of those
/// subtrees that started had ended.
fn check_joins(actual: &Actual<'_>, node: usize, violations: &mut Vec<String>) {
    let children = &actual.layout.nodes[node].children;
    for (call, join) in lock(&actual.state.nodes[node].joins).iter().enumerate() {
        let covered = &children[..join.covered];
        let refused: Vec<String> = covered
            .iter()
            .filter(|&&child| !actual.joins_clean(child))
            .map(|&child| actual.name(child).to_owned())
            .collect();
        let expected = if refused.is_empty() {
            Ok(())
        } else {
            Err(refused)
        };
        if join.answer != expected {
            violations.push(format!(
                "{}: join {call} answered {:?}; by the report it covered children whose outcomes make it {expected:?}",
                actual.name(node),
                join.answer
            ));
        }
        for member in covered.iter().flat_map(|&child| actual.subtree(child)) {
            let end = actual.state.nodes[member].end.load(SeqCst);
            if actual.started(member) && (end == 0 || end > join.returned) {
                violations.push(format!(
                    "{}: join {call} returned (event {}) before {} ended (event {end})",
                    actual.name(node),
                    join.returned,
                    actual.name(member)
                ));
            }
        }
    }
}

/// Where no stop could happen: every node exists, ends and joins exactly
/// as the reference says.
fn check_exact(actual: &Actual<'_>, violations: &mut Vec<String>) {
    let reference = &actual.state.reference;
    for node in 0..actual.layout.nodes.len() {
        let same = match (&actual.verdicts[node], &reference.verdicts[node]) {
            (Some(Verdict::Succeeded(_)), Some(Verdict::Succeeded(_))) => true,
            (Some(Verdict::Failed(got)), Some(Verdict::Failed(expected))) => expected.matches(got),
            (got, expected) => got == expected,
        };
        if !same {
            violations.push(format!(
                "{}: outcome {:?}, the reference says {:?} (no stop was possible; None: never spawned)",
                actual.name(node),
                actual.verdicts[node],
                reference.verdicts[node]
            ));
        }
        let joins: Vec<_> = lock(&actual.state.nodes[node].joins)
            .iter()
            .map(|j| j.answer.clone())
            .collect();
        if joins != reference.joins[node] {
            violations.push(format!(
                "{}: joins answered {joins:?}, the reference says {:?} (no stop was possible)",
                actual.name(node),
                reference.joins[node]
            ));
        }
    }
}

/// Every node that succeeded returned the reference's value, unless a value
/// it depends on changed because a join was refused that the reference
/// does not refuse (possible only in a stopped run): then the body's own
/// checks of what it read stand.
fn check_values(actual: &Actual<'_>, violations: &mut Vec<String>) {
    let mut tainted = vec![false; actual.layout.nodes.len()];
    for task in 0..actual.layout.statics {
        taint(actual, task, &mut tainted);
    }
    for (node, &tainted) in tainted.iter().enumerate() {
        if !matches!(actual.verdicts[node], Some(Verdict::Succeeded(_))) {
            continue;
        }
        let returned = *lock(&actual.state.nodes[node].value);
        let expected = actual.state.reference.verdicts[node]
            .as_ref()
            .and_then(Verdict::value);
        if returned.is_none() || (!tainted && returned != expected) {
            violations.push(format!(
                "{}: succeeded with {returned:x?}, the reference says {:?}",
                actual.name(node),
                actual.state.reference.verdicts[node]
            ));
        }
    }
}

/// Marks whether `node`'s value (and its descendants') may differ from the
/// reference's: see [`check_values`].
fn taint(actual: &Actual<'_>, node: usize, tainted: &mut [bool]) {
    let spec = &actual.layout.nodes[node];
    for &child in &spec.children {
        taint(actual, child, tainted);
    }
    let joins = lock(&actual.state.nodes[node].joins);
    let expected = &actual.state.reference.joins[node];
    let diverged = joins.len() > expected.len()
        || joins
            .iter()
            .zip(expected)
            .any(|(join, expected)| join.answer.is_ok() != expected.is_ok());
    let joined = joins
        .iter()
        .filter(|j| j.answer.is_ok())
        .map(|j| j.covered)
        .max()
        .unwrap_or(0);
    tainted[node] = diverged
        || actual.state.reference.verdicts[node].is_none()
        || spec.declared.iter().any(|&d| tainted[d])
        || spec.children[..joined].iter().any(|&c| tainted[c]);
}
