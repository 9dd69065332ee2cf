//! Path canonicalisation, as ninja's `CanonicalizePath`: `.` components and
//! repeated slashes go, `x/..` pairs cancel textually (symlinks are not
//! consulted), leading `..` stay, and a leading `/` is kept.

/// The canonical form of `path`. The empty path stays empty (callers report
/// it); a path that cancels out entirely becomes `.`.
pub fn canonicalize(path: &str) -> String {
    if path.is_empty() {
        return String::new();
    }
    // Fast path: nothing to do for the usual `dir/file.o`.
    if !path.contains("//") && !needs_work(path) {
        return path.to_string();
    }
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

fn needs_work(path: &str) -> bool {
    path.ends_with('/') || path.split('/').any(|part| part == "." || part == "..")
}

#[cfg(test)]
mod tests {
    use super::canonicalize;

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
        ] {
            assert_eq!(canonicalize(input), want, "{input}");
        }
    }
}
