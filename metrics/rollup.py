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

from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import connection
from django.db.models import Count, Q, Sum
from django.utils import timezone

from hourglass import locks
from hourglass.models import STAGE_ORDER
from metrics.models import (
    Direction,
    Entry,
    Metric,
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
from systemmaps.document import Index
from systemmaps.models import Edge, Node

# A week's figures depend on the 12 weeks before it (the 13-week average), so a
# changed entry makes its own week and the 12 after it stale.
WINDOW_WEEKS = 13
# Trend: the last four weeks' average moved by more than this share of the four
# weeks before (in percent).
TREND_PERCENT = 5
PLACES = Decimal("0.0001")
# The largest rate a DecimalField(max_digits=12, decimal_places=4) holds.
RATE_LIMIT = Decimal("100000000")


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
    for model in (StepConversion, OwnerWeek, StageWeek, MetricWeek):
        model.objects.filter(business_id__in=ids, week=week).delete()
    _insert_metric_weeks(ids, week)
    _insert_stage_weeks(ids, week)
    _insert_owner_weeks(ids, week)
    _insert_step_conversions(ids, week)
    _update_rollup_weeks(ids, week, started)


def _placeholders(values: Sequence[object]) -> str:
    return ", ".join(["%s"] * len(values))


def _insert_metric_weeks(ids: list[int], week: date) -> None:
    """One INSERT … SELECT: the metrics included that week, their value and the
    averages over the windows ending with it, grouped per metric."""
    mw = MetricWeek._meta.db_table
    metric = Metric._meta.db_table
    entry = Entry._meta.db_table
    on, off = Status.ON_TRACK.value, Status.OFF_TRACK.value
    missing, nogoal = Status.MISSING.value, Status.NO_GOAL.value
    up, down, flat = Trend.UP.value, Trend.DOWN.value, Trend.FLAT.value
    higher, lower = Direction.HIGHER.value, Direction.LOWER.value
    sql = f"""
        INSERT INTO {mw} (business_id, metric_id, week, stage, owner_id, value,
                          goal, status, avg_4, avg_13, avg_prev_4, trend)
        SELECT business_id, metric_id, %s, stage, owner_id, value, goal,
            CASE
                WHEN value IS NULL THEN '{missing}'
                WHEN goal IS NULL THEN '{nogoal}'
                WHEN (direction = '{higher}' AND value >= goal)
                  OR (direction = '{lower}' AND value <= goal) THEN '{on}'
                ELSE '{off}'
            END,
            avg_4, avg_13, avg_prev_4,
            CASE
                WHEN avg_4 IS NULL OR avg_prev_4 IS NULL THEN ''
                WHEN 100 * (avg_4 - avg_prev_4) > {TREND_PERCENT} * ABS(avg_prev_4)
                    THEN '{up}'
                WHEN 100 * (avg_prev_4 - avg_4) > {TREND_PERCENT} * ABS(avg_prev_4)
                    THEN '{down}'
                ELSE '{flat}'
            END
        FROM (
            SELECT business_id, metric_id, stage, owner_id, goal, direction, value,
                ROUND(avg_4, 4) AS avg_4,
                ROUND(avg_13, 4) AS avg_13,
                ROUND(avg_prev_4, 4) AS avg_prev_4
            FROM (
                SELECT m.business_id AS business_id, m.id AS metric_id,
                    m.stage AS stage, m.owner_id AS owner_id, m.goal AS goal,
                    m.direction AS direction,
                    MAX(CASE WHEN e.week = %s THEN e.value END) AS value,
                    AVG(CASE WHEN e.week >= %s THEN e.value END) AS avg_4,
                    AVG(e.value) AS avg_13,
                    AVG(CASE WHEN e.week >= %s AND e.week <= %s
                        THEN e.value END) AS avg_prev_4
                FROM {metric} m
                LEFT JOIN {entry} e
                    ON e.metric_id = m.id AND e.week >= %s AND e.week <= %s
                WHERE m.business_id IN ({_placeholders(ids)})
                  AND m.first_week <= %s
                  AND (m.archived_on IS NULL OR m.archived_on >= %s)
                GROUP BY m.business_id, m.id, m.stage, m.owner_id, m.goal,
                    m.direction
            ) grouped
        ) rounded
    """
    params = [
        week,
        week,
        week - WEEK * 3,
        week - WEEK * 7,
        week - WEEK * 4,
        week - WEEK * 12,
        week,
        *ids,
        week,
        week,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _rate(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    if numerator is None or not denominator:
        return None
    try:
        rate = (Decimal(numerator) / Decimal(denominator)).quantize(
            PLACES, rounding=ROUND_HALF_UP
        )
    except InvalidOperation:
        return None
    return rate if abs(rate) < RATE_LIMIT else None


def _insert_stage_weeks(ids: list[int], week: date) -> None:
    funnel = Q(metric__unit=Unit.COUNT, metric__in_funnel=True, value__isnull=False)
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
            conversion = _rate(total, above_total) if above else None
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
            if total is not None and total > 0:
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

    def count(status: str | None) -> tuple[str, list[object]]:
        condition = " AND mw.status = %s" if status else ""
        return (
            f"(SELECT COUNT(*) FROM {mw} mw WHERE mw.business_id = "
            f"{rw}.business_id AND mw.week = {rw}.week{condition})",
            [status] if status else [],
        )

    columns = {
        "metric_count": count(None),
        "on_track": count(Status.ON_TRACK.value),
        "off_track": count(Status.OFF_TRACK.value),
        "missing": count(Status.MISSING.value),
        "no_goal": count(Status.NO_GOAL.value),
    }
    assignments = ", ".join(f"{name} = {sql}" for name, (sql, _) in columns.items())
    params: list[object] = [p for _, (_, ps) in columns.items() for p in ps]
    sql = f"""
        UPDATE {rw} SET {assignments}, computed_at = %s,
            stale_since = CASE WHEN stale_since <= %s THEN NULL
                               ELSE stale_since END
        WHERE business_id IN ({_placeholders(ids)}) AND week = %s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, started, started, *ids, week])


# ---------------------------------------------------------------------------
# Step conversions: along the arrows of each map, measured step to measured step
# ---------------------------------------------------------------------------


def _insert_step_conversions(ids: list[int], week: date) -> None:
    # The week's count metrics on steps of maps that are not in the trash; the
    # flow metric of a step is the first by (position, id).
    measured = (
        MetricWeek.objects.filter(
            business_id__in=ids,
            week=week,
            metric__unit=Unit.COUNT,
            metric__step__isnull=False,
            metric__step__map__deleted_at__isnull=True,
        )
        .order_by("metric__position", "metric_id")
        .values_list(
            "business_id",
            "metric__step__map_id",
            "metric__step_id",
            "metric_id",
            "value",
        )
    )
    flows: dict[int, dict[int, tuple[int, Decimal | None]]] = defaultdict(dict)
    business_of: dict[int, int] = {}
    for business_id, map_id, step_id, metric_id, value in measured:
        business_of[map_id] = business_id
        flows[map_id].setdefault(step_id, (metric_id, value))
    if not flows:
        return
    nodes: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for map_id, node_id, kind in (
        Node.objects.filter(map_id__in=flows)
        .order_by("id")
        .values_list("map_id", "id", "kind")
    ):
        nodes[map_id].append((node_id, kind))
    edges: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for map_id, source, target in (
        Edge.objects.filter(map_id__in=flows)
        .order_by("id")
        .values_list("map_id", "source_id", "target_id")
    ):
        edges[map_id].append((source, target))

    rows = []
    for map_id, flow in flows.items():
        pairs = step_pairs(nodes[map_id], edges[map_id], set(flow))
        map_rows = []
        for position, (source, target) in enumerate(pairs):
            from_metric, from_value = flow[source]
            to_metric, to_value = flow[target]
            map_rows.append(
                StepConversion(
                    business_id=business_of[map_id],
                    map_id=map_id,
                    week=week,
                    from_step_id=source,
                    to_step_id=target,
                    from_metric_id=from_metric,
                    to_metric_id=to_metric,
                    from_value=from_value,
                    to_value=to_value,
                    rate=_rate(to_value, from_value),
                    position=position,
                )
            )
        rated = [row for row in map_rows if row.rate is not None]
        if rated:
            lowest = min(rated, key=lambda row: (row.rate, row.position))
            lowest.is_biggest_drop = lowest.rate < 1
        rows.extend(map_rows)
    StepConversion.objects.bulk_create(rows)


def step_pairs(
    nodes: Sequence[tuple[int, str]],
    edges: Iterable[tuple[int, int]],
    measured: set[int],
) -> list[tuple[int, int]]:
    """Pairs (from, to) of measured steps where `to` is the first measured node
    reached from `from` along the arrows (through unmeasured nodes), in the order
    of `from` along a breadth-first walk from the map's starts.

    `nodes` are (id, kind) in a stable order; the starts and the ways on are
    the document index's (`systemmaps.document.Index`)."""
    index = Index(
        [{"id": node_id, "kind": kind} for node_id, kind in nodes],
        [{"source": source, "target": target} for source, target in edges],
    )
    successors, starts = index.successors, index.starts

    # Rank every node by a breadth-first walk from the starts; nodes no start
    # reaches come after, in node order.
    rank: dict[int, int] = {}
    queue = deque(starts)
    for start in starts:
        rank.setdefault(start, len(rank))
    while queue:
        for other in successors.get(queue.popleft(), []):
            if other not in rank:
                rank[other] = len(rank)
                queue.append(other)
    for node_id, _ in nodes:
        rank.setdefault(node_id, len(rank))

    pairs: list[tuple[int, int]] = []
    for source in sorted(measured, key=lambda n: rank.get(n, len(rank))):
        reached: list[int] = []
        visited = {source}
        queue = deque(successors.get(source, []))
        while queue:
            node_id = queue.popleft()
            if node_id in visited:
                continue
            visited.add(node_id)
            if node_id in measured:
                reached.append(node_id)
            else:
                queue.extend(successors.get(node_id, []))
        reached.sort(key=lambda n: rank.get(n, len(rank)))
        pairs.extend((source, target) for target in reached)
    return pairs
