"""Reads of metrics shaped for pages: the metric list and This week form (top),
the weekly review dashboard and meeting (the `# Review` section)."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import FilteredRelation, Max, Prefetch, Q
from django.utils.translation import gettext

from hourglass.models import STAGE_ORDER, Business, Membership, Stage
from systemmaps import selectors as map_selectors
from systemmaps.models import SystemMap

from . import weeks
from .models import (
    Direction,
    Entry,
    EntryRevision,
    Meeting,
    MeetingIssue,
    Metric,
    MetricWeek,
    OwnerWeek,
    RollupWeek,
    StageWeek,
    Status,
    StepConversion,
    Todo,
    Trend,
)

# ---------------------------------------------------------------------------
# Metrics and entries
# ---------------------------------------------------------------------------

# The metric list and the This week form show this many weeks of numbers.
RECENT_WEEKS = 4
# The metric page's history.
HISTORY_WEEKS = 52


def status_of(value: Decimal | None, goal: Decimal | None, direction: str) -> str:
    """A week's status against the goal (as the rollup computes it)."""
    if value is None:
        return Status.MISSING
    if goal is None:
        return Status.NO_GOAL
    if direction == Direction.LOWER:
        return Status.ON_TRACK if value <= goal else Status.OFF_TRACK
    return Status.ON_TRACK if value >= goal else Status.OFF_TRACK


@dataclass
class WeekValue:
    week: date
    value: Decimal | None
    status: str
    # False for a week before the metric was expected (nothing is missing).
    expected: bool = True
    # The week running now: a number not entered yet is due, not missing.
    in_progress: bool = False

    @property
    def is_due(self) -> bool:
        return self.in_progress and self.value is None

    @property
    def css_status(self) -> str:
        return "due" if self.is_due else self.status

    @property
    def status_label(self) -> str:
        if self.is_due:
            return gettext("Due this week")
        if self.in_progress:
            return gettext("%(status)s so far") % {"status": Status(self.status).label}
        return Status(self.status).label


def _metrics(business: Business):
    return (
        Metric.objects.filter(business=business)
        .select_related("business", "owner__user", "step__map")
        .order_by("position", "name", "id")
    )


def values_of(metric_ids: list[int], week_list: list[date]) -> dict:
    """{(metric id, week): value} of those weeks, in one query."""
    if not metric_ids or not week_list:
        return {}
    return {
        (metric_id, week): value
        for metric_id, week, value in Entry.objects.filter(
            metric_id__in=metric_ids, week__in=week_list
        ).values_list("metric_id", "week", "value")
    }


def week_values(
    metric: Metric, week_list: list[date], values: dict, *, current: date
) -> list[WeekValue]:
    """`metric`'s numbers of `week_list`; `current` is the week running now."""
    result = []
    for week in week_list:
        value = values.get((metric.pk, week))
        result.append(
            WeekValue(
                week=week,
                value=value,
                status=status_of(value, metric.goal, metric.direction),
                expected=week >= metric.first_week,
                in_progress=week >= current,
            )
        )
    return result


@dataclass
class StageMetrics:
    stage: str
    metrics: list[Metric] = field(default_factory=list)

    @property
    def label(self) -> str:
        return Stage(self.stage).label


@dataclass
class MetricList:
    weeks: list[date]
    stages: list[StageMetrics]
    archived: list[Metric]

    @property
    def count(self) -> int:
        return sum(len(s.metrics) for s in self.stages)


def metric_list(business: Business, *, week: date) -> MetricList:
    """Active metrics by stage (hourglass order) with their last RECENT_WEEKS
    numbers as `recent`, and the archived ones, in two queries."""
    week_list = weeks.weeks_back(week, RECENT_WEEKS)
    current = weeks.current_week(business.timezone)
    metrics = list(_metrics(business))
    values = values_of([m.pk for m in metrics if not m.is_archived], week_list)
    by_stage: dict[str, StageMetrics] = {}
    archived = []
    for metric in metrics:
        if metric.is_archived:
            archived.append(metric)
            continue
        metric.recent = week_values(metric, week_list, values, current=current)
        by_stage.setdefault(metric.stage, StageMetrics(metric.stage)).metrics.append(
            metric
        )
    stages = [by_stage[s] for s in STAGE_ORDER if s in by_stage]
    return MetricList(weeks=week_list, stages=stages, archived=archived)


@dataclass
class EntryRow:
    """A metric on the This week form: its recent numbers and this week's."""

    metric: Metric
    recent: list[WeekValue]
    value: Decimal | None
    can_enter: bool


def entry_rows(
    business: Business,
    *,
    week: date,
    owner: Membership | None,
    membership: Membership,
    current: date,
) -> list[EntryRow]:
    """The metrics expected in `week` (of `owner`, or all with None), with the
    RECENT_WEEKS before it and the week's own number: two queries."""
    metrics = _metrics(business).filter(
        Q(archived_on__isnull=True) | Q(archived_on__gte=week)
    )
    if owner is not None:
        metrics = metrics.filter(owner=owner)
    metrics = list(metrics)
    before = weeks.weeks_back(week - weeks.WEEK, RECENT_WEEKS)
    values = values_of([m.pk for m in metrics], [*before, week])
    return [
        EntryRow(
            metric=m,
            recent=week_values(m, before, values, current=current),
            value=values.get((m.pk, week)),
            can_enter=may_enter(membership, m, week, current=current),
        )
        for m in metrics
    ]


def may_enter(membership: Membership, metric: Metric, week: date, *, current: date):
    """Editors and owners enter any metric's number for any week up to this one;
    a member only their own metrics', this week and last week."""
    if week > current or metric.is_archived:
        return False
    if membership.can_edit:
        return True
    return metric.owner_id == membership.pk and week >= current - weeks.WEEK


@dataclass
class HistoryWeek:
    week: date
    entry: Entry | None
    status: str

    @property
    def status_label(self) -> str:
        return Status(self.status).label


def metric_history(metric: Metric, *, current: date) -> list[HistoryWeek]:
    """The metric's last HISTORY_WEEKS weeks, newest first, each with its entry
    and that entry's audit trail (`entry.trail`), in two queries."""
    first = max(current - weeks.WEEK * (HISTORY_WEEKS - 1), metric.first_week)
    last = current
    if metric.archived_on is not None:
        last = min(current, weeks.monday_of(metric.archived_on))
    entries = {
        e.week: e
        for e in metric.entries.filter(week__gte=first, week__lte=last)
        .select_related("entered_by")
        .prefetch_related(
            Prefetch(
                "revisions",
                queryset=EntryRevision.objects.select_related(
                    "entered_by", "replaced_by"
                ),
                to_attr="trail",
            )
        )
    }
    history = []
    week = last
    while week >= first:
        entry = entries.get(week)
        value = entry.value if entry else None
        history.append(
            HistoryWeek(
                week=week,
                entry=entry,
                status=status_of(value, metric.goal, metric.direction),
            )
        )
        week -= weeks.WEEK
    return history


def export_range_default(business: Business) -> tuple[date, date]:
    """The last 13 weeks, this one included."""
    current = weeks.current_week(business.timezone)
    return current - weeks.WEEK * 12, current


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

    @property
    def metric(self) -> Metric:
        return self.row.metric

    @property
    def values(self) -> list[Decimal | None]:
        return [c.value if c is not None else None for c in self.cells]

    @property
    def trend(self) -> str:
        return trend_word(self.row.trend, self.metric.direction)


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
    current: list[MetricWeek] = []
    for mw in metric_weeks:
        cells[mw.metric_id][mw.week] = mw
        if mw.week == week:
            current.append(mw)
    by_stage = {stage: StageRows(stage) for stage in STAGE_ORDER}
    rows = []
    unowned = Unowned()
    for mw in current:
        score = ScoreRow(mw, [cells[mw.metric_id].get(w) for w in columns])
        by_stage[mw.stage].rows.append(score)
        if mw.owner_id is None:
            unowned.metric_count += 1
            unowned.on_track += mw.status == Status.ON_TRACK
            unowned.off_track += mw.status == Status.OFF_TRACK
            unowned.missing += mw.status == Status.MISSING
    for group in by_stage.values():
        rows.extend(group.rows)

    conversions: dict[int, MapConversions] = {}
    for pair in (
        StepConversion.objects.filter(business=business, week=week)
        .select_related("map", "from_step", "to_step", "from_metric", "to_metric")
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


@dataclass
class Agenda:
    """What the review meeting of `week` goes through, besides the numbers."""

    week: date
    meeting: Meeting | None
    issues: list[MeetingIssue]
    resolved_issues: list[MeetingIssue]
    todos: list[Todo]
    done_todos: list[Todo]
    maps_changed: list[SystemMap]
    gaps: map_selectors.BusinessGaps | None = None

    @property
    def notes(self) -> str:
        return self.meeting.notes if self.meeting else ""


def meeting_of_week(business: Business, week: date) -> Meeting | None:
    return Meeting.objects.filter(business=business, week=week).first()


def week_bounds(week: date, tz_name: str) -> tuple[datetime, datetime]:
    """The first instant of `week` and of the week after, in the zone `tz_name`."""
    zone = ZoneInfo(tz_name)
    return (
        datetime.combine(week, time.min, tzinfo=zone),
        datetime.combine(week + weeks.WEEK, time.min, tzinfo=zone),
    )


def issues_of_week(business: Business, week: date) -> tuple[list, list]:
    """(open, resolved in this week) issues as the review of `week` saw them:
    raised in it or earlier, and not resolved before it."""
    issues = (
        MeetingIssue.objects.filter(business=business, raised_week__lte=week)
        .filter(Q(resolved_week__isnull=True) | Q(resolved_week__gte=week))
        .select_related("metric", "step__map", "raised_by")
        .order_by("raised_week", "id")
    )
    still_open, resolved = [], []
    for issue in issues:
        if issue.resolved_week == week:
            resolved.append(issue)
        else:
            still_open.append(issue)
    return still_open, resolved


def todos_of_week(business: Business, week: date) -> tuple[list, list]:
    """(open, done in this week) to-dos as the review of `week` saw them."""
    todos = (
        Todo.objects.filter(business=business, created_week__lte=week)
        .filter(Q(done_week__isnull=True) | Q(done_week__gte=week))
        .select_related("owner__user")
        .order_by("due", "created_week", "id")
    )
    still_open, done = [], []
    for todo in todos:
        if todo.done_week == week:
            done.append(todo)
        else:
            still_open.append(todo)
    return still_open, done


def meeting_agenda(
    business: Business, week: date, *, today: date, with_gaps: bool = True
) -> Agenda:
    """The meeting's issues, to-dos, notes and systems, in a fixed number of
    queries (the gap report reads every map in five)."""
    issues, resolved = issues_of_week(business, week)
    todos, done = todos_of_week(business, week)
    start, end = week_bounds(week, business.timezone)
    maps_changed = list(
        SystemMap.objects.filter(
            business=business, updated_at__gte=start, updated_at__lt=end
        )
        .alive()
        .order_by("-updated_at", "id")
    )
    return Agenda(
        week=week,
        meeting=meeting_of_week(business, week),
        issues=issues,
        resolved_issues=resolved,
        todos=todos,
        done_todos=done,
        maps_changed=maps_changed,
        gaps=business_gaps(business, today=today) if with_gaps else None,
    )


# ---------------------------------------------------------------------------
# Team
# ---------------------------------------------------------------------------


def metrics_for_chart(business: Business) -> list[dict]:
    """The business's active metrics as plain rows for the accountability chart
    (one query): pk, name, stage, unit, owner_id."""
    return list(
        Metric.objects.filter(business=business, archived_on__isnull=True)
        .order_by("position", "name", "id")
        .values("pk", "name", "stage", "unit", "owner_id")
    )


# ---------------------------------------------------------------------------
# For the pages of the system maps: the step page, My steps, the gap reports
# ---------------------------------------------------------------------------


@dataclass
class StepMetric:
    """An active metric on a step, with its latest number and that week's status."""

    metric: Metric
    last_week: date | None
    last_value: Decimal | None
    status: str

    @property
    def pk(self) -> int:
        return self.metric.pk

    @property
    def name(self) -> str:
        return self.metric.name

    @property
    def status_label(self) -> str:
        return Status(self.status).label


def step_metrics(step_id: int) -> list[StepMetric]:
    """The active metrics on a step, each with its latest week with a number,
    that number and its status against the goal (`status_of`), in two queries."""
    metrics = list(
        Metric.objects.filter(step_id=step_id, archived_on__isnull=True)
        .annotate(
            last_week=Max("entries__week", filter=Q(entries__value__isnull=False))
        )
        .order_by("position", "name", "id")
    )
    last = {m.pk: m.last_week for m in metrics if m.last_week}
    values = {}
    if last:
        values = {
            (metric_id, week): value
            for metric_id, week, value in Entry.objects.filter(
                metric_id__in=list(last), week__in=set(last.values())
            ).values_list("metric_id", "week", "value")
        }
    rows = []
    for metric in metrics:
        value = values.get((metric.pk, metric.last_week))
        rows.append(
            StepMetric(
                metric=metric,
                last_week=metric.last_week,
                last_value=value,
                status=status_of(value, metric.goal, metric.direction),
            )
        )
    return rows


def business_gaps(business: Business, *, today: date) -> map_selectors.BusinessGaps:
    """The gap report of every live map with the metrics rule on: what the
    business gap report, the map pages and the review meeting all count."""
    return map_selectors.business_gaps(
        business, today=today, measured=measured_step_ids(business)
    )


def measured_step_ids(business: Business, *, map_id: int | None = None) -> set[int]:
    """The pks of the steps that some active metric of the business measures (of
    one map with `map_id`), in one query: what the gap rule "critical steps
    without a metric" needs."""
    metrics = Metric.objects.filter(
        business=business, archived_on__isnull=True, step__isnull=False
    )
    if map_id is not None:
        metrics = metrics.filter(step__map_id=map_id)
    return set(metrics.values_list("step_id", flat=True).distinct())


def numbers_due(membership: Membership) -> list[dict]:
    """The member's active metrics without a number for the week running now in
    the business's zone, as rows with pk and name (one query)."""
    week = weeks.current_week(membership.business.timezone)
    return list(
        Metric.objects.filter(owner=membership, archived_on__isnull=True)
        .annotate(
            this_week=FilteredRelation("entries", condition=Q(entries__week=week))
        )
        .filter(Q(this_week__isnull=True) | Q(this_week__value__isnull=True))
        .order_by("position", "name", "id")
        .values("pk", "name")
    )
