//! Make-style depfiles, as `gcc -MD` writes them: `targets: deps`, with
//! backslash-newline continuations, `\ ` for a space in a name, `\#` for `#`
//! and `$$` for `$`. Several rules may follow each other (`-MP` adds empty
//! ones for headers); their targets and deps are gathered, as ninja does.

/// The targets and dependencies of a depfile, in order, without repeats.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Depfile {
    pub targets: Vec<String>,
    pub deps: Vec<String>,
}

/// Parses a depfile; the error says what was wrong.
pub fn parse(input: &[u8]) -> Result<Depfile, String> {
    let mut out = Depfile::default();
    let mut i = 0;
    // Whether the words read so far on this rule are its targets.
    let mut in_targets = true;
    let mut word = Vec::new();
    loop {
        let c = input.get(i).copied();
        match c {
            None | Some(b' ' | b'\t' | b'\n' | b'\r') => {
                if !word.is_empty() {
                    let mut text = String::from_utf8_lossy(&word).into_owned();
                    word.clear();
                    if in_targets {
                        match text.strip_suffix(':') {
                            Some(target) => {
                                if !target.is_empty() {
                                    push_unique(&mut out.targets, target.to_string());
                                }
                                in_targets = false;
                            }
                            None => push_unique(&mut out.targets, text),
                        }
                    } else {
                        if text.ends_with(':') {
                            // `a: b c: d` is a second rule on one line: gcc
                            // never writes it; ninja refuses it too.
                            text.pop();
                            return Err(format!("inputs may not also have inputs ('{text}')"));
                        }
                        push_unique(&mut out.deps, text);
                    }
                }
                match c {
                    None => break,
                    Some(b'\n') => {
                        in_targets = true;
                    }
                    _ => {}
                }
                i += 1;
            }
            Some(b'\\') => match input.get(i + 1) {
                Some(b'\n') => i += 2,
                Some(b'\r') if input.get(i + 2) == Some(&b'\n') => i += 3,
                Some(&next @ (b' ' | b'#' | b':')) => {
                    word.push(next);
                    i += 2;
                }
                _ => {
                    word.push(b'\\');
                    i += 1;
                }
            },
            Some(b'$') if input.get(i + 1) == Some(&b'$') => {
                word.push(b'$');
                i += 2;
            }
            Some(b':') if in_targets => {
                // The colon ends the targets, glued to a word or alone.
                word.push(b':');
                i += 1;
                if matches!(input.get(i), None | Some(b' ' | b'\t' | b'\n' | b'\r')) {
                    continue;
                }
                // `c:\x` style drive letters do not occur on POSIX: a colon
                // inside a word is part of it.
            }
            Some(other) => {
                word.push(other);
                i += 1;
            }
        }
    }
    if !in_targets && out.targets.is_empty() {
        return Err("expected ':' in depfile".to_string());
    }
    if in_targets && !out.targets.is_empty() && out.deps.is_empty() && !input.contains(&b':') {
        return Err("expected ':' in depfile".to_string());
    }
    Ok(out)
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcc_output_with_continuations_and_phony_headers() {
        let d = parse(b"foo.o: foo.c \\\n  include/a\\ b.h x$$y.h \\\n  c\\#.h\n\ninclude/a\\ b.h:\nx$$y.h:\n")
            .unwrap();
        assert_eq!(d.targets, ["foo.o", "include/a b.h", "x$y.h"]);
        assert_eq!(d.deps, ["foo.c", "include/a b.h", "x$y.h", "c#.h"]);
    }

    #[test]
    fn a_colon_after_a_space_and_several_targets() {
        let d = parse(b"a.o b.o : x.h\r\n").unwrap();
        assert_eq!(d.targets, ["a.o", "b.o"]);
        assert_eq!(d.deps, ["x.h"]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse(b"no colon here").is_err());
        assert!(parse(b"a: b: c").is_err());
        assert_eq!(parse(b"").unwrap(), Depfile::default());
        let _ = parse(b"\\");
        let _ = parse(b"$");
        let _ = parse(b":\\\n:");
    }
}
