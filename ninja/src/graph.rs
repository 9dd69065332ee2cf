//! The build graph: files, the edges (build statements) that produce them,
//! and pools. It is built once by the loader and read by everything after;
//! what changes during a build (mtimes, dirtiness) lives beside it, in the
//! dirty check's and the scheduler's own tables indexed by the same ids.

use rustc_hash::FxHashMap;

/// Index of a file in [`Graph::files`].
pub type FileId = usize;
/// Index of an edge in [`Graph::edges`].
pub type EdgeId = usize;
/// Index of a pool in [`Graph::pools`].
pub type PoolId = usize;

/// The pool of edges that name none: as deep as `-j`.
pub const DEFAULT_POOL: PoolId = 0;
/// The built-in `console` pool: depth 1, and its command gets the terminal.
pub const CONSOLE_POOL: PoolId = 1;

/// A file: a path the manifest names, and the edges around it.
#[derive(Debug, Default)]
pub struct File {
    pub path: String,
    /// The edge that produces it, if any.
    pub producer: Option<EdgeId>,
    /// The edges that take it as an input (any kind).
    pub consumers: Vec<EdgeId>,
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
    /// The rule's name, for `-t targets rule` and `-t query`.
    pub rule: String,
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
    paths: FxHashMap<String, FileId>,
    pub edges: Vec<Edge>,
    pub pools: Vec<Pool>,
    pub defaults: Vec<FileId>,
}

impl Default for Graph {
    fn default() -> Self {
        Graph {
            files: Vec::new(),
            paths: FxHashMap::default(),
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
            defaults: Vec::new(),
        }
    }
}

impl Graph {
    /// The file at canonical `path`, added if new.
    pub fn file(&mut self, path: &str) -> FileId {
        if let Some(&id) = self.paths.get(path) {
            return id;
        }
        let id = self.files.len();
        self.files.push(File {
            path: path.to_string(),
            ..File::default()
        });
        self.paths.insert(path.to_string(), id);
        id
    }

    pub fn lookup(&self, path: &str) -> Option<FileId> {
        self.paths.get(path).copied()
    }

    pub fn path(&self, file: FileId) -> &str {
        &self.files[file].path
    }

    pub fn pool(&self, name: &str) -> Option<PoolId> {
        self.pools
            .iter()
            .position(|p| p.name == name && !name.is_empty())
    }

    /// Files that some edge produces and no edge consumes.
    /// In edge order, as ninja's `RootNodes`.
    pub fn roots(&self) -> Vec<FileId> {
        self.edges
            .iter()
            .flat_map(|e| e.outs.iter().copied())
            .filter(|&f| self.files[f].consumers.is_empty())
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
                .consumers
                .first()
                .ok_or_else(|| format!("'{path}' has no out edge"))?;
            return Ok(self.edges[*edge].outs[0]);
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
