"""Benchmark the weekly review dashboard: GET /b/<slug>/review/<week>/ for a business
with 5 and with 200 metrics (13 weeks of numbers, rolled up), from the cache and
drawn anew (the first request after a rollup: the cache emptied before each), beside
the floor: a trivial business page on the same server (login, membership lookup,
two bytes). The three are timed in turn, round after round, so a busy machine
slows them alike.

Runs against the database of DATABASE_URL and the cache of CACHE_URL (`make bench`
points them at PostgreSQL and a Redis db of the bench's own, which it empties); it
creates throw-away businesses and deletes them afterwards. `--json PATH` writes the
figures as rows in the shape of bench/_report.py.

    .venv/bin/python bench/bench_review.py [--json PATH]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from decimal import Decimal
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
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench._report import row, write_json  # noqa: E402
from hourglass import services as core  # noqa: E402
from hourglass.models import STAGE_ORDER, User  # noqa: E402
from metrics import rollup, weeks  # noqa: E402
from metrics.models import Entry, Metric  # noqa: E402

SIZES, WEEKS, REPEAT, SEED = (5, 200), 13, 30, 20261122


def make_business(size: int, rng: random.Random):
    tag = uuid.uuid4().hex[:8]
    user = User.objects.create_user(email=f"bench-{tag}@example.com", password=None)
    business = core.business_create(name=f"Bench review {tag}", owner=user)
    owner = business.memberships.get()
    last = weeks.last_week(business.timezone)
    columns = weeks.weeks_back(last, WEEKS)
    metrics = Metric.objects.bulk_create(
        Metric(
            business=business,
            name=f"Metric {i}",
            goal=Decimal(50),
            owner=owner if i % 3 else None,
            stage=STAGE_ORDER[i % len(STAGE_ORDER)],
            position=i,
            first_week=columns[0],
        )
        for i in range(size)
    )
    now = timezone.now()
    Entry.objects.bulk_create(
        Entry(
            business=business,
            metric=metric,
            week=week,
            value=Decimal(rng.randint(20, 80)),
            entered_by=user,
            entered_at=now,
        )
        for metric in metrics
        for week in columns
        if rng.random() > 0.1
    )
    for week in columns:
        rollup.rollup_business_week(business.pk, week)
    return user, business, last


def timed(client: Client, url: str) -> float:
    start = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def counted(client: Client, url: str) -> tuple[int, int]:
    """Queries and bytes of one GET (counted apart: recording queries slows them)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return len(queries), len(response.content)


@override_settings(ROOT_URLCONF="bench._trivial_urls", DEBUG=False)
def measure(size: int, rng: random.Random) -> dict[str, tuple[float, int, int]]:
    """The best time of each of floor, cached and uncached, with its queries and
    bytes."""
    user, business, week = make_business(size, rng)
    try:
        client = Client()
        client.force_login(user)
        review = reverse(
            "metrics:review-week",
            kwargs={"slug": business.slug, "week": week.isoformat()},
        )
        trivial = reverse("bench-trivial", kwargs={"slug": business.slug})
        client.get(trivial)  # warm: templates, the session
        client.get(review)
        best = {"floor": float("inf"), "cached": float("inf"), "uncached": float("inf")}
        for _round in range(REPEAT):
            for what in best:
                if what == "uncached":
                    cache.clear()
                url = trivial if what == "floor" else review
                best[what] = min(best[what], timed(client, url))
        cached = counted(client, review)
        cache.clear()
        uncached = counted(client, review)
        # The cached page must have been served without drawing it again.
        assert cached[0] < uncached[0] and cached[1] == uncached[1], (cached, uncached)
        return {
            "floor": (best["floor"], *counted(client, trivial)),
            "cached": (best["cached"], *cached),
            "uncached": (best["uncached"], *uncached),
        }
    finally:
        business.delete()
        user.delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    rng = random.Random(SEED)
    rows = []
    vendor = connection.vendor
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    print(
        f"Weekly review dashboard on {vendor}, cache {backend}: {WEEKS} weeks, "
        f"best of {REPEAT}"
    )
    print(f"{'what':<34}{'ms':>9}{'floor ms':>10}{'ratio':>8}{'queries':>9}{'kB':>8}")
    for size in SIZES:
        best = measure(size, rng)
        floor = best["floor"][0]
        for what in ("cached", "uncached"):
            seconds, queries, size_bytes = best[what]
            print(
                f"{f'GET review, {size} metrics, {what}':<34}{seconds * 1000:>9.1f}"
                f"{floor * 1000:>10.1f}{seconds / floor:>8.1f}{queries:>9}"
                f"{size_bytes / 1000:>8.0f}"
            )
            drawn = (
                "from the cache"
                if what == "cached"
                else "drawn anew (cache emptied first)"
            )
            rows.append(
                row(
                    f"review.{what}.{size}",
                    f"GET the weekly review, {size} metrics × {WEEKS} weeks rolled "
                    f"up, {drawn}, best of {REPEAT}",
                    seconds * 1000,
                    "a trivial business page (login, membership, 2 bytes)",
                    floor * 1000,
                    database=vendor,
                    cache=backend,
                    metrics=size,
                    queries=queries,
                    bytes=size_bytes,
                    repeat=REPEAT,
                )
            )
    if args.json:
        write_json(args.json, rows)


if __name__ == "__main__":
    main()
