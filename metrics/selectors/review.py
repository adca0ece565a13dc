"""The weekly review dashboard, read from the rollup tables only: the scorecard,
the funnel, the step conversions, who owns nothing, and how fresh it all is."""

import hashlib
from collections import defaultdict, namedtuple
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Q, QuerySet

from hourglass.models import STAGE_ORDER, Business, Membership, Stage, User
from systemmaps.models import SystemMap

from .. import weeks
from ..models import (
    Direction,
    Metric,
    MetricWeek,
    OwnerWeek,
    RollupWeek,
    StageWeek,
    Status,
    StepConversion,
    Trend,
)
from . import compiled

# ---------------------------------------------------------------------------
# Review
# ---------------------------------------------------------------------------

# The scorecard shows this many weeks, ending with the week reviewed.
SCORECARD_WEEKS = 13


class Freshness:
    FRESH = "fresh"
    STALE = "stale"
    NONE = "none"


def freshness(rollup: RollupWeek | None) -> str:
    """Whether the week's rollup rows are current, out of date, or not there."""
    if rollup is None or rollup.computed_at is None:
        return Freshness.NONE
    if rollup.stale_since is not None:
        return Freshness.STALE
    return Freshness.FRESH


def rollup_week(business: Business, week: date) -> RollupWeek | None:
    return RollupWeek.objects.filter(business=business, week=week).first()


def trend_word(trend: str, direction: str) -> str:
    """better / worse / steady: the trend read with the metric's direction."""
    if trend == Trend.FLAT:
        return "steady"
    if trend not in (Trend.UP, Trend.DOWN):
        return ""
    rising_is_good = direction != Direction.LOWER
    return "better" if (trend == Trend.UP) == rising_is_good else "worse"


class ReviewMetric(NamedTuple):
    """A metric as the review shows it today: its name, and for a metric not
    rolled up yet in the week, what its row shows instead of figures.

    (A named tuple: a frozen dataclass takes four times as long to build, and
    a drawn review builds one per metric.)"""

    pk: int
    name: str
    stage: str
    unit: str
    goal: Decimal | None
    owner_id: int | None
    first_week: date
    archived_on: date | None

    @property
    def is_archived(self) -> bool:
        return self.archived_on is not None


# The fields of a MetricWeek row the scorecard shows, read as named tuples
# (13 weeks × every metric is too many rows to build models of): each week's
# cell, and the latest week's whole row. (The scorecard draws each distinct cell
# once, knowing it by the fields after its metric and week.)
CELL_FIELDS = ("metric_id", "week", "value", "status", "unit")
ROW_FIELDS = (
    *CELL_FIELDS,
    "goal",
    "owner_id",
    "stage",
    "avg_4",
    "trend",
    "direction",
)
Cell = namedtuple("Cell", CELL_FIELDS)
Row = namedtuple("Row", ROW_FIELDS)


# The queries of a drawn review (compiled once: `compiled.run`).
def _cells(business: int, start: date, end: date) -> QuerySet:
    return (
        MetricWeek.objects.filter(business=business, week__gte=start, week__lte=end)
        .order_by()
        .values_list(*CELL_FIELDS)
    )


def _latest(business: int, start: date, end: date, *stopped: int) -> QuerySet:
    """Each metric's latest row: the week reviewed (`end`), and the last week of
    the metrics `stopped` before it."""
    return (
        MetricWeek.objects.filter(business=business, week__gte=start, week__lte=end)
        .filter(Q(week=end) | Q(metric_id__in=stopped))
        .order_by()
        .values_list(*ROW_FIELDS)
    )


def _of_week(model):
    def rows(business: int, week: date) -> QuerySet:
        return model.objects.filter(business=business, week=week)

    return rows


_stage_weeks, _owner_weeks, _step_conversions = map(
    _of_week, (StageWeek, OwnerWeek, StepConversion)
)


def _rollups(business: int, start: date, end: date) -> QuerySet:
    return RollupWeek.objects.filter(business=business, week__gte=start, week__lte=end)


@dataclass
class ScoreRow:
    """One metric's line of the scorecard: the week reviewed and the weeks before,
    from the metric's first tracked week on."""

    metric: ReviewMetric
    # Its latest rolled-up week in the window (a row of ROW_FIELDS): the week
    # reviewed when it is counted in it. None for a metric not tracked yet.
    row: Any
    # One per column of the scorecard: the rolled-up week (CELL_FIELDS), or None.
    cells: list[Any]
    owner: Membership | None
    # False for a metric not counted in the week reviewed (archived since, or
    # not tracked yet) whose earlier weeks are on the scorecard: `row` is its
    # latest week.
    expected: bool = True

    @property
    def values(self) -> list[Decimal | None]:
        return [c.value if c is not None else None for c in self.cells]

    @property
    def trend(self) -> str:
        return trend_word(self.row.trend, self.row.direction) if self.expected else ""

    @property
    def not_tracked_yet(self) -> bool:
        """Its tracking starts after the week reviewed: nothing to show yet."""
        return self.row is None


@dataclass
class StageRows:
    stage: str
    rows: list[ScoreRow] = field(default_factory=list)

    @property
    def label(self) -> str:
        return Stage(self.stage).label


@dataclass
class FunnelStage:
    stage: str
    row: StageWeek | None
    # The bar's width out of 100: this stage's total against the largest one.
    width: int = 0

    @property
    def label(self) -> str:
        return Stage(self.stage).label

    @property
    def total(self) -> Decimal | None:
        return self.row.total if self.row else None

    @property
    def from_label(self) -> str:
        if self.row is None or not self.row.from_stage:
            return ""
        return Stage(self.row.from_stage).label

    @property
    def above_was_zero(self) -> bool:
        """The stage it is measured against had a total of 0: no share."""
        return bool(self.from_label) and self.row.conversion is None

    @property
    def skipped(self) -> list[str]:
        """The stages between this one and the one it is measured against,
        which had no numbers that week (their labels)."""
        if self.row is None or not self.row.from_stage:
            return []
        start = STAGE_ORDER.index(self.row.from_stage) + 1
        end = STAGE_ORDER.index(self.stage)
        return [Stage(s).label for s in STAGE_ORDER[start:end]]

    @property
    def offset(self) -> int:
        """Where the centred bar starts, so the stages draw an hourglass."""
        return (100 - self.width) // 2


@dataclass
class MapConversions:
    map: SystemMap
    pairs: list[StepConversion] = field(default_factory=list)

    @property
    def biggest_drop(self) -> StepConversion | None:
        return next((p for p in self.pairs if p.is_biggest_drop), None)


@dataclass
class Unowned:
    metric_count: int = 0
    on_track: int = 0
    off_track: int = 0
    missing: int = 0


@dataclass
class Review:
    business: Business
    week: date
    # The scorecard's columns: the weeks of the window from the earliest week any
    # metric shown was tracked (a new business sees its own weeks, not empty
    # ones), ending with the week reviewed.
    weeks: list[date]
    rollup: RollupWeek | None
    stages: list[StageRows]
    funnel: list[FunnelStage]
    maps: list[MapConversions]
    owners: list[OwnerWeek]
    unowned: Unowned
    # The metrics counted in the week reviewed.
    rows: list[ScoreRow]
    # When no metric is tracked yet in the week reviewed: the first week one is.
    tracking_starts: date | None = None

    @property
    def freshness(self) -> str:
        return freshness(self.rollup)

    @property
    def missing(self) -> list[ScoreRow]:
        return [r for r in self.rows if r.row.status == Status.MISSING]

    @property
    def off_track(self) -> list[ScoreRow]:
        return [r for r in self.rows if r.row.status == Status.OFF_TRACK]

    @property
    def has_funnel(self) -> bool:
        return any(s.total is not None for s in self.funnel)


def _date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


@dataclass
class ReviewInputs:
    """What the review of a week is drawn from, besides its rollup rows, in two
    small queries: the rollup stamps of the weeks on the scorecard, and the
    names the review shows that are today's, not the rollup's (metrics,
    members, maps).

    `digest` changes whenever anything the review shows may have changed: a
    rollup of any week on the scorecard finishing (its `computed_at`), the week
    turning stale, a metric, member or map renamed, reordered, archived, added
    or removed, the business's address, currency or zone. The rendered review is
    cached under it, so no rendering is served after such a change; and it is
    drawn from these same names."""

    business: Business
    week: date
    window: list[date]
    rollups: dict[date, RollupWeek]
    # (kind, id, fields…) as text: every metric (name, stage, unit, goal, owner,
    # first week, archived, place in the scorecard's order), member (name,
    # email) and map (name).
    names: list[tuple]

    @property
    def rollup(self) -> RollupWeek | None:
        return self.rollups.get(self.week)

    @property
    def has_metrics(self) -> bool:
        return any(kind == "m" for kind, *_ in self.names)

    def _ranked(self, kind: str) -> list[tuple]:
        """The rows of `kind` in the database's order (the last field's rank)."""
        return sorted((r for r in self.names if r[0] == kind), key=lambda r: int(r[9]))

    @property
    def metrics(self) -> list[ReviewMetric]:
        """Every metric of the business, in scorecard order."""
        rows = self._ranked("m")
        return [
            ReviewMetric(
                pk=int(pk),
                name=name,
                stage=stage,
                unit=unit,
                goal=None if goal is None else Decimal(goal),
                owner_id=None if owner is None else int(owner),
                first_week=_date(first),
                archived_on=None if archived is None else _date(archived),
            )
            for _, pk, name, stage, unit, goal, owner, first, archived, _ in rows
        ]

    @property
    def owners(self) -> dict[int, Membership]:
        """The business's members by id, ordered by name, each with the user's
        name and email (unsaved instances: what the review shows of them)."""
        return {
            int(pk): Membership(id=int(pk), user=User(name=name, email=email))
            for _, pk, name, email, *_ in self._ranked("o")
        }

    @property
    def maps(self) -> dict[int, SystemMap]:
        """The business's maps by id, ordered by name (unsaved, with their name)."""
        return {
            int(pk): SystemMap(id=int(pk), name=name)
            for _, pk, name, *_ in self._ranked("p")
        }

    def digest(self, *extra: object) -> str:
        b = self.business
        stamps = [
            (w, r.computed_at, r.stale_since if w == self.week else None)
            for w, r in sorted(self.rollups.items())
        ]
        parts = ((b.pk, b.slug, b.currency, b.timezone, self.week), stamps, extra)
        digest = hashlib.sha256(repr(parts).encode("utf-8"))
        digest.update(repr(self.names).encode("utf-8"))
        return digest.hexdigest()


def _names(business: Business) -> list[tuple]:
    """ReviewInputs.names in one statement: the cached review reads only this
    and the rollup stamps, so it is plain SQL (an ORM query per kind costs more
    than the whole cache lookup). Dates come as dates from PostgreSQL and as the
    ISO text they are stored as from SQLite."""
    metric, member = Metric._meta.db_table, Membership._meta.db_table
    user, system_map = User._meta.db_table, SystemMap._meta.db_table

    def nulls(count: int) -> str:
        return ", ".join(["NULL"] * count)

    sql = f"""
        SELECT 'm', CAST(id AS TEXT), name, stage, unit, CAST(goal AS TEXT),
               CAST(owner_id AS TEXT), first_week, archived_on,
               CAST(ROW_NUMBER() OVER (ORDER BY position, name, id) AS TEXT)
          FROM {metric} WHERE business_id = %s
        UNION ALL
        SELECT 'o', CAST(mb.id AS TEXT), u.name, u.email, {nulls(5)},
               CAST(ROW_NUMBER() OVER (ORDER BY u.name, mb.id) AS TEXT)
          FROM {member} mb JOIN {user} u ON u.id = mb.user_id
         WHERE mb.business_id = %s
        UNION ALL
        SELECT 'p', CAST(id AS TEXT), name, {nulls(6)},
               CAST(ROW_NUMBER() OVER (ORDER BY name, id) AS TEXT)
          FROM {system_map} WHERE business_id = %s
        ORDER BY 1, 2
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [business.pk] * 3)
        return cursor.fetchall()


def review_inputs(business: Business, week: date) -> ReviewInputs:
    window = weeks.weeks_back(week, SCORECARD_WEEKS)
    rollups = {r.week: r for r in compiled.run(_rollups, business.pk, window[0], week)}
    return ReviewInputs(business, week, window, rollups, _names(business))


def _funnel(rows: list[StageWeek]) -> list[FunnelStage]:
    by_stage = {r.stage: r for r in rows}
    stages = [FunnelStage(stage, by_stage.get(stage)) for stage in STAGE_ORDER]
    largest = max((s.total for s in stages if s.total), default=None)
    for s in stages:
        if largest and s.total:
            s.width = max(2, int(round(s.total / largest * 100)))
    return stages


def _score_rows(
    inputs: ReviewInputs,
    metrics: list[ReviewMetric],
    owners: dict[int, Membership],
) -> tuple[list[date], list[ScoreRow], date | None]:
    """The scorecard's columns and rows, in scorecard order, and the week
    tracking starts when no metric is tracked yet in the week reviewed."""
    business, week, window = inputs.business, inputs.week, inputs.window
    cells: dict[int, dict[date, Any]] = defaultdict(dict)
    new = tuple.__new__
    for row in compiled.run(_cells, business.pk, window[0], week):
        cell = new(Cell, row)
        cells[cell.metric_id][cell.week] = cell
    # Each metric's latest week with all its fields: the week reviewed, or for
    # the few that stopped counting before it (archived), their last one.
    stopped = [pk for pk, by_week in cells.items() if week not in by_week]
    latest = {}
    for row in compiled.run(_latest, business.pk, window[0], week, *stopped):
        row = new(Row, row)
        # (The week reviewed is the last of the window: no need to look.)
        if row.week == week or row.week == max(cells.get(row.metric_id, (row.week,))):
            latest[row.metric_id] = row
    shown = [m for m in metrics if m.pk in cells]
    # Active metrics whose first week comes after the week reviewed.
    upcoming = {
        m.pk: m
        for m in metrics
        if m.pk not in cells and m.first_week > week and not m.is_archived
    }
    if not shown:
        active = [m for m in metrics if not m.is_archived]
        if active and len(upcoming) == len(active):
            return [week], [], min(m.first_week for m in active)
        return [week], [], None
    # The columns start at the earliest week a metric shown was tracked.
    first = min(min(m.first_week, min(cells[m.pk])) for m in shown)
    columns = [w for w in window if w >= first]
    rows = []
    for metric in metrics:
        by_week = cells.get(metric.pk)
        # (No latest row: a rollup changed the week between the two reads; the
        # next request, under the new rollup's key, shows the metric.)
        row = latest.get(metric.pk)
        if by_week and row is not None:
            rows.append(
                ScoreRow(
                    metric,
                    row,
                    list(map(by_week.get, columns)),
                    owners.get(row.owner_id),
                    expected=row.week == week,
                )
            )
        elif metric.pk in upcoming:
            owner = owners.get(metric.owner_id)
            rows.append(ScoreRow(metric, None, [None] * len(columns), owner, False))
    return columns, rows, None


def review(
    business: Business, week: date, inputs: ReviewInputs | None = None
) -> Review:
    """Everything the review dashboard shows for `week`, read from the rollup
    tables (and `inputs`: today's names of metrics and members), in the same
    seven queries whatever the number of metrics."""
    inputs = inputs or review_inputs(business, week)
    metrics, owners = inputs.metrics, inputs.owners
    columns, score_rows, tracking_starts = _score_rows(inputs, metrics, owners)
    by_stage = {stage: StageRows(stage) for stage in STAGE_ORDER}
    rows = []
    unowned = Unowned()
    for score in score_rows:
        stage = score.row.stage if score.row is not None else score.metric.stage
        by_stage[stage].rows.append(score)
        if score.expected and score.row.owner_id is None:
            status = score.row.status
            unowned.metric_count += 1
            unowned.on_track += status == Status.ON_TRACK
            unowned.off_track += status == Status.OFF_TRACK
            unowned.missing += status == Status.MISSING
    for group in by_stage.values():
        rows.extend(r for r in group.rows if r.expected)

    # Maps, metrics and owners as `inputs` names them (the names the cache key
    # holds), in the database's order: no joins.
    maps = inputs.maps
    map_rank = {pk: i for i, pk in enumerate(maps)}
    metric_names = {m.pk: (m.name, m.unit) for m in metrics}
    conversions: dict[int, MapConversions] = {}
    pairs = compiled.run(_step_conversions, business.pk, week)
    for pair in sorted(
        pairs, key=lambda p: (map_rank.get(p.map_id, len(maps)), p.position, p.id)
    ):
        # (One missing here was added after `inputs` was read: its own query.)
        if pair.map_id in maps:
            pair.map = maps[pair.map_id]
        for side in ("from_metric", "to_metric"):
            pk = getattr(pair, f"{side}_id")
            if pk in metric_names:
                name, unit = metric_names[pk]
                setattr(pair, side, Metric(id=pk, name=name, unit=unit))
        conversions.setdefault(pair.map_id, MapConversions(pair.map)).pairs.append(pair)
    owner_rank = {pk: i for i, pk in enumerate(owners)}
    owner_weeks = sorted(
        compiled.run(_owner_weeks, business.pk, week),
        key=lambda o: (owner_rank.get(o.owner_id, len(owners)), o.owner_id),
    )
    for row in owner_weeks:
        if row.owner_id in owners:
            row.owner = owners[row.owner_id]
    return Review(
        business=business,
        week=week,
        weeks=columns,
        rollup=inputs.rollup,
        stages=[g for g in by_stage.values() if g.rows],
        funnel=_funnel(compiled.run(_stage_weeks, business.pk, week)),
        maps=list(conversions.values()),
        owners=owner_weeks,
        unowned=unowned,
        rows=rows,
        tracking_starts=tracking_starts,
    )
