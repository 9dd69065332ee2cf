//! Spawning a task, processing a spawned task, and the end of a subtree:
//! the steps of [`crate::runtime::spawn`], as methods of the [`Run`].

use std::borrow::Cow;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;

use crate::graph::body::PendingBody;
use crate::graph::handle::TaskRef;
use crate::graph::tag::Tag;
use crate::mutant::planted;
use crate::observe::TaskEvent;
use crate::results::error::{GraphError, Panic, TaskError};
use crate::results::report::Outcome;
use crate::runtime::context::Context;
use crate::runtime::job::Job;
use crate::runtime::pool::Pool;
use crate::runtime::run::{Run, is_cancelled};
use crate::runtime::spawn::help::OwnWork;
use crate::runtime::spawn::inbox::{Forward, Inbox};
use crate::runtime::spawn::nodes::{AWAITED, ENDED, ENDED_POISONED, Node};
use crate::runtime::spawn::subtree::{Children, Owner, Subtree};
use crate::runtime::state::{
    CANCELLED, CANCELLED_ITSELF, FAILED, PENDING_MASK, POISONED, SKIPPED, SUCCEEDED, poisons,
    recorded,
};
use crate::runtime::worker::WorkerThread;
use crate::sync::atomic::{AtomicU8, AtomicU32, Ordering};
use crate::sync::{Arc, UnsafeCell};

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
        let node = Node {
            name: spawn.name,
            pool,
            body: UnsafeCell::new(spawn.body),
            // A child that names no sibling has no guard: nobody else can
            // learn of it before it is published below.
            pending: AtomicU32::new(if siblings.is_empty() {
                0
            } else {
                1 + siblings.len() as u32
            }),
            parent: NonNull::from(subtree),
            dependencies: spawn.dependencies.into(),
            outcome: AtomicU8::new(0),
            end: AtomicU8::new(0),
            next_sibling: AtomicU32::new(u32::MAX),
        };
        // Under the children's lock, so that the children of one parent
        // take node indices in the order of the list (a join covers a
        // prefix of it, and `joined` is an index bound).
        let child = {
            let mut children = subtree.children.lock();
            let child = self.spawn.nodes.push(node).ok_or(GraphError::TooLarge)?;
            subtree.add_child();
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
        self.completion().add(1);
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

    /// Publishes the ready child `node`, of `pool`, from the thread that
    /// spawned it, a thread of its parent's body (whose subtree is
    /// `subtree`, running on worker `body_worker` of its pool). When that
    /// thread is the body's
    /// worker, outside any wait (or inside one, in an exclusive run: see
    /// `queues_children_locally`), and the child runs on the same pool, the
    /// child goes onto the worker's own deque, with no lock: the pool's
    /// other workers steal it from there as any job, and the body's `join`
    /// takes it back (see [`WorkerThread::serve_until`]). Else as
    /// [`publish_node`](Run::publish_node).
    fn publish_spawned(
        &self,
        node: u32,
        pool: NonNull<Pool>,
        subtree: &Subtree,
        body_worker: usize,
    ) {
        let worker = WorkerThread::current();
        if let Some(worker) = worker {
            let home = subtree.pool();
            if self.queues_children_locally(worker)
                && worker.index() == body_worker
                && std::ptr::eq(worker.pool(), home)
                && std::ptr::eq(pool.as_ptr(), home)
            {
                worker.local().push(Job::node(self, node));
                // The planted bug `own_child_unannounced` wakes no sleeping
                // peer for the child; the loom model
                // `a_child_on_the_spawners_deque_is_stolen` must then find
                // the peer asleep while the body waits for the child.
                if !planted("own_child_unannounced") {
                    home.pushed_local(1);
                }
                return;
            }
        }
        self.publish_node(node, worker);
    }

    /// Whether a body running on `worker` (its innermost task) queues its
    /// children of its own pool on the worker's deque: outside any wait, or
    /// in any wait of an exclusive run, whose waits know every spawned task
    /// of the run on the deque for theirs ([`OwnWork`]). Inside a wait of
    /// a run that is not exclusive they go into inboxes.
    fn queues_children_locally(&self, worker: &WorkerThread) -> bool {
        worker.help_depth.get() == 0 || self.exclusive
    }

    /// Which jobs on `worker`'s own deque a wait of `subtree`'s owner, on
    /// that worker, may take as its own (see [`OwnWork`]).
    pub(crate) fn own_work_of<'s>(
        &self,
        subtree: &'s Subtree,
        worker: &WorkerThread,
    ) -> Option<OwnWork<'s>> {
        self.queues_children_locally(worker)
            .then_some(OwnWork::DescendantsOf(subtree))
    }

    /// The subtree of the spawned task `node`'s parent.
    pub(crate) fn node_parent(&self, node: u32) -> NonNull<Subtree> {
        self.spawn.nodes.get(node).parent
    }

    /// Publishes the ready spawned task `node` (module docs of
    /// [`crate::runtime::spawn`]): into the inbox of its nearest ancestor
    /// (its parent, most often) that runs on the same pool, else into its
    /// pool.
    pub(crate) fn publish_node(&self, node: u32, worker: Option<&WorkerThread>) {
        let entry = self.spawn.nodes.get(node);
        // SAFETY: both are alive while the run is (see `Node`).
        let (pool, parent) = unsafe { (entry.pool.as_ref(), entry.parent.as_ref()) };
        let job = Job::node(self, node);
        match self.nearest_open_inbox(parent, pool) {
            Some(inbox) => {
                if let Err(job) = Inbox::push(inbox, job) {
                    self.publish_to_pool(pool, job, worker);
                }
            }
            None => self.publish_to_pool(pool, job, worker),
        }
    }

    /// The inbox of the nearest subtree, `from` or an ancestor's, of a
    /// task on `pool` whose body has not returned, made if it is the first
    /// need of one (a subtree closed without one is passed by: its
    /// waits are over); `None` if there is none up the tree.
    fn nearest_open_inbox<'s>(&self, from: &'s Subtree, pool: &Pool) -> Option<&'s Arc<Inbox>> {
        let mut at = from.nearest_on(pool);
        while let Some(subtree) = at {
            if let Some(inbox) = subtree.open_inbox() {
                return Some(inbox);
            }
            at = subtree.parent().and_then(|parent| parent.nearest_on(pool));
        }
        None
    }

    /// Queues `job` on `pool`: in the run's own inbox there if the run is
    /// waited for by a worker of `pool`, else on the worker's own deque if
    /// it serves `pool`, else in the pool's injector.
    pub(crate) fn publish_to_pool(&self, pool: &Pool, job: Job, worker: Option<&WorkerThread>) {
        if let Some(helper) = &self.spawn.helper {
            if std::ptr::eq(helper.pool(), pool) {
                // The run's inbox is never forwarded while the run lasts.
                let _ = Inbox::push(helper, job);
                return;
            }
        }
        match worker {
            Some(worker) if std::ptr::eq(worker.pool(), pool) => {
                worker.push_local(job);
                pool.pushed_local(1);
            }
            _ => pool.inject(job),
        }
    }

    /// After the body of the graph's task `task` returned having spawned
    /// (`subtree`): steps 1 and 3 of "A subtree ends". Returns a successor
    /// to process next, as `release_successors` does, if the subtree ended.
    #[cold]
    #[inline(never)]
    pub(crate) fn after_spawning_body(
        &self,
        task: u32,
        outcome: u32,
        subtree: &Subtree,
        worker: &WorkerThread,
    ) -> Option<u32> {
        if self.exclusive {
            // Module docs: an implicit join keeps the release on this thread.
            let settled = self.join_in_order(outcome, subtree, worker);
            return self.release_successors(task, settled, worker);
        }
        self.close_inbox(subtree, || Forward::Pool, worker);
        if !subtree.body_returned(poisons(outcome)) {
            return None;
        }
        let settled = if subtree.poisons() { SKIPPED } else { outcome };
        self.release_successors(task, settled, worker)
    }

    /// Closes the inbox of `subtree`, whose owner's body returned: if one
    /// was made, forwards it to `forward()` and queues what it held there.
    fn close_inbox(
        &self,
        subtree: &Subtree,
        forward: impl FnOnce() -> Forward,
        worker: &WorkerThread,
    ) {
        let Some(inbox) = subtree.close_inbox() else {
            return;
        };
        let pool = subtree.pool();
        let forward = forward();
        let jobs = inbox.close(forward.clone());
        if jobs.is_empty() {
            return;
        }
        let queued = match &forward {
            Forward::Inbox(inbox) => Inbox::push_all(inbox, jobs),
            Forward::Pool => Err(jobs),
        };
        if let Err(jobs) = queued {
            for job in jobs {
                self.publish_to_pool(pool, job, Some(worker));
            }
        }
    }

    /// Processes the spawned task `node`, which `worker` owns: runs it (or
    /// records why not), and ends its subtree if it can.
    pub(crate) fn process_node(&self, node: u32, worker: &WorkerThread) {
        let entry = self.spawn.nodes.get(node);
        // ORDERING: Relaxed: the hand-off that gave this worker the node
        // synchronised with every writer of the word.
        let poisoned = entry.pending.load(Ordering::Relaxed) & POISONED != 0;
        let (outcome, subtree) = if poisoned {
            self.node_did_not_run(node, SKIPPED, worker)
        } else if self.is_stopped() {
            self.node_did_not_run(node, CANCELLED, worker)
        } else {
            self.run_node_body(node, entry, worker)
        };
        // ORDERING: Relaxed: read after the subtree's end or the run's
        // completion, which the AcqRel decrements below order after this.
        entry.outcome.store(recorded(outcome), Ordering::Relaxed);
        let poison = poisons(outcome);
        match subtree {
            None => self.node_ended(node, poison, worker),
            Some(subtree) => {
                self.close_inbox(subtree, || self.forward_for(subtree), worker);
                if subtree.body_returned(poison) {
                    self.node_ended(node, subtree.poisons(), worker);
                }
            }
        }
    }

    /// Where the inbox of a spawned owner's subtree goes once its body
    /// returned: the inbox of its nearest ancestor on the same pool (or
    /// where that one forwards), else its pool.
    fn forward_for(&self, subtree: &Subtree) -> Forward {
        let pool = subtree.pool();
        let ancestor = subtree
            .parent()
            .and_then(|parent| self.nearest_open_inbox(parent, pool));
        match ancestor {
            Some(inbox) => inbox
                .forward()
                .unwrap_or_else(|| Forward::Inbox(Arc::clone(inbox))),
            None => Forward::Pool,
        }
    }

    fn node_did_not_run(
        &self,
        node: u32,
        outcome: u32,
        worker: &WorkerThread,
    ) -> (u32, Option<&Subtree>) {
        let (count, seen) = if outcome == SKIPPED {
            (&self.spawn.skipped, Outcome::Skipped)
        } else {
            (&self.spawn.cancelled, Outcome::Cancelled)
        };
        // ORDERING: Relaxed: read after the run's completion.
        count.fetch_add(1, Ordering::Relaxed);
        if let Some(observers) = self.observers() {
            observers.task_finished(&TaskEvent::spawned(self, node, worker.index()), &seen);
        }
        (outcome, None)
    }

    fn run_node_body(
        &self,
        node: u32,
        entry: &Node,
        worker: &WorkerThread,
    ) -> (u32, Option<&Subtree>) {
        let cx = Context::spawned(self, node, worker.index());
        let observers = self.observers();
        let started = observers.map(|observers| {
            let started = TaskEvent::spawned(self, node, worker.index());
            observers.task_started(&started);
            started
        });
        let result = entry.body.with_mut(|body| {
            // SAFETY: this worker owns the node: nothing else reads or
            // writes its body until its end is published.
            let body = unsafe { (*body).erased_mut() };
            panic::catch_unwind(AssertUnwindSafe(|| body.run(&cx)))
        });
        let seen = match result {
            Ok(Ok(())) => Outcome::Succeeded,
            Ok(Err(error)) if is_cancelled(&*error) => Outcome::Cancelled,
            Ok(Err(error)) => Outcome::Failed(TaskError::Error(error)),
            Err(payload) => Outcome::Failed(TaskError::Panicked(Panic::new(payload))),
        };
        if let (Some(observers), Some(started)) = (observers, &started) {
            observers.task_finished(&started.finished(), &seen);
        }
        let outcome = match seen {
            Outcome::Succeeded => SUCCEEDED,
            Outcome::Cancelled => {
                // ORDERING: Relaxed: read after the run's completion.
                self.spawn.cancelled.fetch_add(1, Ordering::Relaxed);
                CANCELLED_ITSELF
            }
            Outcome::Failed(error) => self.node_failed(node, error),
            Outcome::Skipped => unreachable!("a task whose body ran is not skipped"),
        };
        // SAFETY: see `Context::subtree`: owned by the run.
        (
            outcome,
            cx.subtree().map(|subtree| unsafe { subtree.as_ref() }),
        )
    }

    fn node_failed(&self, node: u32, error: TaskError) -> u32 {
        self.spawn.failures.lock().push((node, error));
        self.stop_if_fail_fast();
        FAILED
    }

    /// Step 2 and 3 of "A subtree ends", in a loop up the tree.
    fn node_ended(&self, node: u32, poison: bool, worker: &WorkerThread) {
        let (mut node, mut poison) = (node, poison);
        loop {
            let entry = self.spawn.nodes.get(node);
            // SAFETY: a node's parent subtree outlives it.
            let parent = unsafe { entry.parent.as_ref() };
            let mark = if poison {
                ENDED | ENDED_POISONED
            } else {
                ENDED
            };
            // ORDERING: AcqRel: Release publishes the subtree's effects to
            // whoever reads the mark (a join's look, a sibling that names
            // this node); Acquire takes in the waiting entries of the
            // siblings that marked the word before.
            if entry.end.fetch_or(mark, Ordering::AcqRel) & AWAITED != 0 {
                for sibling in parent.take_waiting_for(node) {
                    self.release_sibling(sibling, poison, worker);
                }
            }
            if !parent.child_ended(poison) {
                return;
            }
            poison = parent.poisons();
            match parent.owner {
                Owner::Spawned(owner) => node = owner,
                Owner::Static(task) => return self.release_deferred(task, poison, worker),
            }
        }
    }

    /// A dependency of the spawned task `sibling` ended.
    fn release_sibling(&self, sibling: u32, poison: bool, worker: &WorkerThread) {
        let word = &self.spawn.nodes.get(sibling).pending;
        if poison {
            // ORDERING: Relaxed: the AcqRel decrement below is later in the
            // word's modification order.
            word.fetch_or(POISONED, Ordering::Relaxed);
        }
        // ORDERING: AcqRel: Release publishes this task's output to the
        // sibling's owner; Acquire, in the decrement that reaches zero,
        // takes in every dependency's (as in `Run::take_ownership`).
        if word.fetch_sub(1, Ordering::AcqRel) & PENDING_MASK == 1 {
            self.publish_node(sibling, Some(worker));
        }
    }

    /// Step 3 for a task of the graph whose subtree ended after its body
    /// returned: releases its static successors from whichever worker
    /// ended it, publishing each owned one to its own pool.
    fn release_deferred(&self, task: u32, poison: bool, worker: &WorkerThread) {
        debug_assert!(!self.exclusive, "an exclusive run joins at body return");
        for successor in self.graph.table.successors(task) {
            if self.take_ownership(successor, poison) {
                let pool = &self.pools[self.graph.table.tag(successor) as usize];
                self.publish_to_pool(pool, Job::task(self, successor), Some(worker));
            }
        }
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
