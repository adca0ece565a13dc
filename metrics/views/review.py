"""The weekly review dashboard: one week's numbers, read from the rollup tables
only, how fresh they are, and the button that recomputes them.

Weeks in URLs are ISO dates of their Monday: another day of the week redirects
to its Monday, anything that is not a date (or a week not started yet) is 404
(`get_week_for_member`).
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache as figures_cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from hourglass import ratelimit
from hourglass.access import BusinessRequest, business_view
from hourglass.http import after_write, reload_page

from .. import selectors, services, weeks
from ..access import get_week_for_member
from ..models import RollupWeek
from ..templatetags import review as scorecard

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


# ---------------------------------------------------------------------------
# The figures, rendered once per version of them
# ---------------------------------------------------------------------------

# The parts of each page drawn from the week's figures, cached together.
FIGURES = {
    "review": {"figures": "metrics/_review_figures.html"},
    "meeting": {
        "scorecard": "metrics/_meeting_scorecard.html",
        "off_track": "metrics/_off_track.html",
    },
}


@cache
def _drawing_version() -> str:
    """A digest of the code that draws the figures, so that after a deploy that
    changes it no page shows what the old code drew (the cache outlives it)."""
    app = Path(__file__).resolve().parent.parent
    files = sorted((settings.BASE_DIR / "templates" / "metrics").glob("_*.html"))
    files += [app / "selectors" / "review.py", app / "templatetags" / "review.py"]
    files += [app.parent / "systemmaps" / "costs.py"]
    for folder in settings.LOCALE_PATHS:
        files += sorted(Path(folder).glob("*/LC_MESSAGES/*.mo"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def figures_key(
    request: BusinessRequest, inputs: selectors.ReviewInputs, page: str
) -> str:
    """The cache key of `page`'s figures: the week's inputs (rollup stamps, names,
    the business's address, currency and zone), the language, whether the viewer
    may edit (the only thing of the viewer's the figures show) and the code."""
    digest = inputs.digest(
        page, get_language(), request.membership.can_edit, _drawing_version()
    )
    business, week = request.business.pk, inputs.week.isoformat()
    return f"metrics:review:{page}:{business}:{week}:{digest}"


# Where a part goes in its page: the page is rendered with this in the part's
# place and the part's bytes are put in after, so a cached part is never decoded,
# copied through the template and encoded again. Random per process, so nothing
# a user typed can be one.
_SLOT = "<!--figures:%s:" + secrets.token_hex(8) + "-->"


@dataclass
class Figures:
    """The week's rollup row, and the parts of a page drawn from the week's
    figures, as UTF-8 (FIGURES; see `figures`)."""

    rollup: RollupWeek | None
    parts: dict[str, bytes]

    @property
    def slots(self) -> dict[str, SafeString]:
        """What the page template shows in each part's place."""
        return {name: mark_safe(_SLOT % name) for name in self.parts}

    def fill(self, response: HttpResponse) -> HttpResponse:
        content = response.content
        for name, html in self.parts.items():
            slot = (_SLOT % name).encode()
            if slot not in content:
                raise ImproperlyConfigured(f"The page has no place for {name!r}.")
            content = content.replace(slot, html, 1)
        response.content = content
        return response


def figures(request: BusinessRequest, week: date, page: str) -> Figures:
    """The parts of `page` drawn from the week's figures: from the cache, or
    rendered and cached.

    They are rendered without the request, from the context below only, so
    nothing of one viewer (their name, CSRF token, messages) can get in, and all
    of that context is in the key. A rollup that finishes changes the key, so the
    next request draws the new figures."""
    inputs = selectors.review_inputs(request.business, week)
    key = figures_key(request, inputs, page)
    parts = figures_cache.get(key)
    if parts is None:
        context = {
            "review": selectors.review(request.business, week, inputs),
            "business": request.business,
            "week": week,
            "week_iso": week.isoformat(),
            "can_edit": request.membership.can_edit,
            "has_metrics": inputs.has_metrics,
        }
        parts = {}
        for name, template in FIGURES[page].items():
            drawn = context[scorecard.ROWS] = {}
            parts[name] = scorecard.fill_rows(
                render_to_string(template, context), drawn
            )
        figures_cache.set(key, parts, settings.REVIEW_CACHE_SECONDS)
    return Figures(inputs.rollup, parts)


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
@require_safe
def review(request: BusinessRequest) -> HttpResponse:
    """The review of the last completed week: the Monday meeting reviews it."""
    week = weeks.last_week(request.business.timezone)
    return redirect(_review_url(request, week))


@business_view()
@require_safe
def review_week(request: BusinessRequest, week: str) -> HttpResponse:
    monday = get_week_for_member(request, week)
    if monday.isoformat() != week:
        return to_monday(request, "metrics:review-week", monday)
    drawn = figures(request, monday, "review")
    context = {
        "figures": drawn.slots,
        **week_links(request, monday),
        **freshness(drawn.rollup),
    }
    return drawn.fill(render(request, "metrics/review.html", context))


@business_view()
@require_safe
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
    url = _review_url(request, monday)
    refusal = ratelimit.hit(
        "recompute", user=request.user.pk, business=request.business.pk
    )
    if refusal:
        messages.error(request, refusal.message)
        return reload_page(request, url)
    queued = services.week_recompute(business=request.business, week=monday)
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
