"""The one shape every bench script writes with `--json PATH`, and bench/run_all.py
reads: a list of rows, each a figure beside its floor.

    {"bench": "save.put_graph",          # stable id: script.figure[.size]
     "what": "PUT graph.json, ...",      # what the figure measures
     "value_ms": 187.3,                  # the figure
     "floor": "raw SQL executemany ...", # what the floor measures
     "floor_ms": 73.1,                   # the floor
     "ratio": 2.56,                      # value_ms / floor_ms
     ...}                                # extra fields: sizes, repeat, database...
"""

from __future__ import annotations

import json
from pathlib import Path

KEYS = ("bench", "what", "value_ms", "floor", "floor_ms", "ratio")


def row(
    bench: str, what: str, value_ms: float, floor: str, floor_ms: float, **extra
) -> dict:
    return {
        "bench": bench,
        "what": what,
        "value_ms": round(value_ms, 1),
        "floor": floor,
        "floor_ms": round(floor_ms, 1),
        "ratio": round(value_ms / floor_ms, 3),
        **extra,
    }


def write_json(path: str | Path, rows: list[dict]) -> None:
    Path(path).write_text(json.dumps(rows, indent=2) + "\n")
