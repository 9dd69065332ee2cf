//! The lexer of the manifest language: tokens, identifiers and `$`-escaped
//! strings, and errors that name the file, line and column as ninja's do.
//!
//! It works on bytes and never fails on bad input with anything but a
//! [`ParseError`]: the input is padded with no sentinel, every read is bounds
//! checked.

use std::borrow::Cow;
use std::fmt;

use crate::eval::EvalString;

/// A lexical token, as ninja's lexer names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token {
    Error,
    Build,
    Colon,
    Default,
    Equals,
    Ident,
    Include,
    Indent,
    Newline,
    Pipe,
    Pipe2,
    PipeAt,
    Pool,
    Rule,
    Subninja,
    Eof,
}

impl Token {
    /// The token's name in error messages.
    pub fn name(self) -> &'static str {
        match self {
            Token::Error => "lexing error",
            Token::Build => "'build'",
            Token::Colon => "':'",
            Token::Default => "'default'",
            Token::Equals => "'='",
            Token::Ident => "identifier",
            Token::Include => "'include'",
            Token::Indent => "indent",
            Token::Newline => "newline",
            Token::Pipe => "'|'",
            Token::Pipe2 => "'||'",
            Token::PipeAt => "'|@'",
            Token::Pool => "'pool'",
            Token::Rule => "'rule'",
            Token::Subninja => "'subninja'",
            Token::Eof => "eof",
        }
    }
}

/// A parse error: where and what, printed as ninja prints it
/// (`file:line: message`, the line, and a caret under the column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub file: String,
    pub line: usize,
    /// Zero-based byte column of the offending token.
    pub col: usize,
    pub message: String,
    /// The offending line (up to 72 bytes), for the caret display.
    pub context: String,
    pub truncated: bool,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As ninja: the message ends in a newline, then the context, only
        // for a column inside the part of the line shown.
        writeln!(f, "{}:{}: {}", self.file, self.line, self.message)?;
        if self.col > 0 && self.col < CONTEXT_COLUMNS {
            let dots = if self.truncated { "..." } else { "" };
            write!(
                f,
                "{}{}\n{}^ near here",
                self.context,
                dots,
                " ".repeat(self.col)
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

const CONTEXT_COLUMNS: usize = 72;

fn is_varname(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.'
}

fn is_simple_varname(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// A lexer over one file's bytes.
#[derive(Debug)]
pub struct Lexer<'a> {
    file: &'a str,
    input: &'a [u8],
    /// The input as text, when it is UTF-8 (checked once, here): then a
    /// run of text is sliced from it rather than validated again.
    text: Option<&'a str>,
    ofs: usize,
    last_token: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(file: &'a str, input: &'a [u8]) -> Self {
        Lexer {
            file,
            input,
            text: std::str::from_utf8(input).ok(),
            ofs: 0,
            last_token: 0,
        }
    }

    fn at(&self, i: usize) -> u8 {
        // A NUL stands for the end, as in ninja's NUL-terminated buffer.
        self.input.get(i).copied().unwrap_or(0)
    }

    /// The offset of the last token read, for errors raised later.
    pub fn position(&self) -> usize {
        self.last_token
    }

    /// The offset where the next token starts.
    pub fn offset(&self) -> usize {
        self.ofs
    }

    /// Steps back to `pos`, a token start read before.
    pub fn unread_to(&mut self, pos: usize) {
        self.ofs = pos;
        self.last_token = pos;
    }

    /// An error at the last token.
    pub fn error(&self, message: impl Into<String>) -> ParseError {
        self.error_at(self.last_token, message)
    }

    /// An error at byte offset `pos` of this file.
    pub fn error_at(&self, pos: usize, message: impl Into<String>) -> ParseError {
        let pos = pos.min(self.input.len());
        let before = &self.input[..pos];
        let line = 1 + before.iter().filter(|&&c| c == b'\n').count();
        let line_start = before
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |i| i + 1);
        let rest = &self.input[line_start..];
        let end = rest
            .iter()
            .position(|&c| c == b'\n' || c == 0)
            .unwrap_or(rest.len());
        let shown = end.min(CONTEXT_COLUMNS);
        ParseError {
            file: self.file.to_string(),
            line,
            col: pos - line_start,
            message: message.into(),
            context: String::from_utf8_lossy(&rest[..shown]).into_owned(),
            truncated: end >= CONTEXT_COLUMNS,
        }
    }

    /// What the last token was, for "unexpected" errors: ninja's hints.
    pub fn describe_last_error(&self) -> String {
        if self.at(self.last_token) == b'\t' {
            "tabs are not allowed, use spaces".to_string()
        } else {
            "lexing error".to_string()
        }
    }

    /// Reads the next token.
    pub fn read_token(&mut self) -> Token {
        let mut p = self.ofs;
        let (start, token) = loop {
            let start = p;
            // Comments: spaces, then '#' to the end of the line.
            let mut q = p;
            while self.at(q) == b' ' {
                q += 1;
            }
            if self.at(q) == b'#' {
                while q < self.input.len() && self.input[q] != b'\n' {
                    q += 1;
                }
                if q < self.input.len() {
                    p = q + 1;
                    continue;
                }
                // ninja's comment rule needs the newline: without one the
                // spaces lex as an indent and the '#' as an error, as there.
                q = p;
                while self.at(q) == b' ' {
                    q += 1;
                }
            }
            if self.at(q) == b'\r' && self.at(q + 1) == b'\n' {
                p = q + 2;
                break (start, Token::Newline);
            }
            if self.at(q) == b'\n' {
                p = q + 1;
                break (start, Token::Newline);
            }
            if q > p {
                p = q;
                break (start, Token::Indent);
            }
            let c = self.at(p);
            if is_varname(c) {
                let mut e = p;
                while is_varname(self.at(e)) {
                    e += 1;
                }
                let word = &self.input[p..e];
                p = e;
                let token = match word {
                    b"build" => Token::Build,
                    b"pool" => Token::Pool,
                    b"rule" => Token::Rule,
                    b"default" => Token::Default,
                    b"include" => Token::Include,
                    b"subninja" => Token::Subninja,
                    _ => Token::Ident,
                };
                break (start, token);
            }
            let token = match c {
                b'=' => Token::Equals,
                b':' => Token::Colon,
                b'|' if self.at(p + 1) == b'@' => {
                    p += 1;
                    Token::PipeAt
                }
                b'|' if self.at(p + 1) == b'|' => {
                    p += 1;
                    Token::Pipe2
                }
                b'|' => Token::Pipe,
                0 if p >= self.input.len() => {
                    break (start, Token::Eof);
                }
                _ => Token::Error,
            };
            p += 1;
            break (start, token);
        };
        self.last_token = start;
        self.ofs = p;
        if token != Token::Newline && token != Token::Eof {
            self.eat_whitespace();
        }
        token
    }

    /// Reads a token if it is `token`; otherwise leaves the input as it was.
    pub fn peek_token(&mut self, token: Token) -> bool {
        if self.read_token() == token {
            return true;
        }
        // As ninja's UnreadToken: back to the token's start, which stays the
        // position later errors point at.
        self.ofs = self.last_token;
        false
    }

    fn eat_whitespace(&mut self) {
        loop {
            match (
                self.at(self.ofs),
                self.at(self.ofs + 1),
                self.at(self.ofs + 2),
            ) {
                (b' ', _, _) => self.ofs += 1,
                (b'$', b'\n', _) => self.ofs += 2,
                (b'$', b'\r', b'\n') => self.ofs += 3,
                _ => return,
            }
        }
    }

    /// Reads an identifier (a variable, rule or pool name).
    pub fn read_ident(&mut self) -> Option<&'a str> {
        let start = self.ofs;
        let mut p = start;
        while is_varname(self.at(p)) {
            p += 1;
        }
        self.last_token = start;
        if p == start {
            return None;
        }
        self.ofs = p;
        // Identifiers are ASCII (`is_varname`): this never falls back.
        let ident = std::str::from_utf8(&self.input[start..p]).unwrap_or_default();
        self.eat_whitespace();
        Some(ident)
    }

    /// Reads a path: an escaped string up to a space, ':', '|' or newline.
    pub fn read_path(&mut self) -> Result<EvalString<'a>, ParseError> {
        self.read_eval_string(true)
    }

    /// Reads a variable's value: an escaped string up to the newline.
    pub fn read_var_value(&mut self) -> Result<EvalString<'a>, ParseError> {
        self.read_eval_string(false)
    }

    /// The string's text is kept as runs of the input's bytes: `run..p` is
    /// the literal text not yet pushed, so that a string without escapes is
    /// one borrowed piece.
    fn read_eval_string(&mut self, path: bool) -> Result<EvalString<'a>, ParseError> {
        let (input, text) = (self.input, self.text);
        let mut eval = EvalString::default();
        // Runs start and end at ASCII bytes, so slicing `text` is exact,
        // and converting the bytes of one alone replaces what it would.
        let flush = |eval: &mut EvalString<'a>, run: usize, p: usize| {
            if run < p {
                eval.push_text(match text {
                    Some(text) => Cow::Borrowed(&text[run..p]),
                    None => String::from_utf8_lossy(&input[run..p]),
                });
            }
        };
        let mut p = self.ofs;
        let mut run = p;
        let mut start;
        loop {
            start = p;
            let c = self.at(p);
            match c {
                b'$' => {
                    let next = self.at(p + 1);
                    match next {
                        b'$' | b' ' | b':' => {
                            // The escaped byte starts the next run.
                            flush(&mut eval, run, p);
                            run = p + 1;
                            p += 2;
                        }
                        b'\n' => {
                            flush(&mut eval, run, p);
                            p += 2;
                            while self.at(p) == b' ' {
                                p += 1;
                            }
                            run = p;
                        }
                        b'\r' if self.at(p + 2) == b'\n' => {
                            flush(&mut eval, run, p);
                            p += 3;
                            while self.at(p) == b' ' {
                                p += 1;
                            }
                            run = p;
                        }
                        b'{' => {
                            let mut e = p + 2;
                            while is_varname(self.at(e)) {
                                e += 1;
                            }
                            if e > p + 2 && self.at(e) == b'}' {
                                flush(&mut eval, run, p);
                                eval.push_var(&input[p + 2..e]);
                                p = e + 1;
                                run = p;
                            } else {
                                return Err(self.bad_escape(start));
                            }
                        }
                        _ if is_simple_varname(next) => {
                            let mut e = p + 1;
                            while is_simple_varname(self.at(e)) {
                                e += 1;
                            }
                            flush(&mut eval, run, p);
                            eval.push_var(&input[p + 1..e]);
                            p = e;
                            run = p;
                        }
                        _ => return Err(self.bad_escape(start)),
                    }
                }
                b'\r' if self.at(p + 1) == b'\n' => {
                    flush(&mut eval, run, p);
                    if !path {
                        p += 2;
                    }
                    break;
                }
                b' ' | b':' | b'|' | b'\n' => {
                    if path {
                        flush(&mut eval, run, p);
                        break;
                    }
                    if c == b'\n' {
                        flush(&mut eval, run, p);
                        p += 1;
                        break;
                    }
                    p += 1;
                }
                0 if p >= input.len() => {
                    self.last_token = start;
                    return Err(self.error("unexpected EOF"));
                }
                b'\r' | 0 => {
                    self.last_token = start;
                    return Err(self.error(self.describe_last_error()));
                }
                _ => {
                    let mut e = p;
                    while !matches!(self.at(e), b'$' | b' ' | b':' | b'\r' | b'\n' | b'|' | 0) {
                        e += 1;
                    }
                    p = e;
                }
            }
        }
        self.last_token = start;
        self.ofs = p;
        if path {
            self.eat_whitespace();
        }
        Ok(eval)
    }

    fn bad_escape(&mut self, start: usize) -> ParseError {
        self.last_token = start;
        self.error("bad $-escape (literal $ must be written as $$)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(input: &str) -> Vec<Token> {
        let mut lexer = Lexer::new("t", input.as_bytes());
        let mut out = Vec::new();
        loop {
            let t = lexer.read_token();
            out.push(t);
            if t == Token::Eof || t == Token::Error {
                return out;
            }
        }
    }

    #[test]
    fn keywords_and_punctuation() {
        use Token::*;
        assert_eq!(
            tokens("build x: r | y || z |@ v\n  a = b\n"),
            vec![
                Build, Ident, Colon, Ident, Pipe, Ident, Pipe2, Ident, PipeAt, Ident, Newline,
                Indent, Ident, Equals, Ident, Newline, Eof
            ]
        );
    }

    #[test]
    fn comments_are_skipped() {
        use Token::*;
        assert_eq!(tokens("# c\n  # d\nrule\n"), vec![Rule, Newline, Eof]);
    }

    #[test]
    fn escapes_in_values() {
        let mut lexer = Lexer::new("t", b"a$ b$$c$:d ${x}y$z$\n   w\n");
        let value = lexer.read_var_value().unwrap();
        assert_eq!(value.to_debug(), "[a b$c:d ][$x][y][$z][w]");
    }

    #[test]
    fn paths_stop_at_separators() {
        let mut lexer = Lexer::new("t", b"a$ b:c");
        assert_eq!(lexer.read_path().unwrap().to_debug(), "[a b]");
        assert_eq!(lexer.read_token(), Token::Colon);
    }

    #[test]
    fn errors_name_line_and_column() {
        let mut lexer = Lexer::new("build.ninja", b"x = 1\ny = a$!b\n");
        assert_eq!(lexer.read_token(), Token::Ident);
        assert_eq!(lexer.read_token(), Token::Equals);
        lexer.read_var_value().unwrap();
        lexer.read_token();
        lexer.read_token();
        let err = lexer.read_var_value().unwrap_err();
        assert_eq!((err.line, err.col), (2, 5));
        assert_eq!(
            err.to_string(),
            "build.ninja:2: bad $-escape (literal $ must be written as $$)\ny = a$!b\n     ^ near here"
        );
    }

    #[test]
    fn eof_in_a_value_is_an_error() {
        let mut lexer = Lexer::new("t", b"abc");
        assert_eq!(
            lexer.read_var_value().unwrap_err().message,
            "unexpected EOF"
        );
        let mut lexer = Lexer::new("t", b"abc$");
        assert!(lexer.read_var_value().is_err());
    }
}
