//! Evaluation: `$`-strings, the file scopes they are evaluated in, rules, and
//! the environment of one build edge, where rule bindings are evaluated late
//! and see `$in`, `$in_newline` and `$out`.
//!
//! Lookup order for a variable of an edge, as in ninja: `in`/`in_newline`/
//! `out`; the edge's own bindings; the rule's binding (evaluated in this same
//! environment); then the enclosing file scopes, innermost first. An
//! undefined variable is empty.

use std::cell::RefCell;

use rustc_hash::FxHashMap;

/// One piece of a `$`-string.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Var(String),
}

/// A string with `$variable` references, as read from the manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EvalString {
    pieces: Vec<Piece>,
}

impl EvalString {
    pub(crate) fn push_text(&mut self, text: &[u8]) {
        let text = String::from_utf8_lossy(text);
        if let Some(Piece::Text(last)) = self.pieces.last_mut() {
            last.push_str(&text);
        } else {
            self.pieces.push(Piece::Text(text.into_owned()));
        }
    }

    pub(crate) fn push_var(&mut self, name: &[u8]) {
        self.pieces
            .push(Piece::Var(String::from_utf8_lossy(name).into_owned()));
    }

    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }

    /// Appends the value in `env` to `out`.
    pub fn evaluate_into(&self, env: &dyn Env, out: &mut String) {
        for piece in &self.pieces {
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
        self.pieces
            .iter()
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
    pub bindings: FxHashMap<String, EvalString>,
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
#[derive(Debug)]
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

/// The environment of a build statement while it is parsed: its bindings so
/// far over the file scope. `$in` and `$out` are not defined there.
#[derive(Debug)]
pub struct BindingEnv<'a> {
    pub bindings: &'a [(String, String)],
    pub parent: ScopeEnv<'a>,
}

impl Env for BindingEnv<'_> {
    fn lookup(&self, var: &str, out: &mut String) {
        match self.bindings.iter().rev().find(|(k, _)| k == var) {
            Some((_, v)) => out.push_str(v),
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

/// The environment of one edge, in which its rule's bindings are evaluated.
#[derive(Debug)]
pub struct EdgeEnv<'a> {
    pub rule: &'a Rule,
    pub bindings: &'a [(String, String)],
    pub parent: ScopeEnv<'a>,
    pub explicit_ins: &'a [String],
    pub explicit_outs: &'a [String],
    pub escape: Escape,
    /// Rule bindings being evaluated, to report a cycle instead of looping.
    stack: RefCell<Vec<String>>,
    /// The first cycle found, if any.
    pub cycle: RefCell<Option<String>>,
}

impl<'a> EdgeEnv<'a> {
    pub fn new(
        rule: &'a Rule,
        bindings: &'a [(String, String)],
        parent: ScopeEnv<'a>,
        explicit_ins: &'a [String],
        explicit_outs: &'a [String],
        escape: Escape,
    ) -> Self {
        EdgeEnv {
            rule,
            bindings,
            parent,
            explicit_ins,
            explicit_outs,
            escape,
            stack: RefCell::new(Vec::new()),
            cycle: RefCell::new(None),
        }
    }

    /// The value of binding `name` of this edge (edge, then rule, then scope).
    pub fn binding(&self, name: &str) -> String {
        let mut out = String::new();
        self.lookup(name, &mut out);
        out
    }

    fn push_paths(&self, paths: &[String], sep: char, out: &mut String) {
        for (i, path) in paths.iter().enumerate() {
            if i > 0 {
                out.push(sep);
            }
            match self.escape {
                Escape::Shell => shell_escape_into(path, out),
                Escape::None => out.push_str(path),
            }
        }
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
        if let Some((_, v)) = self.bindings.iter().rev().find(|(k, _)| k == var) {
            out.push_str(v);
            return;
        }
        if let Some(eval) = self.rule.bindings.get(var) {
            let looping = self.stack.borrow().iter().position(|v| v == var);
            if let Some(start) = looping {
                let mut cycle = self.stack.borrow()[start..].join(" -> ");
                cycle.push_str(" -> ");
                cycle.push_str(var);
                self.cycle.borrow_mut().get_or_insert(cycle);
                return;
            }
            self.stack.borrow_mut().push(var.to_string());
            eval.evaluate_into(self, out);
            self.stack.borrow_mut().pop();
            return;
        }
        self.parent.lookup(var, out);
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

    fn eval(text: &str) -> EvalString {
        crate::lexer::Lexer::new("t", format!("{text}\n").as_bytes())
            .read_var_value()
            .unwrap()
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
        let bindings = vec![("flags".to_string(), "-edge".to_string())];
        let ins = vec!["a b.c".to_string(), "it's".to_string()];
        let outs = vec!["o".to_string()];
        let env = EdgeEnv::new(
            &rule,
            &bindings,
            ScopeEnv {
                scopes: &scopes,
                scope: ROOT,
            },
            &ins,
            &outs,
            Escape::Shell,
        );
        assert_eq!(
            env.binding("command"),
            r"cc -edge 'a b.c' 'it'\''s' -o o [o]"
        );
        assert!(env.cycle.borrow().is_none());
    }

    #[test]
    fn a_cycle_in_rule_bindings_is_reported() {
        let scopes = Scopes::default();
        let mut rule = Rule::default();
        rule.bindings.insert("command".into(), eval("$a"));
        rule.bindings.insert("a".into(), eval("$command"));
        let env = EdgeEnv::new(
            &rule,
            &[],
            ScopeEnv {
                scopes: &scopes,
                scope: ROOT,
            },
            &[],
            &[],
            Escape::Shell,
        );
        env.binding("command");
        assert_eq!(
            env.cycle.borrow().as_deref(),
            Some("command -> a -> command")
        );
    }
}
