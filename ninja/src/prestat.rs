//! Stats ahead, in parallel: the files a dirty check is about to look at,
//! on the engine's workers, before the (sequential) scan reads them.
//!
//! A no-op build of a large tree is mostly `stat` calls, one per file, each
//! a path walk in the kernel that does not depend on the others: spread
//! over the cores they take a fraction of the time. The scan still stats
//! lazily whatever is not known here (a file it finds later, such as a
//! depfile's dependency) and whatever failed here, so that an error is
//! reported where and as it was before.

use taskflow_engine::{Executor, Graph as TaskGraph, Task};

use crate::disk;
use crate::graph::{FileId, Graph};

/// Below this many files, the threads cost more than they save: a stat
/// takes about a microsecond, starting and stopping the workers tens.
const MIN_PARALLEL: usize = 1024;
/// Files per task: small enough that a worker on a busy core hands the
/// rest to the others, large enough that a task is not all overhead.
const CHUNK: usize = 256;

/// The mtime of each of `files` (see [`disk::mtime`]), or `None` where
/// stat failed.
pub fn mtimes(graph: &Graph, files: &[FileId]) -> Vec<Option<i64>> {
    let mut mtimes = vec![None; files.len()];
    let stat_chunk = |files: &[FileId], out: &mut [Option<i64>]| {
        for (&file, mtime) in files.iter().zip(out) {
            *mtime = disk::mtime(graph.path(file)).ok();
        }
    };
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    if workers < 2 || files.len() < MIN_PARALLEL {
        stat_chunk(files, &mut mtimes);
        return mtimes;
    }
    let parallel = Executor::builder()
        .workers_per_tag(workers)
        .build()
        .ok()
        .and_then(|executor| {
            let mut tasks = TaskGraph::new();
            for (files, out) in files.chunks(CHUNK).zip(mtimes.chunks_mut(CHUNK)) {
                tasks.add(Task::new(
                    "stat",
                    move |_: &taskflow_engine::Context<'_>| {
                        stat_chunk(files, out);
                        Ok(())
                    },
                ));
            }
            executor.run(&mut tasks).ok().filter(|r| r.is_success())
        });
    if parallel.is_none() {
        // No threads to be had: the same work, here.
        stat_chunk(files, &mut mtimes);
    }
    mtimes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_and_sequential_stats_agree() {
        let dir = crate::build_log::tests::tempdir("prestat");
        let mut graph = Graph::default();
        let mut files = Vec::new();
        for i in 0..MIN_PARALLEL + CHUNK + 7 {
            let path = dir.join(format!("f{i}"));
            // Every third file is missing.
            if i % 3 != 0 {
                std::fs::write(&path, b"").unwrap();
            }
            files.push(graph.file(path.to_str().unwrap()));
        }
        let through = graph.file(dir.join("f1/x").to_str().unwrap());
        files.push(through);
        let parallel = mtimes(&graph, &files);
        let sequential = mtimes(&graph, &files[..10]);
        assert_eq!(parallel[..10], sequential[..]);
        for (i, mtime) in parallel.iter().enumerate() {
            let path = graph.path(files[i]);
            assert_eq!(*mtime, disk::mtime(path).ok(), "{path}");
            let missing = i % 3 == 0 || files[i] == through;
            assert_eq!(*mtime == Some(0), missing, "{path}");
        }
    }
}
