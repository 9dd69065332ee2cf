//! The baselines measured beside taskflow, in the same criterion groups.
//!
//! Each is an honest implementation of what it stands for, prepared once per
//! shape outside timing (bodies boxed, counters allocated) so that, like
//! taskflow's re-run, a measurement covers running the graph and nothing
//! else. The engines with threads keep them across runs, as taskflow's
//! executor does.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};

use super::bodies::Body;
use super::shapes::Shape;

/// A task body behind a box, as the serial loops call them.
type BoxedBody = Box<dyn FnMut() + Send>;

fn boxed_bodies<B: Body>(shape: &Shape, body: impl Fn(usize) -> B) -> Vec<BoxedBody> {
    (0..shape.tasks)
        .map(|task| {
            let body = body(task);
            Box::new(move || body.run()) as BoxedBody
        })
        .collect()
}

/// **Serial topological loop**: one boxed closure per task, called in index
/// order (which is a topological order) on the calling thread. No dependency
/// tracking at all: the floor for the cost of calling a task.
pub(crate) struct SerialTopological {
    bodies: Vec<BoxedBody>,
}

impl SerialTopological {
    pub(crate) fn new<B: Body>(shape: &Shape, body: impl Fn(usize) -> B) -> Self {
        SerialTopological {
            bodies: boxed_bodies(shape, body),
        }
    }

    pub(crate) fn run(&mut self) {
        for body in &mut self.bodies {
            body();
        }
    }
}

/// **Serial Kahn loop**: the same boxed closures, run in dependency order on
/// one thread with a pending counter per task (plain integers) and a ready
/// stack: the floor for a scheduler that tracks dependencies.
pub(crate) struct SerialKahn {
    shape: &'static Shape,
    bodies: Vec<BoxedBody>,
    in_degree: Vec<u32>,
    sources: Vec<u32>,
    pending: Vec<u32>,
    ready: Vec<u32>,
}

impl SerialKahn {
    pub(crate) fn new<B: Body>(shape: &'static Shape, body: impl Fn(usize) -> B) -> Self {
        let in_degree: Vec<u32> = (0..shape.tasks).map(|t| shape.in_degree(t)).collect();
        // Reversed, so that the stack pops the sources in index order.
        let sources = (0..shape.tasks as u32)
            .rev()
            .filter(|&t| in_degree[t as usize] == 0)
            .collect();
        SerialKahn {
            shape,
            bodies: boxed_bodies(shape, body),
            pending: in_degree.clone(),
            in_degree,
            sources,
            ready: Vec::with_capacity(shape.tasks),
        }
    }

    pub(crate) fn run(&mut self) {
        self.pending.copy_from_slice(&self.in_degree);
        self.ready.clear();
        self.ready.extend_from_slice(&self.sources);
        while let Some(task) = self.ready.pop() {
            (self.bodies[task as usize])();
            // Reversed, so that the first successor is popped first, as the
            // sources are: on grids this walks rows, not columns, which is
            // what keeps the loop in cache.
            for &successor in self.shape.successors(task as usize).iter().rev() {
                let pending = &mut self.pending[successor as usize];
                *pending -= 1;
                if *pending == 0 {
                    self.ready.push(successor);
                }
            }
        }
    }
}

/// **Plain executor**: what a competent engineer writes in an afternoon. One
/// pool per tag, each a `Mutex<VecDeque>` ready queue with a `Condvar` and N
/// threads that live as long as the executor; an atomic pending counter per
/// task. A worker pops a task, runs it, decrements its successors' counters
/// and pushes those that reach zero onto their pool's queue in one locked
/// batch, waking sleeping workers only when there are some. The last task
/// to finish wakes the caller.
pub(crate) struct PlainExecutor {
    pools: Arc<[PlainPool]>,
    threads: Vec<JoinHandle<()>>,
}

/// One tag's ready queue and the condition variable its workers sleep on.
struct PlainPool {
    queue: Mutex<ReadyQueue>,
    wake: Condvar,
}

struct ReadyQueue {
    ready: VecDeque<u32>,
    /// The graph of the run in progress, and its sequence number, which a
    /// worker compares so that it clones the `Arc` once per run, not per task.
    graph: Option<Arc<PlainGraph>>,
    run: u64,
    /// Workers waiting on the condition variable.
    sleepers: usize,
    shutdown: bool,
}

/// A graph prepared for the [`PlainExecutor`]: boxed bodies, per-task atomic
/// pending counters, the sources of each pool, and the run's finish line.
pub(crate) struct PlainGraph {
    shape: &'static Shape,
    bodies: Vec<Box<dyn Fn() + Send + Sync>>,
    in_degree: Vec<u32>,
    pending: Vec<AtomicU32>,
    sources: Vec<Vec<u32>>,
    remaining: AtomicUsize,
    done: Mutex<bool>,
    finished: Condvar,
}

impl PlainGraph {
    pub(crate) fn new<B: Body>(shape: &'static Shape, body: impl Fn(usize) -> B) -> Arc<Self> {
        let in_degree: Vec<u32> = (0..shape.tasks).map(|t| shape.in_degree(t)).collect();
        let mut sources = vec![Vec::new(); shape.tags().len()];
        for task in (0..shape.tasks).filter(|&t| in_degree[t] == 0) {
            sources[shape.pool(task)].push(task as u32);
        }
        Arc::new(PlainGraph {
            shape,
            bodies: (0..shape.tasks)
                .map(|task| {
                    let body = body(task);
                    Box::new(move || body.run()) as Box<dyn Fn() + Send + Sync>
                })
                .collect(),
            pending: in_degree.iter().map(|&d| AtomicU32::new(d)).collect(),
            in_degree,
            sources,
            remaining: AtomicUsize::new(0),
            done: Mutex::new(false),
            finished: Condvar::new(),
        })
    }
}

impl PlainExecutor {
    /// `pools` pools (one per tag) of `workers` threads each.
    pub(crate) fn new(pools: usize, workers: usize) -> Self {
        let pools: Arc<[PlainPool]> = (0..pools)
            .map(|_| PlainPool {
                queue: Mutex::new(ReadyQueue {
                    ready: VecDeque::new(),
                    graph: None,
                    run: 0,
                    sleepers: 0,
                    shutdown: false,
                }),
                wake: Condvar::new(),
            })
            .collect();
        let threads = (0..pools.len())
            .flat_map(|pool| (0..workers).map(move |_| pool))
            .map(|pool| {
                let pools = Arc::clone(&pools);
                thread::Builder::new()
                    .name(format!("plain-{pool}"))
                    .spawn(move || worker(&pools, pool))
                    .expect("a worker thread starts")
            })
            .collect();
        PlainExecutor { pools, threads }
    }

    /// Runs `graph` and blocks until all of its tasks finished.
    pub(crate) fn run(&self, graph: &Arc<PlainGraph>) {
        assert_eq!(graph.sources.len(), self.pools.len(), "one pool per tag");
        if graph.shape.tasks == 0 {
            return;
        }
        for (pending, &degree) in graph.pending.iter().zip(&graph.in_degree) {
            // ORDERING: Relaxed: published to the workers by the queue's
            // mutex, through which they receive the run's first tasks.
            pending.store(degree, Ordering::Relaxed);
        }
        graph.remaining.store(graph.shape.tasks, Ordering::Relaxed);
        *lock(&graph.done) = false;
        // Every pool learns of the new graph before any of its tasks starts:
        // a task of one pool may hand successors to another at once.
        for pool in self.pools.iter() {
            let mut queue = lock(&pool.queue);
            queue.graph = Some(Arc::clone(graph));
            queue.run += 1;
        }
        for (pool, sources) in self.pools.iter().zip(&graph.sources) {
            let mut queue = lock(&pool.queue);
            queue.ready.extend(sources);
            if queue.sleepers > 0 {
                pool.wake.notify_all();
            }
        }
        let mut done = lock(&graph.done);
        while !*done {
            done = graph.finished.wait(done).expect("no worker panics");
        }
    }
}

impl Drop for PlainExecutor {
    fn drop(&mut self) {
        for pool in self.pools.iter() {
            lock(&pool.queue).shutdown = true;
            pool.wake.notify_all();
        }
        for thread in self.threads.drain(..) {
            thread.join().expect("no worker panics");
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().expect("no worker panics")
}

/// The loop of one worker of pool `index`.
fn worker(pools: &[PlainPool], index: usize) {
    let pool = &pools[index];
    let mut current: Option<(u64, Arc<PlainGraph>)> = None;
    let mut newly_ready: Vec<u32> = Vec::new();
    loop {
        let task = {
            let mut queue = lock(&pool.queue);
            loop {
                if let Some(task) = queue.ready.pop_front() {
                    if current.as_ref().map(|(run, _)| *run) != Some(queue.run) {
                        let graph = queue.graph.clone().expect("a queued task has a graph");
                        current = Some((queue.run, graph));
                    }
                    break task;
                }
                if queue.shutdown {
                    return;
                }
                queue.sleepers += 1;
                queue = pool.wake.wait(queue).expect("no worker panics");
                queue.sleepers -= 1;
            }
        };
        let graph = &current.as_ref().expect("set with the task").1;
        (graph.bodies[task as usize])();
        for &successor in graph.shape.successors(task as usize) {
            // ORDERING: AcqRel: Release publishes this task's effects to the
            // finisher that reaches zero; its Acquire takes them all in.
            if graph.pending[successor as usize].fetch_sub(1, Ordering::AcqRel) == 1 {
                newly_ready.push(successor);
            }
        }
        if !newly_ready.is_empty() {
            hand_over(pools, graph.shape, &mut newly_ready);
        }
        // ORDERING: AcqRel: the finisher that reaches zero has seen every
        // task's effects and hands them to the caller through `done`.
        if graph.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            *lock(&graph.done) = true;
            graph.finished.notify_one();
        }
    }
}

/// Pushes ready tasks onto their pools' queues, one lock per pool, and wakes
/// as many sleeping workers as there are new tasks (or sleepers).
fn hand_over(pools: &[PlainPool], shape: &Shape, ready: &mut Vec<u32>) {
    for (index, pool) in pools.iter().enumerate() {
        let mut queue = lock(&pool.queue);
        let before = queue.ready.len();
        if pools.len() == 1 {
            queue.ready.extend(ready.iter().copied());
        } else {
            queue.ready.extend(
                ready
                    .iter()
                    .copied()
                    .filter(|&task| shape.pool(task as usize) == index),
            );
        }
        let wake = (queue.ready.len() - before).min(queue.sleepers);
        drop(queue);
        for _ in 0..wake {
            pool.wake.notify_one();
        }
    }
    ready.clear();
}

/// **rayon, `scope` + `spawn`** (for `independent`): one spawned job per
/// task in a scope on a rayon pool of N threads, kept across runs.
pub(crate) struct RayonScope {
    pool: rayon::ThreadPool,
}

impl RayonScope {
    pub(crate) fn new(workers: usize) -> Self {
        RayonScope {
            pool: rayon_pool(workers),
        }
    }

    pub(crate) fn run<B: Body>(&self, bodies: &[B]) {
        self.pool.scope(|scope| {
            for body in bodies {
                scope.spawn(move |_| body.run());
            }
        });
    }
}

/// **rayon, recursive `join`** (for `binary_tree`): a node runs its body and
/// then joins its two subtrees, on a rayon pool of N threads kept across
/// runs.
pub(crate) struct RayonJoin {
    pool: rayon::ThreadPool,
}

impl RayonJoin {
    pub(crate) fn new(workers: usize) -> Self {
        RayonJoin {
            pool: rayon_pool(workers),
        }
    }

    /// Runs the binary tree in heap order whose node `i` runs `bodies[i]`.
    pub(crate) fn run<B: Body>(&self, bodies: &[B]) {
        if !bodies.is_empty() {
            self.pool.install(|| visit(bodies, 0));
        }
    }
}

fn visit<B: Body>(bodies: &[B], node: usize) {
    bodies[node].run();
    let (left, right) = (2 * node + 1, 2 * node + 2);
    if right < bodies.len() {
        rayon::join(|| visit(bodies, left), || visit(bodies, right));
    } else if left < bodies.len() {
        visit(bodies, left);
    }
}

fn rayon_pool(workers: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(workers)
        .thread_name(|index| format!("rayon-{index}"))
        .build()
        .expect("a rayon pool starts")
}
