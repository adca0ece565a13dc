"""Drawings of map versions: the worker draws them, the pages only read them.

A dense map takes Graphviz tens of seconds, so no request ever runs it for a
drawing. `drawing()` looks the drawing up in the shared cache (Redis, or files
under CACHE_DIR on the embedded default, so the web process sees what the
worker stored); on a miss it takes a pending marker with `cache.add`, so only
one job per drawing is queued however many pages ask at once, and queues
`systemmaps.tasks.map_draw` after the commit. The worker (`draw()`) runs
Graphviz within MAP_DRAWING_TIMEOUT seconds and stores the drawing, or the
failure, which is remembered for a while so a map that cannot draw does not
tie up the workers again. A pending marker expires, so a lost job is queued
again.

This module is the one place that knows the drawings' keys: the map, the
version (versions never change; a rename is a new version), a digest of the
steps' badges (owners, critical flags and automation change without a new
version), the format and, for a PDF, its paper.

Tidy-up (`tidy_positions`) still runs in the request, for the editor's unsaved
graph too, so it is bounded: larger maps are refused, and Graphviz is stopped
after MAP_TIDY_TIMEOUT seconds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hourglass import languages

from . import layout, selectors
from .models import SystemMap

logger = logging.getLogger(__name__)

READY = "ready"
PENDING = "pending"
FAILED = "failed"

FORMATS = ("svg", "png", "pdf")
# The SVG element's size, which Graphviz gives in points, rounded.
_SIZE = re.compile(r'\b(width|height)="[^"]*"')
_VIEW_BOX = re.compile(
    r'\bviewBox="[-\d.]+ [-\d.]+ (?P<width>[\d.]+) (?P<height>[\d.]+)"'
)


@dataclass(frozen=True)
class Drawing:
    state: str
    body: bytes = b""
    message: str = ""

    @property
    def ready(self) -> bool:
        return self.state == READY

    @property
    def failed(self) -> bool:
        return self.state == FAILED

    @property
    def pending(self) -> bool:
        return self.state == PENDING

    @property
    def inline_svg(self) -> str:
        """The SVG without its XML prologue, to sit inside a page at its natural
        size: a Graphviz point a CSS pixel, as in the editor (Graphviz sizes
        the SVG in points, a third larger)."""
        svg = self.body.decode("utf-8")
        svg = svg[svg.index("<svg") :]
        end = svg.index(">")
        box = _VIEW_BOX.search(svg, 0, end)
        if box is None:
            return svg
        size = {"width": box["width"], "height": box["height"]}
        head = _SIZE.sub(lambda m: f'{m[1]}="{size[m[1]]}"', svg[:end])
        return head + svg[end:]


def drawing_key(
    map_id: int,
    version: int,
    details: dict | None,
    fmt: str,
    language: str = settings.LANGUAGE_CODE,
    paper: str = "",
) -> str:
    # The badges (a sign and “Critical”, “Could be automated” …) and the messages of a
    # failure are words: a drawing is made, and kept, per language.
    key = f"systemmaps:drawing:{map_id}:{version}:{fmt}:{language}"
    if fmt == "pdf":
        key = f"{key}:{paper_or_default(paper)}"
    if details:
        digest = hashlib.sha256(
            json.dumps(details, sort_keys=True).encode("utf-8")
        ).hexdigest()
        key = f"{key}:{digest[:20]}"
    return key


def drawing(
    system_map: SystemMap,
    version: int,
    details: dict | None,
    fmt: str = "svg",
    paper: str = "",
) -> Drawing:
    """The drawing of `version` of the map in `fmt` (a PDF on pages of `paper`),
    with the steps' badges `details` (None: none, as on the versions' pages):
    ready, failed (with the message) or pending, in which case it is queued for
    the worker unless a job for it is already on its way."""
    language = languages.current()
    key = drawing_key(system_map.pk, version, details, fmt, language, paper)
    found = cache.get_many([key, f"{key}:error"])
    if key in found:
        return Drawing(READY, body=found[key])
    if f"{key}:error" in found:
        return Drawing(FAILED, message=found[f"{key}:error"])
    if cache.add(f"{key}:pending", True, settings.MAP_DRAWING_PENDING_SECONDS):
        from .tasks import map_draw_enqueue

        def enqueue() -> None:
            if not map_draw_enqueue(
                system_map.pk, version, fmt, details is not None, language, paper
            ):
                # The next look (the page polls) tries again.
                cache.delete(f"{key}:pending")

        transaction.on_commit(enqueue)
    return Drawing(PENDING)


def draw(
    *,
    map_id: int,
    version: int,
    fmt: str,
    with_details: bool,
    language: str = settings.LANGUAGE_CODE,
    paper: str = "",
) -> str:
    """The worker's part: draw the version (with the steps' current badges when
    `with_details`) in `language` (the page's that asked), a PDF on pages of
    `paper`, and store the drawing or the failure. Returns what happened; a
    drawing already stored (a job delivered twice) is not drawn again."""
    with translation.override(languages.supported(language) or None):
        return _draw(
            map_id=map_id,
            version=version,
            fmt=fmt,
            with_details=with_details,
            language=languages.current(),
            paper=paper_or_default(paper),
        )


def paper_or_default(paper: str) -> str:
    """`paper` if it is one of layout.PAPERS, else A4."""
    return paper if paper in layout.PAPERS else "a4"


def _draw(
    *,
    map_id: int,
    version: int,
    fmt: str,
    with_details: bool,
    language: str,
    paper: str,
):
    system_map = SystemMap.objects.filter(pk=map_id).first()
    found = (
        selectors.version_graph(system_map, version, with_details=with_details)
        if system_map is not None and fmt in FORMATS
        else None
    )
    if found is None:
        return "gone"
    graph, details = found
    key = drawing_key(map_id, version, details, fmt, language, paper)
    try:
        if cache.get_many([key, f"{key}:error"]):
            return "done already"
        try:
            body = layout.export(
                graph["nodes"],
                graph["edges"],
                fmt=fmt,
                title=graph.get("name"),
                details=details,
                timeout=settings.MAP_DRAWING_TIMEOUT,
                paper=paper,
            )
        except layout.LayoutError as error:
            cache.set(
                f"{key}:error",
                failure_message(error),
                settings.MAP_DRAWING_FAILURE_SECONDS,
            )
            return FAILED
        cache.set(key, body, settings.MAP_DRAWING_SECONDS)
        return READY
    finally:
        cache.delete(f"{key}:pending")


def failure_message(error: layout.LayoutError) -> str:
    if error.code == "timeout":
        return _(
            "This map is too big to draw: Graphviz took longer than %(seconds)g "
            "seconds, so it was stopped. Split the map into smaller ones."
        ) % {"seconds": settings.MAP_DRAWING_TIMEOUT}
    return str(error)


# ---------------------------------------------------------------------------
# Tidy-up, in the request but bounded
# ---------------------------------------------------------------------------


def tidy_refusal(nodes: list, edges: list) -> str:
    """Why the map is too big to tidy up in a request ("" when it is not)."""
    if len(nodes) > settings.MAP_TIDY_MAX_STEPS:
        return ngettext(
            "Tidy up handles maps of up to %(limit)d step; this one has "
            "%(count)d. Split it into smaller maps.",
            "Tidy up handles maps of up to %(limit)d steps; this one has "
            "%(count)d. Split it into smaller maps.",
            settings.MAP_TIDY_MAX_STEPS,
        ) % {"limit": settings.MAP_TIDY_MAX_STEPS, "count": len(nodes)}
    if len(edges) > settings.MAP_TIDY_MAX_ARROWS:
        return ngettext(
            "Tidy up handles maps of up to %(limit)d arrow; this one has "
            "%(count)d. Split it into smaller maps.",
            "Tidy up handles maps of up to %(limit)d arrows; this one has "
            "%(count)d. Split it into smaller maps.",
            settings.MAP_TIDY_MAX_ARROWS,
        ) % {"limit": settings.MAP_TIDY_MAX_ARROWS, "count": len(edges)}
    return ""


def tidy_positions(nodes: list, edges: list) -> dict[str, Any]:
    """`layout.tidy_positions` within the request's bounds: LayoutError with
    code "too_big" past MAP_TIDY_MAX_STEPS / MAP_TIDY_MAX_ARROWS, "timeout"
    past MAP_TIDY_TIMEOUT seconds, each with a message saying so."""
    refusal = tidy_refusal(nodes, edges)
    if refusal:
        raise layout.LayoutError(refusal, code="too_big")
    try:
        return layout.tidy_positions(nodes, edges, timeout=settings.MAP_TIDY_TIMEOUT)
    except layout.LayoutError as error:
        if error.code != "timeout":
            raise
        raise layout.LayoutError(
            _(
                "Tidy up stopped: Graphviz took longer than %(seconds)g seconds "
                "on this map. Split it into smaller maps, or arrange it by hand."
            )
            % {"seconds": settings.MAP_TIDY_TIMEOUT},
            code="timeout",
        ) from error
