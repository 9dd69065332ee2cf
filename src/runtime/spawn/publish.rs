//! Where a ready spawned task goes: its spawner's own deque, the inbox of
//! the nearest wait that covers it, or its pool ("Publishing" in
//! [`crate::runtime::spawn`]), and where an inbox goes when its owner's
//! body returned.

use std::ptr::NonNull;

use crate::mutant::planted;
use crate::runtime::job::Job;
use crate::runtime::pool::Pool;
use crate::runtime::run::Run;
use crate::runtime::spawn::help::OwnWork;
use crate::runtime::spawn::inbox::{Forward, Inbox};
use crate::runtime::spawn::subtree::Subtree;
use crate::runtime::worker::WorkerThread;
use crate::sync::Arc;

impl Run<'_> {
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
    pub(super) fn publish_spawned(
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

    /// Closes the inbox of `subtree`, whose owner's body returned: if one
    /// was made, forwards it to `forward()` and queues what it held there.
    pub(super) fn close_inbox(
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

    /// Where the inbox of a spawned owner's subtree goes once its body
    /// returned: the inbox of its nearest ancestor on the same pool (or
    /// where that one forwards), else its pool.
    pub(super) fn forward_for(&self, subtree: &Subtree) -> Forward {
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
}
