"""Benchmark the map page of a dense map: GET /b/<slug>/maps/<id>/ for maps of
100 steps / 200 arrows and 1,000 steps / 2,000 arrows, beside the floor: the
worker drawing the same map (systemmaps.rendering.draw: Graphviz, what the
request itself used to pay on every cold load, per process). The page is timed
cold (the cache emptied before each request: it queues the drawing and shows
the placeholder) and drawn (the worker's drawing in the cache, inlined).

Runs against the database of DATABASE_URL, the cache of CACHE_URL and the broker
of CELERY_BROKER_URL (`make bench` points them at PostgreSQL and Redis dbs of the
bench's own); it creates a throw-away business, deletes it afterwards and purges
the drawing jobs it queued (no worker runs). `--json PATH` writes the figures as
rows in the shape of bench/_report.py.

    .venv/bin/python bench/bench_map_page.py [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hourglass.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench._flowcharts import random_document, throwaway_map  # noqa: E402
from bench._report import row, write_json  # noqa: E402
from hourglass.celery import app  # noqa: E402
from systemmaps import rendering  # noqa: E402

SIZES = ((100, 200), (1000, 2000))
REPEAT = 10
SEED = 20261207


def timed(client: Client, url: str) -> tuple[float, bytes]:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, (url, response.status_code)
    return elapsed, response.content


@override_settings(DEBUG=False)
def measure(steps: int, arrows: int, rng: random.Random) -> dict:
    graph = random_document(rng, nodes=steps, edges=arrows, columns=40)
    with throwaway_map(graph) as (user, _business, system_map):
        client = Client()
        client.force_login(user)
        url = system_map.get_absolute_url()
        cache.clear()
        timed(client, url)  # warm: templates, the session
        best = {"cold": float("inf"), "drawn": float("inf")}
        for _round in range(REPEAT):
            cache.clear()
            seconds, body = timed(client, url)
            assert b"Drawing the map" in body, "a cold page must not draw"
            best["cold"] = min(best["cold"], seconds)
        # (The log is a bounded deque, full after making the map: empty it so
        # its length counts; and read the count now, as the next requests
        # empty the log.)
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        count = len(queries)
        cache.clear()
        start = time.perf_counter()
        done = rendering.draw(
            map_id=system_map.pk,
            version=system_map.version,
            fmt="svg",
            with_details=True,
        )
        drawing = time.perf_counter() - start
        for _round in range(REPEAT):
            seconds, body = timed(client, url)
            assert done != "ready" or b'data-testid="map-svg"' in body
            best["drawn"] = min(best["drawn"], seconds)
        return {**best, "floor": drawing, "done": done, "queries": count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    rng = random.Random(SEED)
    rows = []
    vendor = connection.vendor
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    print(
        f"Map page on {vendor}, cache {backend}, best of {REPEAT}; floor: the "
        f"worker drawing the map (budget {settings.MAP_DRAWING_TIMEOUT:g} s)"
    )
    print(f"{'what':<44}{'ms':>9}{'floor ms':>10}{'ratio':>8}{'queries':>9}")
    try:
        for steps, arrows in SIZES:
            best = measure(steps, arrows, rng)
            for what in ("cold", "drawn"):
                label = f"GET map page, {steps}/{arrows}, {what}"
                print(
                    f"{label:<44}{best[what] * 1000:>9.1f}{best['floor'] * 1000:>10.1f}"
                    f"{best[what] / best['floor']:>8.3f}{best['queries']:>9}"
                    + ("" if best["done"] == "ready" else f"  (drawing {best['done']})")
                )
                shown = (
                    "cold (cache emptied: the placeholder, one drawing queued)"
                    if what == "cold"
                    else "with the worker's drawing in the cache"
                )
                rows.append(
                    row(
                        f"map_page.{what}.{steps}",
                        f"GET the map page, {steps} steps / {arrows} arrows, "
                        f"{shown}, best of {REPEAT}",
                        best[what] * 1000,
                        "the worker drawing the same map (Graphviz SVG)",
                        best["floor"] * 1000,
                        database=vendor,
                        cache=backend,
                        steps=steps,
                        arrows=arrows,
                        drawing=best["done"],
                        queries=best["queries"],
                        repeat=REPEAT,
                    )
                )
    finally:
        app.control.purge()  # the jobs the cold loads queued; no worker ran them
    if args.json:
        write_json(args.json, rows)


if __name__ == "__main__":
    main()
