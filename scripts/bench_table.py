#!/usr/bin/env python3
"""Turn the output of `cargo bench` into the Markdown tables of BENCHMARKS.md.

Reads, under the cargo target directory (default `target`, or the first
argument):

- `criterion/<group>/<benchmark>[/<workers>]/new/estimates.json`: the median
  point estimate, in ns per iteration (one iteration is one run or one
  build of the whole graph), and `benchmark.json` beside it for the number
  of tasks (criterion's `Throughput::Elements`);
- `tmp/taskflow-bench/<group>.shape`: tasks and edges, written by the
  `shapes` bench, for ns per edge;
- `tmp/taskflow-bench/memory.md`: the table of the `memory` bench.

and prints ns per task (median) per shape and engine, the ratios of taskflow
to each baseline and to the Taskflow 4.1 reference figures of
`../shared/BENCH-SHAPES.md` (from the repository root; measured on another
machine), and the memory table.
"""

import json
import sys
from pathlib import Path

# Taskflow 4.1 (C++), "Reference figures from outside" of
# ../shared/BENCH-SHAPES.md (2026-12-01, AMD EPYC, 2 cores, KVM: measured
# elsewhere, so only a rough guide here): ns per task for build, re-run with
# 1 worker and re-run with 2 workers, about a million tasks.
REFERENCE = {
    "independent": (104, 38, 71),
    "linear_chain": (100, 30, 29),
    "binary_tree": (121, 44, 43),
    "wavefront": (103, 55, 39),
    "level_graph": (185, 128, 77),
    "random_dag": (258, 255, 179),
    "backward_dag": (311, 236, 162),
    "independent_work": (102, 581, 329),
    "level_graph_work": (184, 734, 389),
}

GROUPS = [
    ("independent", "empty body"),
    ("independent_work", "work body"),
    ("linear_chain", "empty body"),
    ("binary_tree", "empty body"),
    ("wavefront", "empty body"),
    ("level_graph", "empty body"),
    ("level_graph_work", "work body"),
    ("random_dag", "empty body"),
    ("random_dag_work", "work body"),
    ("backward_dag", "empty body"),
    ("backward_dag_work", "work body"),
    ("pipeline", "work bodies ×4, ×2, ×1; 1 and 2 workers per tag"),
]

# (label, criterion benchmark id, whether it has a worker count)
ENGINES = [
    ("taskflow first run", "taskflow_first_run", True),
    ("taskflow re-run", "taskflow_rerun", True),
    ("taskflow re-run after a build (first run's surroundings)", "taskflow_rerun_after_build", True),
    ("serial topological loop", "serial_topological", False),
    ("serial Kahn loop", "serial_kahn", False),
    ("plain executor (Mutex+Condvar)", "plain_executor", True),
    ("rayon scope+spawn", "rayon_scope", True),
    ("rayon recursive join", "rayon_join", True),
]
BASELINES = ENGINES[3:]
WORKERS = (1, 2)


def median_ns(folder):
    """The median ns per iteration and the task count of one benchmark."""
    new = folder / "new"
    try:
        estimates = json.loads((new / "estimates.json").read_text())
        benchmark = json.loads((new / "benchmark.json").read_text())
    except FileNotFoundError:
        return None
    tasks = (benchmark.get("throughput") or {}).get("Elements")
    return estimates["median"]["point_estimate"], tasks


def per_task(criterion, group, bench, workers=None):
    """ns per task of one benchmark, or None when it was not run."""
    folder = criterion / group / bench
    if workers is not None:
        folder = folder / f"{workers}w"
    found = median_ns(folder)
    if found is None or not found[1]:
        return None
    ns, tasks = found
    return ns / tasks


def shape_size(target, group):
    try:
        tasks, edges = (target / "tmp" / "taskflow-bench" / f"{group}.shape").read_text().split()
        return int(tasks), int(edges)
    except (FileNotFoundError, ValueError):
        return None


def fmt(value):
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def ratio(ours, theirs):
    if ours is None or theirs is None or theirs == 0:
        return "–"
    return f"{ours / theirs:.2f}×"


def group_tables(target, criterion, group, body):
    build = per_task(criterion, group, "taskflow_build")
    if build is None and not (criterion / group).exists():
        return None
    lines = []
    size = shape_size(target, group)
    if size:
        tasks, edges = size
        heading = f"### `{group}`: {tasks:,} tasks, {edges:,} edges ({body})"
    else:
        tasks, edges = None, None
        heading = f"### `{group}` ({body})"
    lines.append(heading)
    lines.append("")
    reference = REFERENCE.get(group)
    lines.append("Median ns per task; serial loops run on the calling thread, so their one figure stands in both columns.")
    lines.append("")
    lines.append("| engine | 1 worker | 2 workers |")
    lines.append("|---|---:|---:|")
    build_edge = ""
    if build is not None and edges:
        build_edge = f" ({fmt(build * tasks / edges)} ns per edge)"
    lines.append(f"| taskflow build (one thread) | {fmt(build)}{build_edge} | |")
    rebuild = per_task(criterion, group, "taskflow_rebuild")
    if rebuild is not None:
        rebuild_edge = f" ({fmt(rebuild * tasks / edges)} ns per edge)" if edges else ""
        lines.append(f"| taskflow rebuild of a cleared graph (one thread) | {fmt(rebuild)}{rebuild_edge} | |")
    figures = {}
    for label, bench, threaded in ENGINES:
        if threaded:
            row = [per_task(criterion, group, bench, w) for w in WORKERS]
        else:
            single = per_task(criterion, group, bench)
            row = [single, single]
        figures[bench] = row
        if all(value is None for value in row):
            continue
        if threaded:
            lines.append(f"| {label} | {fmt(row[0])} | {fmt(row[1])} |")
        else:
            lines.append(f"| {label} | {fmt(row[0])} | (same) |")
    if reference:
        lines.append(f"| *Taskflow 4.1 (C++) reference, measured elsewhere: build* | *{reference[0]}* | |")
        lines.append(f"| *Taskflow 4.1 (C++) reference, measured elsewhere: re-run* | *{reference[1]}* | *{reference[2]}* |")
    lines.append("")

    lines.append("Ratio taskflow ÷ other (below 1: taskflow is faster):")
    lines.append("")
    lines.append("| taskflow ÷ | first run, 1 w | first run, 2 w | re-run, 1 w | re-run, 2 w |")
    lines.append("|---|---:|---:|---:|---:|")
    first, rerun = figures["taskflow_first_run"], figures["taskflow_rerun"]
    for label, bench, _ in BASELINES:
        other = figures[bench]
        if all(value is None for value in other):
            continue
        cells = [ratio(first[i], other[i]) for i in range(2)] + [ratio(rerun[i], other[i]) for i in range(2)]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if reference:
        cells = [ratio(first[i], reference[i + 1]) for i in range(2)] + [
            ratio(rerun[i], reference[i + 1]) for i in range(2)
        ]
        lines.append("| Taskflow 4.1 (C++) reference re-run (elsewhere) | " + " | ".join(cells) + " |")
        lines.append(f"| Taskflow 4.1 (C++) reference build (elsewhere) | build: {ratio(build, reference[0])} | | | |")
    lines.append("")
    return "\n".join(lines), (group, build, rebuild, first, rerun, figures["taskflow_rerun_after_build"])


def summary(rows):
    lines = [
        "| shape | build | rebuild | first run, 1 w | first run, 2 w | re-run, 1 w | re-run, 2 w | 2 w ÷ 1 w (re-run) | first ÷ re-run, 1 w / 2 w | first ÷ re-run after a build, 1 w / 2 w |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for group, build, rebuild, first, rerun, after_build in rows:
        speedup = ratio(rerun[1], rerun[0])
        first_cost = f"{ratio(first[0], rerun[0])} / {ratio(first[1], rerun[1])}"
        engine_cost = f"{ratio(first[0], after_build[0])} / {ratio(first[1], after_build[1])}"
        lines.append(
            f"| `{group}` | {fmt(build)} | {fmt(rebuild)} | {fmt(first[0])} | {fmt(first[1])} | {fmt(rerun[0])} | {fmt(rerun[1])} | {speedup} | {first_cost} | {engine_cost} |"
        )
    return "\n".join(lines)


def main():
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "target")
    criterion = target / "criterion"
    sections, rows = [], []
    for group, body in GROUPS:
        found = group_tables(target, criterion, group, body)
        if found:
            sections.append(found[0])
            rows.append(found[1])
    if not sections:
        sys.exit(f"no criterion results under {criterion}: run `cargo bench` first")
    print("## Summary: taskflow, median ns per task\n")
    print(summary(rows))
    print()
    print("## Per shape\n")
    print("\n".join(sections))
    memory = target / "tmp" / "taskflow-bench" / "memory.md"
    if memory.exists():
        print("## Memory\n")
        print(memory.read_text())


if __name__ == "__main__":
    main()
