//! taskflow-ninja: a runner for `build.ninja` files on the taskflow engine.
//!
//! The stages of a build, one module each, in the order a build meets them:
//! [`lexer`] and [`parse`] read a manifest, [`eval`] gives variables their
//! values, [`canon`] canonicalises paths, [`load`] builds the [`graph`]
//! (whose paths, like the logs', [`intern`] keeps); the [`build_log`] and
//! [`deps_log`] (framed by [`record`]) remember past builds, [`depfile`]
//! reads what compilers report; [`dirty`] decides what to run (through
//! [`disk`], [`prestat`] statting ahead in parallel); [`schedule`] puts the
//! edges on the engine, [`work`] does one edge ([`command`] runs it,
//! holding a [`tokens`] jobserver token), [`status`] prints, [`trace`]
//! records, [`signal`] stops; the binary's CLI and [`tools`] (with
//! [`clean`]) sit on top.

pub mod build_log;
pub mod canon;
pub mod clean;
pub mod command;
pub mod depfile;
pub mod deps_log;
pub mod dirty;
pub mod disk;
pub mod eval;
pub mod graph;
pub mod intern;
pub mod lexer;
pub mod load;
pub mod parse;
pub mod prestat;
pub mod record;
pub mod schedule;
pub mod signal;
pub mod status;
pub mod tokens;
pub mod tools;
pub mod trace;
pub mod work;
