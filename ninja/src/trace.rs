//! `-d trace=FILE`: a Chrome trace (the JSON array format that
//! chrome://tracing and Perfetto read) with one complete event per command,
//! on the track of the worker that ran it.

use std::io::{self, Write};
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug)]
struct Event {
    name: String,
    start_us: u64,
    dur_us: u64,
    track: usize,
}

/// The events of one build.
#[derive(Debug)]
pub struct Trace {
    start: Instant,
    events: Mutex<Vec<Event>>,
}

impl Trace {
    pub fn new(start: Instant) -> Trace {
        Trace {
            start,
            events: Mutex::new(Vec::new()),
        }
    }

    pub fn record(&self, name: &str, from: Instant, to: Instant, track: usize) {
        let event = Event {
            name: name.to_string(),
            start_us: (from - self.start).as_micros() as u64,
            dur_us: (to - from).as_micros() as u64,
            track,
        };
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event);
    }

    pub fn write(&self, path: &str) -> io::Result<()> {
        let events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = io::BufWriter::new(std::fs::File::create(path)?);
        writeln!(out, "[")?;
        for (i, e) in events.iter().enumerate() {
            let comma = if i + 1 < events.len() { "," } else { "" };
            writeln!(
                out,
                "{{\"name\":{},\"cat\":\"edge\",\"ph\":\"X\",\"ts\":{},\"dur\":{},\"pid\":1,\"tid\":{}}}{comma}",
                json_string(&e.name),
                e.start_us,
                e.dur_us,
                e.track
            )?;
        }
        writeln!(out, "]")?;
        out.flush()
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
