//! The dirty check and the plan, as ninja's `DependencyScan` and `Plan`:
//! which files are out of date, and which edges a build of some targets must
//! run or wait for.
//!
//! A file without a producer is dirty when it is missing. An edge is dirty
//! when one of its explicit or implicit inputs (or discovered dependencies)
//! is dirty, when its discovered dependencies are unknown or stale, or when
//! one of its outputs is missing, older than the newest input (for `restat`
//! edges: the mtime the build log recorded), built by another command line,
//! or absent from the build log (not for `generator` edges). A dirty edge's
//! outputs are dirty. Order-only inputs are built first but never dirty an
//! edge.
//!
//! The scan runs once before the build; during it, `restat` can clean
//! outputs again, and an edge whose dirty inputs were all cleaned is checked
//! again with [`outputs_dirty`] before it runs (see `work`).
//!
//! Validations (`|@`), as ninja 1.11 has them: every edge the scan visits
//! names its validation files, which are scanned afterwards as targets of
//! their own (never from inside the visit, so a validation that depends on
//! the edge naming it is no cycle), and the plan builds those whose edges
//! are not up to date, beside the targets: they wait for nothing of the
//! edge that names them, and nothing waits for them.
//!
//! Before the visit, [`Scan::stat_ahead`] finds the files it will look at
//! and has them statted in parallel ([`crate::prestat`]); the visit itself
//! is sequential, as ninja's, and stats only what that left unknown.

use crate::build_log::BuildLog;
use crate::depfile;
use crate::deps_log::DepsLog;
use crate::disk;
use crate::graph::{Deps, EdgeId, FileId, Graph};
use crate::prestat;

/// What the scan knows of a file.
#[derive(Clone, Copy, Debug)]
pub struct FileStatus {
    /// ns; 0 missing; -1 not looked at yet.
    pub mtime: i64,
    pub dirty: bool,
}

const UNKNOWN: i64 = -1;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
enum Visit {
    #[default]
    Not,
    InStack,
    Done,
}

/// What the scan knows of an edge.
#[derive(Clone, Debug, Default)]
pub struct EdgeStatus {
    visit: Visit,
    pub dirty: bool,
    /// Nothing below this edge, itself included, needs to run.
    pub outputs_ready: bool,
    /// Whether one of its dirtying inputs was dirty at scan time: only then
    /// can `restat` make it clean again.
    pub had_dirty_input: bool,
    /// Dependencies found in the deps log or the depfile.
    pub discovered: Vec<FileId>,
}

/// The dirty check over one graph.
#[derive(Debug)]
pub struct Scan<'a> {
    pub graph: &'a mut Graph,
    build_log: &'a BuildLog,
    deps_log: &'a DepsLog,
    pub files: Vec<FileStatus>,
    pub edges: Vec<EdgeStatus>,
    explain: bool,
    stack: Vec<FileId>,
    /// The graph's file for each deps log path id, once looked up.
    deps_files: Vec<Option<FileId>>,
    /// Validations named by the edges visited since the last
    /// [`Scan::visit_targets`] took them.
    validations: Vec<FileId>,
}

/// Prints a `-d explain` line.
pub fn explain_line(message: &str) {
    eprintln!("ninja explain: {message}");
}

impl<'a> Scan<'a> {
    pub fn new(
        graph: &'a mut Graph,
        build_log: &'a BuildLog,
        deps_log: &'a DepsLog,
        explain: bool,
    ) -> Self {
        let files = vec![
            FileStatus {
                mtime: UNKNOWN,
                dirty: false,
            };
            graph.files.len()
        ];
        let edges = vec![EdgeStatus::default(); graph.edges.len()];
        Scan {
            graph,
            build_log,
            deps_log,
            files,
            edges,
            explain,
            stack: Vec::new(),
            deps_files: Vec::new(),
            validations: Vec::new(),
        }
    }

    /// Stats, in parallel, every file that visiting `targets` will stat:
    /// the outputs and inputs of every edge they depend on, and the
    /// dependencies the deps log recorded for them.
    pub fn stat_ahead(&mut self, targets: &[FileId]) {
        let mut wanted = Vec::new();
        let mut seen_files = vec![false; self.graph.files.len()];
        let mut seen_edges = vec![false; self.graph.edges.len()];
        let mut stack = targets.to_vec();
        while let Some(file) = stack.pop() {
            if seen_files[file] {
                continue;
            }
            seen_files[file] = true;
            if self.files[file].mtime == UNKNOWN {
                wanted.push(file);
            }
            let Some(edge) = self.graph.files[file].producer else {
                continue;
            };
            if std::mem::replace(&mut seen_edges[edge], true) {
                continue;
            }
            let e = &self.graph.edges[edge];
            stack.extend(e.outs.iter().chain(&e.ins).chain(&e.validations));
            if e.deps == Some(Deps::Gcc) {
                let deps_log = self.deps_log;
                if let Some(deps) = deps_log.get(self.graph.path(e.outs[0])) {
                    for &id in &deps.ids {
                        stack.push(self.deps_file(id));
                    }
                    seen_files.resize(self.graph.files.len(), false);
                }
            }
        }
        let mtimes = prestat::mtimes(self.graph, &wanted);
        for (file, mtime) in wanted.into_iter().zip(mtimes) {
            // A failed stat stays unknown: the visit stats it again and
            // reports the error.
            if let Some(mtime) = mtime {
                self.files[file].mtime = mtime;
            }
        }
    }

    /// What the scan found, once the plan is made.
    pub fn into_parts(self) -> (Vec<FileStatus>, Vec<EdgeStatus>) {
        (self.files, self.edges)
    }

    fn explain(&self, message: impl FnOnce() -> String) {
        if self.explain {
            explain_line(&message());
        }
    }

    fn file(&mut self, path: &str) -> FileId {
        let id = self.graph.file(path);
        if id >= self.files.len() {
            self.files.resize(
                id + 1,
                FileStatus {
                    mtime: UNKNOWN,
                    dirty: false,
                },
            );
        }
        id
    }

    /// The graph's file for path `id` of the deps log.
    fn deps_file(&mut self, id: u32) -> FileId {
        let index = id as usize;
        if let Some(&Some(file)) = self.deps_files.get(index) {
            return file;
        }
        let file = self.file(self.deps_log.path(id));
        if index >= self.deps_files.len() {
            self.deps_files.resize(index + 1, None);
        }
        self.deps_files[index] = Some(file);
        file
    }

    fn stat(&mut self, file: FileId) -> Result<i64, String> {
        if self.files[file].mtime == UNKNOWN {
            let path = self.graph.path(file);
            self.files[file].mtime = disk::mtime(path)
                .map_err(|e| format!("stat({path}): {}", crate::load::io_message(&e)))?;
        }
        Ok(self.files[file].mtime)
    }

    /// Visits `targets` and, as ninja's `RecomputeDirty`, the validations
    /// of every edge visited, and theirs in turn; returns the validations
    /// in the order found.
    pub fn visit_targets(&mut self, targets: &[FileId]) -> Result<Vec<FileId>, String> {
        let mut validations = Vec::new();
        for &target in targets {
            self.visit(target)?;
            let mut next = validations.len();
            validations.append(&mut self.validations);
            while next < validations.len() {
                self.visit(validations[next])?;
                validations.append(&mut self.validations);
                next += 1;
            }
        }
        Ok(validations)
    }

    /// Decides whether `file` (and everything it depends on) is dirty.
    pub fn visit(&mut self, file: FileId) -> Result<(), String> {
        let Some(edge) = self.graph.files[file].producer else {
            // Dirty once and for all if missing (explained the first time);
            // the mtime may be known already, from `stat_ahead`.
            if self.stat(file)? == 0 && !self.files[file].dirty {
                self.explain(|| format!("{} has no in-edge and is missing", self.graph.path(file)));
                self.files[file].dirty = true;
            }
            return Ok(());
        };
        match self.edges[edge].visit {
            Visit::Done => return Ok(()),
            Visit::InStack => return Err(self.cycle(file, edge)),
            Visit::Not => {}
        }
        self.edges[edge].visit = Visit::InStack;
        self.stack.push(file);
        let result = self.visit_edge(edge);
        self.stack.pop();
        self.edges[edge].visit = Visit::Done;
        result
    }

    fn cycle(&self, file: FileId, edge: EdgeId) -> String {
        let start = self
            .stack
            .iter()
            .position(|&f| self.graph.files[f].producer == Some(edge))
            .unwrap_or(0);
        let mut path: Vec<&str> = Vec::new();
        path.push(self.graph.path(file));
        for &f in &self.stack[start + 1..] {
            path.push(self.graph.path(f));
        }
        path.push(self.graph.path(file));
        format!("dependency cycle: {}", path.join(" -> "))
    }

    fn visit_edge(&mut self, edge: EdgeId) -> Result<(), String> {
        // Scanned later, as targets (see `visit_targets`).
        self.validations
            .extend_from_slice(&self.graph.edges[edge].validations);
        for i in 0..self.graph.edges[edge].outs.len() {
            self.stat(self.graph.edges[edge].outs[i])?;
        }
        let mut dirty = !self.load_deps(edge)?;
        // Lent out while the inputs are visited, which never touch it (a
        // cycle back to this edge stops at its InStack mark).
        let discovered = std::mem::take(&mut self.edges[edge].discovered);
        let inputs = self.visit_inputs(edge, &discovered);
        self.edges[edge].discovered = discovered;
        let (dirty_input, mut outputs_ready, most_recent) = inputs?;
        dirty |= dirty_input;
        let e = &self.graph.edges[edge];
        if !dirty {
            let files = &self.files;
            dirty = outputs_dirty(
                self.graph,
                edge,
                most_recent,
                |f| files[f].mtime,
                self.build_log,
                self.explain,
            );
            // A phony edge's missing outputs take the newest input's mtime.
            if e.is_phony()
                && let Some((_, m)) = most_recent
            {
                for &out in &e.outs {
                    if self.files[out].mtime == 0 {
                        self.files[out].mtime = m;
                    }
                }
            }
        }
        if dirty {
            for &out in &e.outs {
                self.files[out].dirty = true;
            }
            if !(e.is_phony() && e.ins.is_empty()) {
                outputs_ready = false;
            }
        }
        self.edges[edge].dirty = dirty;
        self.edges[edge].outputs_ready = outputs_ready;
        Ok(())
    }

    /// Visits the inputs of `edge`: explicit and implicit, then the
    /// discovered ones (which ninja inserts before the order-only ones),
    /// then the order-only ones. Returns whether a dirtying one is dirty,
    /// whether all of them are ready, and the newest clean dirtying one.
    #[allow(clippy::type_complexity)]
    fn visit_inputs(
        &mut self,
        edge: EdgeId,
        discovered: &[FileId],
    ) -> Result<(bool, bool, Option<(FileId, i64)>), String> {
        let ins = self.graph.edges[edge].ins.len();
        let order_only_start = ins - self.graph.edges[edge].order_only_ins;
        let mut dirty = false;
        let mut outputs_ready = true;
        let mut most_recent: Option<(FileId, i64)> = None;
        for k in 0..ins + discovered.len() {
            let (input, dirtying) = if k < order_only_start {
                (self.graph.edges[edge].ins[k], true)
            } else if k < order_only_start + discovered.len() {
                (discovered[k - order_only_start], true)
            } else {
                (self.graph.edges[edge].ins[k - discovered.len()], false)
            };
            self.visit(input)?;
            if let Some(producer) = self.graph.files[input].producer
                && !self.edges[producer].outputs_ready
            {
                outputs_ready = false;
            }
            if !dirtying {
                continue;
            }
            if self.files[input].dirty {
                self.explain(|| format!("{} is dirty", self.graph.path(input)));
                dirty = true;
                self.edges[edge].had_dirty_input = true;
            } else {
                let mtime = self.files[input].mtime;
                if most_recent.is_none_or(|(_, m)| mtime > m) {
                    most_recent = Some((input, mtime));
                }
            }
        }
        Ok((dirty, outputs_ready, most_recent))
    }

    /// Loads discovered dependencies; false if they are missing or stale,
    /// which makes the edge dirty.
    fn load_deps(&mut self, edge: EdgeId) -> Result<bool, String> {
        let e = &self.graph.edges[edge];
        let Some(kind) = e.deps else {
            return Ok(true);
        };
        let out = e.outs[0];
        match kind {
            Deps::Gcc => {
                let deps_log = self.deps_log;
                let Some(deps) = deps_log.get(self.graph.path(out)) else {
                    self.explain(|| format!("deps for '{}' are missing", self.graph.path(out)));
                    return Ok(false);
                };
                let out_mtime = self.files[out].mtime;
                if out_mtime > deps.mtime {
                    self.explain(|| {
                        format!(
                            "stored deps info out of date for '{}' ({} vs {out_mtime})",
                            self.graph.path(out),
                            deps.mtime
                        )
                    });
                    return Ok(false);
                }
                let ids = deps.ids.iter().map(|&id| self.deps_file(id)).collect();
                self.edges[edge].discovered = ids;
                Ok(true)
            }
            Deps::Depfile => {
                let path = e.depfile.clone();
                let content = match std::fs::read(&path) {
                    Ok(content) => content,
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                        self.explain(|| format!("depfile '{path}' is missing"));
                        return Ok(false);
                    }
                    Err(err) => {
                        return Err(format!(
                            "loading '{path}': {}",
                            crate::load::io_message(&err)
                        ));
                    }
                };
                let parsed = depfile::parse(&content).map_err(|m| format!("{path}: {m}"))?;
                let first = parsed
                    .targets
                    .first()
                    .map(|t| crate::canon::canonicalize(t));
                if first.as_deref() != Some(self.graph.path(out)) {
                    self.explain(|| {
                        format!(
                            "expected depfile '{path}' to mention '{}', got '{}'",
                            self.graph.path(out),
                            first.unwrap_or_default()
                        )
                    });
                    return Ok(false);
                }
                let ids = parsed
                    .deps
                    .iter()
                    .map(|d| {
                        let canon = crate::canon::canonicalize(d);
                        self.file(&canon)
                    })
                    .collect();
                self.edges[edge].discovered = ids;
                Ok(true)
            }
        }
    }
}

/// Whether an edge whose inputs are clean must run for its outputs: ninja's
/// `RecomputeOutputsDirty`. `most_recent` is the newest dirtying input.
pub fn outputs_dirty(
    graph: &Graph,
    edge: EdgeId,
    most_recent: Option<(FileId, i64)>,
    mtime: impl Fn(FileId) -> i64,
    log: &BuildLog,
    explain: bool,
) -> bool {
    let e = &graph.edges[edge];
    let say = |message: String| {
        if explain {
            explain_line(&message);
        }
    };
    for &out in &e.outs {
        let path = graph.path(out);
        let out_mtime = mtime(out);
        if e.is_phony() {
            if e.ins.is_empty() && out_mtime == 0 {
                say(format!(
                    "output {path} of phony edge with no inputs doesn't exist"
                ));
                return true;
            }
            continue;
        }
        if out_mtime == 0 {
            say(format!("output {path} doesn't exist"));
            return true;
        }
        let entry = log.get(path);
        if let Some((input, input_mtime)) = most_recent
            && out_mtime < input_mtime
        {
            let (effective, restat) = match entry {
                Some(entry) if e.restat => (entry.mtime, "restat of "),
                _ => (out_mtime, ""),
            };
            if effective < input_mtime {
                say(format!(
                    "{restat}output {path} older than most recent input {} ({effective} vs {input_mtime})",
                    graph.path(input)
                ));
                return true;
            }
        }
        match entry {
            Some(entry) => {
                if !e.generator && entry.hash != e.hash {
                    say(format!("command line changed for {path}"));
                    return true;
                }
                if let Some((input, input_mtime)) = most_recent
                    && entry.mtime < input_mtime
                {
                    say(format!(
                        "recorded mtime of {path} older than most recent input {} ({} vs {input_mtime})",
                        graph.path(input),
                        entry.mtime
                    ));
                    return true;
                }
            }
            None if !e.generator => {
                say(format!("command line not found in log for {path}"));
                return true;
            }
            None => {}
        }
    }
    false
}

/// What the plan wants of an edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// Not part of this build.
    No,
    /// Waited for (an order-only input of it is being built) but not run.
    Nothing,
    /// Run, unless `restat` cleans it first.
    Run,
}

/// The edges a build of some targets runs or waits for, inputs first.
#[derive(Debug)]
pub struct Plan {
    pub order: Vec<EdgeId>,
    pub want: Vec<Want>,
    /// Command edges to run (the status line's total).
    pub commands: usize,
}

impl Plan {
    /// Plans the build of `targets` and of the `validations` the scan found
    /// for them, from a finished scan, as ninja's `Builder::AddTarget`: a
    /// validation without an edge (a source file) is not built.
    pub fn new(
        scan: &Scan<'_>,
        targets: &[FileId],
        validations: &[FileId],
    ) -> Result<Plan, String> {
        let mut plan = Plan {
            order: Vec::new(),
            want: vec![Want::No; scan.graph.edges.len()],
            commands: 0,
        };
        let mut seen = vec![false; scan.graph.edges.len()];
        for &target in targets {
            plan.add(scan, target, None, &mut seen)?;
        }
        for &validation in validations {
            if scan.graph.files[validation].producer.is_some() {
                plan.add(scan, validation, None, &mut seen)?;
            }
        }
        Ok(plan)
    }

    fn add(
        &mut self,
        scan: &Scan<'_>,
        file: FileId,
        dependent: Option<FileId>,
        seen: &mut [bool],
    ) -> Result<(), String> {
        let graph = &*scan.graph;
        let Some(edge) = graph.files[file].producer else {
            // Only declared inputs get here: a discovered dependency that
            // vanished is no error (ninja gives it a phony edge), its
            // dependent is dirty and runs.
            if scan.files[file].dirty {
                return Err(match dependent {
                    Some(d) => format!(
                        "'{}', needed by '{}', missing and no known rule to make it",
                        graph.path(file),
                        graph.path(d)
                    ),
                    None => format!(
                        "'{}' missing and no known rule to make it",
                        graph.path(file)
                    ),
                });
            }
            return Ok(());
        };
        let status = &scan.edges[edge];
        if status.outputs_ready || seen[edge] {
            return Ok(());
        }
        seen[edge] = true;
        let e = &graph.edges[edge];
        let manifest_ins = e.ins.iter().map(|&f| (f, true));
        let discovered = status.discovered.iter().map(|&f| (f, false));
        for (input, declared) in manifest_ins.chain(discovered) {
            if declared || graph.files[input].producer.is_some() {
                self.add(scan, input, Some(file), seen)?;
            }
        }
        self.want[edge] = if status.dirty {
            Want::Run
        } else {
            Want::Nothing
        };
        if status.dirty && !e.is_phony() {
            self.commands += 1;
        }
        self.order.push(edge);
        Ok(())
    }
}
