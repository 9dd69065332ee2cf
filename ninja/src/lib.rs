//! taskflow-ninja: a runner for `build.ninja` files on the taskflow engine.
//!
//! The stages of a build, one module each, in the order a build meets them:
//! [`lexer`] and [`parse`] read a manifest, [`eval`] gives variables their
//! values, [`load`] builds the [`graph`]; the [`build_log`] and [`deps_log`]
//! (framed by [`record`]) remember past builds; [`dirty`] decides what to
//! run; [`schedule`] puts the edges on the engine, [`work`] runs one edge
//! ([`command`] spawns it), [`status`] prints, [`trace`] records; the
//! binary's CLI and [`tools`] sit on top.

pub mod canon;
pub mod eval;
pub mod graph;
pub mod lexer;
pub mod load;
pub mod parse;
