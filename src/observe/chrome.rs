//! [`ChromeTrace`]: an observer that records every task as a complete
//! event of the Trace Event Format, the JSON that Perfetto
//! (<https://ui.perfetto.dev>) and `chrome://tracing` open.
//!
//! While runs go on it only records: per task, one small record pushed
//! under a mutex when the task finishes. The start time needs no storage of
//! its own: the trace reads the clock in the task's start event, and the
//! finish event hands that instant back. The JSON is made only by
//! [`ChromeTrace::write_to`].

use std::borrow::Cow;
use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Instant;

use serde::{Serialize, Serializer};

use super::{Observer, RunInfo, TaskEvent};
use crate::graph::name::Name;
use crate::graph::tag::Tag;
use crate::results::report::Outcome;
use crate::sync::Mutex;

/// Records every task of the runs it observes, to write them out as a trace
/// that Perfetto (<https://ui.perfetto.dev>) and `chrome://tracing` open.
///
/// Each task becomes a complete event (`"ph": "X"`) on the track of its tag
/// and worker (one track per pair, named `"<tag> worker <index>"`), with the
/// task's name, its tag as the category, and in `args` its tag, outcome
/// (`succeeded`, `failed`, `skipped`, `cancelled`), run id and task index,
/// and a failure's error. Times are in microseconds since the trace was
/// created. A task that never started (skipped or cancelled) is a
/// zero-duration complete event at the moment it was settled, on the
/// track of the worker that settled it, so that every task is one event of
/// the same kind.
///
/// A task costs the trace two clock reads, one 48-byte record pushed under
/// a mutex, and a copy of its name if the name was not a `&'static str`.
/// Events of one track nest properly (see the [module docs](super)); runs
/// of several executors that share one trace share the tracks of their
/// tags' workers, where their events may overlap.
///
/// ```
/// use taskflow_engine::observe::ChromeTrace;
/// use taskflow_engine::{Executor, Graph, RunOptions, Task};
///
/// let trace = ChromeTrace::new();
/// let mut graph = Graph::new();
/// let read = graph.add(Task::new("read", |_| Ok(vec![1u8, 2, 3])).tag("io"));
/// graph.add(Task::new("sum", move |cx| Ok(cx.input(read)?.len())).tag("cpu").after(read));
/// let report = Executor::new().run_with(&mut graph, RunOptions::new().observer(trace.clone()))?;
/// assert!(report.is_success());
///
/// let mut json = Vec::new();
/// trace.write_to(&mut json)?; // or a `std::fs::File`, to open in Perfetto
/// let trace: serde_json::Value = serde_json::from_slice(&json)?;
/// let tasks: Vec<_> = trace["traceEvents"]
///     .as_array()
///     .unwrap()
///     .iter()
///     .filter(|event| event["ph"] == "X")
///     .map(|event| (event["name"].as_str().unwrap(), event["args"]["outcome"].as_str().unwrap()))
///     .collect();
/// assert_eq!(tasks, [("read", "succeeded"), ("sum", "succeeded")]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ChromeTrace {
    /// When the trace was created: every timestamp counts from here.
    epoch: Instant,
    recorded: Mutex<Recorded>,
}

/// What the trace recorded so far.
#[derive(Default)]
struct Recorded {
    /// One per finished task, in the order they finished.
    tasks: Vec<TaskRecord>,
    /// The error of each failed task, by its index in `tasks` (failures are
    /// rare, so the records do not carry room for one).
    errors: Vec<(usize, String)>,
    /// Every (tag, worker index) a task was recorded on, in the order first
    /// seen: what a record's track indexes.
    tracks: Vec<(Tag, u32)>,
}

impl Recorded {
    /// The index of the track of `tag`'s worker `worker`, added if new.
    /// Tracks are few (tags times workers), so a scan is quick; and a tag
    /// from a literal is the same text at the same place in every clone, so
    /// the texts are compared only when their places differ.
    fn track(&mut self, tag: &Tag, worker: u32) -> u32 {
        let same = |known: &Tag| std::ptr::eq(known.as_str(), tag.as_str()) || known == tag;
        let index = match self
            .tracks
            .iter()
            .position(|(known, known_worker)| *known_worker == worker && same(known))
        {
            Some(index) => index,
            None => {
                self.tracks.push((tag.clone(), worker));
                self.tracks.len() - 1
            }
        };
        // Two bits of a record's `track_and_outcome` hold the outcome.
        assert!(index < 1 << 30, "a trace holds fewer than 2^30 tracks");
        index as u32
    }

    /// The error of the failed task at `index` of `tasks`.
    fn error(&self, index: usize) -> Option<&str> {
        let position = self
            .errors
            .binary_search_by_key(&index, |&(task, _)| task)
            .ok()?;
        Some(&self.errors[position].1)
    }
}

/// One finished task, in 48 bytes: a million-task run writes 48 MB of
/// records, and the memory they take in is most of what a record costs.
struct TaskRecord {
    run: u64,
    /// Nanoseconds from the trace's epoch to the start.
    start: u64,
    /// Nanoseconds from start to finish.
    duration: u64,
    name: Name,
    task: u32,
    /// The track's index in [`Recorded::tracks`] times 4, plus the
    /// outcome's index in [`OUTCOMES`].
    track_and_outcome: u32,
}

/// A task's outcome as the trace writes it, by the code a record keeps.
const OUTCOMES: [&str; 4] = ["succeeded", "failed", "skipped", "cancelled"];

impl TaskRecord {
    fn track(&self) -> usize {
        (self.track_and_outcome >> 2) as usize
    }

    fn outcome(&self) -> &'static str {
        OUTCOMES[(self.track_and_outcome & 3) as usize]
    }
}

impl ChromeTrace {
    /// An empty trace, in an `Arc`: give a clone to an executor or a run and
    /// keep one to write. Its timestamps count from now.
    #[must_use]
    pub fn new() -> Arc<ChromeTrace> {
        Arc::new(ChromeTrace::default())
    }

    /// Writes everything recorded so far as a Trace Event Format JSON
    /// object (`{"traceEvents": [...]}`), which Perfetto and
    /// `chrome://tracing` open; the writer is buffered here. Meant for
    /// after the runs: during one, the tasks that finish wait until it has
    /// written.
    ///
    /// # Errors
    ///
    /// What the writer returns.
    pub fn write_to(&self, w: impl Write) -> io::Result<()> {
        let recorded = self.recorded.lock();
        let tracks = Tracks::of(&recorded);
        let mut order: Vec<usize> = (0..recorded.tasks.len()).collect();
        // By start; at one instant the longer event first, so that a viewer
        // reading in order sees a parent before what it contains.
        order.sort_by_key(|&index| {
            let task = &recorded.tasks[index];
            (task.start, std::cmp::Reverse(task.duration))
        });
        let file = TraceFile {
            trace_events: Events {
                recorded: &recorded,
                tracks: &tracks,
                order: &order,
            },
            display_time_unit: "ms",
        };
        let mut writer = io::BufWriter::new(w);
        serde_json::to_writer(&mut writer, &file)?;
        writer.flush()
    }

    fn nanos_since_epoch(&self, at: Instant) -> u64 {
        duration_nanos(at.saturating_duration_since(self.epoch))
    }
}

fn duration_nanos(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// Nanoseconds as the trace's microseconds.
fn micros(nanos: u64) -> f64 {
    nanos as f64 / 1000.0
}

impl Default for ChromeTrace {
    /// An empty trace whose timestamps count from now; [`ChromeTrace::new`]
    /// gives it in an `Arc`.
    fn default() -> Self {
        ChromeTrace {
            epoch: Instant::now(),
            recorded: Mutex::new(Recorded::default()),
        }
    }
}

impl Observer for ChromeTrace {
    fn run_started(&self, run: &RunInfo) {
        // One growth of the record list per run, not a doubling every so
        // often under the lock in the middle of it.
        self.recorded.lock().tasks.reserve(run.tasks());
    }

    fn task_started(&self, event: &TaskEvent<'_>) {
        // Reads the clock: `started_at` of the finish event hands it back.
        let _ = event.at();
    }

    fn task_finished(&self, event: &TaskEvent<'_>, outcome: &Outcome) {
        let finish = event.at();
        let start = event.started_at().unwrap_or(finish);
        let (code, error) = match outcome {
            Outcome::Succeeded => (0, None),
            Outcome::Failed(error) => (1, Some(error.to_string())),
            Outcome::Skipped => (2, None),
            Outcome::Cancelled => (3, None),
        };
        let name = Name::new(event.name_cow());
        let (run, task) = (event.run_id(), event.task().index);
        let worker = u32::try_from(event.worker_index()).unwrap_or(u32::MAX);
        let (start, duration) = (
            self.nanos_since_epoch(start),
            duration_nanos(finish.saturating_duration_since(start)),
        );
        let mut recorded = self.recorded.lock();
        let track = recorded.track(event.tag(), worker);
        if let Some(error) = error {
            let index = recorded.tasks.len();
            recorded.errors.push((index, error));
        }
        recorded.tasks.push(TaskRecord {
            run,
            start,
            duration,
            name,
            task,
            track_and_outcome: track << 2 | code,
        });
    }
}

impl fmt::Debug for ChromeTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChromeTrace")
            .field("tasks", &self.recorded.lock().tasks.len())
            .finish_non_exhaustive()
    }
}

/// The tracks of a trace, numbered from 1 in the order of tag and worker
/// index (the trace event format's `tid`).
struct Tracks<'a> {
    /// Each track's tag name and worker index, and its number, in number
    /// order.
    sorted: Vec<(&'a str, u32, u32)>,
    /// The number of each of [`Recorded::tracks`], by its index there.
    numbers: Vec<u32>,
}

impl<'a> Tracks<'a> {
    fn of(recorded: &'a Recorded) -> Self {
        let mut order: Vec<usize> = (0..recorded.tracks.len()).collect();
        order.sort_by_key(|&index| {
            let (tag, worker) = &recorded.tracks[index];
            (tag.as_str(), *worker)
        });
        let mut numbers = vec![0; order.len()];
        let mut sorted = Vec::with_capacity(order.len());
        for (&index, number) in order.iter().zip(1..) {
            numbers[index] = number;
            let (tag, worker) = &recorded.tracks[index];
            sorted.push((tag.as_str(), *worker, number));
        }
        Tracks { sorted, numbers }
    }

    fn tid(&self, task: &TaskRecord) -> u32 {
        self.numbers[task.track()]
    }
}

/// The JSON object format of the Trace Event Format.
#[derive(Serialize)]
struct TraceFile<'a> {
    #[serde(rename = "traceEvents")]
    trace_events: Events<'a>,
    #[serde(rename = "displayTimeUnit")]
    display_time_unit: &'static str,
}

/// The events, made one at a time as they are written: the process's and
/// the tracks' names, then one complete event per task, in `order`.
struct Events<'a> {
    recorded: &'a Recorded,
    tracks: &'a Tracks<'a>,
    order: &'a [usize],
}

/// The one process of the trace.
const PID: u32 = 1;

/// One trace event.
#[derive(Serialize)]
struct Event<'a> {
    name: Cow<'a, str>,
    ph: &'static str,
    pid: u32,
    tid: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    cat: Option<&'a str>,
    /// Microseconds since the trace's epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    ts: Option<f64>,
    /// Microseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    dur: Option<f64>,
    args: Args<'a>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Args<'a> {
    /// Of the `process_name` and `thread_name` metadata events.
    Name { name: Cow<'a, str> },
    /// Of the `thread_sort_index` metadata events: tracks in tag order.
    SortIndex { sort_index: u32 },
    Task {
        tag: &'a str,
        outcome: &'static str,
        run: u64,
        task: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<&'a str>,
    },
}

impl Serialize for Events<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let metadata = |name: &'static str, tid: u32, args: Args<'static>| Event {
            name: Cow::Borrowed(name),
            ph: "M",
            pid: PID,
            tid,
            cat: None,
            ts: None,
            dur: None,
            args,
        };
        let process = std::iter::once(metadata(
            "process_name",
            0,
            Args::Name {
                name: Cow::Borrowed("taskflow"),
            },
        ));
        let tracks = self.tracks.sorted.iter().flat_map(|&(tag, worker, tid)| {
            [
                metadata(
                    "thread_name",
                    tid,
                    Args::Name {
                        name: Cow::Owned(format!("{tag} worker {worker}")),
                    },
                ),
                metadata(
                    "thread_sort_index",
                    tid,
                    Args::SortIndex { sort_index: tid },
                ),
            ]
        });
        let tasks = self.order.iter().map(|&index| {
            let task = &self.recorded.tasks[index];
            let tag = self.recorded.tracks[task.track()].0.as_str();
            Event {
                name: Cow::Borrowed(task.name.as_str()),
                ph: "X",
                pid: PID,
                tid: self.tracks.tid(task),
                cat: Some(tag),
                ts: Some(micros(task.start)),
                dur: Some(micros(task.duration)),
                args: Args::Task {
                    tag,
                    outcome: task.outcome(),
                    run: task.run,
                    task: task.task,
                    error: self.recorded.error(index),
                },
            }
        });
        serializer.collect_seq(process.chain(tracks).chain(tasks))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_takes_48_bytes() {
        assert_eq!(std::mem::size_of::<TaskRecord>(), 48);
    }

    #[test]
    fn tracks_are_numbered_in_tag_and_worker_order() {
        let mut recorded = Recorded::default();
        let io = Tag::new("io");
        let cpu = Tag::new(String::from("cpu"));
        assert_eq!(recorded.track(&io, 1), 0);
        assert_eq!(recorded.track(&cpu, 0), 1);
        assert_eq!(recorded.track(&io, 0), 2);
        assert_eq!(
            recorded.track(&Tag::new(String::from("io")), 1),
            0,
            "equal tags share a track"
        );
        let tracks = Tracks::of(&recorded);
        assert_eq!(tracks.sorted, [("cpu", 0, 1), ("io", 0, 2), ("io", 1, 3)]);
        assert_eq!(tracks.numbers, [3, 1, 2]);
    }
}
