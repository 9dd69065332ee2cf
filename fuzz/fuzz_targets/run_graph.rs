//! Random acyclic graphs with failures, panics, cancellation and reruns,
//! checked against a serial reference executor: see
//! `taskflow_fuzz::run_graph`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(failure) = taskflow_fuzz::run_graph::check_bytes(data) {
        panic!("{failure}");
    }
});
