#!/usr/bin/env python3
"""Render a taskflow Chrome trace (Trace Event Format JSON, as written by
`ChromeTrace::write_to`) as a PNG timeline, the way a trace viewer shows it:
one row per track (named by its `thread_name` metadata event, in
`thread_sort_index` order), one bar per complete event (`"ph": "X"`) from
`ts` to `ts + dur`, labelled with the task's name where it fits, coloured by
the first word of the name; zero-duration events (tasks that never started)
as thin ticks, and failed tasks outlined in red.

    cargo run --release --example file_pipeline -- --trace /tmp/trace.json
    python3 scripts/trace_png.py /tmp/trace.json docs/pipeline-trace.png --zoom 0:20

`--zoom FROM:TO` adds a second panel of that window, in ms since the first
task started, as a viewer's zoom would show it.

Needs matplotlib (`pip install matplotlib`). Every bar comes from the JSON;
nothing is made up or smoothed.
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#e15759"]


def load(path):
    with open(path) as file:
        events = json.load(file)["traceEvents"]
    names, order = {}, {}
    for event in events:
        if event.get("ph") != "M":
            continue
        if event["name"] == "thread_name":
            names[event["tid"]] = event["args"]["name"]
        elif event["name"] == "thread_sort_index":
            order[event["tid"]] = event["args"]["sort_index"]
    tasks = [event for event in events if event.get("ph") == "X"]
    tracks = sorted({task["tid"] for task in tasks}, key=lambda tid: (order.get(tid, tid), tid))
    return tasks, tracks, names


def draw(axes, tasks, tracks, names, start, window, colour):
    """Draws the tasks that overlap `window` (ms since `start`) on `axes`."""
    low, high = window
    row = {tid: index for index, tid in enumerate(tracks)}
    for task in tasks:
        left = (task["ts"] - start) / 1000
        width = task["dur"] / 1000
        if left > high or left + width < low:
            continue
        y = row[task["tid"]]
        failed = task.get("args", {}).get("outcome") == "failed"
        if width == 0:
            axes.vlines(left, y - 0.35, y + 0.35, colors="#555555", linewidth=1)
            continue
        axes.barh(
            y,
            width,
            left=left,
            height=0.7,
            color=colour[task["name"].split()[0]],
            edgecolor="#d62728" if failed else "white",
            linewidth=1.5 if failed else 0.5,
        )
        # A label only where the visible part of the bar can hold it.
        shown = min(left + width, high) - max(left, low)
        if shown > (high - low) * 0.0065 * len(task["name"]):
            axes.text(
                max(left, low) + shown / 2,
                y,
                task["name"],
                ha="center",
                va="center",
                fontsize=8,
                color="white",
                clip_on=True,
            )
    axes.set_yticks(range(len(tracks)))
    axes.set_yticklabels([names.get(tid, f"track {tid}") for tid in tracks])
    axes.set_ylim(len(tracks) - 0.5, -0.5)
    axes.set_xlim(low, high)
    axes.grid(axis="x", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    for side in ("right", "bottom"):
        axes.spines[side].set_visible(False)


def render(trace_path, png_path, zoom=None):
    tasks, tracks, names = load(trace_path)
    if not tasks:
        sys.exit(f"{trace_path}: no complete events")
    start = min(task["ts"] for task in tasks)
    end = max(task["ts"] + task["dur"] for task in tasks)
    span_ms = (end - start) / 1000
    kinds = sorted({task["name"].split()[0] for task in tasks})
    colour = {kind: PALETTE[index % len(PALETTE)] for index, kind in enumerate(kinds)}

    panels = [(0, span_ms * 1.01)] + ([zoom] if zoom else [])
    height = 0.55 * len(tracks) + 1.0
    figure, axes = plt.subplots(
        len(panels), 1, figsize=(12, height * len(panels) + 0.6), dpi=120, squeeze=False
    )
    for panel, window in zip(axes[:, 0], panels):
        draw(panel, tasks, tracks, names, start, window, colour)
        panel.set_xlabel(
            "ms since the first task started"
            + ("" if window == panels[0] else f" (zoomed: {window[0]:g} to {window[1]:g} ms)"),
            fontsize=9,
        )
        panel.xaxis.set_ticks_position("top")
        panel.xaxis.set_label_position("top")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colour[kind]) for kind in kinds]
    axes[0, 0].legend(handles, kinds, loc="lower right", fontsize=8, frameon=False, ncol=len(kinds))
    runs = sorted({task.get("args", {}).get("run") for task in tasks} - {None})
    figure.suptitle(
        f"{trace_path.split('/')[-1]}: {len(tasks)} tasks on {len(tracks)} tracks, "
        f"{span_ms:.1f} ms (run{'s' if len(runs) > 1 else ''} {', '.join(map(str, runs))})",
        fontsize=10,
        y=0.01,
        va="bottom",
    )
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    figure.savefig(png_path)
    print(f"{png_path}: {len(tasks)} tasks, {len(tracks)} tracks, {span_ms:.1f} ms")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    zoom = None
    if len(arguments) == 4 and arguments[2] == "--zoom":
        low, high = arguments[3].split(":")
        zoom = (float(low), float(high))
    elif len(arguments) != 2:
        sys.exit(f"usage: {sys.argv[0]} TRACE.json OUT.png [--zoom FROM_MS:TO_MS]")
    render(arguments[0], arguments[1], zoom)
