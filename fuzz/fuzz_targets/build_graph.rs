//! Random `precede` calls (cycles, self-edges, duplicates, tasks of another
//! graph) and runs in between, checked against a model: see
//! `taskflow_fuzz::build_graph`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(failure) = taskflow_fuzz::build_graph::check_bytes(data) {
        panic!("{failure}");
    }
});
