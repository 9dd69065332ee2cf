//! The status line and the printing of command output, as ninja's
//! `StatusPrinter` and `LinePrinter`.
//!
//! On a smart terminal (stdout a tty, `TERM` not `dumb`) the status line is
//! redrawn in place (`\r`, the line, `\x1b[K`) when an edge starts and ends;
//! elsewhere one line is printed when an edge ends (at its start, for a
//! console edge). A command's output follows its line whole, with ANSI
//! escapes stripped unless the terminal is smart or `CLICOLOR_FORCE` is set.
//! While a `console` edge runs, everything else is held back and printed
//! when it ends.
//!
//! Beyond ninja: on a smart terminal a ticker redraws the line every half
//! second with the running commands and how long each has run. It draws
//! only while commands run and the console is free, and every line it draws
//! is overwritten by the next status line, so the output that stays (and
//! ninja's `output_test.py` compares) is ninja's.

use std::io::{self, IsTerminal, Write};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// How much the status shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

#[derive(Debug)]
struct Running {
    id: usize,
    text: String,
    since: Instant,
}

#[derive(Debug)]
struct Inner {
    started: usize,
    finished: usize,
    total: usize,
    running: Vec<Running>,
    have_blank_line: bool,
    console_locked: bool,
    line_buffer: Option<String>,
    output_buffer: Vec<u8>,
    done: bool,
}

/// The status printer of one build.
#[derive(Debug)]
pub struct Status {
    inner: Mutex<Inner>,
    tick: Condvar,
    format: String,
    smart: bool,
    color: bool,
    verbosity: Verbosity,
    start: Instant,
    parallelism: usize,
}

impl Status {
    pub fn new(verbosity: Verbosity, parallelism: usize) -> Status {
        let term = std::env::var("TERM").ok();
        let tty = io::stdout().is_terminal() && term.is_some_and(|t| t != "dumb");
        // As ninja: nothing fancy in verbose mode.
        let smart = tty && verbosity == Verbosity::Normal;
        let color = tty || std::env::var("CLICOLOR_FORCE").is_ok_and(|v| v != "0");
        Status {
            inner: Mutex::new(Inner {
                started: 0,
                finished: 0,
                total: 0,
                running: Vec::new(),
                have_blank_line: true,
                console_locked: false,
                line_buffer: None,
                output_buffer: Vec::new(),
                done: false,
            }),
            tick: Condvar::new(),
            format: std::env::var("NINJA_STATUS").unwrap_or_else(|_| "[%f/%t] ".to_string()),
            smart,
            color,
            verbosity,
            start: Instant::now(),
            parallelism,
        }
    }

    pub fn is_smart(&self) -> bool {
        self.smart
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_total(&self, total: usize) {
        self.lock().total = total;
    }

    /// An edge that was to run was cleaned by `restat`: one less to do.
    pub fn pruned(&self) {
        let mut inner = self.lock();
        inner.total = inner.total.saturating_sub(1);
    }

    /// `text` is what the line shows: the description, or the command.
    pub fn started(&self, id: usize, text: &str, console: bool) {
        let mut inner = self.lock();
        inner.started += 1;
        inner.running.push(Running {
            id,
            text: text.to_string(),
            since: Instant::now(),
        });
        if (console || self.smart) && self.verbosity != Verbosity::Quiet {
            let line = self.progress(&inner) + text;
            self.print_line(&mut inner, line);
        }
        if console {
            self.print_on_new_line(&mut inner, b"");
            inner.console_locked = true;
        }
    }

    /// An edge ended. `failed` holds its outputs and command for the
    /// `FAILED:` block.
    pub fn finished(
        &self,
        id: usize,
        text: &str,
        console: bool,
        failed: Option<(&str, &str)>,
        output: &[u8],
    ) {
        let mut inner = self.lock();
        inner.finished += 1;
        if console {
            self.unlock_console(&mut inner);
        }
        inner.running.retain(|r| r.id != id);
        // --quiet (ninja's NO_STATUS_UPDATE): no status lines, but the
        // FAILED block and the output still.
        if !console && self.verbosity != Verbosity::Quiet {
            let line = self.progress(&inner) + text;
            self.print_line(&mut inner, line);
        }
        if let Some((outputs, command)) = failed {
            let head = if self.color {
                format!("\x1b[31mFAILED: \x1b[0m{outputs}\n")
            } else {
                format!("FAILED: {outputs}\n")
            };
            self.print_on_new_line(&mut inner, head.as_bytes());
            self.print_on_new_line(&mut inner, format!("{command}\n").as_bytes());
        }
        if !output.is_empty() {
            if self.color {
                self.print_on_new_line(&mut inner, output);
            } else {
                let stripped = strip_ansi(output);
                self.print_on_new_line(&mut inner, &stripped);
            }
        }
    }

    /// Ends the status line before the closing message.
    pub fn build_finished(&self) {
        let mut inner = self.lock();
        inner.done = true;
        self.unlock_console(&mut inner);
        self.print_on_new_line(&mut inner, b"");
        self.tick.notify_all();
    }

    /// Redraws the line with the running commands every half second until
    /// [`Status::build_finished`]; for a thread of its own.
    pub fn run_ticker(&self) {
        if !self.smart {
            return;
        }
        let mut inner = self.lock();
        while !inner.done {
            let (guard, _) = self
                .tick
                .wait_timeout(inner, Duration::from_millis(500))
                .unwrap_or_else(|e| e.into_inner());
            inner = guard;
            if inner.done || inner.console_locked || inner.running.is_empty() {
                continue;
            }
            let now = Instant::now();
            let running: Vec<String> = inner
                .running
                .iter()
                .map(|r| format!("{} ({:.1}s)", r.text, (now - r.since).as_secs_f64()))
                .collect();
            let line = format!("{}running: {}", self.progress(&inner), running.join(", "));
            self.print_line(&mut inner, line);
        }
    }

    fn unlock_console(&self, inner: &mut Inner) {
        if !inner.console_locked {
            return;
        }
        inner.console_locked = false;
        let buffered = std::mem::take(&mut inner.output_buffer);
        self.print_on_new_line(inner, &buffered);
        if let Some(line) = inner.line_buffer.take() {
            self.print_line(inner, line);
        }
    }

    fn write(&self, inner: &mut Inner, bytes: &[u8]) {
        if inner.console_locked {
            inner.output_buffer.extend_from_slice(bytes);
        } else {
            let mut out = io::stdout().lock();
            let _ = out.write_all(bytes);
            let _ = out.flush();
        }
    }

    /// ninja's `LinePrinter::Print`: over the current line on a smart
    /// terminal, elided to its width; a line of its own elsewhere.
    fn print_line(&self, inner: &mut Inner, line: String) {
        if inner.console_locked {
            inner.line_buffer = Some(line);
            return;
        }
        if self.smart {
            let line = match terminal_width() {
                Some(width) if self.verbosity != Verbosity::Verbose => elide_middle(&line, width),
                _ => line,
            };
            self.write(inner, format!("\r{line}\x1b[K").as_bytes());
            inner.have_blank_line = false;
        } else {
            self.write(inner, format!("{line}\n").as_bytes());
        }
    }

    fn print_on_new_line(&self, inner: &mut Inner, bytes: &[u8]) {
        if inner.console_locked
            && let Some(line) = inner.line_buffer.take()
        {
            inner.output_buffer.extend_from_slice(line.as_bytes());
            inner.output_buffer.push(b'\n');
        }
        if !inner.have_blank_line {
            self.write(inner, b"\n");
        }
        if !bytes.is_empty() {
            self.write(inner, bytes);
        }
        inner.have_blank_line = bytes.last().is_none_or(|&c| c == b'\n');
    }

    /// `NINJA_STATUS` with its placeholders filled in.
    fn progress(&self, inner: &Inner) -> String {
        let mut out = String::new();
        let mut chars = self.format.chars();
        let elapsed = self.start.elapsed().as_secs_f64();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('%') => out.push('%'),
                Some('s') => out.push_str(&inner.started.to_string()),
                Some('t') => out.push_str(&inner.total.to_string()),
                Some('r') => out.push_str(&inner.running.len().to_string()),
                Some('u') => out.push_str(&inner.total.saturating_sub(inner.started).to_string()),
                Some('f') => out.push_str(&inner.finished.to_string()),
                Some('o') | Some('c') => {
                    // %c is ninja's rate over the last -j edges; the overall
                    // rate stands in for it.
                    let _ = self.parallelism;
                    if inner.finished == 0 || elapsed <= 0.0 {
                        out.push('?');
                    } else {
                        out.push_str(&format!("{:.1}", inner.finished as f64 / elapsed));
                    }
                }
                Some('p') => {
                    let percent = (100 * inner.finished).checked_div(inner.total).unwrap_or(0);
                    out.push_str(&format!("{percent:3}%"));
                }
                Some('e') => out.push_str(&format!("{elapsed:.3}")),
                Some(other) => {
                    out.push('%');
                    out.push(other);
                }
                None => out.push('%'),
            }
        }
        out
    }
}

fn terminal_width() -> Option<usize> {
    // SAFETY: winsize is plain data that the ioctl fills in.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes one winsize through the valid pointer.
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) };
    (rc == 0 && size.ws_col > 0).then_some(size.ws_col as usize)
}

/// ninja's `ElideMiddle` (on bytes, as 1.11 does; cut at char boundaries).
pub fn elide_middle(text: &str, width: usize) -> String {
    match width {
        0 => return String::new(),
        1..=3 => return ".".repeat(width),
        _ => {}
    }
    if text.len() <= width {
        return text.to_string();
    }
    let keep = (width - 3) / 2;
    let mut head = keep;
    while !text.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = text.len() - keep;
    while !text.is_char_boundary(tail) {
        tail += 1;
    }
    format!("{}...{}", &text[..head], &text[tail..])
}

/// Removes ANSI escape sequences (`ESC [ ... letter`), as ninja's
/// `StripAnsiEscapeCodes`.
pub fn strip_ansi(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] != 0x1b {
            out.push(input[i]);
            i += 1;
            continue;
        }
        // Only `ESC [` sequences are stripped; a lone ESC goes too.
        if input.get(i + 1) != Some(&b'[') {
            i += 1;
            continue;
        }
        i += 2;
        while i < input.len() && !input[i].is_ascii_alphabetic() {
            i += 1;
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_stripped() {
        assert_eq!(strip_ansi(b"\x1b[31mred\x1b[0m plain"), b"red plain");
        assert_eq!(strip_ansi(b"a\x1b"), b"a");
    }

    #[test]
    fn elision_keeps_both_ends() {
        assert_eq!(elide_middle("0123456789", 7), "01...89");
        assert_eq!(elide_middle("short", 80), "short");
        assert_eq!(elide_middle("abc", 2), "..");
    }
}
