//! [`Subtree`]: what a task that spawned counts until its whole subtree
//! ended, and the inbox its children of its own pool queue in.
//!
//! Created on a task's first spawn (a task that never spawns has none and
//! pays nothing), owned by the run until it ends. See
//! [`crate::runtime::spawn`] for the protocol.

use std::collections::HashMap;
use std::ptr::NonNull;

use crate::mutant::planted;
use crate::runtime::pool::Pool;
use crate::runtime::spawn::inbox::Inbox;
use crate::sync::Arc;
use crate::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering};

/// The ordering of a subtree's decrements (see `count_down`). The planted
/// bug `subtree_relaxed_end` weakens it to `Relaxed`; the loom model
/// `a_child_finishes_while_its_parent_returns` must then find the race on
/// the child's effects.
fn subtree_decrement() -> Ordering {
    if planted("subtree_relaxed_end") {
        Ordering::Relaxed
    } else {
        Ordering::AcqRel
    }
}

/// The mark of [`Subtree::inbox`] for a subtree closed without an inbox:
/// an address no allocation has.
fn closed() -> *mut Arc<Inbox> {
    NonNull::dangling().as_ptr()
}

impl Drop for Subtree {
    fn drop(&mut self) {
        // ORDERING: Relaxed: `&mut self`: every other thread is done.
        let inbox = self.inbox.load(Ordering::Relaxed);
        if !inbox.is_null() && inbox != closed() {
            // SAFETY: made by `Box::into_raw` in `open_inbox`, dropped once.
            drop(unsafe { Box::from_raw(inbox) });
        }
    }
}

/// One waiting join in [`Subtree::open`].
const WAITER: u64 = 1 << 32;

/// What a join adds to [`Subtree::open`] to register. The planted bug
/// `join_unregistered` waits unregistered, so that no child's end signals
/// it; the loom model `join_races_a_child_completion` must then find it
/// stuck.
fn waiter() -> u64 {
    if planted("join_unregistered") {
        0
    } else {
        WAITER
    }
}

/// The count of open things in [`Subtree::open`].
const OPEN: u64 = WAITER - 1;

/// Whose subtree it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    /// A task of the graph, by index.
    Static(u32),
    /// A spawned task, by node index.
    Spawned(u32),
}

/// The subtree of one task that spawned (module docs).
#[derive(Debug)]
pub(crate) struct Subtree {
    pub(crate) owner: Owner,
    /// The subtree of the owner's parent, for a spawned owner. It outlives
    /// this one: it counts this one's end.
    pub(crate) parent: Option<std::ptr::NonNull<Subtree>>,
    /// Low 32 bits: 1 while the owner's body runs, plus 1 per child whose
    /// subtree has not ended; the decrement that brings them to zero ends
    /// the subtree. High 32 bits: the joins that wait now ([`WAITER`]
    /// each), which every child's end signals (see [`Subtree::wait`]).
    pub(crate) open: AtomicU64,
    /// Some descendant's subtree ended poisoned (failed, skipped, or
    /// cancelled itself, or with such a descendant).
    pub(crate) failed: AtomicBool,
    /// Whether the owner's own outcome poisons its dependents; stored
    /// before the body's decrement of `open`.
    pub(crate) own_poisons: AtomicBool,
    /// The pool the owner runs on.
    pool: NonNull<Pool>,
    /// The owner's inbox, where its children of its own pool that cannot go
    /// onto its worker's deque queue while its body runs, made when first
    /// needed (most subtrees never need one): null before, [`closed`] if
    /// the owner's body returned before anything needed one, else a boxed
    /// `Arc<Inbox>` (see [`open_inbox`](Subtree::open_inbox)).
    inbox: AtomicPtr<Arc<Inbox>>,
    /// The first and the newest of the owner's children, for its `join`'s
    /// answer; the others are linked between them, in spawn order,
    /// through their nodes' `next_sibling` (written under this lock, so a
    /// snapshot taken under it walks a complete list). Touched by the
    /// owner's body only.
    pub(crate) children: crate::sync::SpinLock<Option<Children>>,
    /// The last answer of [`nearest_on`](Subtree::nearest_on) for a pool
    /// other than this one's: (that pool, the subtree found, if any).
    /// Ancestry never changes, so an answer stays true.
    nearest: crate::sync::Mutex<Option<Nearest>>,
    /// One past the newest child the last `join` covered: the owner may
    /// read the outputs of children below it.
    joined: AtomicU32,
    /// The children that wait for a sibling's subtree to end, by that
    /// sibling, until it ends. Only spawns that name siblings touch it,
    /// and make it (boxed, so that the many subtrees without one are 40
    /// bytes smaller: every task that spawns has a subtree).
    pub(crate) waiting: crate::sync::Mutex<Option<Box<WaitingChildren>>>,
}

/// The children that wait for a sibling, by that sibling (see
/// [`Subtree::waiting`]).
pub(crate) type WaitingChildren = HashMap<u32, Vec<u32>>;

/// The span of a subtree's list of children: its first and newest child,
/// by node index (see [`Subtree::children`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Children {
    pub(crate) first: u32,
    pub(crate) newest: u32,
}

/// A remembered answer of [`Subtree::nearest_on`].
#[derive(Debug, Clone, Copy)]
struct Nearest {
    pool: NonNull<Pool>,
    found: Option<NonNull<Subtree>>,
}

// SAFETY: `parent` points at a `Subtree`, which is `Sync`, owned by the same
// run and alive while this one is (module docs).
unsafe impl Send for Subtree {}
// SAFETY: as above.
unsafe impl Sync for Subtree {}

impl Subtree {
    pub(crate) fn new(owner: Owner, parent: Option<&Subtree>, pool: &Pool) -> Self {
        Subtree {
            owner,
            parent: parent.map(std::ptr::NonNull::from),
            // The planted bug `subtree_body_uncounted`
            // does not count the body, so a child may end the subtree while
            // the body still runs; the loom model
            // `the_last_descendant_releases_a_static_dependent` must find
            // the dependent reading the parent's output too early.
            open: AtomicU64::new(if planted("subtree_body_uncounted") {
                0
            } else {
                1
            }),
            failed: AtomicBool::new(false),
            own_poisons: AtomicBool::new(false),
            pool: NonNull::from(pool),
            inbox: AtomicPtr::new(std::ptr::null_mut()),
            children: crate::sync::SpinLock::new(None),
            nearest: crate::sync::Mutex::new(None),
            joined: AtomicU32::new(0),
            waiting: crate::sync::Mutex::new(None),
        }
    }

    /// The nearest subtree, this one or an ancestor's, whose owner runs on
    /// `pool`: where a task of `pool` spawned below it queues, so that a
    /// `join` on `pool` up the tree can run it (a child of another tag
    /// between them cannot). A walk up the tree, remembered per subtree for
    /// the last pool asked, so that a long run of ancestors on other pools
    /// is walked once, not once per spawn below it.
    pub(crate) fn nearest_on(&self, pool: &Pool) -> Option<&Subtree> {
        if std::ptr::eq(self.pool(), pool) {
            return Some(self);
        }
        let key = NonNull::from(pool);
        // A loop, not a recursion: the tree may be 100,000 deep.
        let mut at: &Subtree = self;
        let found = loop {
            if std::ptr::eq(at.pool(), pool) {
                break Some(NonNull::from(at));
            }
            if let Some(known) = *at.nearest.lock() {
                if known.pool == key {
                    break known.found;
                }
            }
            match at.parent() {
                Some(parent) => at = parent,
                None => break None,
            }
        };
        *self.nearest.lock() = Some(Nearest { pool: key, found });
        // SAFETY: an ancestor's subtree outlives this one.
        found.map(|found| unsafe { found.as_ref() })
    }

    /// The pool the owner runs on.
    pub(crate) fn pool(&self) -> &Pool {
        // SAFETY: the run that owns the subtree holds the pool.
        unsafe { self.pool.as_ref() }
    }

    /// The owner's inbox, if one was made.
    pub(crate) fn inbox(&self) -> Option<&Arc<Inbox>> {
        // ORDERING: Acquire: takes in the inbox made on another thread.
        let inbox = self.inbox.load(Ordering::Acquire);
        // SAFETY: a stored inbox stays until the subtree is dropped.
        (!inbox.is_null() && inbox != closed()).then(|| unsafe { &*inbox })
    }

    /// The owner's inbox, made now if it is the first need of one; `None`
    /// once the owner's body returned without one ([`close_inbox`]): who
    /// wanted to queue there looks further up the tree instead.
    ///
    /// [`close_inbox`]: Subtree::close_inbox
    pub(crate) fn open_inbox(&self) -> Option<&Arc<Inbox>> {
        // ORDERING: Acquire: as in `inbox`.
        let current = self.inbox.load(Ordering::Acquire);
        if current == closed() {
            return None;
        }
        if !current.is_null() {
            // SAFETY: as in `inbox`.
            return Some(unsafe { &*current });
        }
        let made = Box::into_raw(Box::new(Arc::new(Inbox::new(self.pool()))));
        // ORDERING: AcqRel: Release publishes the inbox; Acquire, on
        // failure, takes in the winner's. The close's compare-exchange of
        // the same word orders the two: whichever comes second sees the
        // other.
        match self.inbox.compare_exchange(
            std::ptr::null_mut(),
            made,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // SAFETY: stored, so kept until the subtree is dropped.
            Ok(_) => Some(unsafe { &*made }),
            Err(winner) => {
                // SAFETY: made above and never shared.
                drop(unsafe { Box::from_raw(made) });
                // SAFETY: as in `inbox`.
                (winner != closed()).then(|| unsafe { &*winner })
            }
        }
    }

    /// The inbox a wait of the owner waits on: the owner's body has not
    /// returned (a `join` inside it, or the implicit join of an exclusive
    /// run, before the inbox is closed), so the subtree is open.
    pub(crate) fn wait_inbox(&self) -> &Arc<Inbox> {
        self.open_inbox()
            .expect("a subtree is open until its owner's body returned")
    }

    /// The owner's body returned: nobody will wait on its inbox any more.
    /// Returns the inbox to forward if one was made; else marks the subtree
    /// closed, so that no inbox is made for it later.
    pub(crate) fn close_inbox(&self) -> Option<&Arc<Inbox>> {
        // The planted bug `inbox_close_unchecked` marks the subtree closed
        // without looking whether an inbox was made meanwhile, whose jobs
        // then stay unforwarded (and whose memory leaks); the loom model
        // `a_grandchild_queues_for_a_returning_grandparent` must find it.
        if planted("inbox_close_unchecked") {
            // ORDERING: Release: as below.
            self.inbox.store(closed(), Ordering::Release);
            return None;
        }
        // ORDERING: AcqRel: Release orders the close before a later
        // `open_inbox` that sees it; Acquire, on failure, takes in the
        // inbox made meanwhile (see `open_inbox`).
        match self.inbox.compare_exchange(
            std::ptr::null_mut(),
            closed(),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => None,
            // SAFETY: as in `inbox`.
            Err(made) => (made != closed()).then(|| unsafe { &*made }),
        }
    }

    /// The parent's subtree.
    pub(crate) fn parent(&self) -> Option<&Subtree> {
        // SAFETY: the parent's subtree outlives this one (see `parent`).
        self.parent.map(|parent| unsafe { parent.as_ref() })
    }

    /// Counts one more child; the owner's body is running, so `open` is at
    /// least 1 and the subtree cannot end meanwhile.
    pub(crate) fn add_child(&self) {
        // ORDERING: Relaxed: the child is published after this, through a
        // synchronising queue, and every decrement is a read-modify-write
        // of this word, which sees this increment.
        self.open.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts the end of one child's subtree (poisoned or not); returns
    /// whether it was the last thing open, which ends this subtree.
    pub(crate) fn child_ended(&self, poisons: bool) -> bool {
        if poisons {
            // ORDERING: Relaxed: the AcqRel decrement below comes later in
            // this thread, and whoever ends the subtree reads after its own
            // AcqRel decrement, which takes this in.
            self.failed.store(true, Ordering::Relaxed);
        }
        self.count_down()
    }

    /// The owner's body returned with outcome `poisons`; returns whether
    /// its subtree ended with it (every child ended before).
    pub(crate) fn body_returned(&self, poisons: bool) -> bool {
        // ORDERING: Relaxed: published by the AcqRel decrement below.
        self.own_poisons.store(poisons, Ordering::Relaxed);
        self.count_down()
    }

    /// One decrement of `open`; wakes the waiting joins, if any.
    fn count_down(&self) -> bool {
        // ORDERING: AcqRel. Release publishes this child's (or body's)
        // effects: outputs, outcome words, the flags above, its end mark;
        // Acquire, in the decrement that ends the subtree or in a join's
        // registration ([`Subtree::wait`]), takes in every earlier one
        // (one release sequence).
        let before = self.open.fetch_sub(1, subtree_decrement());
        // The planted bug `join_never_signalled` does not wake a waiting
        // join; the loom model `join_races_a_child_completion` must then
        // find it stuck.
        if before >= WAITER && !planted("join_never_signalled") {
            // A registered join made the inbox before it registered, and
            // this decrement read its registration: it sees the inbox.
            if let Some(inbox) = self.inbox() {
                inbox.signal();
            }
        }
        before & OPEN == 1
    }

    /// Runs `wait` (a join's wait, which returns once its children ended)
    /// registered as a waiter in `open`, so that every child's end signals
    /// the inbox meanwhile. Both the registration and a child's decrement
    /// are read-modify-writes of `open`: either the decrement sees the
    /// registration and signals, or the registration comes later and takes
    /// in the child's end mark, which the wait's first look then sees.
    pub(crate) fn wait<R>(&self, wait: impl FnOnce() -> R) -> R {
        self.enter_wait();
        let answer = wait();
        self.leave_wait();
        answer
    }

    /// Registers one waiter in `open` (see [`wait`](Subtree::wait)): from
    /// here on every child's end signals the inbox, until
    /// [`leave_wait`](Subtree::leave_wait). A worker that helps registers
    /// only while it blocks, so that the children it runs itself do not
    /// signal it.
    pub(crate) fn enter_wait(&self) {
        // ORDERING: AcqRel: Acquire takes in the ends counted before
        // (see above); Release has nothing to publish, but keeps the
        // word's release sequence unbroken.
        self.open.fetch_add(waiter(), Ordering::AcqRel);
    }

    /// Takes back a registration of [`enter_wait`](Subtree::enter_wait).
    pub(crate) fn leave_wait(&self) {
        // ORDERING: AcqRel: as in `enter_wait`.
        self.open.fetch_sub(waiter(), Ordering::AcqRel);
    }

    /// Whether only the owner's body is left open: every child spawned so
    /// far ended (its join may return).
    pub(crate) fn children_ended(&self) -> bool {
        // ORDERING: Acquire: takes in the children's Release decrements,
        // and so their outputs.
        self.open.load(Ordering::Acquire) & OPEN == 1
    }

    /// Takes the children that wait for the sibling `ended`, whose subtree
    /// just ended.
    pub(crate) fn take_waiting_for(&self, ended: u32) -> Vec<u32> {
        let mut waiting = self.waiting.lock();
        waiting
            .as_mut()
            .and_then(|waiting| waiting.remove(&ended))
            .unwrap_or_default()
    }

    /// Notes that a `join` covered the children below node index `bound`.
    pub(crate) fn joined_below(&self, bound: u32) {
        // ORDERING: Relaxed: read by the owner's own `input` calls, on the
        // joining thread or after a hand-off that synchronises; a max, as
        // two threads of the body may join at once.
        self.joined.fetch_max(bound, Ordering::Relaxed);
    }

    /// One past the newest child whose output the owner may read.
    pub(crate) fn joined(&self) -> u32 {
        // ORDERING: Relaxed: see `joined_below`.
        self.joined.load(Ordering::Relaxed)
    }

    /// Whether the subtree ends poisoned; read by whoever ended it.
    pub(crate) fn poisons(&self) -> bool {
        // ORDERING: Relaxed, both: the caller's AcqRel decrement that ended
        // the subtree took in every store to them.
        self.own_poisons.load(Ordering::Relaxed) || self.failed.load(Ordering::Relaxed)
    }
}
