//! The file pipeline: each of five files is read (tag `io`), then
//! processed and compressed (tag `cpu`), with two workers per tag.
//!
//! Processing turns a file's text into its sorted vocabulary with word
//! counts; compressing front-codes that sorted list (each entry stores only
//! what differs from the previous one). Every task logs its start and end
//! with its worker and tag; while the run goes on, a thread prints its
//! progress (from a [`Progress`] observer) on stderr; at the end the example
//! prints each file's sizes, the wall time, and the serial sum of the task
//! times. With `--trace FILE` it also writes the run as a Chrome trace
//! ([`ChromeTrace`]), which <https://ui.perfetto.dev> and `chrome://tracing`
//! open.
//!
//! ```text
//! cargo run --release --example file_pipeline
//! RUST_LOG=warn cargo run --release --example file_pipeline   # results only
//! cargo run --release --example file_pipeline -- --trace pipeline.json
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use taskflow_engine::observe::{ChromeTrace, Progress};
use taskflow_engine::{Context, Error, Executor, Graph, RunOptions, Task, TaskBody, TaskId};

const FILES: [&str; 5] = [
    "file1.txt",
    "file2.txt",
    "file3.txt",
    "file4.txt",
    "file5.txt",
];
const WORDS_PER_FILE: usize = 300_000;

/// Reads one file from disk.
struct ReadFile {
    path: PathBuf,
    busy: Arc<BusyTime>,
}

impl TaskBody for ReadFile {
    type Output = Vec<u8>;

    fn run(&mut self, cx: &Context<'_>) -> Result<Vec<u8>, Error> {
        self.busy.time(cx, || Ok(std::fs::read(&self.path)?))
    }
}

/// The sorted vocabulary of a file with the count of each word.
type Vocabulary = BTreeMap<String, u32>;

/// Counts the words of a file that was read.
struct ProcessFile {
    text: TaskId<Vec<u8>>,
    busy: Arc<BusyTime>,
}

impl TaskBody for ProcessFile {
    type Output = Vocabulary;

    fn run(&mut self, cx: &Context<'_>) -> Result<Vocabulary, Error> {
        self.busy.time(cx, || {
            let text = std::str::from_utf8(cx.input(self.text)?)?;
            let mut vocabulary = Vocabulary::new();
            for word in text.split_whitespace() {
                *vocabulary.entry(word.to_lowercase()).or_default() += 1;
            }
            Ok(vocabulary)
        })
    }
}

/// Front-codes a vocabulary: per word, the length of the prefix it shares
/// with the previous word, the rest of the word, and its count.
struct CompressFile {
    vocabulary: TaskId<Vocabulary>,
    busy: Arc<BusyTime>,
}

impl TaskBody for CompressFile {
    type Output = Vec<u8>;

    fn run(&mut self, cx: &Context<'_>) -> Result<Vec<u8>, Error> {
        self.busy.time(cx, || {
            let mut encoded = Vec::new();
            let mut previous = "";
            for (word, count) in cx.input(self.vocabulary)? {
                let shared = previous
                    .bytes()
                    .zip(word.bytes())
                    .take_while(|(a, b)| a == b)
                    .count()
                    .min(255);
                let rest = &word.as_bytes()[shared..];
                encoded.push(shared as u8);
                encoded.push(u8::try_from(rest.len())?);
                encoded.extend_from_slice(rest);
                encoded.extend_from_slice(&count.to_le_bytes());
                previous = word;
            }
            Ok(encoded)
        })
    }
}

/// The sum of every task's own running time: what a serial run would take.
#[derive(Default)]
struct BusyTime {
    nanos: AtomicU64,
}

impl BusyTime {
    /// Runs `work` as the body of the task `cx` describes, logging its start
    /// and end and adding its duration to the sum.
    fn time<T>(
        &self,
        cx: &Context<'_>,
        work: impl FnOnce() -> Result<T, Error>,
    ) -> Result<T, Error> {
        let (name, tag, worker) = (cx.name(), cx.tag(), cx.worker_index());
        log::info!("start {name:<22} on {tag} worker {worker}");
        let started = Instant::now();
        let result = work();
        let took = started.elapsed();
        self.nanos
            .fetch_add(took.as_nanos() as u64, Ordering::Relaxed);
        log::info!("end   {name:<22} on {tag} worker {worker} after {took:.1?}");
        result
    }

    fn total(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }
}

/// Writes the input files: pseudo-random words from a small syllable set, so
/// that vocabularies share prefixes and front coding has work to do.
fn write_inputs(directory: &std::path::Path) -> std::io::Result<Vec<PathBuf>> {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "Ba", "de", "fu", "gi", "ho", "ja", "po",
        "we",
    ];
    let mut state = 0x5eed_u64;
    let mut next = move || {
        // SplitMix64: deterministic input without a dependency.
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    std::fs::create_dir_all(directory)?;
    FILES
        .iter()
        .map(|file| {
            let mut text = String::new();
            for _ in 0..WORDS_PER_FILE {
                let random = next();
                for syllable in 0..1 + random % 4 {
                    text.push_str(SYLLABLES[(random >> (8 + 4 * syllable)) as usize % 16]);
                }
                text.push(if random % 13 == 0 { '\n' } else { ' ' });
            }
            let path = directory.join(file);
            std::fs::write(&path, text)?;
            Ok(path)
        })
        .collect()
}

/// The command line: `[--trace FILE]`.
fn trace_path() -> Result<Option<PathBuf>, String> {
    let mut args = std::env::args_os().skip(1);
    match (args.next(), args.next(), args.next()) {
        (None, ..) => Ok(None),
        (Some(flag), Some(path), None) if flag == "--trace" => Ok(Some(path.into())),
        _ => Err("usage: file_pipeline [--trace FILE]".into()),
    }
}

/// Prints `progress` on stderr each time it changed, every 50 ms, until
/// `done` hears from the main thread (or loses it), then once more.
fn show_progress(progress: &Progress, done: mpsc::Receiver<()>) {
    let mut shown = None;
    loop {
        let finished =
            done.recv_timeout(Duration::from_millis(50)) != Err(mpsc::RecvTimeoutError::Timeout);
        let now = progress.snapshot();
        if shown != Some(now) || finished {
            eprintln!("progress: {now}");
            shown = Some(now);
        }
        if finished {
            return;
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format_timestamp_millis()
        .init();
    let trace_path = trace_path()?;

    let directory =
        std::env::temp_dir().join(format!("taskflow-file-pipeline-{}", std::process::id()));
    let paths = write_inputs(&directory)?;
    let busy = Arc::new(BusyTime::default());

    let mut graph = Graph::new();
    let mut outputs = Vec::new();
    for (file, path) in FILES.iter().zip(paths) {
        let read = graph.add(
            Task::from_body(
                format!("read {file}"),
                ReadFile {
                    path,
                    busy: Arc::clone(&busy),
                },
            )
            .tag("io"),
        );
        let process = graph.add(
            Task::from_body(
                format!("process {file}"),
                ProcessFile {
                    text: read,
                    busy: Arc::clone(&busy),
                },
            )
            .tag("cpu")
            .after(read),
        );
        let compress = graph.add(
            Task::from_body(
                format!("compress {file}"),
                CompressFile {
                    vocabulary: process,
                    busy: Arc::clone(&busy),
                },
            )
            .tag("cpu")
            .after(process),
        );
        outputs.push((*file, read, process, compress));
    }

    let executor = Executor::builder()
        .workers_per_tag(2)
        .pin_workers(true)
        .build()?;
    let progress = Progress::new();
    let mut options = RunOptions::new().observer(progress.clone());
    let trace = trace_path.as_ref().map(|_| ChromeTrace::new());
    if let Some(trace) = &trace {
        options = options.observer(trace.clone());
    }
    let (done, finished) = mpsc::channel();
    let started = Instant::now();
    let report = std::thread::scope(|scope| {
        scope.spawn(|| show_progress(&progress, finished));
        let report = executor.run_with(&mut graph, options);
        let _ = done.send(());
        report
    })?;
    let wall = started.elapsed();
    std::fs::remove_dir_all(&directory)?;
    if let (Some(trace), Some(path)) = (&trace, &trace_path) {
        trace.write_to(std::fs::File::create(path)?)?;
        println!(
            "trace written to {} (open it in https://ui.perfetto.dev)",
            path.display()
        );
    }

    println!("{report}");
    if !report.is_success() {
        return Err("the pipeline did not complete".into());
    }
    println!(
        "{:<10} {:>12} {:>12} {:>12}",
        "file", "read bytes", "words", "compressed"
    );
    for (file, read, process, compress) in outputs {
        let words = graph.output(process).map_or(0, BTreeMap::len);
        let read_bytes = graph.output(read).map_or(0, Vec::len);
        let compressed = graph.take_output(compress).map_or(0, |bytes| bytes.len());
        println!("{file:<10} {read_bytes:>12} {words:>12} {compressed:>12}");
    }
    let serial = busy.total();
    println!(
        "wall time {wall:.1?}, serial sum of task times {serial:.1?} ({:.2}x)",
        serial.as_secs_f64() / wall.as_secs_f64()
    );
    Ok(())
}
