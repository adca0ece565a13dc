"""Graphviz layout and export of a system map, on plain data (graph JSON schema v1).

Nodes are dicts ``{"id", "kind", "label", "x", "y", "stage", "notes"}`` and edges
dicts ``{"id", "source", "target", "label"}``; nothing here touches the ORM. The
exports may also take ``details``: by node id, ``{"initials", "critical",
"automation"}`` of tasks and decisions, shown as one more line of their label.

Safety: ids and labels come from the browser. Ids never reach DOT (nodes are
renamed ``n0, n1, …``, edges get ``id="e0"…``), labels are always quoted DOT
strings with every Graphviz escape neutralised, and exported SVG is re-parsed and
stripped of anything active (scripts, event handlers, links, comments).

Coordinates: 1 Graphviz point = 1 canvas pixel; see :func:`tidy_positions`.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hourglass.languages import in_every_language

from . import pdfpages
from .document import (
    ARROW_INK,
    AUTOMATED,
    COULD_BE_AUTOMATED,
    CRITICAL,
    CRITICAL_STROKE_WIDTH,
    DECISION,
    INK,
    LABEL_FONT_SIZE,
    LOOKS,
    SIGN_WORDS,
    SIGNS,
    TASK,
    TERMINUS,
    WORK_KINDS,
    look_of,
)

__all__ = [
    "EXPORT_FORMATS",
    "PAPERS",
    "LayoutError",
    "export",
    "step_badges",
    "strip_step_badges",
    "tidy_positions",
    "to_dot",
]

EXPORT_FORMATS = frozenset({"svg", "png", "pdf"})
# The PDF's pages, width × height in points (`hourglass.models.Business.paper`).
PAPERS = {"a4": (595.276, 841.89), "letter": (612.0, 792.0)}
PNG_DPI = 144
TITLE_WRAP = 60

# A fixed graph name: dot copies it into the SVG (<title>, a comment), so it must
# never be user text.
GRAPH_NAME = "systemmap"
# DejaVu draws Latin, Greek and Cyrillic (Polish and Romanian letters among them);
# Hangul comes from Nanum Gothic (Debian's fonts-nanum), so a Korean label in a
# PNG or PDF is letters, not boxes. A family list, as Pango and CSS read it.
FONT = "DejaVu Sans,NanumGothic"

# Graphviz sizes nodes in inches; a point (= a canvas pixel here) is 1/72 inch.
POINTS_PER_INCH = 72
GRAPH_ATTRS = {
    "rankdir": "LR",
    "fontname": FONT,
    "fontsize": "18",
    "fontcolor": INK,
    "labelloc": "t",
    "labeljust": "c",
    "nodesep": "0.35",
    "ranksep": "0.55",
    "pad": "0.3",
    "bgcolor": "white",
}
NODE_ATTRS = {
    "fontname": FONT,
    "fontsize": str(LABEL_FONT_SIZE),
    "fontcolor": INK,
    "margin": "0.16,0.08",
    "height": "0.5",
    "penwidth": "1.4",
}
EDGE_ATTRS = {
    "fontname": FONT,
    "fontsize": "11",
    "fontcolor": ARROW_INK,
    "color": ARROW_INK,
    "arrowsize": "0.8",
    "penwidth": "1.2",
}
# Graphviz has no stadium shape: a rounded box's corner radius is
# min(12pt, shortest side / 3), so at the default 0.5in (36pt) height the ends
# are as round as Graphviz draws them in every output format.
KIND_SHAPES = {
    TERMINUS: {"shape": "box", "style": "rounded,filled"},
    TASK: {"shape": "box", "style": "filled"},
    DECISION: {"shape": "diamond", "style": "filled"},
}
KIND_ATTRS = {
    kind: {**shape, "fillcolor": LOOKS[kind].fill, "color": LOOKS[kind].stroke}
    for kind, shape in KIND_SHAPES.items()
}
CRITICAL_PENWIDTH = f"{CRITICAL_STROKE_WIDTH:g}"
# The smallest text of a drawing: on paper it stays at least pdfpages.MIN_TEXT_PT.
SMALLEST_TEXT = min(float(a["fontsize"]) for a in (GRAPH_ATTRS, NODE_ATTRS, EDGE_ATTRS))

NOT_INSTALLED = gettext_lazy(
    "Graphviz 'dot' is not installed on the server, so maps cannot be laid out or "
    "exported. Ask the administrator to install Graphviz (the 'graphviz' package)."
)

# Characters outside XML 1.0's Char production, plus C0/C1 controls: dot copies
# them raw into SVG (making it unparseable), so they are dropped from labels.
_UNSAFE_CHARS = re.compile(
    "[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_SVG_NS = "http://www.w3.org/2000/svg"
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
_ACTIVE_ELEMENTS = frozenset(
    {"script", "foreignobject", "iframe", "object", "embed", "handler", "listener"}
)


class LayoutError(Exception):
    """Graphviz is missing, failed, or was too slow.

    ``code`` is one of ``"missing"``, ``"timeout"``, ``"failed"``, ``"bad_output"``
    so a view can show its own (translated) message.
    """

    def __init__(self, message: str, *, code: str = "failed") -> None:
        super().__init__(message)
        self.code = code


Details = Mapping[str, Mapping[str, Any]]


def step_badges(detail: Mapping[str, Any] | None) -> str:
    """The owner's initials, the critical marker and the automation of a step as
    one line of text: ``AO · <sign> Critical · <sign> Could be automated``, each
    sign from `document.SIGNS` beside its words ("" when there is nothing to
    show; a manual step shows no automation)."""
    if not detail:
        return ""
    parts = []
    initials = str(detail.get("initials") or "").strip()
    if initials:
        parts.append(initials)
    states = [CRITICAL] if detail.get("critical") else []
    if detail.get("automation") in (AUTOMATED, COULD_BE_AUTOMATED):
        states.append(detail["automation"])
    # (No-break spaces keep each sign with its word when the label wraps.)
    parts.extend(f"{SIGNS[state]}\u00a0{SIGN_WORDS[state]}" for state in states)
    return " · ".join(parts)


def strip_step_badges(label: str) -> str:
    """`label` without the badges an export wrote after it (`step_badges` in
    brackets: "Bake (AO · <sign>\u00a0Critical)" → "Bake"), whichever of the app's
    languages wrote them. Only a suffix with a sign is taken for ours: owner
    initials alone ("Call (VIP)") may as well be the user's own text."""
    match = _badge_suffix().search(label)
    return label[: match.start()].rstrip() if match else label


@functools.cache
def _badge_suffix() -> re.Pattern[str]:
    def said(state: str) -> str:
        words = "|".join(re.escape(w) for w in in_every_language(SIGN_WORDS[state]))
        return f"{re.escape(SIGNS[state])}\u00a0(?:{words})"

    automation = f"(?:{said(AUTOMATED)}|{said(COULD_BE_AUTOMATED)})"
    states = f"(?:{said(CRITICAL)}(?: · {automation})?|{automation})"
    return re.compile(rf"(?:^|\s)\((?:[^\s·()]{{1,2}} · )?{states}\)$")


def to_dot(
    nodes: Sequence[Mapping[str, Any]],
    edges: Sequence[Mapping[str, Any]],
    *,
    title: str | None = None,
    details: Details | None = None,
) -> str:
    """Return the DOT source of the map, flowing left to right."""
    return _build_dot(nodes, edges, title=title, details=details)[0]


def tidy_positions(
    nodes: Sequence[Mapping[str, Any]],
    edges: Sequence[Mapping[str, Any]],
    *,
    timeout: float = 10.0,
) -> dict[str, dict[str, float]]:
    """Lay the map out with ``dot`` and return ``{node_id: {"x": …, "y": …}}``.

    Every node gets a position: the **centre** of the node, in canvas pixels
    (1 Graphviz point = 1 px), origin at the top-left of the drawing and y growing
    downward; the map flows left to right. A repeated node id keeps the first
    node's position; edges to unknown ids are ignored.
    """
    if not nodes:
        return {}
    source, names = _build_dot(nodes, edges, canvas_sizes=True)
    output = _run_dot(source, ["-Tjson0"], timeout=timeout)
    try:
        data = json.loads(output.decode("utf-8", "replace"), strict=False)
        left, _bottom, _right, top = (float(v) for v in data["bb"].split(","))
        centres = {}
        for obj in data.get("objects", []):
            if "pos" in obj:
                x, y = (float(v) for v in obj["pos"].split(","))
                centres[obj["name"]] = (x, y)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LayoutError(
            _("Graphviz returned a layout that could not be read (%(error)s).")
            % {"error": exc},
            code="bad_output",
        ) from exc
    positions = {}
    for node_id, name in names.items():
        if name not in centres:
            raise LayoutError(
                _("Graphviz returned no position for step %(id)r.") % {"id": node_id},
                code="bad_output",
            )
        x, y = centres[name]
        positions[node_id] = {"x": round(x - left, 2), "y": round(top - y, 2)}
    return positions


def export(
    nodes: Sequence[Mapping[str, Any]],
    edges: Sequence[Mapping[str, Any]],
    *,
    fmt: str,
    title: str | None = None,
    details: Details | None = None,
    timeout: float = 20.0,
    paper: str = "a4",
) -> bytes:
    """Render the map as ``svg`` (sanitised), ``png`` (144 dpi) or ``pdf`` (vector,
    on pages of ``paper``, a key of PAPERS: see systemmaps/pdfpages.py).

    ``details`` (by node id) adds each task's and decision's owner initials,
    critical marker and automation to its label.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(
            f"Unsupported export format {fmt!r}; use one of: "
            f"{', '.join(sorted(EXPORT_FORMATS))}."
        )
    source = to_dot(nodes, edges, title=title, details=details)
    if fmt == "svg":
        return _sanitise_svg(_run_dot(source, ["-Tsvg"], timeout=timeout))
    if fmt == "png":
        # dpi on the command line, not in the graph: in the graph it would also
        # rescale the SVG output.
        return _run_dot(source, ["-Tpng", f"-Gdpi={PNG_DPI}"], timeout=timeout)
    strip = _run_dot(source, ["-Tpdf"], timeout=timeout)
    try:
        paged, _plan = pdfpages.paginate(
            strip, paper=PAPERS[paper], smallest_text=SMALLEST_TEXT
        )
    except ValueError as exc:
        raise LayoutError(
            _("Graphviz produced a PDF that could not be put on pages (%(error)s).")
            % {"error": exc},
            code="bad_output",
        ) from exc
    return paged


def _build_dot(
    nodes: Sequence[Mapping[str, Any]],
    edges: Sequence[Mapping[str, Any]],
    *,
    title: str | None = None,
    details: Details | None = None,
    canvas_sizes: bool = False,
) -> tuple[str, dict[str, str]]:
    """Return the DOT source and the map of node id -> generated DOT name.

    With `canvas_sizes`, every shape is at least as large as the canvas draws it
    (a drawing sizes a shape to its label; the canvas's shapes have one size per
    kind), so the positions of a tidy-up never put two shapes on top of each other.
    """
    details = details or {}
    names: dict[str, str] = {}
    lines = [f"digraph {GRAPH_NAME} {{"]
    graph_attrs = dict(GRAPH_ATTRS)
    if title and title.strip():
        graph_attrs["label"] = _quote_label(title, TITLE_WRAP)
    lines.append(f"  graph [{_attr_list(graph_attrs)}];")
    lines.append(f"  node [{_attr_list(NODE_ATTRS)}];")
    lines.append(f"  edge [{_attr_list(EDGE_ATTRS)}];")

    for node in nodes:
        node_id = str(node["id"])
        if node_id in names:
            continue
        name = names[node_id] = f"n{len(names)}"
        kind = node.get("kind")
        kind = kind if kind in KIND_ATTRS else TASK
        label = node.get("label") or ""
        classes = [kind]
        detail = details.get(node_id) if kind in WORK_KINDS else None
        badges = step_badges(detail)
        if badges:
            # Its own paragraph: wrapped and escaped like the label, after it.
            label = f"{label}\n{badges}"
        attrs = {
            "id": f'"{name}"',
            "label": _quote_label(label, look_of(kind).wrap),
            **KIND_ATTRS[kind],
        }
        if canvas_sizes:
            look = look_of(kind)
            attrs["width"] = f"{look.width / POINTS_PER_INCH:.4f}"
            attrs["height"] = f"{look.height / POINTS_PER_INCH:.4f}"
        if detail and detail.get("critical"):
            classes.append("critical")
            attrs["penwidth"] = CRITICAL_PENWIDTH
        if detail and detail.get("automation") in ("could", "automated"):
            classes.append(f"automation-{detail['automation']}")
        attrs["class"] = '"' + " ".join(classes) + '"'
        lines.append(f"  {name} [{_attr_list(attrs)}];")

    for index, edge in enumerate(edges):
        source = names.get(str(edge.get("source")))
        target = names.get(str(edge.get("target")))
        if source is None or target is None:
            continue
        attrs = {"id": f'"e{index}"'}
        label = edge.get("label")
        if label and str(label).strip():
            attrs["label"] = _quote_label(str(label), look_of(TASK).wrap)
        lines.append(f"  {source} -> {target} [{_attr_list(attrs)}];")

    lines.append("}")
    return "\n".join(lines) + "\n", names


def _attr_list(attrs: Mapping[str, str]) -> str:
    # Values are either our constants or already-quoted labels; constants that
    # are not plain DOT IDs get quoted here.
    return ", ".join(f"{key}={_quote_constant(value)}" for key, value in attrs.items())


def _quote_constant(value: str) -> str:
    if value.startswith('"') or re.fullmatch(
        r"[A-Za-z_][A-Za-z0-9_]*|-?[0-9.]+", value
    ):
        return value
    return f'"{value}"'


def _quote_label(text: str, width: int) -> str:
    """Return ``text`` as a quoted DOT string that Graphviz shows literally.

    Quoted (never ``<…>``) so it is not an HTML-like label; ``\\`` is doubled so
    ``\\N``, ``\\G``, ``\\l``… stay text; ``&`` becomes ``&amp;`` because dot
    decodes HTML entities in plain labels. Line breaks are added as ``\\n`` only
    after escaping, so user text cannot produce escapes of its own.
    """
    text = _UNSAFE_CHARS.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n"))
    lines = []
    for paragraph in text.strip().split("\n"):
        lines.extend(textwrap.wrap(paragraph, width, break_long_words=True) or [""])
    escaped = (
        line.replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;")
        for line in lines
    )
    return '"' + "\\n".join(escaped) + '"'


def _dot_binary() -> str:
    override = os.environ.get("GRAPHVIZ_DOT")
    if override:
        return override
    found = shutil.which("dot")
    if found is None:
        raise LayoutError(str(NOT_INSTALLED), code="missing")
    return found


def _run_dot(source: str, args: list[str], *, timeout: float) -> bytes:
    binary = _dot_binary()
    try:
        result = subprocess.run(
            [binary, *args],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise LayoutError(
            _(
                "Graphviz took longer than %(seconds)s seconds to lay out this map; "
                "try again, or split the map into smaller ones."
            )
            % {"seconds": f"{timeout:g}"},
            code="timeout",
        ) from exc
    except OSError as exc:  # FileNotFoundError, PermissionError, not executable
        raise LayoutError(f"{NOT_INSTALLED} ({exc.strerror})", code="missing") from exc
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip()[:500]
        raise LayoutError(
            (
                _(
                    "Graphviz failed to lay out this map (exit status %(status)d): "
                    "%(detail)s"
                )
                if detail
                else _("Graphviz failed to lay out this map (exit status %(status)d).")
            )
            % {"status": result.returncode, "detail": detail},
            code="failed",
        )
    return result.stdout


def _sanitise_svg(data: bytes) -> bytes:
    """Re-serialise dot's SVG without scripts, event handlers, links or comments.

    dot escapes label text already; this is the belt to those braces, and it
    also drops the comments dot writes (the parser discards them).
    """
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise LayoutError(
            _("Graphviz produced SVG that is not valid XML (%(error)s).")
            % {"error": exc},
            code="bad_output",
        ) from exc
    _strip_attributes(root)
    _strip_children(root)
    # Plain (unprefixed) tags with one xmlns, so the SVG also works inline in HTML.
    for element in root.iter():
        element.tag = _local_name(element.tag, lower=False)
    root.set("xmlns", _SVG_NS)
    body = ET.tostring(root, encoding="unicode")
    return (_XML_DECLARATION + body + "\n").encode("utf-8")


def _local_name(name: str, *, lower: bool = True) -> str:
    local = name.rsplit("}", 1)[-1]
    return local.lower() if lower else local


def _strip_attributes(element: ET.Element) -> None:
    for attr in list(element.attrib):
        local = _local_name(attr)
        # dot's only namespaced attributes are xlink:* on links and images.
        foreign = attr.startswith("{") and not attr.startswith(f"{{{_XML_NS}}}")
        if foreign or local.startswith("on") or local == "href":
            del element.attrib[attr]


def _strip_children(parent: ET.Element) -> None:
    for child in list(parent):
        local = _local_name(child.tag) if isinstance(child.tag, str) else ""
        if local in _ACTIVE_ELEMENTS or not local:
            parent.remove(child)
            continue
        _strip_attributes(child)
        _strip_children(child)
        if local == "a":
            # Keep what the link wrapped, drop the link itself.
            position = list(parent).index(child)
            parent.remove(child)
            for offset, grandchild in enumerate(list(child)):
                parent.insert(position + offset, grandchild)
