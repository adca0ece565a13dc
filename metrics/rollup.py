"""The weekly rollup: entries → MetricWeek, StageWeek, OwnerWeek, StepConversion
and RollupWeek rows, computed with set-based SQL for a chunk of businesses.

Entry writes call `mark_stale`; the Celery tasks in `metrics.tasks` call
`rollup_businesses_week`. The dashboard reads only the rows written here.

Per chunk and week everything happens in one transaction: the Business rows
are locked first, in id order (`hourglass.locks`: the lock every writer of a
business takes first, so a rollup and entry saves queue up instead of
deadlocking on PostgreSQL),
that week's rows are deleted and inserted afresh, so running it twice gives
the same rows. RollupWeek rows are updated in place instead, so a week marked
stale by an entry saved while the rollup ran stays stale.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from hourglass import locks
from hourglass.models import STAGE_ORDER, Business
from metrics import conversions, weeks
from metrics.models import (
    DEFINITION_FIELDS,
    Direction,
    Entry,
    Metric,
    MetricDefinition,
    MetricWeek,
    OwnerWeek,
    RollupWeek,
    StageWeek,
    Status,
    StepConversion,
    Trend,
    Unit,
)
from metrics.weeks import WEEK

# A week's figures depend on the 12 weeks before it (the 13-week average), so a
# changed entry makes its own week and the 12 after it stale.
WINDOW_WEEKS = 13
# Trend: the last four weeks' average moved by more than this share of the four
# weeks before (in percent).
TREND_PERCENT = 5


# ---------------------------------------------------------------------------
# Staleness
# ---------------------------------------------------------------------------


def mark_stale(*, business_id: int, week: date, at: datetime | None = None) -> None:
    """Record that `week` (and the business's later rolled-up weeks whose averages
    include it) must be rolled up again. Called inside the entry's transaction."""
    at = at or timezone.now()
    # The caller's transaction holds it already when it follows the rule.
    locks.lock_business(business_id)
    RollupWeek.objects.bulk_create(
        [RollupWeek(business_id=business_id, week=week)], ignore_conflicts=True
    )
    # Keep the latest mark: a rollup that started before it must leave it stale.
    RollupWeek.objects.filter(
        business_id=business_id,
        week__gte=week,
        week__lte=week + WEEK * (WINDOW_WEEKS - 1),
    ).filter(Q(stale_since__isnull=True) | Q(stale_since__lt=at)).update(stale_since=at)


def ensure_weeks(
    business_ids: list[int], *, since: date | None = None, until: date | None = None
) -> int:
    """Every week a business expects numbers for — from its metrics' earliest
    first week (or `since`, when later) up to `until` (each business's open
    week when None) — has its RollupWeek row; the missing ones are added stale,
    so a week in which nobody saved a number is rolled up too and shows what is
    missing. Returns how many were added (four queries)."""
    first_weeks = dict(
        Metric.objects.filter(business_id__in=business_ids)
        .values("business_id")
        .annotate(first=Min("first_week"))
        .values_list("business_id", "first")
    )
    zones = dict(
        Business.objects.filter(id__in=first_weeks).values_list("id", "timezone")
    )
    rows = RollupWeek.objects.filter(business_id__in=first_weeks)
    if since is not None:
        rows = rows.filter(week__gte=since)
    have = set(rows.values_list("business_id", "week"))
    now = timezone.now()
    open_weeks: dict[str, date] = {}
    missing = []
    for business_id, first in first_weeks.items():
        zone = zones[business_id]
        last = until or open_weeks.setdefault(zone, weeks.current_week(zone))
        week = max(first, since) if since is not None else first
        while week <= last:
            if (business_id, week) not in have:
                missing.append(RollupWeek(business_id=business_id, week=week))
            week += WEEK
    for row in missing:
        row.stale_since = now
    RollupWeek.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


def stale_business_weeks(limit: int | None = None) -> list[tuple[int, date]]:
    """(business id, week) pairs waiting for a rollup, oldest week first."""
    rows = (
        RollupWeek.objects.filter(stale_since__isnull=False)
        .order_by("week", "business_id")
        .values_list("business_id", "week")
    )
    if limit is not None:
        rows = rows[:limit]
    return list(rows)


def stale_weeks_after(business_id: int, week: date, *, until: date) -> list[date]:
    """The business's stale weeks after `week` whose averages include it (within
    the window), up to `until`, oldest first."""
    last = min(until, week + WEEK * (WINDOW_WEEKS - 1))
    return list(
        RollupWeek.objects.filter(
            business_id=business_id,
            week__gt=week,
            week__lte=last,
            stale_since__isnull=False,
        )
        .order_by("week")
        .values_list("week", flat=True)
    )


def is_fresh(business_id: int, week: date) -> bool:
    """True when the week has been rolled up and nothing changed since."""
    return RollupWeek.objects.filter(
        business_id=business_id,
        week=week,
        computed_at__isnull=False,
        stale_since__isnull=True,
    ).exists()


# ---------------------------------------------------------------------------
# The rollup
# ---------------------------------------------------------------------------


def rollup_business_week(business_id: int, week: date) -> None:
    rollup_businesses_week([business_id], week)


@locks.retrying
def rollup_businesses_week(business_ids: list[int], week: date) -> None:
    """Recompute every rollup table for these businesses and this week."""
    started = timezone.now()
    ids = locks.lock_businesses(business_ids)
    if not ids:
        return
    for model in (StepConversion, OwnerWeek, StageWeek):
        model.objects.filter(business_id__in=ids, week=week).delete()
    _upsert_metric_weeks(ids, week)
    _insert_stage_weeks(ids, week)
    _insert_owner_weeks(ids, week)
    conversions.insert_step_conversions(ids, week)
    _update_rollup_weeks(ids, week, started)


def _placeholders(values: Sequence[object]) -> str:
    return ", ".join(["%s"] * len(values))


def _upsert_metric_weeks(ids: list[int], week: date) -> None:
    """One INSERT … SELECT … ON CONFLICT: the metrics included that week with
    the definition the week is judged by, their value, and the averages over
    the windows ending with it, grouped per metric; a row is written only when
    a figure of it changed, and the rows of metrics no longer counted go.

    The definition is the one kept for the week (`MetricDefinition`, when the
    week closed before the metric last changed), else the metric as it is. The
    trend compares the two four-week windows by their sums and counts in cents,
    exactly: an average moved by exactly TREND_PERCENT is steady both ways; it
    needs both windows tracked (the metric expected since the earlier one
    began)."""
    mw = MetricWeek._meta.db_table
    metric = Metric._meta.db_table
    entry = Entry._meta.db_table
    kept = MetricDefinition._meta.db_table
    on, off = Status.ON_TRACK.value, Status.OFF_TRACK.value
    missing, nogoal = Status.MISSING.value, Status.NO_GOAL.value
    up, down, flat = Trend.UP.value, Trend.DOWN.value, Trend.FLAT.value
    higher, lower = Direction.HIGHER.value, Direction.LOWER.value
    fields = ", ".join(
        f"CASE WHEN d.id IS NULL THEN m.{f} ELSE d.{f} END AS {f}"
        for f in DEFINITION_FIELDS
    )
    cents = "CAST(ROUND(e.value * 100) AS BIGINT)"
    # 100 × (avg_4 − avg_prev_4) against TREND_PERCENT × avg_prev_4, both sides
    # multiplied by the two counts.
    moved = "100 * (sum_4 * n_prev_4 - sum_prev_4 * n_4)"
    limit = f"{TREND_PERCENT} * ABS(sum_prev_4) * n_4"
    previous = "e.week >= %s AND e.week <= %s"
    # Only the rows whose figures changed are written; the others stay as they
    # are (a recompute of an unchanged week writes nothing).
    columns = [
        "stage",
        "owner_id",
        "value",
        "goal",
        "status",
        "unit",
        "direction",
        "in_funnel",
        "step_map_id",
        "step_key",
        "avg_4",
        "avg_13",
        "avg_prev_4",
        "trend",
    ]
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns)
    differs = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    changed = " OR ".join(f"{mw}.{c} {differs} excluded.{c}" for c in columns)
    sql = f"""
        INSERT INTO {mw} (business_id, metric_id, week, stage, owner_id, value,
                          goal, status, unit, direction, in_funnel, step_map_id,
                          step_key, avg_4, avg_13, avg_prev_4, trend)
        SELECT business_id, metric_id, %s, stage, owner_id, value, goal,
            CASE
                WHEN value IS NULL THEN '{missing}'
                WHEN goal IS NULL THEN '{nogoal}'
                WHEN (direction = '{higher}' AND value >= goal)
                  OR (direction = '{lower}' AND value <= goal) THEN '{on}'
                ELSE '{off}'
            END,
            unit, direction, in_funnel, step_map_id, step_key,
            ROUND(avg_4, 4), ROUND(avg_13, 4), ROUND(avg_prev_4, 4),
            CASE
                WHEN n_4 = 0 OR n_prev_4 = 0 OR first_week > %s THEN ''
                WHEN {moved} > {limit} THEN '{up}'
                WHEN -({moved}) > {limit} THEN '{down}'
                ELSE '{flat}'
            END
        FROM (
            SELECT m.business_id AS business_id, m.id AS metric_id, {fields},
                m.first_week AS first_week,
                MAX(CASE WHEN e.week = %s THEN e.value END) AS value,
                AVG(CASE WHEN e.week >= %s THEN e.value END) AS avg_4,
                AVG(e.value) AS avg_13,
                AVG(CASE WHEN {previous} THEN e.value END) AS avg_prev_4,
                SUM(CASE WHEN e.week >= %s THEN {cents} END) AS sum_4,
                COUNT(CASE WHEN e.week >= %s THEN e.value END) AS n_4,
                SUM(CASE WHEN {previous} THEN {cents} END) AS sum_prev_4,
                COUNT(CASE WHEN {previous} THEN e.value END) AS n_prev_4
            FROM {metric} m
            LEFT JOIN {kept} d
                ON d.metric_id = m.id AND d.from_week <= %s AND d.until_week > %s
            LEFT JOIN {entry} e
                ON e.metric_id = m.id AND e.week >= %s AND e.week <= %s
            WHERE m.business_id IN ({_placeholders(ids)})
              AND m.first_week <= %s
            GROUP BY m.business_id, m.id, d.id
        ) grouped
        WHERE archived_on IS NULL OR archived_on >= %s
        ON CONFLICT (metric_id, week) DO UPDATE SET {updates}
        WHERE {changed}
    """
    last_4, prev_4_end, prev_4_start = week - WEEK * 3, week - WEEK * 4, week - WEEK * 7
    previous_weeks = [prev_4_start, prev_4_end]
    params = [
        week,
        prev_4_start,
        week,
        last_4,
        *previous_weeks,
        last_4,
        last_4,
        *previous_weeks,
        *previous_weeks,
        week,
        week,
        week - WEEK * 12,
        week,
        *ids,
        week,
        week,
    ]
    with connection.cursor() as cursor:
        # The metrics no longer counted that week lose their row first.
        cursor.execute(
            f"""
            DELETE FROM {mw}
            WHERE business_id IN ({_placeholders(ids)}) AND week = %s
              AND metric_id IN (
                SELECT m.id FROM {metric} m
                LEFT JOIN {kept} d
                    ON d.metric_id = m.id AND d.from_week <= %s AND d.until_week > %s
                WHERE m.business_id IN ({_placeholders(ids)})
                  AND (m.first_week > %s OR (
                    CASE WHEN d.id IS NULL THEN m.archived_on ELSE d.archived_on END
                  ) < %s)
              )
            """,
            [*ids, week, week, week, *ids, week, week],
        )
        cursor.execute(sql, params)


def _insert_stage_weeks(ids: list[int], week: date) -> None:
    funnel = Q(unit=Unit.COUNT, in_funnel=True, value__isnull=False)
    grouped = (
        MetricWeek.objects.filter(business_id__in=ids, week=week)
        .values("business_id", "stage")
        .annotate(
            total=Sum("value", filter=funnel),
            metric_count=Count("id"),
            on_track=Count("id", filter=Q(status=Status.ON_TRACK)),
            off_track=Count("id", filter=Q(status=Status.OFF_TRACK)),
            missing=Count("id", filter=Q(status=Status.MISSING)),
        )
        .order_by()
    )
    by_business: dict[int, dict[str, dict]] = defaultdict(dict)
    for row in grouped:
        by_business[row["business_id"]][row["stage"]] = row
    rows = []
    for business_id in ids:
        stages = by_business.get(business_id, {})
        above: str = ""
        above_total: Decimal | None = None
        for stage in STAGE_ORDER:
            row = stages.get(stage, {})
            total = row.get("total")
            total = Decimal(total) if total is not None else None
            conversion = conversions.share(total, above_total) if above else None
            rows.append(
                StageWeek(
                    business_id=business_id,
                    week=week,
                    stage=stage,
                    total=total,
                    metric_count=row.get("metric_count", 0),
                    on_track=row.get("on_track", 0),
                    off_track=row.get("off_track", 0),
                    missing=row.get("missing", 0),
                    from_stage=above if total is not None else "",
                    conversion=conversion if total is not None else None,
                )
            )
            # The next stage is measured against this one, even at 0 (then it
            # has no share: nobody came through to be a share of).
            if total is not None:
                above, above_total = stage, total
    StageWeek.objects.bulk_create(rows)


def _insert_owner_weeks(ids: list[int], week: date) -> None:
    ow = OwnerWeek._meta.db_table
    mw = MetricWeek._meta.db_table
    sql = f"""
        INSERT INTO {ow} (business_id, week, owner_id, metric_count, on_track,
                          off_track, missing, no_goal)
        SELECT business_id, week, owner_id, COUNT(*),
            SUM(CASE WHEN status = %s THEN 1 ELSE 0 END),
            SUM(CASE WHEN status = %s THEN 1 ELSE 0 END),
            SUM(CASE WHEN status = %s THEN 1 ELSE 0 END),
            SUM(CASE WHEN status = %s THEN 1 ELSE 0 END)
        FROM {mw}
        WHERE business_id IN ({_placeholders(ids)}) AND week = %s
          AND owner_id IS NOT NULL
        GROUP BY business_id, week, owner_id
    """
    params = [
        Status.ON_TRACK.value,
        Status.OFF_TRACK.value,
        Status.MISSING.value,
        Status.NO_GOAL.value,
        *ids,
        week,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _update_rollup_weeks(ids: list[int], week: date, started: datetime) -> None:
    RollupWeek.objects.bulk_create(
        [RollupWeek(business_id=business_id, week=week) for business_id in ids],
        ignore_conflicts=True,
    )
    rw = RollupWeek._meta.db_table
    mw = MetricWeek._meta.db_table
    in_ids = f"business_id IN ({_placeholders(ids)}) AND week = %s"
    # The week's counts from one grouped pass over its MetricWeek rows; a
    # business with none keeps the zeros set first.
    statuses = {
        "on_track": Status.ON_TRACK.value,
        "off_track": Status.OFF_TRACK.value,
        "missing": Status.MISSING.value,
        "no_goal": Status.NO_GOAL.value,
    }
    sums = ", ".join(
        f"SUM(CASE WHEN status = %s THEN 1 ELSE 0 END) AS {name}" for name in statuses
    )
    sets = ", ".join(f"{name} = g.{name}" for name in statuses)
    zeros = ", ".join(f"{name} = 0" for name in statuses)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {rw} SET metric_count = 0, {zeros}, computed_at = %s,
                stale_since = CASE WHEN stale_since <= %s THEN NULL
                                   ELSE stale_since END
            WHERE {in_ids}
            """,
            [started, started, *ids, week],
        )
        cursor.execute(
            f"""
            UPDATE {rw} SET metric_count = g.metric_count, {sets}
            FROM (
                SELECT business_id, week, COUNT(*) AS metric_count, {sums}
                FROM {mw} WHERE {in_ids}
                GROUP BY business_id, week
            ) g
            WHERE {rw}.business_id = g.business_id AND {rw}.week = g.week
            """,
            [*statuses.values(), *ids, week],
        )
