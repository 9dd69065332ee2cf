//! The build graph: files, the edges (build statements) that produce them,
//! and pools. It is built once by the loader and read by everything after;
//! what changes during a build (mtimes, dirtiness) lives beside it, in the
//! dirty check's and the scheduler's own tables indexed by the same ids.

use crate::intern::Interner;

/// Index of a file in [`Graph::files`].
pub type FileId = usize;
/// Index of an edge in [`Graph::edges`].
pub type EdgeId = usize;
/// Index of a pool in [`Graph::pools`].
pub type PoolId = usize;
/// A rule, by the loader's id (`eval::RuleId`): names in [`Graph::rule_name`].
pub type RuleName = usize;

/// The pool of edges that name none: as deep as `-j`.
pub const DEFAULT_POOL: PoolId = 0;
/// The built-in `console` pool: depth 1, and its command gets the terminal.
pub const CONSOLE_POOL: PoolId = 1;

/// A file: a path the manifest names, and the edges around it. Its path is
/// kept in the graph's path table ([`Graph::path`]).
#[derive(Clone, Copy, Debug, Default)]
pub struct File {
    /// The edge that produces it, if any.
    pub producer: Option<EdgeId>,
    /// The first edge that takes it as an input (any kind): what `x^` means,
    /// and whether it is a root. All of them: [`Graph::consumers`].
    pub first_consumer: Option<EdgeId>,
}

/// How discovered dependencies are recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deps {
    /// `depfile` without `deps`: read the depfile at every dirty check.
    Depfile,
    /// `deps = gcc`: read the depfile after the command, keep it in the deps log.
    Gcc,
}

/// One build statement, with its rule's bindings evaluated.
#[derive(Debug, Default)]
pub struct Edge {
    /// Inputs: explicit, then implicit, then order-only.
    pub ins: Vec<FileId>,
    pub explicit_ins: usize,
    pub order_only_ins: usize,
    /// Outputs: explicit, then implicit.
    pub outs: Vec<FileId>,
    pub explicit_outs: usize,
    pub validations: Vec<FileId>,
    /// The rule's name ([`Graph::rule_name`]), for `-t targets rule` and `-t query`.
    pub rule: RuleName,
    /// `None` for `phony`.
    pub command: Option<String>,
    pub description: String,
    pub depfile: String,
    pub deps: Option<Deps>,
    pub restat: bool,
    pub generator: bool,
    pub pool: PoolId,
    pub rspfile: String,
    pub rspfile_content: String,
    /// The hash the build log records: the command and rspfile content.
    pub hash: u64,
}

impl Edge {
    pub fn is_phony(&self) -> bool {
        self.command.is_none()
    }

    /// Explicit and implicit inputs: those whose mtimes count.
    pub fn dirtying_ins(&self) -> &[FileId] {
        &self.ins[..self.ins.len() - self.order_only_ins]
    }

    pub fn explicit_ins(&self) -> &[FileId] {
        &self.ins[..self.explicit_ins]
    }

    pub fn order_only(&self) -> &[FileId] {
        &self.ins[self.ins.len() - self.order_only_ins..]
    }

    pub fn explicit_outs(&self) -> &[FileId] {
        &self.outs[..self.explicit_outs]
    }

    pub fn uses_console(&self) -> bool {
        self.pool == CONSOLE_POOL
    }
}

/// A pool: a name and a depth (0: unlimited but for `-j`).
#[derive(Debug)]
pub struct Pool {
    pub name: String,
    pub depth: usize,
}

/// Files, edges, pools and default targets of a loaded manifest.
#[derive(Debug)]
pub struct Graph {
    pub files: Vec<File>,
    /// File `f`'s path is string `f`.
    paths: Interner,
    pub edges: Vec<Edge>,
    pub pools: Vec<Pool>,
    /// The names edges' [`Edge::rule`] index.
    rule_names: Vec<String>,
    /// By rule: whether the top file's scope (or a file it includes)
    /// defines it, where `-t clean -r` looks rules up, as ninja does.
    top_level_rules: Vec<bool>,
    pub defaults: Vec<FileId>,
}

impl Default for Graph {
    fn default() -> Self {
        Graph {
            files: Vec::new(),
            paths: Interner::default(),
            edges: Vec::new(),
            pools: vec![
                Pool {
                    name: String::new(),
                    depth: 0,
                },
                Pool {
                    name: "console".into(),
                    depth: 1,
                },
            ],
            // The built-in phony rule, rule 0 in the loader's scopes too.
            rule_names: vec!["phony".into()],
            top_level_rules: vec![true],
            defaults: Vec::new(),
        }
    }
}

impl Graph {
    /// The file at canonical `path`, added if new.
    pub fn file(&mut self, path: &str) -> FileId {
        let (id, new) = self.paths.intern(path);
        if new {
            self.files.push(File::default());
        }
        id
    }

    pub fn lookup(&self, path: &str) -> Option<FileId> {
        self.paths.lookup(path)
    }

    pub fn path(&self, file: FileId) -> &str {
        self.paths.get(file)
    }

    /// Records the name of the next rule; returns its id. The loader adds
    /// them in the order it adds rules to its scopes, so the ids agree.
    /// `top_level`: whether the top file's scope defines it.
    pub fn add_rule_name(&mut self, name: &str, top_level: bool) -> RuleName {
        self.rule_names.push(name.to_string());
        self.top_level_rules.push(top_level);
        self.rule_names.len() - 1
    }

    /// Whether the top file's scope defines a rule `name` (`phony` is).
    pub fn is_top_level_rule(&self, name: &str) -> bool {
        self.rule_names
            .iter()
            .zip(&self.top_level_rules)
            .any(|(rule, &top_level)| top_level && rule == name)
    }

    /// The name of the rule of `edge`.
    pub fn rule_name(&self, edge: EdgeId) -> &str {
        &self.rule_names[self.edges[edge].rule]
    }

    pub fn pool(&self, name: &str) -> Option<PoolId> {
        self.pools
            .iter()
            .position(|p| p.name == name && !name.is_empty())
    }

    /// The edges that take `file` as an input, in manifest order, once per
    /// mention (as ninja's out-edges). A walk over every edge: for tools.
    pub fn consumers(&self, file: FileId) -> impl Iterator<Item = EdgeId> + '_ {
        self.edges
            .iter()
            .enumerate()
            .flat_map(move |(id, e)| e.ins.iter().filter(move |&&f| f == file).map(move |_| id))
    }

    /// Files that some edge produces and no edge consumes.
    /// In edge order, as ninja's `RootNodes`.
    pub fn roots(&self) -> Vec<FileId> {
        self.edges
            .iter()
            .flat_map(|e| e.outs.iter().copied())
            .filter(|&f| self.files[f].first_consumer.is_none())
            .collect()
    }

    /// What to build when no target is named: the `default`s, or the roots.
    pub fn default_targets(&self) -> Vec<FileId> {
        if self.defaults.is_empty() {
            self.roots()
        } else {
            self.defaults.clone()
        }
    }

    /// Looks a target up as ninja does: a path (canonicalised), or `x^` for
    /// the first output of an edge that takes `x` as an input.
    pub fn target(&self, name: &str) -> Result<FileId, String> {
        if let Some(source) = name.strip_suffix('^') {
            let path = crate::canon::canonicalize(source);
            let file = self
                .lookup(&path)
                .ok_or_else(|| format!("unknown target '{path}'"))?;
            let edge = self.files[file]
                .first_consumer
                .ok_or_else(|| format!("'{path}' has no out edge"))?;
            return Ok(self.edges[edge].outs[0]);
        }
        let path = crate::canon::canonicalize(name);
        self.lookup(&path).ok_or_else(|| {
            if path == "clean" {
                "unknown target 'clean', did you mean 'ninja -t clean'?".to_string()
            } else if path == "help" {
                "unknown target 'help', did you mean 'ninja -h'?".to_string()
            } else {
                format!("unknown target '{path}'")
            }
        })
    }
}
