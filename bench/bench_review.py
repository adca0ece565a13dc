"""Benchmark the weekly review dashboard: GET /b/<slug>/review/<week>/ for a business
with 5 and with 200 metrics (13 weeks of numbers, rolled up), beside the floor: a
trivial business page on the same server (login, membership lookup, two bytes).
The dashboard reads the rollup tables only, so it should cost about the same at both
sizes.

Runs against the database of DATABASE_URL (`make bench` points it at PostgreSQL);
it creates throw-away businesses and deletes them afterwards. `--json PATH` writes
the figures as rows in the shape of bench/_report.py.

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

from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench._report import row, write_json  # noqa: E402
from hourglass import services as core  # noqa: E402
from hourglass.models import STAGE_ORDER, User  # noqa: E402
from metrics import rollup, weeks  # noqa: E402
from metrics.models import Entry, Metric  # noqa: E402

SIZES, WEEKS, REPEAT, SEED = (5, 200), 13, 15, 20261122


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


def best_of(client: Client, url: str) -> float:
    client.get(url)  # warm: templates, the session
    best = float("inf")
    for _round in range(REPEAT):
        start = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - start
        assert response.status_code == 200, (url, response.status_code)
        best = min(best, elapsed)
    return best


@override_settings(ROOT_URLCONF="bench._trivial_urls", DEBUG=False)
def measure(size: int, rng: random.Random) -> tuple[float, float]:
    user, business, week = make_business(size, rng)
    try:
        client = Client()
        client.force_login(user)
        review = reverse(
            "metrics:review-week",
            kwargs={"slug": business.slug, "week": week.isoformat()},
        )
        trivial = reverse("bench-trivial", kwargs={"slug": business.slug})
        return best_of(client, review), best_of(client, trivial)
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
    print(f"Weekly review dashboard on {vendor}: {WEEKS} weeks, best of {REPEAT}")
    print(f"{'what':<40}{'ms':>10}{'floor ms':>10}{'ratio':>8}")
    for size in SIZES:
        dashboard, floor = measure(size, rng)
        print(
            f"{f'GET review, {size} metrics':<40}{dashboard * 1000:>10.1f}"
            f"{floor * 1000:>10.1f}{dashboard / floor:>8.1f}"
        )
        rows.append(
            row(
                f"review.dashboard.{size}",
                f"GET the weekly review, {size} metrics × {WEEKS} weeks rolled up, "
                f"best of {REPEAT}",
                dashboard * 1000,
                "a trivial business page (login, membership, 2 bytes)",
                floor * 1000,
                database=vendor,
                metrics=size,
                repeat=REPEAT,
            )
        )
    if args.json:
        write_json(args.json, rows)


if __name__ == "__main__":
    main()
