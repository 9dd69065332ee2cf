//! The loader: runs the parser's statements against the scopes and builds
//! the [`Graph`]. Paths and build bindings are evaluated as each statement is
//! read; rule bindings (`command`, `description`, ...) once every file is
//! read, as ninja evaluates them late, so they see the final value of a file
//! variable.
//!
//! Paths are evaluated into one reused buffer, canonicalised there and
//! interned: a path is copied once, into the graph's path table, the first
//! time it is named; build bindings go to one buffer for all edges.

use std::cell::RefCell;
use std::fmt;
use std::io;

use xxhash_rust::xxh3::xxh3_64;

use crate::canon::{canonicalize, canonicalize_in_place};
use crate::eval::{
    BindingEnv, EdgeBindings, EdgeEnv, Env, Escape, EvalString, PHONY, ROOT, Rule, RuleId,
    ScopeEnv, ScopeId, Scopes,
};
use crate::graph::{DEFAULT_POOL, Deps, Edge, FileId, Graph, Pool};
use crate::lexer::ParseError;
use crate::parse::{BuildStmt, Parser, Statement};

/// The version of ninja whose manifest language this runner speaks.
pub const NINJA_VERSION: &str = "1.11.1";

/// Why a manifest could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    Parse(ParseError),
    Message(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Parse(e) => e.fmt(f),
            LoadError::Message(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for LoadError {}

impl From<ParseError> for LoadError {
    fn from(e: ParseError) -> Self {
        LoadError::Parse(e)
    }
}

/// Reads a manifest file: the file system, or a map in tests and the fuzzer.
pub trait FileReader {
    fn read(&self, path: &str) -> io::Result<Vec<u8>>;
}

/// The real file system.
#[derive(Debug)]
pub struct DiskReader;

impl FileReader for DiskReader {
    fn read(&self, path: &str) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }
}

/// What a loaded manifest is: the graph and the files it was read from.
#[derive(Debug)]
pub struct Manifest {
    pub graph: Graph,
    /// Every file read (the top one first), for the manifest's own rebuild.
    pub files: Vec<String>,
}

/// What an edge needs until its rule bindings are evaluated.
#[derive(Debug)]
struct Pending {
    rule: RuleId,
    scope: ScopeId,
    /// Its bindings: `start..end` of the loader's `bindings`.
    bindings: (usize, usize),
}

struct Loader<'r> {
    reader: &'r dyn FileReader,
    scopes: Scopes,
    graph: Graph,
    pending: Vec<Pending>,
    bindings: EdgeBindings,
    files: Vec<String>,
    depth: usize,
    /// Where each path and build binding is evaluated.
    scratch: String,
}

/// Loads `path` and everything it includes.
pub fn load(reader: &dyn FileReader, path: &str) -> Result<Manifest, LoadError> {
    let mut loader = Loader {
        reader,
        scopes: Scopes::default(),
        graph: Graph::default(),
        pending: Vec::new(),
        bindings: EdgeBindings::default(),
        files: Vec::new(),
        depth: 0,
        scratch: String::new(),
    };
    let input = reader
        .read(path)
        .map_err(|e| LoadError::Message(format!("loading '{path}': {}", io_message(&e))))?;
    loader.load_file(path, &input, crate::eval::ROOT)?;
    loader.finish()
}

/// An IO error as C's strerror words it, as ninja prints it.
pub fn io_message(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "No such file or directory".into(),
        io::ErrorKind::PermissionDenied => "Permission denied".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

impl Loader<'_> {
    fn load_file(&mut self, name: &str, input: &[u8], scope: ScopeId) -> Result<(), LoadError> {
        // Deep include chains are surely a cycle: refuse them before the stack ends.
        self.depth += 1;
        if self.depth > 64 {
            return Err(LoadError::Message(format!(
                "{name}: include depth over 64 (an include cycle?)"
            )));
        }
        self.files.push(name.to_string());
        let mut parser = Parser::new(name, input);
        let mut build = BuildStmt::default();
        while let Some(statement) = parser.next_statement(&mut build)? {
            self.statement(&parser, statement, &build, scope)?;
        }
        self.depth -= 1;
        Ok(())
    }

    fn statement(
        &mut self,
        parser: &Parser<'_>,
        statement: Statement<'_>,
        build: &BuildStmt<'_>,
        scope: ScopeId,
    ) -> Result<(), LoadError> {
        let env = |scopes| ScopeEnv { scopes, scope };
        match statement {
            Statement::Let(binding) => {
                let value = binding.value.evaluate(&env(&self.scopes));
                if binding.name == "ninja_required_version" {
                    check_version(&value)?;
                }
                self.scopes.set_var(scope, binding.name.to_string(), value);
            }
            Statement::Rule {
                name,
                bindings,
                pos,
            } => {
                if self.scopes.has_own_rule(scope, name) {
                    return Err(parser
                        .error_at(pos, format!("duplicate rule '{name}'"))
                        .into());
                }
                let bindings = bindings
                    .into_iter()
                    .map(|b| (b.name.to_string(), b.value.into_owned()))
                    .collect();
                self.graph.add_rule_name(name, scope == ROOT);
                let name = name.to_string();
                self.scopes.add_rule(scope, Rule { name, bindings });
            }
            Statement::Pool {
                name,
                depth,
                pos,
                depth_pos,
                end_pos,
            } => {
                if self.graph.pool(name).is_some() {
                    return Err(parser
                        .error_at(pos, format!("duplicate pool '{name}'"))
                        .into());
                }
                let Some(depth) = depth else {
                    return Err(parser.error_at(end_pos, "expected 'depth =' line").into());
                };
                let depth = depth.evaluate(&env(&self.scopes));
                let depth = parse_depth(&depth)
                    .ok_or_else(|| parser.error_at(depth_pos, "invalid pool depth"))?;
                self.graph.pools.push(Pool {
                    name: name.to_string(),
                    depth,
                });
            }
            Statement::Build => self.build(parser, build, scope)?,
            Statement::Default { paths } => {
                for (path, pos) in paths {
                    let path = canonicalize(&path.evaluate(&env(&self.scopes)));
                    if path.is_empty() {
                        return Err(parser.error_at(pos, "empty path").into());
                    }
                    let file = self
                        .graph
                        .lookup(&path)
                        .ok_or_else(|| parser.error_at(pos, format!("unknown target '{path}'")))?;
                    self.graph.defaults.push(file);
                }
            }
            Statement::Include {
                path,
                new_scope,
                pos,
            } => {
                let path = path.evaluate(&env(&self.scopes));
                let input = self.reader.read(&path).map_err(|e| {
                    parser.error_at(pos, format!("loading '{path}': {}", io_message(&e)))
                })?;
                let scope = if new_scope {
                    self.scopes.child(scope)
                } else {
                    scope
                };
                self.load_file(&path, &input, scope)?;
            }
        }
        Ok(())
    }

    fn build(
        &mut self,
        parser: &Parser<'_>,
        build: &BuildStmt<'_>,
        scope: ScopeId,
    ) -> Result<(), LoadError> {
        let rule = self.scopes.rule(scope, build.rule).ok_or_else(|| {
            parser.error_at(
                build.rule_pos,
                format!("unknown build rule '{}'", build.rule),
            )
        })?;
        let parent = ScopeEnv {
            scopes: &self.scopes,
            scope,
        };
        // Build bindings see the file scope and the bindings above them.
        let start = self.bindings.len();
        for binding in &build.bindings {
            self.scratch.clear();
            let env = BindingEnv {
                bindings: &self.bindings,
                start,
                end: self.bindings.len(),
                parent,
            };
            binding.value.evaluate_into(&env, &mut self.scratch);
            self.bindings.push(binding.name, &self.scratch);
        }
        let env = BindingEnv {
            bindings: &self.bindings,
            start,
            end: self.bindings.len(),
            parent,
        };
        let end = build.end_pos;
        let mut intern = |list: &[EvalString<'_>]| -> Result<Vec<FileId>, ParseError> {
            let mut ids = Vec::with_capacity(list.len());
            for path in list {
                self.scratch.clear();
                path.evaluate_into(&env, &mut self.scratch);
                canonicalize_in_place(&mut self.scratch);
                if self.scratch.is_empty() {
                    return Err(parser.error_at(end, "empty path"));
                }
                ids.push(self.graph.file(&self.scratch));
            }
            Ok(ids)
        };
        let outs = intern(&build.outs)?;
        let ins = intern(&build.ins)?;
        let validations = intern(&build.validations)?;

        let explicit_outs = outs.len() - build.implicit_outs;
        let explicit_ins = ins.len() - build.implicit_ins - build.order_only_ins;
        // The pool is known now, as in ninja, so that an unknown one is
        // reported at its statement.
        let cycle = RefCell::new(None);
        let pool_name = EdgeEnv::new(
            &self.scopes.rules[rule],
            env,
            &self.graph,
            (&ins[..explicit_ins], &outs[..explicit_outs]),
            Escape::None,
            &cycle,
        )
        .binding("pool");
        let pool = if pool_name.is_empty() {
            DEFAULT_POOL
        } else {
            self.graph
                .pool(&pool_name)
                .ok_or_else(|| parser.error_at(end, format!("unknown pool name '{pool_name}'")))?
        };

        let id = self.graph.edges.len();
        for &file in &outs {
            if self.graph.files[file].producer.is_some() {
                let path = self.graph.path(file);
                return Err(parser
                    .error_at(end, format!("multiple rules generate {path}"))
                    .into());
            }
            self.graph.files[file].producer = Some(id);
        }
        for &file in &ins {
            self.graph.files[file].first_consumer.get_or_insert(id);
        }
        self.graph.edges.push(Edge {
            ins,
            explicit_ins,
            order_only_ins: build.order_only_ins,
            outs,
            explicit_outs,
            validations,
            rule,
            pool,
            ..Edge::default()
        });
        self.pending.push(Pending {
            rule,
            scope,
            bindings: (start, self.bindings.len()),
        });
        Ok(())
    }

    /// Evaluates every edge's rule bindings, now that all files are read.
    fn finish(mut self) -> Result<Manifest, LoadError> {
        let cycle = RefCell::new(None);
        // The bindings that only need to be tested, evaluated here.
        let mut flag = String::new();
        for (id, pending) in self.pending.iter().enumerate() {
            if pending.rule == PHONY {
                continue;
            }
            let e = &self.graph.edges[id];
            let env = |escape| {
                EdgeEnv::new(
                    &self.scopes.rules[pending.rule],
                    BindingEnv {
                        bindings: &self.bindings,
                        start: pending.bindings.0,
                        end: pending.bindings.1,
                        parent: ScopeEnv {
                            scopes: &self.scopes,
                            scope: pending.scope,
                        },
                    },
                    &self.graph,
                    (e.explicit_ins(), e.explicit_outs()),
                    escape,
                    &cycle,
                )
            };
            let shell = env(Escape::Shell);
            let command = shell.binding("command");
            let description = shell.binding("description");
            let rspfile_content = shell.binding("rspfile_content");
            let gcc = value_in(&shell, "deps", &mut flag) == "gcc";
            let restat = !value_in(&shell, "restat", &mut flag).is_empty();
            let generator = !value_in(&shell, "generator", &mut flag).is_empty();
            if let Some(cycle) = cycle.borrow().as_ref() {
                return Err(LoadError::Message(format!(
                    "cycle in rule variables: {cycle}"
                )));
            }
            let plain = env(Escape::None);
            let depfile = plain.binding("depfile");
            let rspfile = plain.binding("rspfile");
            let edge = &mut self.graph.edges[id];
            edge.deps = if gcc {
                Some(Deps::Gcc)
            } else if !depfile.is_empty() {
                // The runner only runs on POSIX: msvc's /showIncludes does not
                // occur, so such an edge is treated as ninja treats no deps.
                Some(Deps::Depfile)
            } else {
                None
            };
            edge.hash = command_hash(&command, &rspfile_content);
            edge.command = Some(command);
            edge.description = description;
            edge.rspfile_content = rspfile_content;
            edge.restat = restat;
            edge.generator = generator;
            edge.depfile = depfile;
            edge.rspfile = rspfile;
        }
        Ok(Manifest {
            graph: self.graph,
            files: self.files,
        })
    }
}

/// The value of binding `name` in `env`, evaluated into `buf`.
fn value_in<'b>(env: &EdgeEnv<'_>, name: &str, buf: &'b mut String) -> &'b str {
    buf.clear();
    env.lookup(name, buf);
    buf
}

/// The hash of what the build log compares: the command, and the rspfile
/// content when there is one (as ninja's `EvaluateCommand(true)`).
pub fn command_hash(command: &str, rspfile_content: &str) -> u64 {
    if rspfile_content.is_empty() {
        xxh3_64(command.as_bytes())
    } else {
        xxh3_64(format!("{command};rspfile={rspfile_content}").as_bytes())
    }
}

/// A depth as ninja reads it, with C's `atol`: leading digits, 0 for none;
/// only a negative depth is refused.
fn parse_depth(value: &str) -> Option<usize> {
    let value = value.trim_start();
    let (negative, digits) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value.strip_prefix('+').unwrap_or(value)),
    };
    let digits: String = digits.chars().take_while(char::is_ascii_digit).collect();
    let depth = digits.parse::<usize>().unwrap_or(0);
    (!negative || depth == 0).then_some(depth)
}

fn check_version(required: &str) -> Result<(), LoadError> {
    let parse = |v: &str| -> (u32, u32) {
        let mut parts = v.split('.').map(|p| {
            p.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap_or(0)
        });
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
    };
    if parse(required) > parse(NINJA_VERSION) {
        return Err(LoadError::Message(format!(
            "ninja version ({NINJA_VERSION}) incompatible with build file ninja_required_version version ({required})."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Files(HashMap<&'static str, &'static str>);

    impl FileReader for Files {
        fn read(&self, path: &str) -> io::Result<Vec<u8>> {
            self.0
                .get(path)
                .map(|s| s.as_bytes().to_vec())
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
        }
    }

    fn load_files(files: &[(&'static str, &'static str)]) -> Result<Manifest, LoadError> {
        load(&Files(files.iter().copied().collect()), "build.ninja")
    }

    fn commands(m: &Manifest) -> Vec<&str> {
        m.graph
            .edges
            .iter()
            .filter_map(|e| e.command.as_deref())
            .collect()
    }

    #[test]
    fn rule_bindings_are_late_and_see_in_and_out() {
        let m = load_files(&[(
            "build.ninja",
            "rule r\n  command = c $x $in > $out\nx = 1\nbuild ./a/../o: r i1 i2 | imp || oo\nx = 2\n",
        )])
        .unwrap();
        assert_eq!(commands(&m), ["c 2 i1 i2 > o"]);
        let e = &m.graph.edges[0];
        assert_eq!(e.dirtying_ins().len(), 3);
        assert_eq!(e.order_only().len(), 1);
    }

    #[test]
    fn build_bindings_shadow_rule_and_file() {
        let m = load_files(&[(
            "build.ninja",
            "x = file\nrule r\n  command = $x $y\n  y = rule\nbuild o: r\n  x = edge $x\n",
        )]);
        // `y` is not a rule binding ninja allows: the parser refuses it.
        assert!(
            m.unwrap_err()
                .to_string()
                .contains("unexpected variable 'y'")
        );
        let m = load_files(&[(
            "build.ninja",
            "x = file\nrule r\n  command = $x\nbuild o: r\n  x = edge $x\nbuild p: r\n",
        )])
        .unwrap();
        assert_eq!(commands(&m), ["edge file", "file"]);
    }

    #[test]
    fn include_shares_and_subninja_nests_scopes() {
        let m = load_files(&[
            (
                "build.ninja",
                "x = top\nrule r\n  command = $x\ninclude inc.ninja\nsubninja sub.ninja\nbuild t: r\n",
            ),
            ("inc.ninja", "x = inc\n"),
            ("sub.ninja", "x = sub\nbuild s: r\n"),
        ])
        .unwrap();
        assert_eq!(commands(&m), ["sub", "inc"]);
        assert_eq!(m.files, ["build.ninja", "inc.ninja", "sub.ninja"]);
    }

    #[test]
    fn semantic_errors_name_their_statement() {
        let err = load_files(&[("build.ninja", "rule r\n  command = x\nbuild o: q\n")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "build.ninja:3: unknown build rule 'q'\nbuild o: q\n         ^ near here"
        );
        for (input, message) in [
            (
                "rule r\n  command = x\nbuild o: r\nbuild o: r\n",
                "multiple rules generate o",
            ),
            (
                "rule r\n  command = x\nrule r\n  command = y\n",
                "duplicate rule 'r'",
            ),
            ("pool p\n  depth = -1\n", "invalid pool depth"),
            ("pool p\n  depth = x\n", ""),
            ("pool p\n", "expected 'depth =' line"),
            (
                "rule r\n  command = x\n  pool = nope\nbuild o: r\n",
                "unknown pool name 'nope'",
            ),
            ("default nope\n", "unknown target 'nope'"),
            (
                "include nope.ninja\n",
                "loading 'nope.ninja': No such file or directory",
            ),
            ("ninja_required_version = 9.0\n", "incompatible"),
            (
                "rule r\n  command = $a\n  description = $command\nbuild o: r\n  a = $a\n",
                "",
            ),
        ] {
            let result = load_files(&[("build.ninja", input)]);
            if message.is_empty() {
                assert!(result.is_ok(), "{input}");
            } else {
                let err = result.unwrap_err().to_string();
                assert!(err.contains(message), "{input}: {err}");
            }
        }
    }

    #[test]
    fn a_cycle_in_rule_variables_is_an_error() {
        let err = load_files(&[(
            "build.ninja",
            "rule r\n  command = $description\n  description = $command\nbuild o: r\n",
        )])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cycle in rule variables: command -> description -> command"
        );
    }
}
