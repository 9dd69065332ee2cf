//! The benchmark shapes of `../shared/BENCH-SHAPES.md` (from the repository
//! root), generated exactly as specified there so that taskflow, the
//! baselines and outside engines run the identical graphs.
//!
//! A [`Shape`] is a plain graph: task indices in a valid topological order,
//! with successor and predecessor lists as compressed sparse rows. The
//! taskflow graphs ([`super::graphs`]) and the baselines
//! ([`super::baselines`]) are all built from it.

use std::ops::Range;

/// The SplitMix64 generator of BENCH-SHAPES.md, so that every implementation
/// draws the same graphs.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A draw in `0..bound`, by the spec's plain `next() % bound`.
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    /// Fisher–Yates from the last index down: for `i` from `len - 1` to 1,
    /// swap `items[i]` with `items[next() % (i + 1)]`. (Index 0 would only
    /// swap with itself, so it draws no number.)
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// How a user naturally declares a shape's edges when building a taskflow
/// graph from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EdgeStyle {
    /// Each task's predecessors are known when it is added, so it names them
    /// with `Task::after` (chains, trees, grids, pipelines).
    After,
    /// Successors are drawn per node, so all tasks are added first and the
    /// edges declared with `Graph::precede` (random DAGs, level graphs).
    Precede,
}

/// One of the shapes of BENCH-SHAPES.md with its size parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ShapeSpec {
    /// `independent(n)`: n tasks, no edges.
    Independent(usize),
    /// `linear_chain(n)`: i → i+1.
    LinearChain(usize),
    /// `binary_tree(d)`: 2^d − 1 tasks in heap order, i → 2i+1, 2i+2.
    BinaryTree(u32),
    /// `wavefront(m)`: an m×m grid, (i,j) → (i,j+1) and (i+1,j).
    Wavefront(usize),
    /// `level_graph(l, w)`: Taskflow's graph-traversal levels.
    LevelGraph(usize, usize),
    /// `random_dag(n)`: 1–4 forward successors per node, seed 42.
    RandomDag(usize),
    /// `backward_dag(n)`: 0–4 dependencies per node drawn from every
    /// earlier node, seed 7.
    BackwardDag(usize),
    /// `pipeline(f)`: per file read (`io`) → process (`cpu`) → compress (`cpu`).
    Pipeline(usize),
}

/// The sizes the suite runs at: the defaults of BENCH-SHAPES.md (about a
/// million tasks per shape), or the quick sizes (about 1/64 of that, and a
/// tenth of the pipeline) that let CI execute every benchmark once in well
/// under a minute.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Sizes {
    pub(crate) quick: bool,
}

impl Sizes {
    /// Quick sizes when criterion runs in its test mode (`cargo bench --
    /// --test`, or `cargo test --benches`, which passes no `--bench`), the
    /// defaults otherwise. `TASKFLOW_BENCH_SIZE=full` or `=quick` overrides.
    pub(crate) fn from_args() -> Sizes {
        let args: Vec<String> = std::env::args().collect();
        let test_mode =
            args.iter().any(|arg| arg == "--test") || !args.iter().any(|arg| arg == "--bench");
        let quick = match std::env::var("TASKFLOW_BENCH_SIZE").as_deref() {
            Ok("full") => false,
            Ok("quick") => true,
            _ => test_mode,
        };
        Sizes { quick }
    }

    pub(crate) fn independent(self) -> ShapeSpec {
        ShapeSpec::Independent(if self.quick { 1 << 14 } else { 1_000_000 })
    }

    pub(crate) fn linear_chain(self) -> ShapeSpec {
        ShapeSpec::LinearChain(if self.quick { 1 << 14 } else { 1_000_000 })
    }

    pub(crate) fn binary_tree(self) -> ShapeSpec {
        ShapeSpec::BinaryTree(if self.quick { 14 } else { 20 })
    }

    pub(crate) fn wavefront(self) -> ShapeSpec {
        ShapeSpec::Wavefront(if self.quick { 128 } else { 1024 })
    }

    pub(crate) fn level_graph(self) -> ShapeSpec {
        if self.quick {
            ShapeSpec::LevelGraph(128, 128)
        } else {
            ShapeSpec::LevelGraph(1000, 1000)
        }
    }

    pub(crate) fn random_dag(self) -> ShapeSpec {
        ShapeSpec::RandomDag(if self.quick { 1 << 14 } else { 1_000_000 })
    }

    pub(crate) fn backward_dag(self) -> ShapeSpec {
        ShapeSpec::BackwardDag(if self.quick { 1 << 14 } else { 1_000_000 })
    }

    pub(crate) fn pipeline(self) -> ShapeSpec {
        ShapeSpec::Pipeline(if self.quick { 1_000 } else { 10_000 })
    }

    /// Every shape, in the order of BENCH-SHAPES.md.
    pub(crate) fn all(self) -> [ShapeSpec; 8] {
        [
            self.independent(),
            self.linear_chain(),
            self.binary_tree(),
            self.wavefront(),
            self.level_graph(),
            self.random_dag(),
            self.backward_dag(),
            self.pipeline(),
        ]
    }
}

/// The pipeline's stages per file: (tag, repetitions of the work body).
pub(crate) const PIPELINE_STAGES: [(&str, u32); 3] = [("io", 4), ("cpu", 2), ("cpu", 1)];

impl ShapeSpec {
    /// The shape's name in BENCH-SHAPES.md.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ShapeSpec::Independent(_) => "independent",
            ShapeSpec::LinearChain(_) => "linear_chain",
            ShapeSpec::BinaryTree(_) => "binary_tree",
            ShapeSpec::Wavefront(_) => "wavefront",
            ShapeSpec::LevelGraph(..) => "level_graph",
            ShapeSpec::RandomDag(_) => "random_dag",
            ShapeSpec::BackwardDag(_) => "backward_dag",
            ShapeSpec::Pipeline(_) => "pipeline",
        }
    }

    /// The number of tasks, without generating the shape.
    pub(crate) fn tasks(self) -> usize {
        match self {
            ShapeSpec::Independent(n)
            | ShapeSpec::LinearChain(n)
            | ShapeSpec::RandomDag(n)
            | ShapeSpec::BackwardDag(n) => n,
            ShapeSpec::BinaryTree(depth) => (1usize << depth) - 1,
            ShapeSpec::Wavefront(m) => m * m,
            ShapeSpec::LevelGraph(levels, width) => levels * width,
            ShapeSpec::Pipeline(files) => 3 * files,
        }
    }

    /// Generates the shape.
    pub(crate) fn generate(self) -> Shape {
        let tasks = self.tasks();
        if let ShapeSpec::BackwardDag(n) = self {
            let mut dependencies = Rows::with_tasks(tasks);
            backward_dag(n, &mut dependencies);
            return Shape::from_predecessors(self, EdgeStyle::After, dependencies);
        }
        let mut edges = Rows::with_tasks(tasks);
        let style = match self {
            ShapeSpec::Independent(_) => EdgeStyle::After,
            ShapeSpec::LinearChain(n) => {
                for task in 0..n {
                    if task + 1 < n {
                        edges.push((task + 1) as u32);
                    }
                    edges.end_row();
                }
                EdgeStyle::After
            }
            ShapeSpec::BinaryTree(_) => {
                for task in 0..tasks {
                    for child in [2 * task + 1, 2 * task + 2] {
                        if child < tasks {
                            edges.push(child as u32);
                        }
                    }
                    edges.end_row();
                }
                EdgeStyle::After
            }
            ShapeSpec::Wavefront(m) => {
                for row in 0..m {
                    for column in 0..m {
                        let task = row * m + column;
                        if column + 1 < m {
                            edges.push((task + 1) as u32);
                        }
                        if row + 1 < m {
                            edges.push((task + m) as u32);
                        }
                        edges.end_row();
                    }
                }
                EdgeStyle::After
            }
            ShapeSpec::LevelGraph(levels, width) => {
                level_graph(levels, width, &mut edges);
                EdgeStyle::Precede
            }
            ShapeSpec::RandomDag(n) => {
                random_dag(n, &mut edges);
                EdgeStyle::Precede
            }
            ShapeSpec::BackwardDag(_) => unreachable!("generated from its dependencies above"),
            ShapeSpec::Pipeline(files) => {
                for _ in 0..files {
                    let read = edges.rows() as u32;
                    edges.push(read + 1);
                    edges.end_row();
                    edges.push(read + 2);
                    edges.end_row();
                    edges.end_row();
                }
                EdgeStyle::After
            }
        };
        edges.skip_to(tasks);
        Shape::new(self, style, edges)
    }
}

/// Taskflow's graph-traversal rule (its `levelgraph.hpp`), drawn with
/// SplitMix64 seeded 1: for each level but the last, shuffle the next
/// level's indices; each node in order takes the next `1 + next() % 4`
/// entries of that permutation; a node whose take would reach the end takes
/// up to the end, and the permutation is then reshuffled and taken from the
/// front again.
fn level_graph(levels: usize, width: usize, edges: &mut Rows) {
    let mut rng = SplitMix64::new(1);
    let mut next_level: Vec<u32> = Vec::with_capacity(width);
    for level in 0..levels.saturating_sub(1) {
        let base = ((level + 1) * width) as u32;
        next_level.clear();
        next_level.extend(0..width as u32);
        rng.shuffle(&mut next_level);
        let mut start = 0;
        for _ in 0..width {
            let take = 1 + rng.below(4) as usize;
            let reshuffle = start + take >= width;
            let end = if reshuffle { width } else { start + take };
            for &successor in &next_level[start..end] {
                edges.push(base + successor);
            }
            edges.end_row();
            if reshuffle {
                rng.shuffle(&mut next_level);
                start = 0;
            } else {
                start = end;
            }
        }
    }
}

/// Node i < n − 1 draws `1 + next() % 4` successors uniformly from
/// `i + 1..n` with SplitMix64 seeded 42; a successor drawn twice is kept
/// once, at its first draw.
fn random_dag(n: usize, edges: &mut Rows) {
    let mut rng = SplitMix64::new(42);
    for task in 0..n.saturating_sub(1) {
        let draws = 1 + rng.below(4);
        let span = (n - task - 1) as u64;
        for _ in 0..draws {
            let successor = (task as u64 + 1 + rng.below(span)) as u32;
            if !edges.current_row().contains(&successor) {
                edges.push(successor);
            }
        }
        edges.end_row();
    }
}

/// Node i > 0 draws `next() % 5` dependencies uniformly from `0..i`
/// (`next() % i`) with SplitMix64 seeded 7; a dependency drawn twice is
/// kept once, at its first draw. The rows are dependency lists, in the
/// order drawn, which is the order the suite declares them with
/// `Task::after`.
fn backward_dag(n: usize, dependencies: &mut Rows) {
    let mut rng = SplitMix64::new(7);
    if n > 0 {
        // Node 0 has nothing before it to depend on, and draws nothing.
        dependencies.end_row();
    }
    for task in 1..n {
        let draws = rng.below(5);
        for _ in 0..draws {
            let dependency = rng.below(task as u64) as u32;
            if !dependencies.current_row().contains(&dependency) {
                dependencies.push(dependency);
            }
        }
        dependencies.end_row();
    }
}

/// Edge lists under construction, one row per task in index order (its
/// successors, or for `backward_dag` its dependencies): push a task's
/// entries, then end its row.
#[derive(Debug)]
struct Rows {
    offsets: Vec<u32>,
    entries: Vec<u32>,
}

impl Rows {
    fn with_tasks(tasks: usize) -> Self {
        let mut offsets = Vec::with_capacity(tasks + 1);
        offsets.push(0);
        Rows {
            offsets,
            entries: Vec::new(),
        }
    }

    /// The number of finished rows.
    fn rows(&self) -> usize {
        self.offsets.len() - 1
    }

    fn push(&mut self, entry: u32) {
        self.entries.push(entry);
    }

    /// The entries pushed since the last finished row.
    fn current_row(&self) -> &[u32] {
        &self.entries[*self.offsets.last().expect("offsets start with 0") as usize..]
    }

    /// Ends the current task's row.
    fn end_row(&mut self) {
        self.offsets.push(self.entries.len() as u32);
    }

    /// Adds empty rows up to `tasks` rows.
    fn skip_to(&mut self, tasks: usize) {
        while self.rows() < tasks {
            self.end_row();
        }
    }
}

/// A benchmark graph: tasks `0..tasks` in topological order and their edges
/// in both directions as compressed sparse rows.
#[derive(Debug)]
pub(crate) struct Shape {
    pub(crate) spec: ShapeSpec,
    pub(crate) tasks: usize,
    pub(crate) style: EdgeStyle,
    successor_offsets: Vec<u32>,
    successors: Vec<u32>,
    predecessor_offsets: Vec<u32>,
    predecessors: Vec<u32>,
}

impl Shape {
    /// A shape from its successor rows; its predecessor lists come out
    /// sorted.
    fn new(spec: ShapeSpec, style: EdgeStyle, successors: Rows) -> Shape {
        assert_eq!(successors.rows(), spec.tasks(), "one row per task");
        let predecessors = transpose(&successors);
        Shape::from_rows(spec, style, successors, predecessors)
    }

    /// A shape from its predecessor rows, whose order is kept (the order in
    /// which the suite declares them); its successor lists come out sorted.
    fn from_predecessors(spec: ShapeSpec, style: EdgeStyle, predecessors: Rows) -> Shape {
        assert_eq!(predecessors.rows(), spec.tasks(), "one row per task");
        let successors = transpose(&predecessors);
        Shape::from_rows(spec, style, successors, predecessors)
    }

    fn from_rows(spec: ShapeSpec, style: EdgeStyle, successors: Rows, predecessors: Rows) -> Shape {
        for from in 0..spec.tasks() {
            let row = row(&successors.offsets, from);
            assert!(
                successors.entries[row].iter().all(|&to| to as usize > from),
                "edges must point forward"
            );
        }
        Shape {
            spec,
            tasks: spec.tasks(),
            style,
            successor_offsets: successors.offsets,
            successors: successors.entries,
            predecessor_offsets: predecessors.offsets,
            predecessors: predecessors.entries,
        }
    }

    /// Moves the shape to the heap for the rest of the process, so that task
    /// bodies and baselines can refer to it from any thread.
    pub(crate) fn leak(self) -> &'static Shape {
        Box::leak(Box::new(self))
    }

    pub(crate) fn edges(&self) -> usize {
        self.successors.len()
    }

    pub(crate) fn successors(&self, task: usize) -> &[u32] {
        &self.successors[row(&self.successor_offsets, task)]
    }

    pub(crate) fn predecessors(&self, task: usize) -> &[u32] {
        &self.predecessors[row(&self.predecessor_offsets, task)]
    }

    pub(crate) fn in_degree(&self, task: usize) -> u32 {
        self.predecessor_offsets[task + 1] - self.predecessor_offsets[task]
    }

    /// Whether the shape's tasks run on tagged pools (the pipeline) rather
    /// than all on the default one.
    pub(crate) fn is_tagged(&self) -> bool {
        matches!(self.spec, ShapeSpec::Pipeline(_))
    }

    /// The tags the shape's tasks use, in an order that [`Shape::pool`]
    /// indexes; `None` stands for taskflow's default tag.
    pub(crate) fn tags(&self) -> &'static [Option<&'static str>] {
        if self.is_tagged() {
            &[Some("io"), Some("cpu")]
        } else {
            &[None]
        }
    }

    /// The tag of `task`, `None` for the default tag.
    pub(crate) fn tag(&self, task: usize) -> Option<&'static str> {
        self.tags()[self.pool(task)]
    }

    /// The index into [`Shape::tags`] of `task`'s tag.
    pub(crate) fn pool(&self, task: usize) -> usize {
        if self.is_tagged() && PIPELINE_STAGES[task % 3].0 == "cpu" {
            1
        } else {
            0
        }
    }

    /// How many times the pipeline's work body repeats for `task` (1 for
    /// the other shapes).
    pub(crate) fn work_repetitions(&self, task: usize) -> u32 {
        if self.is_tagged() {
            PIPELINE_STAGES[task % 3].1
        } else {
            1
        }
    }
}

/// The rows of the reversed edges, by counting sort over `rows` walked in
/// increasing task order, so every transposed row is sorted.
fn transpose(rows: &Rows) -> Rows {
    let tasks = rows.rows();
    let mut offsets = vec![0u32; tasks + 1];
    for &entry in &rows.entries {
        offsets[entry as usize + 1] += 1;
    }
    for task in 0..tasks {
        offsets[task + 1] += offsets[task];
    }
    let mut cursor = offsets[..tasks].to_vec();
    let mut entries = vec![0u32; rows.entries.len()];
    for task in 0..tasks {
        for &entry in &rows.entries[row(&rows.offsets, task)] {
            entries[cursor[entry as usize] as usize] = task as u32;
            cursor[entry as usize] += 1;
        }
    }
    Rows { offsets, entries }
}

fn row(offsets: &[u32], task: usize) -> Range<usize> {
    offsets[task] as usize..offsets[task + 1] as usize
}

/// Checks the generators against hand-computed small cases and the counts
/// of the default shapes; panics on a mismatch.
pub(crate) fn check_shapes() {
    let mut rng = SplitMix64::new(0);
    // SplitMix64's published first output for seed 0.
    assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);

    let chain = ShapeSpec::LinearChain(4).generate();
    assert_eq!(chain.edges(), 3);
    assert_eq!(chain.successors(2), &[3]);
    assert_eq!(chain.predecessors(0), &[] as &[u32]);

    let tree = ShapeSpec::BinaryTree(3).generate();
    assert_eq!(tree.tasks, 7);
    assert_eq!(tree.successors(0), &[1, 2]);
    assert_eq!(tree.successors(2), &[5, 6]);
    assert_eq!(tree.predecessors(6), &[2]);

    let grid = ShapeSpec::Wavefront(3).generate();
    assert_eq!(grid.edges(), 12);
    assert_eq!(grid.successors(4), &[5, 7]);
    assert_eq!(grid.predecessors(4), &[1, 3]);

    let pipeline = ShapeSpec::Pipeline(2).generate();
    assert_eq!(pipeline.edges(), 4);
    assert_eq!(pipeline.successors(3), &[4]);
    assert_eq!(pipeline.successors(5), &[] as &[u32]);
    assert_eq!(pipeline.tag(3), Some("io"));
    assert_eq!(pipeline.tag(4), Some("cpu"));

    let independent = ShapeSpec::Independent(5).generate();
    assert_eq!(independent.edges(), 0);
    assert_eq!(independent.in_degree(4), 0);

    let levels = ShapeSpec::LevelGraph(3, 50).generate();
    for task in 0..100 {
        let next = (task / 50 + 1) * 50..(task / 50 + 2) * 50;
        let successors = levels.successors(task);
        assert!(!successors.is_empty());
        assert!(successors.iter().all(|&s| next.contains(&(s as usize))));
    }
    assert!((100..150).all(|task| levels.successors(task).is_empty()));

    let dag = ShapeSpec::RandomDag(1000).generate();
    for task in 0..999 {
        let successors = dag.successors(task);
        assert!((1..=4).contains(&successors.len()));
        let mut sorted = successors.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), successors.len(), "duplicates are dropped");
    }
    assert!(dag.successors(999).is_empty());

    let backward = ShapeSpec::BackwardDag(1000).generate();
    assert!(backward.predecessors(0).is_empty());
    // Worked by hand from SplitMix64(7): task 1 draws 0 twice and keeps it
    // once; tasks 5 and 6 draw nothing.
    let first_rows: [&[u32]; 8] = [&[], &[0], &[0, 1], &[2], &[0, 2], &[], &[], &[5, 6]];
    for (task, dependencies) in first_rows.iter().enumerate() {
        assert_eq!(backward.predecessors(task), *dependencies);
    }
    for task in 1..1000 {
        let dependencies = backward.predecessors(task);
        assert!(dependencies.len() <= 4);
        assert!(dependencies.iter().all(|&d| (d as usize) < task));
        let mut sorted = dependencies.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), dependencies.len(), "duplicates are dropped");
        for &dependency in dependencies {
            assert!(
                backward
                    .successors(dependency as usize)
                    .contains(&(task as u32))
            );
        }
    }
    assert_eq!(backward.edges(), backward.predecessors.len());
}
