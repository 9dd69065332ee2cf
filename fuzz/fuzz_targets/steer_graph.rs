//! Random acyclic graphs with priorities, weights and limits, run alone or
//! as two copies that share the limits, checked so that no limit is ever
//! exceeded: see `taskflow_fuzz::steer_graph`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(failure) = taskflow_fuzz::steer_graph::check_bytes(data) {
        panic!("{failure}");
    }
});
