"""The weekly review dashboard: one week's numbers, read from the rollup tables
only, how fresh they are, and the button that recomputes them.

Weeks in URLs are ISO dates of their Monday: another day of the week redirects
to its Monday, anything that is not a date (or a week not started yet) is 404
(`get_week_for_member`).
"""

from datetime import date, timedelta

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from hourglass.access import BusinessRequest, business_view
from hourglass.http import after_write, reload_page

from .. import selectors, services, weeks
from ..access import get_week_for_member

# A rollup younger than this "ran just now" (timesince would say "0 minutes").
JUST_NOW = timedelta(minutes=1)
# Polls of review-status (every 2 s) before the page stops waiting for a worker.
POLL_LIMIT = 60


def to_monday(request: BusinessRequest, view_name: str, week: date) -> HttpResponse:
    """The same page for the Monday of `week`, with the same query."""
    url = reverse(view_name, args=[request.business.slug, week.isoformat()])
    if request.GET:
        url += "?" + request.GET.urlencode()
    return redirect(url)


def week_links(request: BusinessRequest, week: date) -> dict:
    """The week shown and the links to the weeks beside it."""
    current = weeks.current_week(request.business.timezone)
    return {
        "week": week,
        "week_iso": week.isoformat(),
        "prev_week": week - weeks.WEEK,
        "next_week": week + weeks.WEEK if week < current else None,
        "is_current_week": week == current,
        "can_edit": request.membership.can_edit,
    }


def freshness(rollup_row, *, polling: bool = False, polls: int = 0) -> dict:
    """How current the week's figures are, and whether the page keeps polling."""
    computed_at = rollup_row.computed_at if rollup_row else None
    return {
        "rollup": rollup_row,
        "freshness": selectors.freshness(rollup_row),
        "polling": polling and polls < POLL_LIMIT,
        # Still stale after two minutes of polling: no worker took the task.
        "waited": polling and polls >= POLL_LIMIT,
        "next_poll": polls + 1,
        "just_now": bool(computed_at and timezone.now() - computed_at < JUST_NOW),
    }


def _review_url(request: BusinessRequest, week: date) -> str:
    return reverse("metrics:review-week", args=[request.business.slug, week])


def _polls(request: BusinessRequest) -> int:
    try:
        return max(0, min(int(request.GET.get("n", "0")), POLL_LIMIT))
    except ValueError:
        return 0


def _freshness_fragment(request: BusinessRequest, week: date, polls: int = 0):
    row = selectors.rollup_week(request.business, week)
    context = {**week_links(request, week), **freshness(row, polling=True, polls=polls)}
    return render(request, "metrics/_freshness.html", context)


@business_view()
@require_GET
def review(request: BusinessRequest) -> HttpResponse:
    """The review of the last completed week: the Monday meeting reviews it."""
    week = weeks.last_week(request.business.timezone)
    return redirect(_review_url(request, week))


@business_view()
@require_GET
def review_week(request: BusinessRequest, week: str) -> HttpResponse:
    monday = get_week_for_member(request, week)
    if monday.isoformat() != week:
        return to_monday(request, "metrics:review-week", monday)
    data = selectors.review(request.business, monday)
    context = {
        "review": data,
        **week_links(request, monday),
        **freshness(data.rollup),
        "has_metrics": bool(data.rows) or selectors.has_metrics(request.business),
    }
    return render(request, "metrics/review.html", context)


@business_view()
@require_GET
def review_status(request: BusinessRequest, week: str) -> HttpResponse:
    """Polled while a recompute runs: the same fragment while the week is stale,
    a full page reload (HX-Refresh) once its rollup is current."""
    monday = get_week_for_member(request, week)
    row = selectors.rollup_week(request.business, monday)
    if selectors.freshness(row) == selectors.Freshness.FRESH:
        return reload_page(request, _review_url(request, monday))
    return _freshness_fragment(request, monday, _polls(request))


@business_view()
@require_POST
def review_recompute(request: BusinessRequest, week: str) -> HttpResponse:
    """Queue the week's rollup, or compute it right away without a broker."""
    monday = get_week_for_member(request, week)
    queued = services.week_recompute(business=request.business, week=monday)
    url = _review_url(request, monday)
    row = selectors.rollup_week(request.business, monday)
    if not queued or selectors.freshness(row) == selectors.Freshness.FRESH:
        # Done already (here, or by a rollup that finished first): the figures
        # on the page are older than the line would say, so the page reloads.
        message = _(
            "The task queue could not be reached, so the numbers were "
            "recomputed right away."
        )
        if not queued:
            messages.info(request, message)
        return reload_page(request, url)
    return after_write(
        request,
        fragment=lambda: _freshness_fragment(request, monday),
        message=_("Recomputing the numbers: reload the page in a minute."),
        level=messages.INFO,
        to=url,
    )
