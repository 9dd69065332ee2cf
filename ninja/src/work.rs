//! One edge's work, as the body of its engine task: check again whether it
//! must run (after `restat` cleaned its inputs), run its command, read its
//! discovered dependencies, restat its outputs, write the logs, and print.
//!
//! What the tasks share is [`Build`]: the graph and plan (read-only), one
//! dirty flag and one mtime per file (atomics, written by the edge that
//! produces the file before its dependents start: the engine's dependency
//! hand-off orders them), and the invocation's [`Session`]: the settings,
//! the logs behind locks, the status printer, the jobserver.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use taskflow_engine::{CancelToken, Cancelled, Error, TaskRef};

use crate::build_log::{BuildLog, Entry};
use crate::command::{self, Children, Exit};
use crate::deps_log::DepsLog;
use crate::dirty::{self, EdgeStatus, FileStatus, Plan, Want};
use crate::disk;
use crate::graph::{Deps, EdgeId, FileId, Graph};
use crate::status::{Status, Verbosity};
use crate::tokens::Tokens;
use crate::trace::{RunTrace, Trace};

/// The build's settings from the command line.
#[derive(Clone, Debug)]
pub struct Config {
    pub dry_run: bool,
    pub verbosity: Verbosity,
    pub explain: bool,
    /// Stop after this many failures (`-k`; 0 there is `usize::MAX` here).
    pub failures_allowed: usize,
    pub parallelism: usize,
    pub keep_rsp: bool,
    pub keep_depfile: bool,
}

/// A command failed (its output is already printed).
#[derive(Debug)]
pub struct EdgeFailed;

impl fmt::Display for EdgeFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("subcommand failed")
    }
}

impl std::error::Error for EdgeFailed {}

/// What every build of one invocation shares (the manifest's own rebuild,
/// then the build): the settings, the logs, the status printer, the
/// jobserver and the trace.
#[derive(Debug)]
pub struct Session<'a> {
    pub config: Config,
    pub build_log: Mutex<BuildLog>,
    pub deps_log: Mutex<DepsLog>,
    pub status: Status,
    pub tokens: Option<&'a Tokens>,
    pub trace: Option<Trace>,
}

/// What the tasks of one build share.
#[derive(Debug)]
pub struct Build<'a> {
    pub graph: &'a Graph,
    pub session: &'a Session<'a>,
    pub plan: &'a Plan,
    discovered: Vec<Vec<FileId>>,
    had_dirty_input: Vec<bool>,
    dirty: Vec<AtomicBool>,
    mtime: Vec<AtomicI64>,
    /// `-d trace`: told which tasks ran a command.
    pub trace: Option<Arc<RunTrace>>,
    /// Cancelled by Ctrl-C and by the failure that ends the build.
    pub cancel: CancelToken,
    /// The running commands, for Ctrl-C to stop.
    pub children: Arc<Children>,
    pub start: Instant,
    pub failures: AtomicUsize,
    /// Errors that are not a command's failure (a log that cannot be written).
    pub errors: Mutex<Vec<String>>,
}

// ORDERING for the per-file atomics: a file's flag and mtime are written by
// its producer's task before that task ends, and read by its dependents'
// tasks, which the engine starts only after it ended (its completion is an
// AcqRel hand-off). Relaxed is enough on top of that.

impl<'a> Build<'a> {
    /// The build of `plan` over `graph`, from what the scan found.
    pub fn new(
        (files, edges): (Vec<FileStatus>, Vec<EdgeStatus>),
        plan: &'a Plan,
        graph: &'a Graph,
        session: &'a Session<'a>,
    ) -> Build<'a> {
        let dirty = files.iter().map(|f| AtomicBool::new(f.dirty)).collect();
        let mtime = files
            .iter()
            .map(|f| AtomicI64::new(f.mtime.max(0)))
            .collect();
        let had_dirty_input = edges.iter().map(|e| e.had_dirty_input).collect();
        let discovered = edges.into_iter().map(|e| e.discovered).collect();
        Build {
            graph,
            session,
            plan,
            discovered,
            had_dirty_input,
            dirty,
            mtime,
            trace: session
                .trace
                .as_ref()
                .map(|trace| trace.for_run(plan.order.len())),
            cancel: CancelToken::new(),
            children: Arc::new(Children::default()),
            start: Instant::now(),
            failures: AtomicUsize::new(0),
            errors: Mutex::new(Vec::new()),
        }
    }

    /// The edges `edge` waits for: producers of its inputs and discovered
    /// dependencies that are in the plan.
    pub fn dependencies(&self, edge: EdgeId) -> impl Iterator<Item = EdgeId> + '_ {
        let e = &self.graph.edges[edge];
        e.ins
            .iter()
            .chain(&self.discovered[edge])
            .filter_map(|&f| self.graph.files[f].producer)
            .filter(|&p| self.plan.want[p] != Want::No)
    }

    /// Whether `file` is still out of date (after this build: whether it was
    /// rebuilt rather than cleaned by `restat`).
    pub fn is_dirty(&self, file: FileId) -> bool {
        self.dirty
            .get(file)
            .is_some_and(|d| d.load(Ordering::Relaxed))
    }

    fn mtime(&self, file: FileId) -> i64 {
        self.mtime
            .get(file)
            .map_or(0, |m| m.load(Ordering::Relaxed))
    }

    fn set_clean(&self, file: FileId) {
        self.dirty[file].store(false, Ordering::Relaxed);
    }

    fn error(&self, message: String) {
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(message);
    }

    /// The body of `edge`'s task, `task`.
    pub fn run_edge(&self, edge: EdgeId, task: TaskRef) -> Result<(), Error> {
        let want = self.plan.want[edge];
        let e = &self.graph.edges[edge];
        if want == Want::Nothing {
            return Ok(());
        }
        if self.had_dirty_input[edge]
            && !self.session.config.dry_run
            && self.cleaned_by_restat(edge)
        {
            for &out in &e.outs {
                self.set_clean(out);
            }
            if !e.is_phony() {
                self.session.status.pruned();
            }
            return Ok(());
        }
        if e.is_phony() {
            // Missing phony outputs take the newest input's mtime, for the
            // edges after them.
            let newest = e
                .dirtying_ins()
                .iter()
                .map(|&f| self.mtime(f))
                .max()
                .unwrap_or(0);
            for &out in &e.outs {
                if self.mtime(out) == 0 {
                    self.mtime[out].store(newest, Ordering::Relaxed);
                }
            }
            return Ok(());
        }
        if self.cancel.is_cancelled() {
            return Err(Cancelled.into());
        }
        self.run_command(edge, task)
    }

    /// Whether every dirty input of `edge` was cleaned by `restat`, and its
    /// outputs are up to date given the inputs as they are now.
    fn cleaned_by_restat(&self, edge: EdgeId) -> bool {
        let e = &self.graph.edges[edge];
        let dirtying = e.dirtying_ins().iter().chain(&self.discovered[edge]);
        let mut most_recent: Option<(FileId, i64)> = None;
        for &input in dirtying {
            if self.is_dirty(input) {
                return false;
            }
            let m = self.mtime(input);
            if most_recent.is_none_or(|(_, best)| m > best) {
                most_recent = Some((input, m));
            }
        }
        let log = self
            .session
            .build_log
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        !dirty::outputs_dirty(
            self.graph,
            edge,
            most_recent,
            |f| self.mtime(f),
            &log,
            self.session.config.explain,
        )
    }

    fn status_text(&self, edge: EdgeId) -> &str {
        let e = &self.graph.edges[edge];
        let command = e.command.as_deref().unwrap_or_default();
        if self.session.config.verbosity == Verbosity::Verbose || e.description.is_empty() {
            command
        } else {
            &e.description
        }
    }

    fn run_command(&self, edge: EdgeId, task: TaskRef) -> Result<(), Error> {
        let e = &self.graph.edges[edge];
        let command = e.command.as_deref().unwrap_or_default();
        let console = e.uses_console();
        let text = self.status_text(edge);
        let started = Instant::now();
        self.session.status.started(edge, text, console);
        if self.session.config.dry_run {
            self.session.status.finished(edge, text, console, None, b"");
            return Ok(());
        }
        if let Some(trace) = &self.trace {
            trace.ran_command(task);
        }
        let result = self.execute(edge, command, console);
        let ended = Instant::now();
        let (exit, output) = match result {
            Ok(done) => done,
            Err(message) => (Exit::Failure, message.into_bytes()),
        };
        if exit == Exit::Interrupted
            || (exit == Exit::Failure && self.cancel.is_cancelled() && self.interrupted())
        {
            self.remove_changed_outputs(edge);
            self.session.status.finished(edge, text, console, None, b"");
            return Err(Cancelled.into());
        }
        let finished = match exit {
            Exit::Success => self.record_success(edge, started, ended),
            _ => Err(String::new()),
        };
        match finished {
            Ok(()) => {
                self.session
                    .status
                    .finished(edge, text, console, None, &output);
                Ok(())
            }
            Err(extra) => {
                let mut output = output;
                output.extend_from_slice(extra.as_bytes());
                let outs: String = e
                    .outs
                    .iter()
                    .map(|&o| format!("{} ", self.graph.path(o)))
                    .collect();
                self.session
                    .status
                    .finished(edge, text, console, Some((&outs, command)), &output);
                let failures = self.failures.fetch_add(1, Ordering::AcqRel) + 1;
                if failures >= self.session.config.failures_allowed {
                    self.cancel.cancel();
                }
                Err(EdgeFailed.into())
            }
        }
    }

    fn interrupted(&self) -> bool {
        crate::signal::interrupted()
    }

    /// Prepares and runs the command; Err is a message for the output.
    fn execute(
        &self,
        edge: EdgeId,
        command: &str,
        console: bool,
    ) -> Result<(Exit, Vec<u8>), String> {
        let e = &self.graph.edges[edge];
        for &out in &e.outs {
            let path = self.graph.path(out);
            disk::make_parent_dirs(path).map_err(|err| format!("mkdir for {path}: {err}\n"))?;
        }
        if !e.rspfile.is_empty() {
            disk::make_parent_dirs(&e.rspfile)
                .and_then(|()| std::fs::write(&e.rspfile, &e.rspfile_content))
                .map_err(|err| format!("writing {}: {err}\n", e.rspfile))?;
        }
        let _token = match self.session.tokens {
            Some(tokens) => Some(
                tokens
                    .acquire()
                    .map_err(|err| format!("jobserver: {err}\n"))?,
            ),
            None => None,
        };
        command::run(command, console, &self.children)
            .map_err(|err| format!("spawning /bin/sh: {err}\n"))
    }

    /// After a successful command: discovered deps, restat, the logs. Err
    /// turns the edge into a failure with that message.
    fn record_success(&self, edge: EdgeId, started: Instant, ended: Instant) -> Result<(), String> {
        let e = &self.graph.edges[edge];
        let deps = if e.deps == Some(Deps::Gcc) {
            Some(self.read_depfile(edge)?)
        } else {
            None
        };
        let mut output_mtime = 0;
        let mut cleaned = false;
        for &out in &e.outs {
            let path = self.graph.path(out);
            let new = disk::mtime(path).map_err(|err| format!("stat({path}): {err}\n"))?;
            output_mtime = output_mtime.max(new);
            if e.restat && new == self.mtime(out) {
                // The command left the output as it was: what depends only on
                // it need not run (checked when their turn comes).
                self.set_clean(out);
                cleaned = true;
            }
            self.mtime[out].store(new, Ordering::Relaxed);
        }
        if cleaned {
            // As ninja: the log records the newest input's mtime, so the
            // next run sees the output as up to date against those inputs.
            output_mtime = e
                .dirtying_ins()
                .iter()
                .map(|&f| disk::mtime(self.graph.path(f)).unwrap_or(0))
                .max()
                .unwrap_or(0);
        }
        if let Some(deps) = deps {
            let mut log = self
                .session
                .deps_log
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            for &out in &e.outs {
                let path = self.graph.path(out);
                if let Err(err) = log.record(&[path], self.mtime(out), &deps) {
                    self.error(format!("writing deps log: {err}"));
                }
            }
        }
        let entry = Entry {
            hash: e.hash,
            start_ms: (started - self.start).as_millis() as u32,
            end_ms: (ended - self.start).as_millis() as u32,
            mtime: output_mtime,
        };
        let outs: Vec<&str> = e.outs.iter().map(|&o| self.graph.path(o)).collect();
        if let Err(err) = self
            .session
            .build_log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(&outs, entry)
        {
            self.error(format!("writing build log: {err}"));
        }
        if !e.rspfile.is_empty() && !self.session.config.keep_rsp {
            let _ = disk::remove(&e.rspfile);
        }
        Ok(())
    }

    /// Reads and deletes a `deps = gcc` depfile: its dependencies, canonical.
    fn read_depfile(&self, edge: EdgeId) -> Result<Vec<String>, String> {
        let e = &self.graph.edges[edge];
        if e.depfile.is_empty() {
            return Ok(Vec::new());
        }
        let content = match std::fs::read(&e.depfile) {
            Ok(content) => content,
            // As ninja: a command that wrote no depfile has no deps.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(format!("loading '{}': {err}\n", e.depfile)),
        };
        let parsed =
            crate::depfile::parse(&content).map_err(|m| format!("{}: {m}\n", e.depfile))?;
        if !self.session.config.keep_depfile {
            let _ = disk::remove(&e.depfile);
        }
        Ok(parsed
            .deps
            .iter()
            .map(|d| crate::canon::canonicalize(d))
            .collect())
    }

    /// After an interruption: outputs the command touched are removed, so
    /// that a half-written file is not taken as built (as ninja does).
    fn remove_changed_outputs(&self, edge: EdgeId) {
        let e = &self.graph.edges[edge];
        for &out in &e.outs {
            let path = self.graph.path(out);
            if disk::mtime(path).is_ok_and(|m| m != self.mtime(out)) {
                let _ = disk::remove(path);
            }
        }
        if !e.depfile.is_empty() {
            let _ = disk::remove(&e.depfile);
        }
        if !e.rspfile.is_empty() {
            let _ = disk::remove(&e.rspfile);
        }
    }
}
