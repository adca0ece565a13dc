"""Metrics as other apps' pages show them: the accountability chart, the step
page, My steps and the gap reports (which steps are measured)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import FilteredRelation, Max, Q

from hourglass.models import Business, Membership
from systemmaps import selectors as map_selectors

from .. import weeks
from ..models import (
    Entry,
    Metric,
    Status,
)
from .metrics import status_of

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
