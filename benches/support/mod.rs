//! What the bench targets share: the benchmark shapes, the task bodies, the
//! taskflow graphs built from them, and the baselines measured beside
//! taskflow. Each bench target includes this folder with `mod support;`.

pub(crate) mod baselines;
pub(crate) mod bodies;
pub(crate) mod graphs;
pub(crate) mod shapes;
