"""Benchmark a graph save through the API: PUT graph.json of a 500-node, 700-edge map
(validate, lock, diff against the stored rows, write what changed, lint, revision),
beside the floor: every row of the same map written by raw SQL `executemany` in one
transaction on the same database.

Three saves, each the median of ROUNDS runs taken in turn with the floor (one run of
each per round, so a busy moment of the machine falls on all of them alike):

- every step moved: the 500-step change the editor sends after a drag of everything
  or a tidy-up (all positions differ, labels and arrows stay);
- a few changes: one label edited, one step moved, one arrow added and one removed;
- everything changed: a new random document of the same ids (labels, positions,
  stages and the extra arrows all differ).

Runs against the database of DATABASE_URL (SQLite under var/ by default; `make bench`
points it at PostgreSQL); it creates a throw-away business and deletes it afterwards.
`--json PATH` writes the figures as rows in the shape of bench/_report.py.

    .venv/bin/python bench/bench_save.py [--json PATH] [--rounds N]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hourglass.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench._flowcharts import random_document, throwaway_map  # noqa: E402
from bench._report import row, write_json  # noqa: E402
from systemmaps.graph import lint  # noqa: E402

NODES, EDGES, ROUNDS, SEED = 500, 700, 7, 20241122


def every_step_moved(rng: random.Random, graph: dict) -> dict:
    moved = copy.deepcopy(graph)
    for node in moved["nodes"]:
        node["x"] += rng.choice([-1, 1]) * rng.randint(10, 60)
        node["y"] += rng.choice([-1, 1]) * rng.randint(10, 60)
    return moved


def a_few_changes(rng: random.Random, graph: dict) -> dict:
    changed = copy.deepcopy(graph)
    nodes = changed["nodes"]
    labelled, moved = rng.sample(range(1, len(nodes) - 1), 2)
    nodes[labelled]["label"] = f"Edited {rng.randint(0, 10**6)}"
    nodes[moved]["x"] += 40
    # The last extra arrow out, a new one in (the chain keeps every step linked).
    changed["edges"].pop()
    a, b = sorted(rng.sample(range(len(nodes)), 2))
    changed["edges"].append(
        {
            "id": f"x{rng.randint(0, 10**9)}",
            "source": nodes[a]["id"],
            "target": nodes[b]["id"],
            "label": "x",
        }
    )
    return changed


def everything_changed(rng: random.Random, graph: dict) -> dict:
    return random_document(rng, nodes=NODES, edges=EDGES)


SAVES = {
    "every_step_moved": ("every step moved", every_step_moved),
    "few_changes": (
        "a few changes (1 label, 1 step moved, 1 arrow out, 1 in)",
        a_few_changes,
    ),
    "everything_changed": (
        "everything changed (new random document)",
        everything_changed,
    ),
}


def time_put(client: Client, url: str, version: int, graph: dict) -> tuple[float, int]:
    body = json.dumps(graph)
    start = time.perf_counter()
    response = client.put(
        url, body, content_type="application/json", headers={"If-Match": f'"{version}"'}
    )
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.content[:500]
    return elapsed, response.json()["version"]


class RawSqlFloor:
    """The floor: the same rows inserted with plain SQL into scratch tables."""

    def __enter__(self) -> RawSqlFloor:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE bench_node (map_id integer, client_id"
                " varchar(64), kind varchar(10), label varchar(200), x double"
                " precision, y double precision, stage varchar(10), notes text)"
            )
            cursor.execute(
                "CREATE TEMPORARY TABLE bench_edge (map_id integer, client_id"
                " varchar(64), source varchar(64), target varchar(64),"
                " label varchar(60))"
            )
        return self

    def __exit__(self, *_exc) -> None:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE bench_node")
            cursor.execute("DROP TABLE bench_edge")

    def time(self, graph: dict) -> float:
        node_rows = [
            (1, n["id"], n["kind"], n["label"], n["x"], n["y"], n["stage"] or "", "")
            for n in graph["nodes"]
        ]
        edge_rows = [
            (1, e["id"], e["source"], e["target"], e["label"] or "")
            for e in graph["edges"]
        ]
        start = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM bench_edge")
            cursor.execute("DELETE FROM bench_node")
            cursor.executemany(
                "INSERT INTO bench_node VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                node_rows,
            )
            cursor.executemany(
                "INSERT INTO bench_edge VALUES (%s, %s, %s, %s, %s)", edge_rows
            )
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    rng = random.Random(SEED)
    graph = random_document(rng, nodes=NODES, edges=EDGES)
    times: dict[str, list[float]] = {name: [] for name in (*SAVES, "floor", "lint")}

    with throwaway_map(graph) as (user, business, system_map), RawSqlFloor() as floor:
        client = Client()
        client.force_login(user)
        url = reverse(
            "systemmaps:map-graph", kwargs={"slug": business.slug, "pk": system_map.pk}
        )
        version = system_map.version
        # One save first, so the connection, caches and plans are warm for all.
        _elapsed, version = time_put(client, url, version, every_step_moved(rng, graph))
        graph = json.loads(client.get(url).content)
        for _round in range(args.rounds):
            for name, (_what, change) in SAVES.items():
                changed = change(rng, graph)
                elapsed, version = time_put(client, url, version, changed)
                times[name].append(elapsed)
                graph = changed
            times["floor"].append(floor.time(graph))
            start = time.perf_counter()
            lint(graph["nodes"], graph["edges"])
            times["lint"].append(time.perf_counter() - start)

    ms = {name: statistics.median(values) * 1000 for name, values in times.items()}
    vendor = connection.vendor
    print(
        f"Graph save through the API on {vendor}: {NODES} nodes, {EDGES} edges,"
        f" median of {args.rounds} interleaved runs"
    )
    print(f"{'what':<76}{'ms':>9}{'ratio':>8}")
    for name, (what, _change) in SAVES.items():
        ratio = ms[name] / ms["floor"]
        print(f"{'PUT graph.json, ' + what:<76}{ms[name]:>9.1f}{ratio:>8.2f}")
    print(f"{'  lint alone (run once in each save)':<76}{ms['lint']:>9.1f}{'':>8}")
    print(
        f"{'floor: raw SQL executemany of every row':<76}{ms['floor']:>9.1f}{1:>8.2f}"
    )
    if args.json:
        write_json(
            args.json,
            [
                row(
                    f"save.put_graph.{name}",
                    f"PUT graph.json, {NODES} steps, {EDGES} arrows: {what},"
                    f" median of {args.rounds}",
                    ms[name],
                    "raw SQL executemany, every row of the map",
                    ms["floor"],
                    database=vendor,
                    nodes=NODES,
                    edges=EDGES,
                    repeat=args.rounds,
                    lint_ms=round(ms["lint"], 1),
                )
                for name, (what, _change) in SAVES.items()
            ],
        )


if __name__ == "__main__":
    main()
