//! The parser: turns one file's tokens into statements, one at a time, so
//! that the loader evaluates each in the scope as it stands at that point of
//! the file. Only syntax is checked here; what needs the graph or the scopes
//! (unknown rules, duplicate pools) is the loader's, which reports it at a
//! statement's position through [`Parser::error_at`].

use crate::eval::EvalString;
use crate::lexer::{Lexer, ParseError, Token};

/// A `name = value` line.
#[derive(Debug)]
pub struct Binding<'a> {
    pub name: &'a str,
    pub value: EvalString<'a>,
}

/// A `build` statement, unevaluated.
#[derive(Debug, Default)]
pub struct BuildStmt<'a> {
    pub outs: Vec<EvalString<'a>>,
    pub implicit_outs: usize,
    pub rule: &'a str,
    pub ins: Vec<EvalString<'a>>,
    pub implicit_ins: usize,
    pub order_only_ins: usize,
    pub validations: Vec<EvalString<'a>>,
    pub bindings: Vec<Binding<'a>>,
    /// Where the rule name is, for "unknown build rule".
    pub rule_pos: usize,
    /// Where the statement's last line ends, for errors about its paths.
    pub end_pos: usize,
}

/// One statement of a manifest.
#[derive(Debug)]
pub enum Statement<'a> {
    Let(Binding<'a>),
    Rule {
        name: &'a str,
        bindings: Vec<Binding<'a>>,
        pos: usize,
    },
    Pool {
        name: &'a str,
        depth: Option<EvalString<'a>>,
        pos: usize,
        depth_pos: usize,
        /// After the pool's lines, for "expected 'depth =' line".
        end_pos: usize,
    },
    /// A build statement, read into the [`BuildStmt`] passed to
    /// [`Parser::next_statement`].
    Build,
    /// Each path with the position just after it.
    Default {
        paths: Vec<(EvalString<'a>, usize)>,
    },
    Include {
        path: EvalString<'a>,
        new_scope: bool,
        pos: usize,
    },
}

/// The bindings a rule may have; any other is an error, as in ninja.
const RULE_BINDINGS: &[&str] = &[
    "command",
    "depfile",
    "dyndep",
    "description",
    "deps",
    "generator",
    "pool",
    "restat",
    "rspfile",
    "rspfile_content",
    "msvc_deps_prefix",
];

/// A parser over one file.
#[derive(Debug)]
pub struct Parser<'a> {
    lexer: Lexer<'a>,
}

impl<'a> Parser<'a> {
    pub fn new(file: &'a str, input: &'a [u8]) -> Self {
        Parser {
            lexer: Lexer::new(file, input),
        }
    }

    /// An error at byte offset `pos`, formatted as ninja formats it.
    pub fn error_at(&self, pos: usize, message: impl Into<String>) -> ParseError {
        self.lexer.error_at(pos, message)
    }

    /// The next statement, or `None` at the end of the file. A build
    /// statement is read into `build`, replacing what it held.
    pub fn next_statement(
        &mut self,
        build: &mut BuildStmt<'a>,
    ) -> Result<Option<Statement<'a>>, ParseError> {
        loop {
            let token = self.lexer.read_token();
            let pos = self.lexer.position();
            let statement = match token {
                Token::Pool => self.parse_pool(pos)?,
                Token::Build => {
                    self.parse_build(build)?;
                    Statement::Build
                }
                Token::Rule => self.parse_rule()?,
                Token::Default => self.parse_default()?,
                Token::Ident => {
                    self.unread_ident(pos);
                    Statement::Let(self.parse_let()?)
                }
                Token::Include | Token::Subninja => {
                    let path = self.lexer.read_path()?;
                    if path.is_empty() {
                        return Err(self.lexer.error("expected path"));
                    }
                    // ninja reports a file it cannot read here, after the path.
                    let pos = self.lexer.position();
                    self.expect(Token::Newline)?;
                    Statement::Include {
                        path,
                        new_scope: token == Token::Subninja,
                        pos,
                    }
                }
                Token::Error => return Err(self.lexer.error(self.lexer.describe_last_error())),
                Token::Eof => return Ok(None),
                Token::Newline => continue,
                other => {
                    return Err(self.lexer.error(format!("unexpected {}", other.name())));
                }
            };
            return Ok(Some(statement));
        }
    }

    /// Steps back over an identifier just read as a token, so that
    /// `parse_let` reads it as a name.
    fn unread_ident(&mut self, pos: usize) {
        self.lexer.unread_to(pos);
    }

    fn expect(&mut self, want: Token) -> Result<(), ParseError> {
        let got = self.lexer.read_token();
        if got == want {
            return Ok(());
        }
        let hint = if want == Token::Colon {
            " ($ also escapes ':')"
        } else {
            ""
        };
        Err(self.lexer.error(format!(
            "expected {}, got {}{}",
            want.name(),
            got.name(),
            hint
        )))
    }

    fn parse_let(&mut self) -> Result<Binding<'a>, ParseError> {
        let name = self
            .lexer
            .read_ident()
            .ok_or_else(|| self.lexer.error("expected variable name"))?;
        self.expect(Token::Equals)?;
        let value = self.lexer.read_var_value()?;
        Ok(Binding { name, value })
    }

    fn parse_pool(&mut self, pos: usize) -> Result<Statement<'a>, ParseError> {
        let name = self
            .lexer
            .read_ident()
            .ok_or_else(|| self.lexer.error("expected pool name"))?;
        self.expect(Token::Newline)?;
        let mut depth = None;
        let mut depth_pos = self.lexer.position();
        while self.lexer.peek_token(Token::Indent) {
            let binding = self.parse_let()?;
            if binding.name != "depth" {
                return Err(self
                    .lexer
                    .error(format!("unexpected variable '{}'", binding.name)));
            }
            depth_pos = self.lexer.position();
            depth = Some(binding.value);
        }
        Ok(Statement::Pool {
            name,
            depth,
            pos,
            depth_pos,
            end_pos: self.lexer.position(),
        })
    }

    fn parse_rule(&mut self) -> Result<Statement<'a>, ParseError> {
        let name = self
            .lexer
            .read_ident()
            .ok_or_else(|| self.lexer.error("expected rule name"))?;
        self.expect(Token::Newline)?;
        // Where ninja reports a duplicate: the newline after the name.
        let pos = self.lexer.position();
        let mut bindings: Vec<Binding> = Vec::new();
        while self.lexer.peek_token(Token::Indent) {
            let binding = self.parse_let()?;
            if !RULE_BINDINGS.contains(&binding.name) {
                return Err(self
                    .lexer
                    .error(format!("unexpected variable '{}'", binding.name)));
            }
            // A later line replaces an earlier one, as ninja's map does.
            bindings.retain(|b| b.name != binding.name);
            bindings.push(binding);
        }
        let has = |name: &str| {
            bindings
                .iter()
                .any(|b| b.name == name && !b.value.is_empty())
        };
        if has("rspfile") != has("rspfile_content") {
            return Err(self
                .lexer
                .error("rspfile and rspfile_content need to be both specified"));
        }
        if !has("command") {
            return Err(self.lexer.error("expected 'command =' line"));
        }
        Ok(Statement::Rule {
            name,
            bindings,
            pos,
        })
    }

    fn parse_default(&mut self) -> Result<Statement<'a>, ParseError> {
        let mut paths = Vec::new();
        loop {
            let path = self.lexer.read_path()?;
            if path.is_empty() {
                break;
            }
            paths.push((path, self.lexer.position()));
        }
        if paths.is_empty() {
            return Err(self.lexer.error("expected target name"));
        }
        self.expect(Token::Newline)?;
        Ok(Statement::Default { paths })
    }

    /// Paths until one is empty (the next token is not a path).
    fn read_paths(&mut self, into: &mut Vec<EvalString<'a>>) -> Result<usize, ParseError> {
        let before = into.len();
        loop {
            let path = self.lexer.read_path()?;
            if path.is_empty() {
                return Ok(into.len() - before);
            }
            into.push(path);
        }
    }

    fn parse_build(&mut self, build: &mut BuildStmt<'a>) -> Result<(), ParseError> {
        build.outs.clear();
        build.ins.clear();
        build.validations.clear();
        build.bindings.clear();
        build.implicit_outs = 0;
        build.implicit_ins = 0;
        build.order_only_ins = 0;
        self.read_paths(&mut build.outs)?;
        if self.lexer.peek_token(Token::Pipe) {
            build.implicit_outs = self.read_paths(&mut build.outs)?;
        }
        if build.outs.is_empty() {
            return Err(self.lexer.error("expected path"));
        }
        self.expect(Token::Colon)?;
        let rule_start = self.lexer.offset();
        build.rule = self
            .lexer
            .read_ident()
            .ok_or_else(|| self.lexer.error("expected build command name"))?;
        build.rule_pos = rule_start;
        self.read_paths(&mut build.ins)?;
        if self.lexer.peek_token(Token::Pipe) {
            build.implicit_ins = self.read_paths(&mut build.ins)?;
        }
        if self.lexer.peek_token(Token::Pipe2) {
            build.order_only_ins = self.read_paths(&mut build.ins)?;
        }
        if self.lexer.peek_token(Token::PipeAt) {
            self.read_paths(&mut build.validations)?;
        }
        self.expect(Token::Newline)?;
        while self.lexer.peek_token(Token::Indent) {
            let binding = self.parse_let()?;
            build.bindings.push(binding);
        }
        build.end_pos = self.lexer.position();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(input: &str) -> Result<Vec<Statement<'_>>, ParseError> {
        let mut parser = Parser::new("build.ninja", input.as_bytes());
        let mut build = BuildStmt::default();
        let mut out = Vec::new();
        while let Some(s) = parser.next_statement(&mut build)? {
            out.push(s);
        }
        Ok(out)
    }

    fn error(input: &str) -> String {
        parse_all(input).unwrap_err().to_string()
    }

    #[test]
    fn a_build_with_every_kind_of_path() {
        let input = b"build a | b: r c | d || e |@ f\n  x = 1\nbuild g: s\n";
        let mut parser = Parser::new("build.ninja", input);
        let mut b = BuildStmt::default();
        assert!(matches!(
            parser.next_statement(&mut b),
            Ok(Some(Statement::Build))
        ));
        assert_eq!((b.outs.len(), b.implicit_outs), (2, 1));
        assert_eq!(b.rule, "r");
        assert_eq!((b.ins.len(), b.implicit_ins, b.order_only_ins), (3, 1, 1));
        assert_eq!(b.validations.len(), 1);
        assert_eq!(b.bindings[0].name, "x");
        // The next statement replaces it all.
        assert!(matches!(
            parser.next_statement(&mut b),
            Ok(Some(Statement::Build))
        ));
        assert_eq!((b.outs.len(), b.rule, b.ins.len()), (1, "s", 0));
        assert_eq!(
            (b.implicit_outs, b.validations.len(), b.bindings.len()),
            (0, 0, 0)
        );
    }

    #[test]
    fn rules_check_their_bindings() {
        assert_eq!(
            error("rule r\n  command = a\n  foo = b\n"),
            "build.ninja:3: unexpected variable 'foo'\n  foo = b\n         ^ near here"
        );
        assert!(error("rule r\n  description = a\n").contains("expected 'command =' line"));
        assert!(
            error("rule r\n  command = a\n  rspfile = x\n")
                .contains("rspfile and rspfile_content need to be both specified")
        );
    }

    #[test]
    fn errors_as_ninja_words_them() {
        assert_eq!(
            error("build x y\n"),
            "build.ninja:1: expected ':', got newline ($ also escapes ':')\nbuild x y\n         ^ near here"
        );
        assert_eq!(
            error("x\n"),
            "build.ninja:1: expected '=', got newline\nx\n ^ near here"
        );
        assert_eq!(
            error("\tx = 1\n"),
            "build.ninja:1: tabs are not allowed, use spaces\n"
        );
        assert!(error("  x = 1\n").starts_with("build.ninja:1: unexpected indent"));
        assert!(error("default\n").contains("expected target name"));
        assert!(error("pool p\n  size = 1\n").contains("unexpected variable 'size'"));
        assert!(error("x = $!\n").contains("bad $-escape"));
    }

    #[test]
    fn includes_and_lets() {
        let statements = parse_all("a = 1\ninclude x.ninja\nsubninja $a.ninja\n").unwrap();
        assert!(matches!(statements[0], Statement::Let(_)));
        assert!(matches!(
            statements[1],
            Statement::Include {
                new_scope: false,
                ..
            }
        ));
        assert!(matches!(
            statements[2],
            Statement::Include {
                new_scope: true,
                ..
            }
        ));
    }
}
