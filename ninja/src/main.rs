//! The `taskflow-ninja` command line: ninja's flags, the build loop (the
//! manifest rebuilds itself first and is reloaded), and the messages and exit
//! statuses ninja gives.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use taskflow_ninja::build_log::{self, BuildLog};
use taskflow_ninja::deps_log::{self, DepsLog};
use taskflow_ninja::dirty::{Plan, Scan};
use taskflow_ninja::graph::FileId;
use taskflow_ninja::load::{self, DiskReader, Manifest, NINJA_VERSION};
use taskflow_ninja::status::{Status, Verbosity};
use taskflow_ninja::tokens::Tokens;
use taskflow_ninja::trace::Trace;
use taskflow_ninja::work::{Build, Config, Session};
use taskflow_ninja::{schedule, signal, tools};

/// What the command line asked for.
#[derive(Debug)]
struct Options {
    dir: Option<String>,
    file: String,
    jobs: Option<usize>,
    failures_allowed: usize,
    dry_run: bool,
    verbosity: Verbosity,
    explain: bool,
    keep_rsp: bool,
    keep_depfile: bool,
    trace: Option<String>,
    tool: Option<(String, Vec<String>)>,
    targets: Vec<String>,
}

const USAGE: &str = "usage: taskflow-ninja [options] [targets...]

if targets are unspecified, builds the 'default' target (see manual).

options:
  --version      print ninja version (\"1.11.1\")
  -v, --verbose  show all command lines while building
  --quiet        don't show progress status, just command output

  -C DIR   change to DIR before doing anything else
  -f FILE  specify input build file [default=build.ninja]

  -j N     run N jobs in parallel (0 means infinity) [default=cores+2]
  -k N     keep going until N jobs fail (0 means infinity) [default=1]
  -l N     accepted for compatibility; load is not limited
  -n       dry run (don't run commands but act like they succeeded)

  -d MODE  enable debugging (use '-d list' to list modes)
  -t TOOL  run a subtool (use '-t list' to list subtools)
    terminates toplevel options; further flags are passed to the tool
  -w FLAG  accepted for compatibility; warnings are not adjustable
";

fn fatal(message: &str) -> ExitCode {
    eprintln!("ninja: fatal: {message}");
    ExitCode::from(1)
}

/// ninja's default parallelism: cores + 2 (2 for one core, 3 for two).
fn guess_parallelism() -> usize {
    match std::thread::available_parallelism().map_or(1, |n| n.get()) {
        0 | 1 => 2,
        2 => 3,
        n => n + 2,
    }
}

enum Parsed {
    Run(Box<Options>),
    Exit(ExitCode),
}

fn value(parser: &mut lexopt::Parser) -> Result<String, String> {
    parser
        .value()
        .map_err(|e| e.to_string())?
        .into_string()
        .map_err(|_| "argument is not UTF-8".to_string())
}

fn parse_args() -> Result<Parsed, String> {
    use lexopt::prelude::*;
    let mut options = Options {
        dir: None,
        file: "build.ninja".into(),
        jobs: None,
        failures_allowed: 1,
        dry_run: false,
        verbosity: Verbosity::Normal,
        explain: false,
        keep_rsp: false,
        keep_depfile: false,
        trace: None,
        tool: None,
        targets: Vec::new(),
    };
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Short('C') => options.dir = Some(value(&mut parser)?),
            Short('f') => options.file = value(&mut parser)?,
            Short('j') => {
                let v = value(&mut parser)?;
                let n: i64 = v.parse().map_err(|_| "invalid -j parameter".to_string())?;
                if n < 0 {
                    return Err("invalid -j parameter".into());
                }
                // -j0: as many as can be, which the engine spells large.
                options.jobs = Some(if n == 0 { 1024 } else { n as usize });
            }
            Short('k') => {
                let v = value(&mut parser)?;
                let n: usize = v
                    .parse()
                    .map_err(|_| "-k parameter not numeric; did you mean -k 0?".to_string())?;
                options.failures_allowed = if n == 0 { usize::MAX } else { n };
            }
            Short('l') | Short('w') => {
                value(&mut parser)?;
            }
            Short('n') => options.dry_run = true,
            Short('v') | Long("verbose") => options.verbosity = Verbosity::Verbose,
            Long("quiet") => options.verbosity = Verbosity::Quiet,
            Short('d') => {
                let mode = value(&mut parser)?;
                match mode.as_str() {
                    "explain" => options.explain = true,
                    "keeprsp" => options.keep_rsp = true,
                    "keepdepfile" => options.keep_depfile = true,
                    "stats" => {}
                    "list" => {
                        println!(
                            "debugging modes:\n  stats        print operation counts/timing info (accepted; prints nothing)\n  explain      explain what caused a command to execute\n  keepdepfile  don't delete depfiles after they're read by ninja\n  keeprsp      don't delete @response files on success\n  trace=FILE   write a Chrome trace of the build to FILE\nmultiple modes can be enabled via -d FOO -d BAR"
                        );
                        return Ok(Parsed::Exit(ExitCode::SUCCESS));
                    }
                    m if m.starts_with("trace=") => options.trace = Some(m[6..].to_string()),
                    m => return Err(format!("unknown debug setting '{m}'")),
                }
            }
            Short('t') => {
                let tool = value(&mut parser)?;
                let rest = parser
                    .raw_args()
                    .map_err(|e| e.to_string())?
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect();
                options.tool = Some((tool, rest));
                break;
            }
            Long("version") => {
                println!("{NINJA_VERSION}");
                return Ok(Parsed::Exit(ExitCode::SUCCESS));
            }
            Short('h') | Long("help") => {
                eprint!("{USAGE}");
                return Ok(Parsed::Exit(ExitCode::from(1)));
            }
            Value(target) => options.targets.push(target.to_string_lossy().into_owned()),
            other => return Err(other.unexpected().to_string()),
        }
    }
    Ok(Parsed::Run(Box::new(options)))
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(Parsed::Run(options)) => options,
        Ok(Parsed::Exit(code)) => return code,
        Err(message) => {
            eprint!("{USAGE}");
            return fatal(&message);
        }
    };
    let parallelism = options.jobs.unwrap_or_else(guess_parallelism);
    // Before any thread or file: the jobserver reads inherited fds and sets
    // MAKEFLAGS; the signal mask must be inherited by every thread.
    let tokens = if options.tool.is_none() && !options.dry_run {
        Tokens::setup(parallelism)
    } else {
        None
    };
    signal::install();
    // A deep dependency chain is a deep recursion in the dirty check: give
    // it a stack to match (only the pages used are touched).
    let worker = std::thread::Builder::new()
        .name("taskflow-ninja".into())
        .stack_size(1 << 30)
        .spawn(move || real_main(&options, parallelism, tokens.as_ref()));
    match worker.map(|w| w.join()) {
        Ok(Ok(code)) => ExitCode::from(code),
        _ => fatal("internal error: the main thread died"),
    }
}

fn real_main(options: &Options, parallelism: usize, tokens: Option<&Tokens>) -> u8 {
    if let Some(dir) = &options.dir {
        if options.tool.is_none() && options.verbosity != Verbosity::Quiet {
            println!("ninja: Entering directory `{dir}'");
        }
        if let Err(e) = std::env::set_current_dir(dir) {
            eprintln!("ninja: fatal: chdir to '{dir}' - {}", load::io_message(&e));
            return 1;
        }
    }
    if let Some((tool, args)) = &options.tool {
        let flags = tools::ToolFlags {
            verbose: options.verbosity == Verbosity::Verbose,
            dry_run: options.dry_run,
        };
        return tools::run(tool, args, &options.file, flags);
    }
    let config = Config {
        dry_run: options.dry_run,
        verbosity: options.verbosity,
        explain: options.explain,
        failures_allowed: options.failures_allowed,
        parallelism,
        keep_rsp: options.keep_rsp,
        keep_depfile: options.keep_depfile,
    };
    let (build_log, deps_log) = match open_logs() {
        Ok(logs) => logs,
        Err(message) => {
            eprintln!("ninja: error: {message}");
            return 1;
        }
    };
    let session = Session {
        config,
        build_log,
        deps_log,
        status: Status::new(options.verbosity, parallelism),
        tokens,
        trace: options.trace.as_ref().map(|_| Trace::new()),
    };
    let code = std::thread::scope(|scope| {
        // Only a smart terminal's line is redrawn between updates; elsewhere
        // the thread would only cost its start and its join.
        if session.status.is_smart() {
            scope.spawn(|| session.status.run_ticker());
        }
        let code = build_loop(options, &session);
        session.status.build_finished();
        code
    });
    if let (Some(trace), Some(path)) = (&session.trace, &options.trace)
        && let Err(e) = trace.write(path)
    {
        eprintln!("ninja: error: writing trace {path}: {e}");
    }
    code
}

fn open_logs() -> Result<(Mutex<BuildLog>, Mutex<DepsLog>), String> {
    let build_log = BuildLog::read(build_log::FILE_NAME.as_ref())
        .map_err(|e| format!("loading build log {}: {e}", build_log::FILE_NAME))?;
    if build_log.repaired {
        eprintln!("ninja: warning: build log was torn or unreadable; kept its intact records");
    }
    let deps_log = DepsLog::read(deps_log::FILE_NAME.as_ref())
        .map_err(|e| format!("loading deps log {}: {e}", deps_log::FILE_NAME))?;
    if deps_log.repaired {
        eprintln!("ninja: warning: deps log was torn or unreadable; kept its intact records");
    }
    Ok((Mutex::new(build_log), Mutex::new(deps_log)))
}

/// How one build ended.
struct Finished {
    failures: usize,
    interrupted: bool,
    /// For the manifest's own rebuild: whether it was rebuilt.
    rebuilt: bool,
}

/// Builds `targets` of `manifest`; None when there is nothing to do.
fn build(
    manifest: &mut Manifest,
    targets: &[FileId],
    session: &Session<'_>,
) -> Result<Option<Finished>, String> {
    let (parts, plan) = {
        let build_log = session.build_log.lock().unwrap_or_else(|e| e.into_inner());
        let deps_log = session.deps_log.lock().unwrap_or_else(|e| e.into_inner());
        let mut scan = Scan::new(
            &mut manifest.graph,
            &build_log,
            &deps_log,
            session.config.explain,
        );
        scan.stat_ahead(targets);
        let validations = scan.visit_targets(targets)?;
        let plan = Plan::new(&scan, targets, &validations)?;
        (scan.into_parts(), plan)
    };
    if plan.commands == 0 {
        return Ok(None);
    }
    session.status.set_total(plan.commands);
    let run = Build::new(parts, &plan, &manifest.graph, session);
    signal::set_current(Some((run.cancel.clone(), Arc::clone(&run.children))));
    let result = schedule::run(&run);
    signal::set_current(None);
    result?;
    for message in run.errors.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        eprintln!("ninja: error: {message}");
    }
    let rebuilt = targets.iter().any(|&t| run.is_dirty(t));
    Ok(Some(Finished {
        failures: run.failures.load(std::sync::atomic::Ordering::Relaxed),
        interrupted: signal::interrupted(),
        rebuilt,
    }))
}

fn stopped(finished: &Finished, config: &Config) -> Option<(String, u8)> {
    if finished.interrupted {
        return Some(("interrupted by user".into(), 2));
    }
    if finished.failures == 0 {
        return None;
    }
    let reason = if finished.failures >= config.failures_allowed {
        if config.failures_allowed > 1 {
            "subcommands failed"
        } else {
            "subcommand failed"
        }
    } else {
        "cannot make progress due to previous errors"
    };
    Some((reason.into(), 1))
}

/// Loads the manifest; Err is the exit status, the error printed.
fn load_manifest(file: &str) -> Result<Manifest, u8> {
    load::load(&DiskReader, file).map_err(|e| {
        eprintln!("ninja: error: {e}");
        1
    })
}

/// The files to build: the command line's targets, or the manifest's
/// defaults; Err is the exit status, the error printed.
fn targets_of(manifest: &Manifest, options: &Options) -> Result<Vec<FileId>, u8> {
    let graph = &manifest.graph;
    if options.targets.is_empty() {
        let targets = graph.default_targets();
        if targets.is_empty() && !graph.edges.is_empty() {
            eprintln!("ninja: error: could not determine root nodes of build graph");
            return Err(1);
        }
        return Ok(targets);
    }
    options
        .targets
        .iter()
        .map(|name| graph.target(name))
        .collect::<Result<_, _>>()
        .map_err(|e| {
            eprintln!("ninja: error: {e}");
            1
        })
}

/// Builds the manifest itself while a build rebuilds it, then the targets;
/// the exit status.
fn build_loop(options: &Options, session: &Session<'_>) -> u8 {
    match try_build_loop(options, session) {
        Ok(code) | Err(code) => code,
    }
}

fn try_build_loop(options: &Options, session: &Session<'_>) -> Result<u8, u8> {
    let config = &session.config;
    let status = &session.status;
    let report = |e: String| {
        status.build_finished();
        eprintln!("ninja: error: {e}");
        1
    };
    for _ in 0..100 {
        let mut manifest = load_manifest(&options.file)?;
        // The manifest first: if it is rebuilt, load it again.
        if let Some(file) = manifest
            .graph
            .lookup(&taskflow_ninja::canon::canonicalize(&options.file))
            && manifest.graph.files[file].producer.is_some()
            && let Some(finished) = build(&mut manifest, &[file], session).map_err(report)?
        {
            if let Some((reason, code)) = stopped(&finished, config) {
                status.build_finished();
                if code == 2 {
                    println!("ninja: build stopped: {reason}.");
                } else {
                    eprintln!("ninja: error: rebuilding '{}': {reason}", options.file);
                }
                return Ok(code);
            }
            if config.dry_run {
                return Ok(0);
            }
            if finished.rebuilt {
                continue;
            }
            manifest = load_manifest(&options.file)?;
        }
        let targets = targets_of(&manifest, options)?;
        let finished = build(&mut manifest, &targets, session).map_err(report)?;
        status.build_finished();
        let code = match finished.as_ref().map(|f| stopped(f, config)) {
            None => {
                println!("ninja: no work to do.");
                0
            }
            Some(Some((reason, code))) => {
                println!("ninja: build stopped: {reason}.");
                code
            }
            Some(None) => 0,
        };
        // The process ends here: the system takes the graph back at once,
        // where freeing it would visit every edge again.
        std::mem::forget(manifest);
        return Ok(code);
    }
    eprintln!(
        "ninja: error: manifest '{}' still dirty after 100 tries",
        options.file
    );
    Ok(1)
}
