//! `-t` tools: `commands`, `targets`, `clean` (in [`crate::clean`]),
//! `restat`, `recompact`, `deps`, `query`, `inputs`, with ninja's output
//! formats.

use std::collections::BTreeSet;

use crate::build_log::{self, BuildLog};
use crate::deps_log::{self, DepsLog};
use crate::disk;
use crate::graph::{EdgeId, FileId, Graph};
use crate::load::{self, DiskReader};

const TOOLS: &str = "ninja subtools:
    clean  clean built files
 commands  list all commands required to rebuild given targets
     deps  show dependencies stored in the deps log
   inputs  list all inputs required to rebuild given targets
    query  show inputs/outputs for a path
  targets  list targets by their rule or depth in the DAG
recompact  recompacts ninja-internal data structures
   restat  restats all outputs in the build log";

/// How the flags before `-t` set a tool up.
#[derive(Clone, Copy, Debug)]
pub struct ToolFlags {
    /// `-v`.
    pub verbose: bool,
    /// `-n`.
    pub dry_run: bool,
}

/// Runs `tool` with its arguments; returns the exit status.
pub fn run(tool: &str, args: &[String], manifest: &str, flags: ToolFlags) -> u8 {
    if tool == "list" {
        println!("{TOOLS}");
        return 0;
    }
    let graph = match load::load(&DiskReader, manifest) {
        Ok(m) => m.graph,
        Err(e) => {
            eprintln!("ninja: error: {e}");
            return 1;
        }
    };
    let result = match tool {
        "commands" => commands(&graph, args),
        "targets" => targets(&graph, args),
        "clean" => return crate::clean::run(&graph, args, flags.verbose, flags.dry_run),
        "restat" => restat(args),
        "recompact" => recompact(),
        "deps" => deps(&graph, args),
        "query" => query(&graph, args),
        "inputs" => inputs(&graph, args),
        other => Err(format!("unknown tool '{other}'")),
    };
    match result {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("ninja: error: {message}");
            1
        }
    }
}

/// The targets named, or the default ones.
fn collect_targets(graph: &Graph, names: &[String]) -> Result<Vec<FileId>, String> {
    if names.is_empty() {
        return Ok(graph.default_targets());
    }
    names.iter().map(|n| graph.target(n)).collect()
}

fn commands(graph: &Graph, args: &[String]) -> Result<(), String> {
    let single = args.first().is_some_and(|a| a == "-s");
    let names = if single { &args[1..] } else { args };
    let targets = collect_targets(graph, names)?;
    let mut seen = vec![false; graph.edges.len()];
    let mut out = String::new();
    fn visit(graph: &Graph, edge: EdgeId, single: bool, seen: &mut [bool], out: &mut String) {
        if std::mem::replace(&mut seen[edge], true) {
            return;
        }
        if !single {
            for &input in &graph.edges[edge].ins {
                if let Some(producer) = graph.files[input].producer {
                    visit(graph, producer, single, seen, out);
                }
            }
        }
        if let Some(command) = &graph.edges[edge].command {
            out.push_str(command);
            out.push('\n');
        }
    }
    for target in targets {
        if let Some(edge) = graph.files[target].producer {
            visit(graph, edge, single, &mut seen, &mut out);
        }
    }
    print!("{out}");
    Ok(())
}

fn targets(graph: &Graph, args: &[String]) -> Result<(), String> {
    let mode = args.first().map(String::as_str).unwrap_or("depth");
    match mode {
        "all" => {
            for (id, edge) in graph.edges.iter().enumerate() {
                for &out in &edge.outs {
                    println!("{}: {}", graph.path(out), graph.rule_name(id));
                }
            }
        }
        "rule" => match args.get(1) {
            None => {
                // Source files: inputs no edge produces.
                let sources: BTreeSet<&str> = graph
                    .edges
                    .iter()
                    .flat_map(|e| e.ins.iter())
                    .filter(|&&f| graph.files[f].producer.is_none())
                    .map(|&f| graph.path(f))
                    .collect();
                for s in sources {
                    println!("{s}");
                }
            }
            Some(rule) => {
                let outs: BTreeSet<&str> = (0..graph.edges.len())
                    .filter(|&e| graph.rule_name(e) == rule)
                    .flat_map(|e| graph.edges[e].outs.iter().map(|&f| graph.path(f)))
                    .collect();
                for o in outs {
                    println!("{o}");
                }
            }
        },
        "depth" => {
            let depth: i64 = match args.get(1) {
                Some(d) => d.parse().map_err(|_| format!("invalid depth '{d}'"))?,
                None => 1,
            };
            fn list(graph: &Graph, files: &[FileId], depth: i64, indent: usize) {
                for &file in files {
                    print!("{}", "  ".repeat(indent));
                    match graph.files[file].producer {
                        Some(edge) => {
                            println!("{}: {}", graph.path(file), graph.rule_name(edge));
                            if depth > 1 || depth <= 0 {
                                list(graph, &graph.edges[edge].ins, depth - 1, indent + 1);
                            }
                        }
                        None => println!("{}", graph.path(file)),
                    }
                }
            }
            list(graph, &graph.roots(), depth, 0);
        }
        other => {
            return Err(format!(
                "unknown target tool mode '{other}'\nuse 'ninja -t targets [depth N | rule R | all]'"
            ));
        }
    }
    Ok(())
}

fn restat(args: &[String]) -> Result<(), String> {
    let mut log = BuildLog::read(build_log::FILE_NAME.as_ref())
        .map_err(|e| format!("loading build log: {e}"))?;
    let outputs: Vec<String> = if args.is_empty() {
        log.iter().map(|(p, _)| p.to_string()).collect()
    } else {
        args.to_vec()
    };
    for output in outputs {
        let mtime = disk::mtime(&output).map_err(|e| format!("stat({output}): {e}"))?;
        log.set_mtime(&output, mtime);
    }
    if log.is_empty() && !std::path::Path::new(build_log::FILE_NAME).exists() {
        return Ok(());
    }
    log.recompact()
        .map_err(|e| format!("writing build log: {e}"))
}

fn recompact() -> Result<(), String> {
    if std::path::Path::new(build_log::FILE_NAME).exists() {
        BuildLog::read(build_log::FILE_NAME.as_ref())
            .and_then(|mut log| log.recompact())
            .map_err(|e| format!("build log: {e}"))?;
    }
    if std::path::Path::new(deps_log::FILE_NAME).exists() {
        DepsLog::read(deps_log::FILE_NAME.as_ref())
            .and_then(|mut log| log.recompact())
            .map_err(|e| format!("deps log: {e}"))?;
    }
    Ok(())
}

fn deps(graph: &Graph, args: &[String]) -> Result<(), String> {
    let _ = graph;
    let log = DepsLog::read(deps_log::FILE_NAME.as_ref())
        .map_err(|e| format!("loading deps log: {e}"))?;
    let print = |out: &str, d: &deps_log::Deps| -> Result<(), String> {
        let mtime = disk::mtime(out).map_err(|e| e.to_string())?;
        let state = if mtime == 0 || mtime > d.mtime {
            "STALE"
        } else {
            "VALID"
        };
        println!(
            "{out}: #deps {}, deps mtime {} ({state})",
            d.ids.len(),
            d.mtime
        );
        for &id in &d.ids {
            println!("    {}", log.path(id));
        }
        println!();
        Ok(())
    };
    if args.is_empty() {
        for (out, d) in log.outputs() {
            print(out, d)?;
        }
    } else {
        for name in args {
            let path = crate::canon::canonicalize(name);
            match log.get(&path) {
                Some(d) => print(&path, d)?,
                None => println!("{path}: deps not found"),
            }
        }
    }
    Ok(())
}

fn query(graph: &Graph, args: &[String]) -> Result<(), String> {
    if args.is_empty() {
        return Err("expected a target to query".into());
    }
    for name in args {
        let file = graph.target(name)?;
        println!("{}:", graph.path(file));
        if let Some(edge) = graph.files[file].producer {
            let e = &graph.edges[edge];
            println!("  input: {}", graph.rule_name(edge));
            let implicit_end = e.ins.len() - e.order_only_ins;
            for (i, &input) in e.ins.iter().enumerate() {
                let label = if i >= implicit_end {
                    "|| "
                } else if i >= e.explicit_ins {
                    "| "
                } else {
                    ""
                };
                println!("    {label}{}", graph.path(input));
            }
            if !e.validations.is_empty() {
                println!("  validations:");
                for &v in &e.validations {
                    println!("    {}", graph.path(v));
                }
            }
        }
        println!("  outputs:");
        for edge in graph.consumers(file) {
            for &out in &graph.edges[edge].outs {
                println!("    {}", graph.path(out));
            }
        }
    }
    Ok(())
}

fn inputs(graph: &Graph, args: &[String]) -> Result<(), String> {
    let targets = collect_targets(graph, args)?;
    let mut seen = vec![false; graph.edges.len()];
    let mut found = BTreeSet::new();
    let mut stack = targets;
    while let Some(file) = stack.pop() {
        if let Some(edge) = graph.files[file].producer
            && !std::mem::replace(&mut seen[edge], true)
        {
            for &input in &graph.edges[edge].ins {
                found.insert(graph.path(input));
                stack.push(input);
            }
        }
    }
    for path in found {
        println!("{path}");
    }
    Ok(())
}
