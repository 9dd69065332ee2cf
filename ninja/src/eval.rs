//! Evaluation: `$`-strings, the file scopes they are evaluated in, rules, and
//! the environment of one build edge, where rule bindings are evaluated late
//! and see `$in`, `$in_newline` and `$out`.
//!
//! Lookup order for a variable of an edge, as in ninja: `in`/`in_newline`/
//! `out`; the edge's own bindings; the rule's binding (evaluated in this same
//! environment); then the enclosing file scopes, innermost first. An
//! undefined variable is empty.
//!
//! Nothing here allocates per edge: `$`-strings borrow the manifest's bytes
//! while it is read, edges' own bindings share one buffer
//! ([`EdgeBindings`]), `$in`/`$out` are read from the graph by file id, and
//! values are appended to a buffer the caller passes.

use std::borrow::Cow;
use std::cell::RefCell;

use rustc_hash::FxHashMap;

use crate::graph::{FileId, Graph};

/// One piece of a `$`-string. While a file is read, both kinds borrow its
/// bytes; a rule keeps its bindings owned ([`EvalString::into_owned`]).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece<'a> {
    Text(Cow<'a, str>),
    Var(Cow<'a, str>),
}

/// A string with `$variable` references, as read from the manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EvalString<'a> {
    /// The first piece, inline: most strings (paths above all) are a
    /// single piece of text, which then costs no allocation to read.
    first: Option<Piece<'a>>,
    rest: Vec<Piece<'a>>,
}

impl<'a> EvalString<'a> {
    pub(crate) fn push_text(&mut self, text: Cow<'a, str>) {
        match self.rest.last_mut().or(self.first.as_mut()) {
            Some(Piece::Text(last)) => last.to_mut().push_str(&text),
            _ => self.push(Piece::Text(text)),
        }
    }

    pub(crate) fn push_var(&mut self, name: &'a [u8]) {
        self.push(Piece::Var(String::from_utf8_lossy(name)));
    }

    fn push(&mut self, piece: Piece<'a>) {
        if self.first.is_none() {
            self.first = Some(piece);
        } else {
            self.rest.push(piece);
        }
    }

    fn pieces(&self) -> impl Iterator<Item = &Piece<'a>> {
        self.first.iter().chain(&self.rest)
    }

    pub fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// The same string, borrowing nothing: for what outlives the file.
    pub fn into_owned(self) -> EvalString<'static> {
        let own = |piece: Piece<'a>| match piece {
            Piece::Text(t) => Piece::Text(Cow::Owned(t.into_owned())),
            Piece::Var(v) => Piece::Var(Cow::Owned(v.into_owned())),
        };
        EvalString {
            first: self.first.map(own),
            rest: self.rest.into_iter().map(own).collect(),
        }
    }

    /// Appends the value in `env` to `out`.
    pub fn evaluate_into(&self, env: &dyn Env, out: &mut String) {
        for piece in self.pieces() {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Var(name) => env.lookup(name, out),
            }
        }
    }

    pub fn evaluate(&self, env: &dyn Env) -> String {
        let mut out = String::new();
        self.evaluate_into(env, &mut out);
        out
    }

    /// A plain text without variables, for tests: `[text][$var]`.
    #[cfg(test)]
    pub(crate) fn to_debug(&self) -> String {
        self.pieces()
            .map(|p| match p {
                Piece::Text(t) => format!("[{t}]"),
                Piece::Var(v) => format!("[${v}]"),
            })
            .collect()
    }
}

/// Something that gives variables their values.
pub trait Env {
    /// Appends the value of `var` to `out` (nothing if undefined).
    fn lookup(&self, var: &str, out: &mut String);
}

/// Index of a file scope in [`Scopes`].
pub type ScopeId = usize;
/// Index of a rule in [`Scopes::rules`].
pub type RuleId = usize;

/// A rule: its name and unevaluated bindings.
#[derive(Debug, Default)]
pub struct Rule {
    pub name: String,
    pub bindings: FxHashMap<String, EvalString<'static>>,
}

/// The variables and rules of one file scope (a file and what it `include`s;
/// a `subninja` opens a child scope).
#[derive(Debug, Default)]
pub struct Scope {
    vars: FxHashMap<String, String>,
    rules: FxHashMap<String, RuleId>,
    parent: Option<ScopeId>,
}

/// All file scopes and rules of a manifest.
#[derive(Debug)]
pub struct Scopes {
    scopes: Vec<Scope>,
    pub rules: Vec<Rule>,
}

/// The built-in `phony` rule's id.
pub const PHONY: RuleId = 0;

impl Default for Scopes {
    fn default() -> Self {
        let mut scopes = Scopes {
            scopes: vec![Scope::default()],
            rules: Vec::new(),
        };
        scopes.add_rule(
            ROOT,
            Rule {
                name: "phony".into(),
                bindings: FxHashMap::default(),
            },
        );
        scopes
    }
}

/// The top file's scope.
pub const ROOT: ScopeId = 0;

impl Scopes {
    pub fn child(&mut self, parent: ScopeId) -> ScopeId {
        self.scopes.push(Scope {
            parent: Some(parent),
            ..Scope::default()
        });
        self.scopes.len() - 1
    }

    pub fn set_var(&mut self, scope: ScopeId, name: String, value: String) {
        self.scopes[scope].vars.insert(name, value);
    }

    /// The value of `name` seen from `scope`, walking out to the root.
    pub fn var(&self, mut scope: ScopeId, name: &str) -> Option<&str> {
        loop {
            let s = &self.scopes[scope];
            if let Some(v) = s.vars.get(name) {
                return Some(v);
            }
            scope = s.parent?;
        }
    }

    /// Whether `scope` itself (not its parents) defines rule `name`.
    pub fn has_own_rule(&self, scope: ScopeId, name: &str) -> bool {
        self.scopes[scope].rules.contains_key(name)
    }

    pub fn add_rule(&mut self, scope: ScopeId, rule: Rule) {
        let id = self.rules.len();
        self.scopes[scope].rules.insert(rule.name.clone(), id);
        self.rules.push(rule);
    }

    pub fn rule(&self, mut scope: ScopeId, name: &str) -> Option<RuleId> {
        loop {
            let s = &self.scopes[scope];
            if let Some(&id) = s.rules.get(name) {
                return Some(id);
            }
            scope = s.parent?;
        }
    }
}

/// A file scope as an [`Env`].
#[derive(Clone, Copy, Debug)]
pub struct ScopeEnv<'a> {
    pub scopes: &'a Scopes,
    pub scope: ScopeId,
}

impl Env for ScopeEnv<'_> {
    fn lookup(&self, var: &str, out: &mut String) {
        if let Some(v) = self.scopes.var(self.scope, var) {
            out.push_str(v);
        }
    }
}

/// The evaluated bindings of every build statement, in one buffer: an
/// edge's are a range of them, so that an edge costs no allocation for its
/// bindings, however many it has.
#[derive(Debug, Default)]
pub struct EdgeBindings {
    text: String,
    /// Per binding, where its name and then its value end in `text`; its
    /// name starts where the binding before it ends.
    ends: Vec<(usize, usize)>,
}

impl EdgeBindings {
    /// How many bindings there are: the end of the next edge's range.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn push(&mut self, name: &str, value: &str) {
        self.text.push_str(name);
        let name_end = self.text.len();
        self.text.push_str(value);
        self.ends.push((name_end, self.text.len()));
    }

    /// The value of the last binding called `name` among bindings
    /// `start..end` (the last one wins, as in ninja's map).
    fn get(&self, start: usize, end: usize, name: &str) -> Option<&str> {
        (start..end).rev().find_map(|i| {
            let name_start = if i == 0 { 0 } else { self.ends[i - 1].1 };
            let (name_end, value_end) = self.ends[i];
            (&self.text[name_start..name_end] == name).then(|| &self.text[name_end..value_end])
        })
    }
}

/// The environment of a build statement: its own bindings (those read so
/// far, while it is parsed) over the file scope. `$in` and `$out` are not
/// defined here.
#[derive(Clone, Copy, Debug)]
pub struct BindingEnv<'a> {
    pub bindings: &'a EdgeBindings,
    /// The statement's bindings are `bindings` `start..end`.
    pub start: usize,
    pub end: usize,
    pub parent: ScopeEnv<'a>,
}

impl Env for BindingEnv<'_> {
    fn lookup(&self, var: &str, out: &mut String) {
        match self.bindings.get(self.start, self.end, var) {
            Some(v) => out.push_str(v),
            None => self.parent.lookup(var, out),
        }
    }
}

/// Whether `$in` and `$out` are shell-quoted: yes for commands and
/// descriptions, no for file names (`depfile`, `rspfile`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escape {
    Shell,
    None,
}

/// A rule binding being evaluated, and the one whose evaluation needed it:
/// the chain a cycle is reported along.
#[derive(Debug)]
struct Frame<'a> {
    name: &'a str,
    outer: Option<&'a Frame<'a>>,
}

/// The environment of one edge, in which its rule's bindings are evaluated.
#[derive(Clone, Copy, Debug)]
pub struct EdgeEnv<'a> {
    rule: &'a Rule,
    edge: BindingEnv<'a>,
    graph: &'a Graph,
    explicit_ins: &'a [FileId],
    explicit_outs: &'a [FileId],
    escape: Escape,
    /// The rule bindings being evaluated, innermost first: a chain on the
    /// stack, so that evaluating costs no allocation.
    active: Option<&'a Frame<'a>>,
    /// The first cycle found, if any.
    cycle: &'a RefCell<Option<String>>,
}

impl<'a> EdgeEnv<'a> {
    /// The environment of an edge with `edge`'s bindings and these explicit
    /// inputs and outputs (whose paths are in `graph`); a cycle among the
    /// rule's bindings is recorded in `cycle`.
    pub fn new(
        rule: &'a Rule,
        edge: BindingEnv<'a>,
        graph: &'a Graph,
        (explicit_ins, explicit_outs): (&'a [FileId], &'a [FileId]),
        escape: Escape,
        cycle: &'a RefCell<Option<String>>,
    ) -> Self {
        EdgeEnv {
            rule,
            edge,
            graph,
            explicit_ins,
            explicit_outs,
            escape,
            active: None,
            cycle,
        }
    }

    /// The value of binding `name` of this edge (edge, then rule, then scope).
    pub fn binding(&self, name: &str) -> String {
        let mut out = String::new();
        self.lookup(name, &mut out);
        out
    }

    fn push_paths(&self, paths: &[FileId], sep: char, out: &mut String) {
        for (i, &file) in paths.iter().enumerate() {
            if i > 0 {
                out.push(sep);
            }
            let path = self.graph.path(file);
            match self.escape {
                Escape::Shell => shell_escape_into(path, out),
                Escape::None => out.push_str(path),
            }
        }
    }

    fn report_cycle(&self, var: &str) {
        let mut chain = vec![var];
        let mut frame = self.active;
        while let Some(f) = frame {
            chain.push(f.name);
            if f.name == var {
                break;
            }
            frame = f.outer;
        }
        chain.reverse();
        self.cycle.borrow_mut().get_or_insert(chain.join(" -> "));
    }
}

impl Env for EdgeEnv<'_> {
    fn lookup(&self, var: &str, out: &mut String) {
        match var {
            "in" => return self.push_paths(self.explicit_ins, ' ', out),
            "in_newline" => return self.push_paths(self.explicit_ins, '\n', out),
            "out" => return self.push_paths(self.explicit_outs, ' ', out),
            _ => {}
        }
        if let Some(v) = self.edge.bindings.get(self.edge.start, self.edge.end, var) {
            out.push_str(v);
            return;
        }
        if let Some((name, eval)) = self.rule.bindings.get_key_value(var) {
            let mut frame = self.active;
            while let Some(f) = frame {
                if f.name == var {
                    return self.report_cycle(var);
                }
                frame = f.outer;
            }
            let frame = Frame {
                name,
                outer: self.active,
            };
            let inner = EdgeEnv {
                active: Some(&frame),
                ..*self
            };
            eval.evaluate_into(&inner, out);
            return;
        }
        self.edge.parent.lookup(var, out);
    }
}

/// Appends `path` quoted for `/bin/sh` where it needs it, as ninja does.
pub fn shell_escape_into(path: &str, out: &mut String) {
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-' | '.' | '/');
    if path.chars().all(safe) {
        out.push_str(path);
        return;
    }
    out.push('\'');
    for c in path.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(text: &str) -> EvalString<'static> {
        let input = format!("{text}\n");
        crate::lexer::Lexer::new("t", input.as_bytes())
            .read_var_value()
            .unwrap()
            .into_owned()
    }

    #[test]
    fn scopes_nest_and_undefined_is_empty() {
        let mut scopes = Scopes::default();
        scopes.set_var(ROOT, "a".into(), "1".into());
        let child = scopes.child(ROOT);
        scopes.set_var(child, "b".into(), "2".into());
        let env = ScopeEnv {
            scopes: &scopes,
            scope: child,
        };
        assert_eq!(eval("$a$b$c.").evaluate(&env), "12.");
    }

    #[test]
    fn edge_lookup_order_and_escaping() {
        let mut scopes = Scopes::default();
        scopes.set_var(ROOT, "flags".into(), "-file".into());
        let mut rule = Rule::default();
        rule.bindings
            .insert("command".into(), eval("cc $flags $in -o $out $extra"));
        rule.bindings.insert("extra".into(), eval("[$out]"));
        let mut bindings = EdgeBindings::default();
        bindings.push("other", "x");
        bindings.push("flags", "-shadowed");
        bindings.push("flags", "-edge");
        let mut graph = Graph::default();
        let ins = [graph.file("a b.c"), graph.file("it's")];
        let outs = [graph.file("o")];
        let cycle = RefCell::new(None);
        let edge = BindingEnv {
            bindings: &bindings,
            start: 1,
            end: 3,
            parent: ScopeEnv {
                scopes: &scopes,
                scope: ROOT,
            },
        };
        let env = EdgeEnv::new(&rule, edge, &graph, (&ins, &outs), Escape::Shell, &cycle);
        assert_eq!(
            env.binding("command"),
            r"cc -edge 'a b.c' 'it'\''s' -o o [o]"
        );
        // Bindings outside the edge's range are not its own.
        assert_eq!(env.binding("other"), "");
        assert!(cycle.borrow().is_none());
    }

    #[test]
    fn a_cycle_in_rule_bindings_is_reported() {
        let scopes = Scopes::default();
        let mut rule = Rule::default();
        rule.bindings.insert("command".into(), eval("$a"));
        rule.bindings.insert("a".into(), eval("$b"));
        rule.bindings.insert("b".into(), eval("$a"));
        let bindings = EdgeBindings::default();
        let graph = Graph::default();
        let cycle = RefCell::new(None);
        let edge = BindingEnv {
            bindings: &bindings,
            start: 0,
            end: 0,
            parent: ScopeEnv {
                scopes: &scopes,
                scope: ROOT,
            },
        };
        let env = EdgeEnv::new(&rule, edge, &graph, (&[], &[]), Escape::Shell, &cycle);
        env.binding("command");
        assert_eq!(cycle.borrow().as_deref(), Some("a -> b -> a"));
    }
}
