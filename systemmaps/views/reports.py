"""Pages about the steps people own across maps: My steps and the gap reports."""

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from hourglass.access import BusinessRequest, business_view
from metrics import selectors as metric_selectors

from .. import selectors
from ..access import get_map_for_member

# The business report lists this many automation candidates; each map's own
# report lists all of its candidates.
TOP_CANDIDATES = 10


@business_view()
@require_safe
def my_steps(request: BusinessRequest) -> HttpResponse:
    """Every step the logged-in member owns, with its checklist and open runs,
    and their numbers still due this week."""
    groups = selectors.my_steps(request.membership)
    context = {
        "groups": groups,
        "step_count": sum(g.step_count for g in groups),
        "other_runs": selectors.my_other_open_runs(request.membership),
        "numbers_due": metric_selectors.numbers_due(request.membership),
    }
    return render(request, "systemmaps/my_steps.html", context)


@business_view()
@require_safe
def map_gaps(request: BusinessRequest, pk: int) -> HttpResponse:
    system_map = get_map_for_member(request, pk)
    measured = metric_selectors.measured_step_ids(request.business, map_id=pk)
    report = selectors.map_gaps(
        system_map, today=timezone.localdate(), measured=measured
    )
    context = {
        "map": system_map,
        "map_gaps": report,
        "map_candidates": [(system_map, gap) for gap in report.report.candidates],
    }
    return render(request, "systemmaps/map_gaps.html", context)


@business_view()
@require_safe
def business_gaps(request: BusinessRequest) -> HttpResponse:
    report = metric_selectors.business_gaps(
        request.business, today=timezone.localdate()
    )
    context = {
        "report": report,
        "top_candidates": report.candidates[:TOP_CANDIDATES],
        "more_candidates": max(len(report.candidates) - TOP_CANDIDATES, 0),
    }
    return render(request, "systemmaps/gaps.html", context)
