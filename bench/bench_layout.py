"""Benchmark systemmaps.layout.tidy_positions against `dot` alone (the floor).

Random connected flowcharts (fixed seed, about 1.4 arrows per node) of 100, 300
and 500 nodes; each figure is the best of three runs. The ratio shows what our
side costs (building DOT, the subprocess, reading JSON) on top of Graphviz's own
layout time for the same DOT source.

    .venv/bin/python bench/bench_layout.py [--json PATH]

`--json PATH` writes one row per size in the shape of bench/_report.py.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._report import row, write_json  # noqa: E402
from systemmaps import layout  # noqa: E402

SIZES = (100, 300, 500)
EDGES_PER_NODE = 1.4
REPEAT = 3
SEED = 20240601
TIMEOUT = 300.0
WORDS = (
    "email nurture campaign booked consultation call proposal sent signed onboard "
    "client webinar down-sell future automation bucket invoice follow up review "
    "referral survey upsell renewal checklist schedule demo quote payment welcome"
).split()


def random_flowchart(size: int, rng: random.Random) -> tuple[list, list]:
    """A connected flowchart: a random tree from node 0, plus extra arrows."""
    nodes = []
    for i in range(size):
        if i == 0 or rng.random() < 0.05:
            kind = "terminus"
        else:
            kind = rng.choices(["task", "decision"], weights=[4, 1])[0]
        label = " ".join(rng.choices(WORDS, k=rng.randint(1, 6))).capitalize()
        if kind == "decision":
            label += "?"
        nodes.append(
            {
                "id": f"node-{i}",
                "kind": kind,
                "label": label,
                "x": 0.0,
                "y": 0.0,
                "stage": None,
                "notes": None,
            }
        )
    pairs = [(rng.randrange(i), i) for i in range(1, size)]
    while len(pairs) < round(size * EDGES_PER_NODE):
        pairs.append((rng.randrange(size), rng.randrange(size)))
    edges = [
        {
            "id": f"edge-{n}",
            "source": f"node-{s}",
            "target": f"node-{t}",
            "label": rng.choice(["yes", "no", None, None, None]),
        }
        for n, (s, t) in enumerate(pairs)
    ]
    return nodes, edges


def best_of(repeat: int, *funcs) -> list[float]:
    """Best wall time of each function over `repeat` rounds, in milliseconds.

    The functions take turns within a round, so a busy moment on the machine
    does not land on one side only.
    """
    best = [float("inf")] * len(funcs)
    for _ in range(repeat):
        for i, func in enumerate(funcs):
            start = time.perf_counter()
            func()
            best[i] = min(best[i], (time.perf_counter() - start) * 1000)
    return best


def run() -> list[dict]:
    rng = random.Random(SEED)
    dot = os.environ.get("GRAPHVIZ_DOT") or shutil.which("dot")
    if dot is None:
        sys.exit(layout.NOT_INSTALLED)
    rows = []
    for size in SIZES:
        nodes, edges = random_flowchart(size, rng)
        source = layout.to_dot(nodes, edges).encode()

        def ours(nodes=nodes, edges=edges):
            positions = layout.tidy_positions(nodes, edges, timeout=TIMEOUT)
            assert len(positions) == len(nodes)

        def floor(source=source):
            subprocess.run(
                [dot, "-Tjson0"],
                input=source,
                capture_output=True,
                timeout=TIMEOUT,
                check=True,
            )

        tidy_ms, dot_ms = best_of(REPEAT, ours, floor)
        rows.append(
            row(
                f"layout.tidy_positions.{size}",
                f"tidy_positions, {size} steps, {len(edges)} arrows, best of {REPEAT}",
                tidy_ms,
                "dot -Tjson0 alone, same DOT source",
                dot_ms,
                nodes=size,
                edges=len(edges),
                repeat=REPEAT,
                seed=SEED,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = parser.parse_args()

    rows = run()
    print(
        f"{'nodes':>6} {'edges':>6} {'tidy_positions ms':>18} {'dot alone ms':>13} "
        f"{'ratio':>6}"
    )
    for figure in rows:
        print(
            f"{figure['nodes']:>6} {figure['edges']:>6} {figure['value_ms']:>18.1f} "
            f"{figure['floor_ms']:>13.1f} {figure['ratio']:>6.2f}"
        )
    if args.json:
        write_json(args.json, rows)


if __name__ == "__main__":
    main()
