"""Benchmark the weekly rollup: `rollup_all` for one week over 1,000 businesses ×
50 metrics × 52 weeks of entries, run in-process (every chunk, synchronously, the
function the chunk task runs), beside

- the floor: one hand-written SQL GROUP BY over the same entries (the 13-week
  window grouped by metric, the same aggregates), and
- a naive per-metric ORM loop (read each metric's entries, compute in Python,
  update_or_create its MetricWeek), timed on a sample of businesses and scaled
  linearly to all of them.

PostgreSQL only (DATABASE_URL; `make bench` passes BENCH_DATABASE_URL). The data
is generated with set-based SQL (generate_series) into businesses whose slug
starts with `bench-rollup-`, and kept in the bench database for the next run;
`--drop` deletes it.

    .venv/bin/python bench/bench_rollup.py [--json PATH] [--drop]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hourglass.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from bench._report import row, write_json  # noqa: E402
from hourglass.models import Business  # noqa: E402
from metrics import recompute, rollup, weeks  # noqa: E402
from metrics.models import Entry, Metric, MetricWeek  # noqa: E402

BUSINESSES, METRICS, WEEKS = 1000, 50, 52
SAMPLE = 50  # businesses the naive loop is timed on
REPEAT = 3
PREFIX = "bench-rollup-"
STAGES = ["know", "like", "trust", "try", "buy", "repeat", "refer"]


def generate(week: date) -> None:
    """Businesses, an owner each, their metrics and 52 weeks of entries ending
    with `week`, in a handful of INSERT … SELECT statements."""
    first = week - weeks.WEEK * (WEEKS - 1)
    stages = "ARRAY[" + ", ".join(f"'{s}'" for s in STAGES) + "]"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            "INSERT INTO hourglass_user (password, is_superuser, email, name,"
            " is_staff, is_active, date_joined)"
            " VALUES ('!', false, 'bench-rollup@example.com', 'Bench', false, true,"
            " now()) ON CONFLICT DO NOTHING"
        )
        cursor.execute(
            "INSERT INTO hourglass_business (name, slug, currency, timezone,"
            " created_at)"
            " SELECT 'Bench rollup ' || i, %s || i, 'EUR', 'UTC', now()"
            " FROM generate_series(1, %s) i",
            [PREFIX, BUSINESSES],
        )
        cursor.execute(
            "INSERT INTO hourglass_membership (business_id, user_id, role,"
            " created_at, roles)"
            " SELECT b.id, u.id, 'owner', now(), '' FROM hourglass_business b,"
            " hourglass_user u WHERE b.slug LIKE %s"
            " AND u.email = 'bench-rollup@example.com'",
            [PREFIX + "%"],
        )
        cursor.execute(
            "INSERT INTO metrics_metric (business_id, name, description, unit,"
            " direction, goal, owner_id, stage, in_funnel, position, first_week,"
            " created_at, step_key)"
            " SELECT b.id, 'Metric ' || n, '',"
            " CASE WHEN mod(n, 5) = 0 THEN 'money' ELSE 'count' END,"
            " CASE WHEN mod(n, 4) = 0 THEN 'lower' ELSE 'higher' END,"
            " CASE WHEN mod(n, 6) = 0 THEN NULL ELSE 50 END,"
            " CASE WHEN mod(n, 2) = 0 THEN m.id END,"
            f" ({stages})[1 + mod(n, 7)], true, n, %s, now(), ''"
            " FROM hourglass_business b"
            " JOIN hourglass_membership m ON m.business_id = b.id"
            " CROSS JOIN generate_series(1, %s) n WHERE b.slug LIKE %s",
            [first, METRICS, PREFIX + "%"],
        )
        # About one number in ten is missing.
        cursor.execute(
            "INSERT INTO metrics_entry (business_id, metric_id, week, value,"
            " entered_at)"
            " SELECT m.business_id, m.id, %s::date + 7 * w,"
            " round((random() * 100)::numeric, 2), now()"
            " FROM metrics_metric m JOIN hourglass_business b"
            " ON b.id = m.business_id CROSS JOIN generate_series(0, %s) w"
            " WHERE b.slug LIKE %s AND random() >= 0.1",
            [first, WEEKS - 1, PREFIX + "%"],
        )
        cursor.execute("ANALYZE")


def drop() -> None:
    """Delete the generated data with plain SQL (the ORM's cascade would load
    every row first)."""
    ids = "SELECT id FROM hourglass_business WHERE slug LIKE %s"
    with transaction.atomic(), connection.cursor() as cursor:
        for table in (
            "metrics_stepconversion",
            "metrics_metricweek",
            "metrics_stageweek",
            "metrics_ownerweek",
            "metrics_rollupweek",
            "metrics_entry",
            "metrics_metric",
            "hourglass_membership",
        ):
            cursor.execute(
                f"DELETE FROM {table} WHERE business_id IN ({ids})", [PREFIX + "%"]
            )
        cursor.execute(
            "DELETE FROM hourglass_business WHERE slug LIKE %s", [PREFIX + "%"]
        )
        cursor.execute(
            "DELETE FROM hourglass_user WHERE email = 'bench-rollup@example.com'"
        )


def ensure_data(week: date) -> None:
    present = Business.objects.filter(slug__startswith=PREFIX).count()
    entries_ok = Entry.objects.filter(business__slug=f"{PREFIX}1", week=week).exists()
    if present == BUSINESSES and entries_ok:
        print(f"Reusing the {BUSINESSES} bench businesses already in the database.")
        return
    if present:
        drop()
    print(
        f"Generating {BUSINESSES} businesses × {METRICS} metrics × {WEEKS} weeks…",
        flush=True,
    )
    start = time.perf_counter()
    generate(week)
    print(f"  done in {time.perf_counter() - start:.1f} s", flush=True)


def time_rollup_all(week: date) -> tuple[float, int]:
    best = float("inf")
    # A full recompute: every business, fresh or not.
    chunks = recompute.all_chunks(week, only_stale=False)
    for _round in range(REPEAT):
        start = time.perf_counter()
        for ids, chunk_week in chunks:
            rollup.rollup_businesses_week(ids, chunk_week)
        best = min(best, time.perf_counter() - start)
    return best, len(chunks)


def time_changed(week: date, share: float = 0.1) -> tuple[float, int]:
    """`rollup_all` (stale weeks only) after one number changed in `share` of
    the businesses, as in a normal week: the unchanged ones are skipped and the
    unchanged rows are not written."""
    ids = list(
        Business.objects.filter(slug__startswith=PREFIX)
        .order_by("id")
        .values_list("id", flat=True)
    )
    changed = ids[:: int(1 / share)]
    best, done = float("inf"), 0
    for _round in range(REPEAT):
        for business_id in changed:
            # As an entry save does: the change and its mark in one transaction.
            with transaction.atomic():
                entry = Entry.objects.filter(business_id=business_id, week=week).first()
                if entry is not None:
                    Entry.objects.filter(pk=entry.pk).update(
                        value=(entry.value or 0) + 1
                    )
                rollup.mark_stale(business_id=business_id, week=week)
        start = time.perf_counter()
        chunks = recompute.all_chunks(week)
        for chunk_ids, chunk_week in chunks:
            rollup.rollup_businesses_week(chunk_ids, chunk_week)
        best = min(best, time.perf_counter() - start)
        done = sum(len(c) for c, _ in chunks)
    return best, done


FLOOR_SQL = """
    SELECT COUNT(*) FROM (
        SELECT metric_id,
            MAX(CASE WHEN week = %s THEN value END) AS value,
            AVG(CASE WHEN week >= %s THEN value END) AS avg_4,
            AVG(value) AS avg_13,
            AVG(CASE WHEN week >= %s AND week <= %s THEN value END) AS avg_prev_4
        FROM metrics_entry
        WHERE week >= %s AND week <= %s
        GROUP BY metric_id
    ) grouped
"""


def time_floor(week: date) -> float:
    best = float("inf")
    w = weeks.WEEK
    params = [week, week - 3 * w, week - 7 * w, week - 4 * w, week - 12 * w, week]
    for _round in range(REPEAT):
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, params)
            cursor.fetchone()
        best = min(best, time.perf_counter() - start)
    return best


INSERT_FLOOR_SQL = """
    INSERT INTO bench_floor_week (business_id, metric_id, week, value, avg_4,
        avg_13, avg_prev_4, stage, status, trend, direction, in_funnel, step_key,
        unit)
    SELECT MIN(business_id), metric_id, %s,
        MAX(CASE WHEN week = %s THEN value END),
        AVG(CASE WHEN week >= %s THEN value END),
        AVG(value),
        AVG(CASE WHEN week >= %s AND week <= %s THEN value END),
        '', '', '', '', false, '', ''
    FROM metrics_entry
    WHERE week >= %s AND week <= %s
    GROUP BY metric_id
"""


def time_insert_floor(week: date, *, bare: bool = False) -> float:
    """The floor of a full recompute: the floor's GROUP BY written with
    INSERT … SELECT into a table identical to the metric weeks (its columns,
    identity and indexes: `LIKE … INCLUDING ALL`), emptied first, in one
    transaction, as the rollup writes. `bare`: into the same columns of a table
    without identity or indexes instead (printed beside it, a lower floor)."""
    w = weeks.WEEK
    params = [week, week, week - 3 * w, week - 7 * w, week - 4 * w, week - 12 * w, week]
    best = float("inf")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_floor_week")
        table = MetricWeek._meta.db_table
        cursor.execute(
            f"CREATE TABLE bench_floor_week AS SELECT * FROM {table} WITH NO DATA"
            if bare
            else f"CREATE TABLE bench_floor_week (LIKE {table} INCLUDING ALL)"
        )
    for _round in range(REPEAT):
        start = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM bench_floor_week")
            cursor.execute(INSERT_FLOOR_SQL, params)
        best = min(best, time.perf_counter() - start)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_floor_week")
    return best


def _avg(values: list[Decimal]) -> Decimal | None:
    return (sum(values) / len(values)).quantize(Decimal("0.0001")) if values else None


def naive(business_ids: list[int], week: date) -> None:
    """What the rollup would be without set-based SQL: per metric, its entries,
    Python arithmetic, one write."""
    w = weeks.WEEK
    for metric in Metric.objects.filter(business_id__in=business_ids):
        entries = dict(
            Entry.objects.filter(
                metric=metric, week__gte=week - 12 * w, week__lte=week
            ).values_list("week", "value")
        )
        value = entries.get(week)
        last4 = [v for k, v in entries.items() if k >= week - 3 * w and v is not None]
        prev4 = [
            v
            for k, v in entries.items()
            if week - 7 * w <= k <= week - 4 * w and v is not None
        ]
        all13 = [v for v in entries.values() if v is not None]
        if value is None:
            status = "missing"
        elif metric.goal is None:
            status = "nogoal"
        elif (metric.direction == "higher" and value >= metric.goal) or (
            metric.direction == "lower" and value <= metric.goal
        ):
            status = "on"
        else:
            status = "off"
        MetricWeek.objects.update_or_create(
            metric=metric,
            week=week,
            defaults={
                "business_id": metric.business_id,
                "stage": metric.stage,
                "owner_id": metric.owner_id,
                "value": value,
                "goal": metric.goal,
                "status": status,
                "avg_4": _avg(last4),
                "avg_13": _avg(all13),
                "avg_prev_4": _avg(prev4),
            },
        )


def time_naive(week: date) -> float:
    ids = list(
        Business.objects.filter(slug__startswith=PREFIX)
        .order_by("id")
        .values_list("id", flat=True)[:SAMPLE]
    )
    start = time.perf_counter()
    with transaction.atomic():
        naive(ids, week)
    return (time.perf_counter() - start) * BUSINESSES / SAMPLE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--drop", action="store_true", help="delete the bench data")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit(
            "bench_rollup.py needs PostgreSQL: set DATABASE_URL (make bench does)."
        )
    if args.drop:
        drop()
        print("Deleted the bench rollup data.")
        return
    week = weeks.last_week("UTC")
    ensure_data(week)
    entries = Entry.objects.filter(business__slug__startswith=PREFIX).count()

    naive_s = time_naive(week)
    rollup_s, chunks = time_rollup_all(week)
    changed_s, changed_n = time_changed(week)
    floor_s = time_floor(week)
    insert_floor_s = time_insert_floor(week)
    bare_floor_s = time_insert_floor(week, bare=True)

    print(
        f"Rollup of one week on {connection.vendor}: {BUSINESSES} businesses × "
        f"{METRICS} metrics, {entries:,} entries over {WEEKS} weeks"
    )
    print(f"{'what':<52}{'ms':>10}{'ratio':>8}")
    print(
        f"{f'rollup_all in-process ({chunks} chunks, best of {REPEAT})':<52}"
        f"{rollup_s * 1000:>10.1f}{rollup_s / floor_s:>8.1f}"
    )
    print(
        f"{f'rollup_all, 10 % changed ({changed_n} businesses)':<52}"
        f"{changed_s * 1000:>10.1f}{changed_s / floor_s:>8.1f}"
    )
    print(
        f"{f'naive per-metric ORM loop (x{BUSINESSES // SAMPLE} of {SAMPLE})':<52}"
        f"{naive_s * 1000:>10.1f}{naive_s / floor_s:>8.1f}"
    )
    print(f"{'floor: one SQL GROUP BY, 13 weeks by metric':<52}{floor_s * 1000:>10.1f}")
    print(
        f"{'full recompute against INSERT … SELECT of that GROUP BY':<52}"
        f"{insert_floor_s * 1000:>10.1f}{rollup_s / insert_floor_s:>8.1f}"
    )
    print(
        f"{'  … into a bare table (no identity, no index)':<52}"
        f"{bare_floor_s * 1000:>10.1f}{rollup_s / bare_floor_s:>8.1f}"
    )
    if args.json:
        extra = {
            "database": connection.vendor,
            "businesses": BUSINESSES,
            "metrics": BUSINESSES * METRICS,
            "entries": entries,
            "repeat": REPEAT,
        }
        floor = "one SQL GROUP BY over the 13-week window, by metric"
        write_json(
            args.json,
            [
                row(
                    "rollup.rollup_all",
                    f"rollup_all for one week in-process, {BUSINESSES} businesses "
                    f"× {METRICS} metrics, {chunks} chunks, all tables, "
                    f"best of {REPEAT}",
                    rollup_s * 1000,
                    floor,
                    floor_s * 1000,
                    chunks=chunks,
                    **extra,
                ),
                row(
                    "rollup.rollup_all_full_vs_insert",
                    f"rollup_all for one week, every business recomputed, against "
                    f"writing the same GROUP BY with INSERT … SELECT, best of "
                    f"{REPEAT}",
                    rollup_s * 1000,
                    "INSERT … SELECT of the 13-week GROUP BY into a table "
                    "identical to the metric weeks (LIKE … INCLUDING ALL)",
                    insert_floor_s * 1000,
                    **extra,
                ),
                row(
                    "rollup.rollup_all_full_vs_bare_insert",
                    f"rollup_all for one week, every business recomputed, against "
                    f"the same INSERT … SELECT into a bare table, best of {REPEAT}",
                    rollup_s * 1000,
                    "INSERT … SELECT of the 13-week GROUP BY into a table of the "
                    "same columns without identity or indexes",
                    bare_floor_s * 1000,
                    **extra,
                ),
                row(
                    "rollup.rollup_all_changed",
                    f"rollup_all for one week after a number changed in 10 % of "
                    f"the businesses ({changed_n}), stale weeks only, best of "
                    f"{REPEAT}",
                    changed_s * 1000,
                    floor,
                    floor_s * 1000,
                    **extra,
                ),
                row(
                    "rollup.naive_orm",
                    f"naive per-metric ORM loop, MetricWeek only, timed on {SAMPLE} "
                    f"businesses and scaled ×{BUSINESSES // SAMPLE}",
                    naive_s * 1000,
                    floor,
                    floor_s * 1000,
                    sample=SAMPLE,
                    **extra,
                ),
            ],
        )


if __name__ == "__main__":
    main()
