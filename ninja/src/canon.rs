//! Path canonicalisation, as ninja's `CanonicalizePath`: `.` components and
//! repeated slashes go, `x/..` pairs cancel textually (symlinks are not
//! consulted), leading `..` stay, and a leading `/` is kept.

/// The canonical form of `path`. The empty path stays empty (callers report
/// it); a path that cancels out entirely becomes `.`.
pub fn canonicalize(path: &str) -> String {
    let mut path = path.to_string();
    canonicalize_in_place(&mut path);
    path
}

/// Canonicalises `path` where it stands: the loader's paths are evaluated
/// into a reused buffer, and most are canonical already, which costs one
/// pass over them and no allocation.
pub fn canonicalize_in_place(path: &mut String) {
    if !path.is_empty() && !is_canonical(path) {
        *path = rebuild(path);
    }
}

/// Whether `rebuild` would return `path` unchanged (for the usual
/// `dir/file.o` and `../src/file.c`): no empty, `.` or inner `..` parts.
fn is_canonical(path: &str) -> bool {
    let (absolute, body) = match path.strip_prefix('/') {
        Some(body) => (true, body),
        None => (false, path),
    };
    if body.is_empty() {
        return absolute;
    }
    // A relative path keeps the `..`s it starts with. Bytes, not
    // `split`: this runs on every path of a manifest.
    let mut leading = !absolute;
    body.as_bytes()
        .split(|&c| c == b'/')
        .all(|part| match part {
            b"" | b"." => false,
            b".." => leading,
            _ => {
                leading = false;
                true
            }
        })
}

fn rebuild(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                // `/..` is `/`, as ninja has it.
                _ if absolute => {}
                _ => parts.push(".."),
            },
            _ => parts.push(part),
        }
    }
    let mut out = String::with_capacity(path.len());
    if absolute {
        out.push('/');
    }
    out.push_str(&parts.join("/"));
    if out.is_empty() {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{canonicalize, is_canonical, rebuild};

    #[test]
    fn as_ninja_canonicalizes() {
        for (input, want) in [
            ("foo.h", "foo.h"),
            ("./foo.h", "foo.h"),
            ("./foo/./bar.h", "foo/bar.h"),
            ("./x/foo/../bar.h", "x/bar.h"),
            ("./x/foo/../../bar.h", "bar.h"),
            ("foo//bar", "foo/bar"),
            ("foo//.//..///bar", "bar"),
            ("./x/../foo/../../bar.h", "../bar.h"),
            ("foo/./.", "foo"),
            ("foo/bar/..", "foo"),
            ("foo/.hidden_bar", "foo/.hidden_bar"),
            ("/foo", "/foo"),
            ("//foo", "/foo"),
            ("/..", "/"),
            ("..", ".."),
            ("../../foo", "../../foo"),
            ("./", "."),
            ("foo/..", "."),
            ("a/", "a"),
            ("../a/../b", "../b"),
            ("a/../../b", "../b"),
            ("/../a", "/a"),
            ("/", "/"),
        ] {
            assert_eq!(canonicalize(input), want, "{input}");
            // The one-pass check only ever skips work that changes nothing.
            assert!(!is_canonical(input) || rebuild(input) == input, "{input}");
            assert!(is_canonical(want) || want == ".", "{want}");
        }
    }
}
