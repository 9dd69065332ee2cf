//! Graphs whose tasks spawn children (with sibling dependencies), join or
//! not, and run nested graphs, checked against a serial reference: see
//! `taskflow_fuzz::run_spawn`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(failure) = taskflow_fuzz::run_spawn::check_bytes(data) {
        panic!("{failure}");
    }
});
