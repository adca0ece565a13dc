"""The metric list, the This week form and a metric's page: metrics with their
recent numbers, and the one rule of a number's status against its goal."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils.translation import gettext

from hourglass.models import STAGE_ORDER, Business, Membership, Stage

from .. import weeks
from ..access import may_enter
from ..models import (
    Direction,
    Entry,
    EntryRevision,
    Metric,
    MetricDefinition,
    Status,
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
    # Not expected because the metric was archived when the week closed.
    archived: bool = False

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
    metric: Metric,
    week_list: list[date],
    values: dict,
    *,
    current: date,
    definitions: "WeekDefinitions",
) -> list[WeekValue]:
    """`metric`'s numbers of `week_list`, each judged by its week's definition;
    `current` is the week running now."""
    result = []
    for week in week_list:
        value = values.get((metric.pk, week))
        then = definitions.of(metric, week)
        result.append(
            WeekValue(
                week=week,
                value=value,
                status=status_of(value, then.goal, then.direction),
                expected=week >= metric.first_week and counted(then, week),
                in_progress=week >= current,
                archived=week >= metric.first_week and not counted(then, week),
            )
        )
    return result


def counted(definition, week: date) -> bool:
    """Whether a definition counts its metric in `week`: not archived before it."""
    return definition.archived_on is None or definition.archived_on >= week


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
    numbers as `recent`, and the archived ones, in three queries."""
    week_list = weeks.weeks_back(week, RECENT_WEEKS)
    current = weeks.current_week(business.timezone)
    metrics = list(_metrics(business))
    values = values_of([m.pk for m in metrics if not m.is_archived], week_list)
    definitions = week_definitions({m.pk for m in metrics if not m.is_archived})
    by_stage: dict[str, StageMetrics] = {}
    archived = []
    for metric in metrics:
        if metric.is_archived:
            archived.append(metric)
            continue
        metric.recent = week_values(
            metric, week_list, values, current=current, definitions=definitions
        )
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
    RECENT_WEEKS before it and the week's own number: three queries."""
    metrics = _metrics(business).filter(
        Q(archived_on__isnull=True) | Q(archived_on__gte=week)
    )
    if owner is not None:
        metrics = metrics.filter(owner=owner)
    metrics = list(metrics)
    before = weeks.weeks_back(week - weeks.WEEK, RECENT_WEEKS)
    values = values_of([m.pk for m in metrics], [*before, week])
    definitions = week_definitions({m.pk for m in metrics})
    return [
        EntryRow(
            metric=m,
            recent=week_values(
                m, before, values, current=current, definitions=definitions
            ),
            value=values.get((m.pk, week)),
            can_enter=may_enter(membership, m, week, current=current),
        )
        for m in metrics
    ]


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
    and that entry's audit trail (`entry.trail`) and its status by the week's
    definition, in three queries. Weeks it was archived in the meantime are
    left out unless they have a number."""
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
    definitions = week_definitions({metric.pk})
    history = []
    week = last
    while week >= first:
        entry = entries.get(week)
        value = entry.value if entry else None
        then = definitions.of(metric, week)
        if counted(then, week) or entry is not None:
            status = status_of(value, then.goal, then.direction)
            history.append(HistoryWeek(week=week, entry=entry, status=status))
        week -= weeks.WEEK
    return history


def export_range_default(business: Business) -> tuple[date, date]:
    """The last 13 weeks, this one included."""
    current = weeks.current_week(business.timezone)
    return current - weeks.WEEK * 12, current


def reminders_due(
    weeks_by_business: dict[int, date],
) -> list[tuple[date, list[Metric]]]:
    """Who to remind of which numbers: for each owner (an active user) whose
    metrics of these businesses lack a number for the business's week given,
    that week and those metrics with their business, ordered by business and
    owner (one query per distinct week)."""
    by_week: dict[date, list[int]] = defaultdict(list)
    for business_id, week in weeks_by_business.items():
        by_week[week].append(business_id)
    due = []
    for week, ids in sorted(by_week.items()):
        has_value = Entry.objects.filter(
            metric=OuterRef("pk"), week=week, value__isnull=False
        )
        lacking = (
            Metric.objects.filter(
                business_id__in=ids,
                owner__isnull=False,
                owner__user__is_active=True,
                first_week__lte=week,
            )
            .filter(Q(archived_on__isnull=True) | Q(archived_on__gte=week))
            .filter(~Exists(has_value))
            .select_related("owner__user", "business")
            .order_by("business_id", "owner_id", "position", "id")
        )
        by_owner: dict[int, list[Metric]] = defaultdict(list)
        for metric in lacking:
            by_owner[metric.owner_id].append(metric)
        due.extend((week, metrics) for metrics in by_owner.values())
    return due


class WeekDefinitions:
    """Which definition judges a week of a metric (the rule of history): the one
    kept for it (`MetricDefinition`), else the metric as it is; a week before
    every kept one is judged by the first."""

    def __init__(self, kept: list[MetricDefinition]):
        self.kept: dict[int, list[MetricDefinition]] = defaultdict(list)
        for definition in kept:
            self.kept[definition.metric_id].append(definition)

    def of(self, metric: Metric, week: date) -> Metric | MetricDefinition:
        kept = self.kept.get(metric.pk, [])
        for definition in kept:
            if definition.from_week <= week < definition.until_week:
                return definition
        earliest = min(kept, key=lambda d: d.from_week, default=None)
        if earliest is not None and week < earliest.from_week:
            return earliest
        return metric


def week_definitions(metric_ids: set[int]) -> WeekDefinitions:
    """The definitions kept for these metrics, in one query (a metric keeps one
    per change that outlived a week's close, so they are few)."""
    kept = MetricDefinition.objects.filter(metric_id__in=metric_ids)
    return WeekDefinitions(list(kept.order_by("metric_id", "from_week")))
