"""The map drawn as the editor draws it, as SVG at the stored positions: the edit
page's first paint, visible before any JavaScript runs (the editor swaps its own
canvas in later, at the same view).

Pure: it takes the graph document (`selectors.graph_of`) and the steps' badges
(`selectors.editor_badges`), and reads every size, colour and rule from
`document` (the same values the editor gets through `editor_config`), so the two
drawings cannot drift. The Graphviz export lays the map out again and cannot
serve here.
"""

import math
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from . import document
from .document import DECISION, SIGNS, Box, box_of, look_of

# Room around the map's shapes in the drawing.
MARGIN = 24
# An arrow label's box: its height, and the room either side of its text
# (labels.edgeLabelOf).
EDGE_LABEL_HEIGHT = 18
EDGE_LABEL_PAD = 10
# The arrowhead: X6's "block" marker, 10 long and 7 wide, its tip on the outline.
HEAD_LENGTH = 10
HEAD_WIDTH = 7

# The width of each printable ASCII character of the canvas font at 1 pixel, as
# Chromium measures system-ui on Debian (DejaVu Sans), from space to tilde: one
# of the widest system fonts, so a line the server breaks fits the shape in any
# of them (the browser measures the real font when the editor takes over, and
# may fit more on a line). Other letters count as their base letter, wide
# scripts (Hangul, CJK) as a square.
_ASCII_WIDTHS = (
    ".32 .40 .46 .84 .64 .95 .78 .27 .39 .39 .50 .84 .32 .36 .32 .34 "
    ".64 .64 .64 .64 .64 .64 .64 .64 .64 .64 .34 .34 .84 .84 .84 .53 "
    "1 .68 .69 .70 .77 .63 .58 .77 .75 .29 .29 .66 .56 .86 .75 .79 "
    ".60 .79 .69 .63 .61 .73 .68 .99 .69 .61 .69 .39 .34 .39 .84 .50 "
    ".50 .61 .63 .55 .63 .62 .35 .63 .63 .28 .28 .58 .28 .97 .63 .61 "
    ".63 .63 .41 .52 .39 .63 .59 .82 .59 .59 .52 .64 .34 .64 .84"
)
_WIDTHS = {chr(32 + i): float(w) for i, w in enumerate(_ASCII_WIDTHS.split())}
_WIDTHS["…"] = 1.0
# Semibold text (an arrow's label) is wider.
_BOLD = 1.1


def _char_width(ch: str) -> float:
    width = _WIDTHS.get(ch)
    if width is not None:
        return width
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 0.94
    base = unicodedata.normalize("NFD", ch)[:1]
    return _WIDTHS.get(base, 0.62)


def estimate_measure(font_size: float, weight: int = 400):
    """A measure function (text -> pixels) for labels at `font_size`."""
    scale = font_size * (_BOLD if weight >= 600 else 1.0)
    return lambda text: scale * sum(_char_width(ch) for ch in text)


def _n(value: float) -> str:
    """A coordinate as SVG wants it: short, with a dot whatever the locale."""
    return f"{round(value, 2):g}"


def _text_lines(lines: Sequence[str], x: float) -> str:
    """Lines centred on x as X6 places a label with textVerticalAnchor middle:
    one em apart, the block's middle on the text's y."""
    first = 0.3 - (len(lines) - 1) / 2 * 1.0
    spans = []
    for number, line in enumerate(lines):
        dy = first if number == 0 else 1.0
        spans.append(
            f'<tspan x="{_n(x)}" dy="{_n(dy)}em">{escape(line) or " "}</tspan>'
        )
    return "".join(spans)


def _badges(kind: str, details: Mapping[str, Any] | None) -> str:
    if not details or kind not in document.BADGE_INSET:
        return ""
    parts = []
    if details.get("critical"):
        parts.append(("critical", _("Critical step"), SIGNS["critical"], "critical"))
    automation = details.get("automation")
    if automation in (document.AUTOMATED, document.COULD_BE_AUTOMATED):
        title = (
            _("Automated")
            if automation == document.AUTOMATED
            else _("Could be automated")
        )
        parts.append(("automation", title, SIGNS[automation], automation))
    if details.get("ownerInitials"):
        name = details.get("ownerName") or details["ownerInitials"]
        title = _("Owner: {name}").replace("{name}", name)
        parts.append(("owner", title, details["ownerInitials"], "owner"))
    if not parts:
        return ""
    spots = document.badge_spots(kind)
    out = [f"<title>{escape(' · '.join(part[1] for part in parts))}</title>"]
    for name, title, glyph, look_name in parts:
        look = document.BADGE_LOOKS[look_name]
        x, y = spots[name]
        size = 8 if name == "owner" else 11
        out.append(
            f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{document.BADGE_RADIUS}" '
            f'fill="{look["fill"]}" stroke="{look["stroke"]}"/>'
            f'<text class="hg-badge hg-badge-{name}" data-badge="{name}" role="img" '
            f'aria-label="{escape(title)}" x="{_n(x)}" y="{_n(y)}" dy="0.35em" '
            f'fill="{look["ink"]}" font-size="{size}" font-weight="700">'
            f"{escape(glyph)}</text>"
        )
    return f'<g class="hg-badges">{"".join(out)}</g>'


def _node(node: Mapping[str, Any], details, measure) -> str:
    kind = node.get("kind") if node.get("kind") in document.LOOKS else document.TASK
    look = look_of(kind)
    box = box_of({**node, "kind": kind})
    stroke = f'fill="{look.fill}" stroke="{look.stroke}"'
    if kind == DECISION:
        w, h = look.width, look.height
        body = f'<polygon points="0,{_n(h / 2)} {_n(w / 2)},0 {_n(w)},{_n(h / 2)} {_n(w / 2)},{_n(h)}" {stroke}/>'  # noqa: E501
    else:
        body = (
            f'<rect width="{look.width}" height="{look.height}" '
            f'rx="{_n(look.radius)}" ry="{_n(look.radius)}" {stroke}/>'
        )
    lines = document.wrap_label(
        node.get("label") or "", look.label_width, look.label_lines, measure
    )
    label = _text_lines(lines, look.width / 2)
    return (
        f'<g class="static-node" data-static-node="{escape(node["id"])}" '
        f'data-kind="{kind}" transform="translate({_n(box.x)},{_n(box.y)})">'
        f"{body}"
        f'<text y="{_n(look.height / 2)}">{label}</text>'
        f"{_badges(kind, details)}</g>"
    )


def _edge(edge: Mapping[str, Any], boxes: Mapping[str, tuple[Box, bool]], bold) -> str:
    ends = boxes.get(edge["source"]), boxes.get(edge["target"])
    if not all(ends):
        return ""
    (source, source_diamond), (target, target_diamond) = ends
    sc = (source.x + source.width / 2, source.y + source.height / 2)
    tc = (target.x + target.width / 2, target.y + target.height / 2)
    start = document.outline_point(source, tc, source_diamond) or sc
    end = document.outline_point(target, sc, target_diamond) or tc
    dx, dy = end[0] - start[0], end[1] - start[1]
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    bx, by = end[0] - ux * HEAD_LENGTH, end[1] - uy * HEAD_LENGTH
    half = HEAD_WIDTH / 2
    head = (
        f"{_n(end[0])},{_n(end[1])} {_n(bx - uy * half)},{_n(by + ux * half)} "
        f"{_n(bx + uy * half)},{_n(by - ux * half)}"
    )
    out = [
        f'<g class="static-edge" data-static-edge="{escape(edge["id"])}">'
        f'<path d="M {_n(start[0])} {_n(start[1])} L {_n(end[0])} {_n(end[1])}" '
        f'fill="none"/><polygon points="{head}"/>'
    ]
    text = edge.get("label")
    if text:
        mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
        width = math.ceil(bold(text)) + EDGE_LABEL_PAD
        out.append(
            f'<rect x="{_n(mx - width / 2)}" y="{_n(my - EDGE_LABEL_HEIGHT / 2)}" '
            f'width="{width}" height="{EDGE_LABEL_HEIGHT}" rx="4" ry="4" '
            f'fill="#ffffff" stroke="#b9c1cc" stroke-width="1"/>'
            f'<text x="{_n(mx)}" y="{_n(my)}" dy="0.3em" fill="{document.INK}" '
            f'stroke="none" font-size="{document.LABEL_FONT_SIZE}" font-weight="600" '
            f'text-anchor="middle">{escape(text)}</text>'
        )
    out.append("</g>")
    return "".join(out)


def bounds(nodes: Sequence[Mapping[str, Any]]) -> Box:
    """The box around every shape, with `MARGIN` all round."""
    if not nodes:
        return Box(0, 0, 0, 0)
    boxes = [box_of(n) for n in nodes]
    left = min(b.x for b in boxes) - MARGIN
    top = min(b.y for b in boxes) - MARGIN
    right = max(b.x + b.width for b in boxes) + MARGIN
    bottom = max(b.y + b.height for b in boxes) + MARGIN
    return Box(left, top, right - left, bottom - top)


def canvas_svg(
    graph: Mapping[str, Any], badges: Mapping[str, Mapping[str, Any]]
) -> SafeString:
    """The map as the editor's canvas shows it, in canvas pixels (one unit, one
    pixel at zoom 1): arrows under shapes, each shape in its group at its stored
    top left corner, with its label wrapped and its badges."""
    nodes = graph.get("nodes") or []
    edges = graph.get("edges") or []
    measure = estimate_measure(document.LABEL_FONT_SIZE)
    bold = estimate_measure(document.LABEL_FONT_SIZE, 600)
    boxes = {
        n["id"]: (box_of(n), n.get("kind") == DECISION) for n in nodes if "id" in n
    }
    frame = bounds(nodes)
    view = f"{_n(frame.x)} {_n(frame.y)} {_n(frame.width)} {_n(frame.height)}"
    body = "".join(
        [
            # What every arrow, and every shape and label, has alike is said once.
            f'<g class="static-edges" fill="{document.ARROW_INK}" '
            f'stroke="{document.ARROW_INK}" stroke-width="{document.STROKE_WIDTH}">',
            *(_edge(e, boxes, bold) for e in edges),
            f'</g><g class="static-nodes" fill="{document.INK}" '
            f'font-size="{document.LABEL_FONT_SIZE}" text-anchor="middle" '
            f'stroke-width="{document.STROKE_WIDTH}">',
            *(_node(n, badges.get(n["id"]), measure) for n in nodes),
            "</g>",
        ]
    )
    return mark_safe(  # noqa: S308 - every text above went through escape()
        f'<svg class="static-map" data-testid="static-map" '
        f'xmlns="http://www.w3.org/2000/svg" viewBox="{view}" '
        f'width="{_n(frame.width)}" height="{_n(frame.height)}" '
        f'font-family="{escape(document.LABEL_FONT)}" aria-hidden="true">'
        f"{body}</svg>"
    )
