//! Scenario decoders and oracles for taskflow's fuzz targets.
//!
//! Everything here is shared, file by file, with `tests/fuzz_replay.rs`,
//! which includes these modules with `#[path]` (a dev-dependency on this
//! crate would be a dependency cycle) and replays the committed corpus on
//! stable Rust. So the modules refer to each other as `crate::common`, which
//! resolves in both crates, and use nothing but `std`, `arbitrary` and
//! `taskflow`.

pub mod build_graph;
pub mod common;
pub mod run_graph;
