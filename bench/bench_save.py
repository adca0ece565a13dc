"""Benchmark a graph save through the API: PUT graph.json of a 500-node, 700-edge map
(validate, lock, write nodes and edges, lint, revision), beside the floor: the same
rows written by raw SQL `executemany` in one transaction on the same database.

Runs against the database of DATABASE_URL (SQLite under var/ by default; `make bench`
points it at PostgreSQL); it creates a throw-away business and deletes it afterwards.
`--json PATH` writes the figure as rows in the shape of bench/_report.py.

    .venv/bin/python bench/bench_save.py [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import random
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
from systemmaps.models import SystemMap  # noqa: E402

NODES, EDGES, REPEAT, SEED = 500, 700, 5, 20241122


def time_api(client: Client, url: str, system_map: SystemMap, rng) -> float:
    best = float("inf")
    for _round in range(REPEAT):
        system_map.refresh_from_db()
        body = json.dumps(random_document(rng, nodes=NODES, edges=EDGES))
        start = time.perf_counter()
        response = client.put(
            url,
            body,
            content_type="application/json",
            headers={"If-Match": f'"{system_map.version}"'},
        )
        elapsed = time.perf_counter() - start
        assert response.status_code == 200, response.content[:500]
        best = min(best, elapsed)
    return best


def time_raw_sql(rng) -> float:
    """The floor: insert the same rows with plain SQL into scratch tables."""
    best = float("inf")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_node (map_id integer, client_id varchar(64),"
            " kind varchar(10), label varchar(200), x double precision,"
            " y double precision, stage varchar(10), notes text)"
        )
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_edge (map_id integer, client_id varchar(64),"
            " source varchar(64), target varchar(64), label varchar(60))"
        )
    for _round in range(REPEAT):
        graph = random_document(rng, nodes=NODES, edges=EDGES)
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
        best = min(best, time.perf_counter() - start)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_node")
        cursor.execute("DROP TABLE bench_edge")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    rng = random.Random(SEED)

    with throwaway_map(random_document(rng, nodes=NODES, edges=EDGES)) as (
        user,
        business,
        system_map,
    ):
        client = Client()
        client.force_login(user)
        url = reverse(
            "systemmaps:map-graph", kwargs={"slug": business.slug, "pk": system_map.pk}
        )
        api = time_api(client, url, system_map, rng)
        graph = random_document(rng, nodes=NODES, edges=EDGES)
        start = time.perf_counter()
        lint(graph["nodes"], graph["edges"])
        lint_only = time.perf_counter() - start
        floor = time_raw_sql(rng)

    vendor = connection.vendor
    print(f"Graph save through the API on {vendor}: {NODES} nodes, {EDGES} edges")
    print(f"{'what':<36}{'ms':>10}{'ratio':>8}")
    print(f"{'PUT graph.json (best of 5)':<36}{api * 1000:>10.1f}{api / floor:>8.1f}")
    print(f"{'  of which lint alone':<36}{lint_only * 1000:>10.1f}{'':>8}")
    print(f"{'floor: raw SQL executemany':<36}{floor * 1000:>10.1f}{1:>8.1f}")
    if args.json:
        write_json(
            args.json,
            [
                row(
                    "save.put_graph",
                    f"PUT graph.json, {NODES} steps, {EDGES} arrows, best of {REPEAT}",
                    api * 1000,
                    "raw SQL executemany, same rows",
                    floor * 1000,
                    database=vendor,
                    nodes=NODES,
                    edges=EDGES,
                    repeat=REPEAT,
                    lint_ms=round(lint_only * 1000, 1),
                )
            ],
        )


if __name__ == "__main__":
    main()
