"""The weekly rollup: entries → MetricWeek, StageWeek, OwnerWeek, StepConversion
and RollupWeek rows, computed with set-based SQL for a chunk of businesses.

Entry writes call `mark_stale`; the Celery tasks in `metrics.tasks` call
`rollup_businesses_week`. The dashboard reads only the rows written here.

Per chunk and week everything happens in one transaction: the Business rows
are locked first, in id order (`hourglass.locks`: the lock every writer of a
business takes first, so a rollup and entry saves queue up instead of
deadlocking on PostgreSQL),
then that week's rows are synced (`metrics.upsert`): the new and changed
ones written, those no longer there deleted, the same ones left untouched, so
running it twice gives the same rows and writes nothing the second time.
RollupWeek rows are updated in place, so a week marked stale by an entry saved
while the rollup ran stays stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Min, Q, Sum
from django.utils import timezone

from hourglass import locks
from hourglass.models import STAGE_ORDER, Business
from metrics import conversions, upsert, weeks
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
    _upsert_metric_weeks(ids, week)
    _upsert_stage_weeks(ids, week)
    _upsert_owner_weeks(ids, week)
    conversions.upsert_step_conversions(ids, week)
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
    # Numbers have two places: summed as whole cents, exactly (SQLite too).
    cents = "CAST(ROUND(e.value * 100) AS BIGINT)"

    def whole(total: str) -> str:
        # A sum of cents stays a 64-bit integer (PostgreSQL makes it NUMERIC),
        # so the trend's products are integer arithmetic: 13 weeks of the
        # largest value are 1.3 × 10^15 cents, times 4 × 100 still far below
        # 2^63.
        return f"CAST({total} AS BIGINT)"

    def average(total: str, count: str) -> str:
        # The mean to four places, from the sum in cents (× 1.0: no integer
        # division on SQLite).
        return (
            f"CASE WHEN {count} > 0 THEN ROUND({total} * 1.0 / (100 * {count}), 4) END"
        )

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
    sql = f"""
        INSERT INTO {mw} (business_id, metric_id, week, {", ".join(columns)})
        SELECT new.business_id, new.metric_id, new.week,
            {", ".join(f"new.{c}" for c in columns)}
        FROM (
        SELECT business_id, metric_id, %s AS week, stage, owner_id, value, goal,
            CASE
                WHEN value IS NULL THEN '{missing}'
                WHEN goal IS NULL THEN '{nogoal}'
                WHEN (direction = '{higher}' AND value >= goal)
                  OR (direction = '{lower}' AND value <= goal) THEN '{on}'
                ELSE '{off}'
            END AS status,
            unit, direction, in_funnel, step_map_id, step_key,
            {average("sum_4", "n_4")} AS avg_4,
            {average("sum_13", "n_13")} AS avg_13,
            {average("sum_prev_4", "n_prev_4")} AS avg_prev_4,
            CASE
                WHEN n_4 = 0 OR n_prev_4 = 0 OR first_week > %s THEN ''
                WHEN {moved} > {limit} THEN '{up}'
                WHEN -({moved}) > {limit} THEN '{down}'
                ELSE '{flat}'
            END AS trend
        FROM (
            SELECT m.business_id AS business_id, m.id AS metric_id, {fields},
                m.first_week AS first_week, a.value AS value,
                a.sum_13 AS sum_13, COALESCE(a.n_13, 0) AS n_13,
                a.sum_4 AS sum_4, COALESCE(a.n_4, 0) AS n_4,
                a.sum_prev_4 AS sum_prev_4, COALESCE(a.n_prev_4, 0) AS n_prev_4
            FROM {metric} m
            LEFT JOIN {kept} d
                ON d.metric_id = m.id AND d.from_week <= %s AND d.until_week > %s
            LEFT JOIN (
                SELECT e.metric_id AS metric_id,
                    MAX(CASE WHEN e.week = %s THEN e.value END) AS value,
                    {whole("SUM(" + cents + ")")} AS sum_13,
                    COUNT(e.value) AS n_13,
                    {whole(f"SUM(CASE WHEN e.week >= %s THEN {cents} END)")} AS sum_4,
                    COUNT(CASE WHEN e.week >= %s THEN e.value END) AS n_4,
                    {whole(f"SUM(CASE WHEN {previous} THEN {cents} END)")}
                        AS sum_prev_4,
                    COUNT(CASE WHEN {previous} THEN e.value END) AS n_prev_4
                FROM {entry} e
                WHERE e.business_id IN ({_placeholders(ids)})
                  AND e.week >= %s AND e.week <= %s
                GROUP BY e.metric_id
            ) a ON a.metric_id = m.id
            WHERE m.business_id IN ({_placeholders(ids)})
              AND m.first_week <= %s
        ) grouped
        WHERE archived_on IS NULL OR archived_on >= %s
        ) new
        LEFT JOIN {mw} old ON old.metric_id = new.metric_id AND old.week = new.week
        WHERE old.id IS NULL OR {upsert.differs("old", "new", columns)}
        {upsert.conflict_clause(mw, ["metric_id", "week"], columns)}
    """
    last_4, prev_4_end, prev_4_start = week - WEEK * 3, week - WEEK * 4, week - WEEK * 7
    previous_weeks = [prev_4_start, prev_4_end]
    params = [
        week,  # the row's week
        prev_4_start,  # the trend needs the earlier window tracked
        week,  # the definition kept for the week
        week,
        week,  # the entries: this week's value
        last_4,
        last_4,
        *previous_weeks,
        *previous_weeks,
        *ids,
        week - WEEK * 12,
        week,
        *ids,  # the metrics
        week,
        week,  # not archived before the week
    ]
    with connection.cursor() as cursor:
        # The metrics no longer counted that week lose their row first (found
        # from the chunk's metrics: usually none, so nothing is scanned).
        cursor.execute(
            f"""
            SELECT m.id FROM {metric} m
            LEFT JOIN {kept} d
                ON d.metric_id = m.id AND d.from_week <= %s AND d.until_week > %s
            WHERE m.business_id IN ({_placeholders(ids)})
              AND (m.first_week > %s OR (
                CASE WHEN d.id IS NULL THEN m.archived_on ELSE d.archived_on END
              ) < %s)
            """,
            [week, week, *ids, week, week],
        )
        uncounted = [metric_id for (metric_id,) in cursor.fetchall()]
        if uncounted:
            MetricWeek.objects.filter(metric_id__in=uncounted, week=week).delete()
        cursor.execute(sql, params)


STAGE_COLUMNS = [
    "total",
    "metric_count",
    "on_track",
    "off_track",
    "missing",
    "from_stage",
    "conversion",
]


def _upsert_stage_weeks(ids: list[int], week: date) -> None:
    """Each business's seven stages that week: the funnel total of the metrics
    counted toward it, the status counts, and the conversion from the nearest
    stage above with a total."""
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
        .values_list(
            "business_id",
            "stage",
            "total",
            "metric_count",
            "on_track",
            "off_track",
            "missing",
        )
    )
    counted = {(row[0], row[1]): row[2:] for row in grouped}
    nothing = (None, 0, 0, 0, 0)
    rows = []
    for business_id in ids:
        above: str = ""
        above_total: Decimal | None = None
        for stage in STAGE_ORDER:
            total, metric_count, on_track, off_track, missing = counted.get(
                (business_id, stage), nothing
            )
            if total is not None:
                total = Decimal(total)
                conversion = conversions.share(total, above_total) if above else None
                from_stage = above
            else:
                conversion, from_stage = None, ""
            rows.append(
                (
                    business_id,
                    week,
                    stage,
                    total,
                    metric_count,
                    on_track,
                    off_track,
                    missing,
                    from_stage,
                    conversion,
                )
            )
            # The next stage is measured against this one, even at 0 (then it
            # has no share: nobody came through to be a share of).
            if total is not None:
                above, above_total = stage, total
    upsert.sync_rows(
        StageWeek.objects.filter(business_id__in=ids, week=week),
        ["business_id", "week", "stage"],
        STAGE_COLUMNS,
        rows,
    )


def _upsert_owner_weeks(ids: list[int], week: date) -> None:
    """Each owner's counts that week; owners with no metric that week lose
    their row."""
    ow = OwnerWeek._meta.db_table
    mw = MetricWeek._meta.db_table
    in_ids = f"business_id IN ({_placeholders(ids)}) AND week = %s"
    columns = ["metric_count", "on_track", "off_track", "missing", "no_goal"]
    statuses = [
        Status.ON_TRACK.value,
        Status.OFF_TRACK.value,
        Status.MISSING.value,
        Status.NO_GOAL.value,
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            DELETE FROM {ow} WHERE {in_ids} AND NOT EXISTS (
                SELECT 1 FROM {mw}
                WHERE {mw}.business_id = {ow}.business_id AND {mw}.week = {ow}.week
                  AND {mw}.owner_id = {ow}.owner_id
            )
            """,
            [*ids, week],
        )
        cursor.execute(
            f"""
            INSERT INTO {ow} (business_id, week, owner_id, {", ".join(columns)})
            SELECT business_id, week, owner_id, COUNT(*),
                SUM(CASE WHEN status = %s THEN 1 ELSE 0 END),
                SUM(CASE WHEN status = %s THEN 1 ELSE 0 END),
                SUM(CASE WHEN status = %s THEN 1 ELSE 0 END),
                SUM(CASE WHEN status = %s THEN 1 ELSE 0 END)
            FROM {mw}
            WHERE {in_ids} AND owner_id IS NOT NULL
            GROUP BY business_id, week, owner_id
            {upsert.conflict_clause(ow, ["business_id", "week", "owner_id"], columns)}
            """,
            [*statuses, *ids, week],
        )


def _update_rollup_weeks(ids: list[int], week: date, started: datetime) -> None:
    RollupWeek.objects.bulk_create(
        [RollupWeek(business_id=business_id, week=week) for business_id in ids],
        ignore_conflicts=True,
    )
    rw = RollupWeek._meta.db_table
    mw = MetricWeek._meta.db_table
    in_ids = f"business_id IN ({_placeholders(ids)}) AND week = %s"
    # The week's counts from one grouped pass over its MetricWeek rows (zeros
    # for a business with none), written with the time in one UPDATE: each row
    # is written once.
    statuses = {
        "on_track": Status.ON_TRACK.value,
        "off_track": Status.OFF_TRACK.value,
        "missing": Status.MISSING.value,
        "no_goal": Status.NO_GOAL.value,
    }
    names = ["metric_count", *statuses]
    sums = ", ".join(
        f"SUM(CASE WHEN status = %s THEN 1 ELSE 0 END) AS {name}" for name in statuses
    )
    counts = ", ".join(f"COALESCE(g.{name}, 0) AS {name}" for name in names)
    sets = ", ".join(f"{name} = c.{name}" for name in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {rw} SET {sets}, computed_at = %s,
                stale_since = CASE WHEN stale_since <= %s THEN NULL
                                   ELSE stale_since END
            FROM (
                SELECT r.id AS id, {counts}
                FROM {rw} r LEFT JOIN (
                    SELECT business_id, COUNT(*) AS metric_count, {sums}
                    FROM {mw} WHERE {in_ids}
                    GROUP BY business_id
                ) g ON g.business_id = r.business_id
                WHERE r.business_id IN ({_placeholders(ids)}) AND r.week = %s
            ) c
            WHERE {rw}.id = c.id
            """,
            [started, started, *statuses.values(), *ids, week, *ids, week],
        )
