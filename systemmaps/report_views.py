"""Pages about the steps people own across maps: My steps and the gap reports."""

from datetime import timedelta

from django.db.models import FilteredRelation, Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from hourglass.access import HtmxHttpRequest, business_view

from . import selectors
from .access import get_map_for_member
from .models import Node


def _measured(steps: QuerySet[Node]) -> set[int]:
    """The pks of the steps some active metric measures (one query; the metrics
    app points at steps, not the other way, so this goes through the relation)."""
    return set(
        steps.filter(metrics__isnull=False, metrics__archived_on__isnull=True)
        .values_list("pk", flat=True)
        .distinct()
    )


# The business report lists this many automation candidates; each map's own
# report lists all of its candidates.
TOP_CANDIDATES = 10


@business_view()
@require_GET
def my_steps(request: HtmxHttpRequest) -> HttpResponse:
    """Every step the logged-in member owns, with its checklist and open runs."""
    groups = selectors.my_steps(request.membership)
    today = timezone.localdate()  # in the business's zone (business_view)
    week = today - timedelta(days=today.weekday())
    # The member's metrics without a number for this week yet (one query; the
    # metrics app points at memberships, so this goes through the relation).
    numbers_due = list(
        request.membership.metrics.filter(archived_on__isnull=True)
        .annotate(
            this_week=FilteredRelation("entries", condition=Q(entries__week=week))
        )
        .filter(Q(this_week__isnull=True) | Q(this_week__value__isnull=True))
        .order_by("position", "name", "id")
        .values("pk", "name")
    )
    return render(
        request,
        "systemmaps/my_steps.html",
        {
            "groups": groups,
            "step_count": sum(g.step_count for g in groups),
            "other_runs": selectors.my_other_open_runs(request.membership),
            "numbers_due": numbers_due,
        },
    )


@business_view()
@require_GET
def map_gaps(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    system_map = get_map_for_member(request, pk)
    report = selectors.map_gaps(
        system_map, today=timezone.localdate(), measured=_measured(system_map.nodes)
    )
    return render(
        request,
        "systemmaps/map_gaps.html",
        {
            "map": system_map,
            "map_gaps": report,
            "map_candidates": [(system_map, gap) for gap in report.report.candidates],
        },
    )


@business_view()
@require_GET
def business_gaps(request: HtmxHttpRequest) -> HttpResponse:
    steps = Node.objects.filter(map__business=request.business)
    report = selectors.business_gaps(
        request.business, today=timezone.localdate(), measured=_measured(steps)
    )
    return render(
        request,
        "systemmaps/gaps.html",
        {
            "report": report,
            "top_candidates": report.candidates[:TOP_CANDIDATES],
            "more_candidates": max(len(report.candidates) - TOP_CANDIDATES, 0),
        },
    )
