"""The weekly review dashboard, read from the rollup tables only: the scorecard,
the funnel, the step conversions, who owns nothing, and how fresh it all is."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from hourglass.models import STAGE_ORDER, Business, Stage
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


@dataclass
class ScoreRow:
    """One metric's line of the scorecard: the week reviewed and the 13 before."""

    row: MetricWeek
    cells: list[MetricWeek | None]
    # False for a metric not counted in the week reviewed (archived since, or
    # not tracked yet) whose earlier weeks are on the scorecard: `row` is its
    # latest week.
    expected: bool = True

    @property
    def metric(self) -> Metric:
        return self.row.metric

    @property
    def values(self) -> list[Decimal | None]:
        return [c.value if c is not None else None for c in self.cells]

    @property
    def trend(self) -> str:
        return trend_word(self.row.trend, self.row.direction) if self.expected else ""


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
    weeks: list[date]
    rollup: RollupWeek | None
    stages: list[StageRows]
    funnel: list[FunnelStage]
    maps: list[MapConversions]
    owners: list[OwnerWeek]
    unowned: Unowned
    rows: list[ScoreRow]

    @property
    def freshness(self) -> str:
        return freshness(self.rollup)

    @property
    def missing(self) -> list[MetricWeek]:
        return [r.row for r in self.rows if r.row.status == Status.MISSING]

    @property
    def off_track(self) -> list[ScoreRow]:
        return [r for r in self.rows if r.row.status == Status.OFF_TRACK]

    @property
    def has_funnel(self) -> bool:
        return any(s.total is not None for s in self.funnel)


def _funnel(rows: list[StageWeek]) -> list[FunnelStage]:
    by_stage = {r.stage: r for r in rows}
    stages = [FunnelStage(stage, by_stage.get(stage)) for stage in STAGE_ORDER]
    largest = max((s.total for s in stages if s.total), default=None)
    for s in stages:
        if largest and s.total:
            s.width = max(2, int(round(s.total / largest * 100)))
    return stages


def review(business: Business, week: date) -> Review:
    """Everything the review dashboard shows for `week`, read from the rollup
    tables only, in five queries whatever the number of metrics."""
    columns = weeks.weeks_back(week, SCORECARD_WEEKS)
    rollup = rollup_week(business, week)
    metric_weeks = (
        MetricWeek.objects.filter(
            business=business, week__gte=columns[0], week__lte=week
        )
        .select_related("metric", "owner__user")
        .order_by("metric__position", "metric__name", "metric_id", "week")
    )
    cells: dict[int, dict[date, MetricWeek]] = defaultdict(dict)
    latest: dict[int, MetricWeek] = {}
    for mw in metric_weeks:
        cells[mw.metric_id][mw.week] = mw
        latest[mw.metric_id] = mw
    by_stage = {stage: StageRows(stage) for stage in STAGE_ORDER}
    rows = []
    unowned = Unowned()
    for metric_id, mw in latest.items():
        expected = mw.week == week
        score = ScoreRow(mw, [cells[metric_id].get(w) for w in columns], expected)
        by_stage[mw.stage].rows.append(score)
        if expected and mw.owner_id is None:
            unowned.metric_count += 1
            unowned.on_track += mw.status == Status.ON_TRACK
            unowned.off_track += mw.status == Status.OFF_TRACK
            unowned.missing += mw.status == Status.MISSING
    for group in by_stage.values():
        rows.extend(r for r in group.rows if r.expected)

    conversions: dict[int, MapConversions] = {}
    for pair in (
        StepConversion.objects.filter(business=business, week=week)
        .select_related("map", "from_metric", "to_metric")
        .order_by("map__name", "map_id", "position", "id")
    ):
        conversions.setdefault(pair.map_id, MapConversions(pair.map)).pairs.append(pair)
    owners = list(
        OwnerWeek.objects.filter(business=business, week=week)
        .select_related("owner__user")
        .order_by("owner__user__name", "owner_id")
    )
    return Review(
        business=business,
        week=week,
        weeks=columns,
        rollup=rollup,
        stages=[g for g in by_stage.values() if g.rows],
        funnel=_funnel(list(StageWeek.objects.filter(business=business, week=week))),
        maps=list(conversions.values()),
        owners=owners,
        unowned=unowned,
        rows=rows,
    )


def has_metrics(business: Business) -> bool:
    return Metric.objects.filter(business=business).exists()
