//! `-t clean`, as ninja 1.11's `Cleaner`: every edge's outputs (`-g`: the
//! generators' too), the targets named and what they are built from, or
//! (`-r`) the outputs of the rules named; with each edge's depfile and
//! rspfile. `-v` names each file removed; `-n` removes nothing and names
//! the files that exist.

use std::collections::HashSet;
use std::io::Write;

use crate::canon::canonicalize;
use crate::disk;
use crate::graph::{EdgeId, FileId, Graph};

const USAGE: &str = "usage: ninja -t clean [options] [targets]

options:
  -g     also clean files marked as ninja generator output
  -r     interpret targets as a list of rules to clean instead
";

/// What `-t clean` does, from the command line before `-t`.
#[derive(Debug)]
struct Cleaner<'a> {
    graph: &'a Graph,
    verbose: bool,
    dry_run: bool,
    /// Every path already removed (or, in a dry run, counted), once.
    removed: HashSet<String>,
    /// The files [`Cleaner::clean_target`] has visited.
    cleaned: Vec<bool>,
    count: usize,
    /// The exit status: 1 after any error.
    status: u8,
}

/// Runs `-t clean args`; returns the exit status. `verbose` (`-v`) and
/// `dry_run` (`-n`) come from before `-t`.
pub fn run(graph: &Graph, args: &[String], verbose: bool, dry_run: bool) -> u8 {
    let mut generator = false;
    let mut by_rule = false;
    let mut names = Vec::new();
    let mut options_end = false;
    // getopt("hgr") as glibc has it: options anywhere, `--` ends them.
    for arg in args {
        match arg.strip_prefix('-') {
            Some("-") if !options_end => options_end = true,
            Some(flags) if !options_end && !flags.is_empty() => {
                for flag in flags.chars() {
                    match flag {
                        'g' => generator = true,
                        'r' => by_rule = true,
                        other => {
                            if other != 'h' {
                                eprintln!("clean: invalid option -- '{other}'");
                            }
                            print!("{USAGE}");
                            return 1;
                        }
                    }
                }
            }
            _ => names.push(arg.as_str()),
        }
    }
    if by_rule && names.is_empty() {
        eprintln!("ninja: error: expected a rule to clean");
        return 1;
    }
    let mut cleaner = Cleaner {
        graph,
        verbose: verbose || dry_run,
        dry_run,
        removed: HashSet::new(),
        cleaned: vec![false; graph.files.len()],
        count: 0,
        status: 0,
    };
    print!("Cleaning...{}", if cleaner.verbose { "\n" } else { " " });
    let _ = std::io::stdout().flush();
    if names.is_empty() {
        cleaner.clean_all(generator);
    } else if by_rule {
        cleaner.clean_rules(&names);
    } else {
        cleaner.clean_targets(&names);
    }
    println!("{} files.", cleaner.count);
    cleaner.status
}

impl Cleaner<'_> {
    fn clean_all(&mut self, generator: bool) {
        for (edge, e) in self.graph.edges.iter().enumerate() {
            if e.is_phony() || (e.generator && !generator) {
                continue;
            }
            self.remove_outputs(edge);
        }
    }

    fn clean_targets(&mut self, names: &[&str]) {
        for name in names {
            if name.is_empty() {
                self.error("failed to canonicalize '': empty path");
                continue;
            }
            let name = canonicalize(name);
            match self.graph.lookup(&name) {
                Some(target) => {
                    if self.verbose {
                        println!("Target {name}");
                    }
                    self.clean_target(target);
                }
                None => self.error(&format!("unknown target '{name}'")),
            }
        }
    }

    /// The target's own file (not its edge's other outputs) and edge files,
    /// then what it is built from, depth first.
    fn clean_target(&mut self, target: FileId) {
        if let Some(edge) = self.graph.files[target].producer {
            let e = &self.graph.edges[edge];
            if !e.is_phony() {
                self.remove(self.graph.path(target));
                self.remove_edge_files(edge);
            }
            for &input in &e.ins {
                if !self.cleaned[input] {
                    self.clean_target(input);
                }
            }
        }
        self.cleaned[target] = true;
    }

    fn clean_rules(&mut self, names: &[&str]) {
        for &rule in names {
            if !self.graph.is_top_level_rule(rule) {
                self.error(&format!("unknown rule '{rule}'"));
                continue;
            }
            if self.verbose {
                println!("Rule {rule}");
            }
            for edge in 0..self.graph.edges.len() {
                if self.graph.rule_name(edge) == rule {
                    self.remove_outputs(edge);
                }
            }
        }
    }

    fn remove_outputs(&mut self, edge: EdgeId) {
        for &out in &self.graph.edges[edge].outs {
            self.remove(self.graph.path(out));
        }
        self.remove_edge_files(edge);
    }

    fn remove_edge_files(&mut self, edge: EdgeId) {
        let e = &self.graph.edges[edge];
        for path in [&e.depfile, &e.rspfile] {
            if !path.is_empty() {
                self.remove(path);
            }
        }
    }

    /// Removes `path` (once): counted, and named under `-v`, if it was
    /// there; an error other than its absence is reported and makes the
    /// exit status 1.
    fn remove(&mut self, path: &str) {
        if !self.removed.insert(path.to_string()) {
            return;
        }
        let removed = if self.dry_run {
            Ok(disk::mtime(path).is_ok_and(|mtime| mtime != 0))
        } else {
            disk::remove(path)
        };
        match removed {
            Ok(true) => {
                self.count += 1;
                if self.verbose {
                    println!("Remove {path}");
                }
            }
            Ok(false) => {}
            Err(e) => self.error(&format!("remove({path}): {}", crate::load::io_message(&e))),
        }
    }

    fn error(&mut self, message: &str) {
        eprintln!("ninja: error: {message}");
        self.status = 1;
    }
}
