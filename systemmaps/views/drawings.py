"""The drawings of a map, made by the worker (systemmaps/rendering.py): the
"Drawing the map…" placeholder the map and version pages show, and the
endpoints it polls until the drawing (or why it failed) replaces it."""

import time

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from hourglass.access import BusinessRequest, business_view
from hourglass.http import fragment_or_page

from .. import rendering, selectors
from ..access import get_map_for_member, get_revision_for_member
from ..models import SystemMap

# The placeholder asks once a second (the answer is 204, nothing to swap, while
# the drawing is pending); this many seconds after the page was shown it stops
# and says no worker seems to be drawing.
WAIT_SECONDS = 120


def _waited(request: BusinessRequest) -> bool:
    """Whether the placeholder has asked for WAIT_SECONDS (`since`: when the
    page showed it, in its URL)."""
    try:
        since = float(request.GET.get("since", ""))
    except ValueError:
        return False
    return time.time() - since >= WAIT_SECONDS


def drawing_context(
    drawing: rendering.Drawing,
    *,
    poll_url: str,
    page_url: str,
    testid: str,
    waited: bool = False,
) -> dict:
    """What `_drawing.html` shows: the drawing, its failure, or the placeholder
    polling `poll_url` (until `waited`)."""
    return {
        "drawing": drawing,
        "svg": drawing.inline_svg if drawing.ready else "",
        "poll_url": f"{poll_url}?since={int(time.time())}",
        "page_url": page_url,
        "testid": testid,
        "waited": waited,
    }


def map_drawing_context(
    request: BusinessRequest, system_map: SystemMap, badges: dict, waited: bool = False
) -> dict:
    """The map page's drawing: its current version with the steps' badges."""
    drawing = rendering.drawing(system_map, system_map.version, badges)
    return drawing_context(
        drawing,
        poll_url=reverse(
            "systemmaps:map-drawing", args=[request.business.slug, system_map.pk]
        ),
        page_url=system_map.get_absolute_url(),
        testid="map-svg",
        waited=waited,
    )


def revision_drawing_context(
    request: BusinessRequest, system_map: SystemMap, version: int, waited: bool = False
) -> dict:
    """A version page's drawing: that version without the badges."""
    drawing = rendering.drawing(system_map, version, None)
    slug = request.business.slug
    return drawing_context(
        drawing,
        poll_url=reverse(
            "systemmaps:revision-drawing", args=[slug, system_map.pk, version]
        ),
        page_url=reverse(
            "systemmaps:revision-detail", args=[slug, system_map.pk, version]
        ),
        testid="revision-svg",
        waited=waited,
    )


def _fragment(request: BusinessRequest, context: dict) -> HttpResponse:
    """The drawing or its failure, swapped in for the placeholder; 204 (nothing
    to swap, the placeholder asks again) while it is pending. Without htmx the
    page itself shows the drawing (or its placeholder)."""
    pending = context["drawing"].pending and not context["waited"]
    return fragment_or_page(
        request,
        lambda: (
            HttpResponse(status=204)
            if pending
            else render(request, "systemmaps/_drawing.html", context)
        ),
        lambda: redirect(context["page_url"]),
    )


@business_view()
@require_safe
def map_drawing(request: BusinessRequest, pk: int) -> HttpResponse:
    system_map = get_map_for_member(request, pk)
    badges = selectors.step_badges(system_map)
    context = map_drawing_context(request, system_map, badges, _waited(request))
    return _fragment(request, context)


@business_view()
@require_safe
def revision_drawing(request: BusinessRequest, pk: int, version: int) -> HttpResponse:
    revision = get_revision_for_member(request, pk, version)
    context = revision_drawing_context(
        request, revision.map, revision.version, _waited(request)
    )
    return _fragment(request, context)
