//! Scenario decoders and oracles for taskflow's fuzz targets.
//!
//! The modules live in the main crate, under `tests/fuzz_scenarios/`, and are
//! included here with `#[path]`: `tests/fuzz_replay.rs` includes the same
//! files and replays the committed corpus on stable Rust, and the main
//! crate's package ships `tests/` but not this crate, so the replay compiles
//! in a packaged copy too. (A dev-dependency on this crate instead would be a
//! dependency cycle.) The modules refer to each other as `crate::common`,
//! which resolves in both crates, and use nothing but `std`, `arbitrary` and
//! `taskflow_engine`.

#[path = "../../tests/fuzz_scenarios/build_graph.rs"]
pub mod build_graph;
#[path = "../../tests/fuzz_scenarios/common.rs"]
pub mod common;
#[path = "../../tests/fuzz_scenarios/run_graph/mod.rs"]
pub mod run_graph;
#[path = "../../tests/fuzz_scenarios/steer_graph.rs"]
pub mod steer_graph;
