//! What a running task of the graph may read: the outputs of its declared
//! dependencies (see [`Context::input`](crate::Context::input)), checked
//! against the graph's edges so that an undeclared read is refused, never
//! a race.

use crate::graph::handle::TaskRef;
use crate::results::error::InputError;
use crate::runtime::run::Run;

impl<'g> Run<'g> {
    /// The output of `dependency` for the running task `reader`, if `reader`
    /// declared that dependency.
    pub(crate) fn input(
        &self,
        reader: u32,
        dependency: TaskRef,
    ) -> Result<&'g dyn std::any::Any, InputError> {
        if dependency.graph != self.graph.id {
            return Err(InputError::ForeignTask {
                reader: self.name_cow(reader),
            });
        }
        if !self.has_declared_edge(dependency.index, reader) {
            return Err(InputError::NotADependency {
                reader: self.name_cow(reader),
                dependency: self.name_cow(dependency.index),
            });
        }
        Ok(self.static_output(dependency.index))
    }

    /// Whether the graph has the edge `dependency -> reader`.
    pub(crate) fn has_declared_edge(&self, dependency: u32, reader: u32) -> bool {
        if dependency as usize >= self.graph.names.len() {
            return false;
        }
        match self.graph.predecessors {
            Some(index) if self.graph.table.is_hub(dependency) => {
                index.has_edge(dependency, reader)
            }
            _ => self.graph.table.has_edge(dependency, reader),
        }
    }

    /// The output slot of the graph's task `dependency`, which has ended
    /// before the caller's task started: a declared dependency of it, or of
    /// the task that spawned it.
    pub(crate) fn static_output(&self, dependency: u32) -> &'g dyn std::any::Any {
        let body = self.graph.bodies[dependency as usize].with(|body| {
            // SAFETY: `dependency` is a declared dependency of the running
            // task `reader`, which started only after `dependency`
            // succeeded: its owner wrote the body before handing
            // `reader` on, through the AcqRel decrement that reached
            // zero or, for a sole dependency, through a queue or on the
            // same thread.
            // Each task runs at most once per run, so the body is not
            // written again while the run, and so the returned
            // reference, lasts (the graph, and so the body, outlives it).
            unsafe { (*body).get() }
        });
        body.output()
    }
}
