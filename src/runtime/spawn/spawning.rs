//! Spawning a task (steps 1-6 of "Spawning" in [`crate::runtime::spawn`]),
//! and what a running task may read of the run's spawned tasks, as methods
//! of the [`Run`].

use std::borrow::Cow;
use std::ptr::NonNull;

use crate::graph::body::PendingBody;
use crate::graph::handle::TaskRef;
use crate::graph::tag::Tag;
use crate::mutant::planted;
use crate::results::error::GraphError;
use crate::runtime::pool::Pool;
use crate::runtime::run::Run;
use crate::runtime::spawn::nodes::{AWAITED, Declared, ENDED, ENDED_POISONED, Node};
use crate::runtime::spawn::subtree::{Children, Owner, Subtree};
use crate::runtime::state::{PENDING_MASK, POISONED, SUCCEEDED};
use crate::sync::UnsafeCell;
use crate::sync::atomic::{AtomicU8, AtomicU32, Ordering};

/// What `Context::spawn` hands the run: the parts of a `Task<'static, T>`.
pub(crate) struct Spawn<'t> {
    pub(crate) name: Cow<'static, str>,
    pub(crate) body: PendingBody,
    pub(crate) tag: Option<Tag>,
    pub(crate) dependencies: &'t [TaskRef],
}

impl<'g> Run<'g> {
    /// Spawning, steps 1-6 ([`crate::runtime::spawn`]): adds `spawn` as a
    /// child of the task `parent` (whose subtree is `subtree`, created here
    /// on its first spawn), whose body runs on worker `body_worker` of its
    /// pool, and returns the child's node index.
    pub(crate) fn spawn_child(
        &self,
        parent: Owner,
        subtree: &crate::sync::atomic::AtomicPtr<Subtree>,
        body_worker: usize,
        spawn: Spawn<'_>,
    ) -> Result<u32, GraphError> {
        // ORDERING: Acquire: takes in the subtree's creation below, which a
        // body that spawns from several threads may have done on another.
        let existing = NonNull::new(subtree.load(Ordering::Acquire));
        let existing: Option<&Subtree> = existing.map(|subtree| {
            // SAFETY: a stored subtree is owned by the run, alive until it ends.
            unsafe { subtree.as_ref() }
        });
        let mut siblings = Vec::new();
        for &dependency in spawn.dependencies {
            if dependency.graph == self.spawn.space {
                let sibling = (dependency.index as usize) < self.spawn.nodes.len()
                    && existing.is_some_and(|subtree| {
                        std::ptr::eq(
                            self.spawn.nodes.get(dependency.index).parent.as_ptr(),
                            subtree,
                        )
                    });
                if sibling {
                    siblings.push(dependency.index);
                    continue;
                }
            }
            if !self.declares(parent, dependency) {
                return Err(GraphError::ForeignTask);
            }
        }
        let pool = self.pool_for(spawn.tag.as_ref())?;
        let subtree = match existing {
            Some(subtree) => subtree,
            None => self.create_subtree(parent, subtree),
        };
        // A child that names no sibling has no guard: nobody else can learn
        // of it before it is published below.
        let pending = if siblings.is_empty() {
            0
        } else {
            1 + siblings.len() as u32
        };
        let dependencies = Declared::new(spawn.dependencies);
        let node = move || Node {
            name: spawn.name,
            pool,
            body: UnsafeCell::new(spawn.body),
            pending: AtomicU32::new(pending),
            parent: NonNull::from(subtree),
            dependencies,
            outcome: AtomicU8::new(0),
            end: AtomicU8::new(0),
            next_sibling: AtomicU32::new(u32::MAX),
        };
        // Under the children's lock, so that the children of one parent
        // take node indices in the order of the list (a join covers a
        // prefix of it, and `joined` is an index bound). Every locked
        // instruction comes before the node's stores, and the lock is
        // released by a plain store (`SpinLock`), so that those stores,
        // often to memory not in the cache, drain while the body goes on
        // instead of stalling the next locked instruction.
        let child = {
            let mut children = subtree.children.lock();
            let child = self.spawn.nodes.reserve().ok_or(GraphError::TooLarge)?;
            subtree.add_child();
            self.completion().add(1);
            self.spawn.nodes.write(child, node);
            *children = Some(match *children {
                None => Children {
                    first: child,
                    newest: child,
                },
                Some(Children { first, newest }) => {
                    // ORDERING: Relaxed: read under this lock, or after a
                    // snapshot taken under it (see `Subtree::children`).
                    let link = &self.spawn.nodes.get(newest).next_sibling;
                    link.store(child, Ordering::Relaxed);
                    Children {
                        first,
                        newest: child,
                    }
                }
            });
            child
        };
        if siblings.is_empty() {
            self.publish_spawned(child, pool, subtree, body_worker);
            return Ok(child);
        }
        let word = &self.spawn.nodes.get(child).pending;
        for sibling in siblings {
            // The planted bug `awaited_unmarked` enters the child in the
            // table without marking the sibling awaited, so its end looks
            // for nobody; the loom model `a_sibling_ends_while_a_child_names_it`
            // must then find the child never released.
            let end = {
                let mut waiting = subtree.waiting.lock();
                // ORDERING: AcqRel: Acquire, if the sibling ended, takes in
                // its subtree's effects (its output above all); the mark
                // and the sibling's end are read-modify-writes of one word,
                // so exactly one of them sees the other (module docs).
                let end = self.spawn.nodes.get(sibling).end.fetch_or(
                    if planted("awaited_unmarked") {
                        0
                    } else {
                        AWAITED
                    },
                    Ordering::AcqRel,
                );
                if end & ENDED == 0 {
                    let waiting = waiting.get_or_insert_with(Box::default);
                    waiting.entry(sibling).or_default().push(child);
                }
                end
            };
            if end & ENDED != 0 {
                if end & ENDED_POISONED != 0 {
                    // ORDERING: Relaxed: as in `release_sibling`.
                    word.fetch_or(POISONED, Ordering::Relaxed);
                }
                // ORDERING: Relaxed: the guard keeps the count above
                // zero; the guard's AcqRel decrement below publishes.
                word.fetch_sub(1, Ordering::Relaxed);
            }
        }
        // ORDERING: AcqRel: as in `release_sibling`.
        if word.fetch_sub(1, Ordering::AcqRel) & PENDING_MASK == 1 {
            self.publish_spawned(child, pool, subtree, body_worker);
        }
        Ok(child)
    }

    /// Step 2: the subtree of `owner`, on its first spawn.
    #[cold]
    fn create_subtree(
        &self,
        owner: Owner,
        slot: &crate::sync::atomic::AtomicPtr<Subtree>,
    ) -> &Subtree {
        let (parent, pool) = match owner {
            Owner::Static(task) => (None, &*self.pools[self.graph.table.tag(task) as usize]),
            Owner::Spawned(node) => {
                let node = self.spawn.nodes.get(node);
                // SAFETY: the node's pool is held by the run (see `Node`).
                (Some(node.parent), unsafe { node.pool.as_ref() })
            }
        };
        // SAFETY: a node's parent subtree outlives it (see `Subtree`).
        let parent = parent.map(|parent| unsafe { parent.as_ref() });
        let pointer = self.spawn.subtrees.keep(Subtree::new(owner, parent, pool));
        // ORDERING: AcqRel: Release publishes the subtree to a spawn of the
        // same body on another thread (see `spawn_child`); Acquire, on
        // failure, takes in the winner's. A body spawning from two threads
        // at once may create two; the first stored wins, and the other stays
        // unused in `subtrees`.
        match slot.compare_exchange(
            std::ptr::null_mut(),
            pointer.as_ptr(),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // SAFETY: owned by `self.spawn.subtrees` until the run ends.
            Ok(_) => unsafe { pointer.as_ref() },
            // SAFETY: as above, the winner's.
            Err(winner) => unsafe { &*winner },
        }
    }

    /// Whether `dependency` is one of the declared dependencies of the
    /// running task `reader` (of the graph, or given to `spawn`).
    pub(crate) fn declares(&self, reader: Owner, dependency: TaskRef) -> bool {
        match reader {
            Owner::Static(task) => {
                dependency.graph == self.graph.id && self.has_declared_edge(dependency.index, task)
            }
            Owner::Spawned(node) => self
                .spawn
                .nodes
                .get(node)
                .dependencies
                .contains(&dependency),
        }
    }

    /// The pool of `tag`: the graph's, one started for an earlier spawn,
    /// or a new one. Every one of them is held by the run (in `pools` or
    /// `extra_pools`, never removed) until it ends, so no count is taken.
    fn pool_for(&self, tag: Option<&Tag>) -> Result<NonNull<Pool>, GraphError> {
        let Some(tag) = tag else {
            // ORDERING: Acquire: takes in the pool, which a spawn on another
            // thread may have started (a graph with no task of the default
            // tag), as the extra pools' lock does for the slow path.
            let known = self.spawn.default_pool.load(Ordering::Acquire);
            if let Some(known) = NonNull::new(known) {
                return Ok(known);
            }
            let pool = self.pool_for(Some(&Tag::DEFAULT))?;
            // ORDERING: Release: publishes the pool (see above); racing
            // stores store the same pointer.
            self.spawn
                .default_pool
                .store(pool.as_ptr(), Ordering::Release);
            return Ok(pool);
        };
        if let Some(position) = self.graph.tags.iter().position(|known| known == tag) {
            return Ok(NonNull::from(&*self.pools[position]));
        }
        let mut extra = self.spawn.extra_pools.lock();
        if let Some(pool) = extra.iter().find(|pool| pool.tag() == tag) {
            return Ok(NonNull::from(&**pool));
        }
        let source = self
            .spawn
            .pool_source
            .as_ref()
            .ok_or(GraphError::ForeignTask)?;
        let pool = source(tag)?;
        let held = NonNull::from(&*pool);
        extra.push(pool);
        Ok(held)
    }

    /// The subtree of the spawned task `node`'s parent.
    pub(crate) fn node_parent(&self, node: u32) -> NonNull<Subtree> {
        self.spawn.nodes.get(node).parent
    }

    /// The spawned task `node`'s output for the running task `reader`, if
    /// `reader` may read it: a sibling that named it, or its parent after a
    /// `join` that covered it.
    pub(crate) fn node_input(
        &self,
        reader: Owner,
        reader_subtree: Option<NonNull<Subtree>>,
        node: u32,
    ) -> Option<&dyn std::any::Any> {
        if node as usize >= self.spawn.nodes.len() {
            return None;
        }
        let entry = self.spawn.nodes.get(node);
        let child_of_reader = reader_subtree.is_some_and(|subtree| {
            // SAFETY: a subtree is owned by the run, alive while it lasts.
            entry.parent == subtree && node < unsafe { subtree.as_ref() }.joined()
        });
        let named = self.declares(
            reader,
            TaskRef {
                graph: self.spawn.space,
                index: node,
            },
        );
        if !child_of_reader && !named {
            return None;
        }
        let body = entry.body.with(|body| {
            // SAFETY: the node's subtree ended before the reader could get
            // here (a join that covered it, or the release of a sibling that
            // named it), through AcqRel decrements that published its
            // body's last write; it is not written again this run, and the
            // node table lives as long as the run, which the returned
            // reference borrows.
            unsafe { &*body }.erased()
        });
        Some(body.output())
    }

    /// The children of a snapshot of a subtree's list (taken under its
    /// lock), in spawn order.
    pub(crate) fn children(&self, span: Option<Children>) -> impl Iterator<Item = u32> + '_ {
        let mut next = span.map(|span| span.first);
        std::iter::from_fn(move || {
            let node = next?;
            next = span.filter(|span| span.newest != node).map(|_| {
                // ORDERING: Relaxed: written under the children lock before
                // the snapshot's lock was taken (see `Subtree::children`).
                self.spawn
                    .nodes
                    .get(node)
                    .next_sibling
                    .load(Ordering::Relaxed)
            });
            Some(node)
        })
    }

    /// Whether the subtree of every child in `span` ended. The successor
    /// lock of each takes in its end (marked under that lock after every
    /// effect of its subtree).
    pub(crate) fn nodes_ended(&self, span: Option<Children>) -> bool {
        self.children(span)
            .all(|node| self.node_end(node) & ENDED != 0)
    }

    /// Whether the spawned task `node`'s subtree ended and succeeded.
    pub(crate) fn node_succeeded(&self, node: u32) -> bool {
        let entry = self.spawn.nodes.get(node);
        // ORDERING: Relaxed: the end mark, read with Acquire, took in the
        // outcome stored before it.
        self.node_end(node) & (ENDED | ENDED_POISONED) == ENDED
            && u32::from(entry.outcome.load(Ordering::Relaxed)) == SUCCEEDED
    }

    /// The end mark of the spawned task `node` ([`Node::end`]).
    fn node_end(&self, node: u32) -> u8 {
        // ORDERING: Acquire: takes in every effect of the node's subtree,
        // which its end mark's Release published.
        self.spawn.nodes.get(node).end.load(Ordering::Acquire)
    }

    /// The identity of the handles of this run's spawned tasks.
    pub(crate) fn spawn_space(&self) -> crate::graph::handle::GraphId {
        self.spawn.space
    }

    pub(crate) fn graph_id(&self) -> crate::graph::handle::GraphId {
        self.graph.id
    }

    /// The name of `task`, of the graph or spawned in this run, for errors.
    pub(crate) fn any_name(&self, task: TaskRef) -> &str {
        if task.graph == self.spawn.space && (task.index as usize) < self.spawn.nodes.len() {
            self.node_name(task.index)
        } else if task.graph == self.graph.id && (task.index as usize) < self.graph.names.len() {
            self.task_name(task.index)
        } else {
            "a task of another graph"
        }
    }

    pub(crate) fn node_name(&self, node: u32) -> &str {
        &self.spawn.nodes.get(node).name
    }

    /// The spawned task `node`'s name as a value that outlives the run.
    pub(crate) fn node_name_cow(&self, node: u32) -> Cow<'static, str> {
        self.spawn.nodes.get(node).name.clone()
    }

    pub(crate) fn node_tag(&self, node: u32) -> &Tag {
        // SAFETY: the pool is held by the run.
        unsafe { self.spawn.nodes.get(node).pool.as_ref() }.tag()
    }

    pub(crate) fn node_ref(&self, node: u32) -> TaskRef {
        TaskRef {
            graph: self.spawn.space,
            index: node,
        }
    }
}
