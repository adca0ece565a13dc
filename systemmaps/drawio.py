"""diagrams.net (draw.io) files in and out.

In: `read_drawio` reads an `<mxfile>` of one or more `<diagram>` pages (each
either a plain child `<mxGraphModel>` or compressed: base64 of raw deflate of
the URL-encoded model), a bare `<mxGraphModel>`, or an SVG exported with the
drawing embedded (its root's `content` attribute holds the mxfile). Each page
becomes a `ForeignPage`; what is not a step is listed in `dropped`.

Shapes map by their style (`key=value;` pairs plus bare names such as
`rhombus` or `ellipse`):

- decision: `rhombus`, `shape=rhombus`, `mxgraph.flowchart.decision`;
- terminus: `mxgraph.flowchart.terminator`, `start_1`/`start_2` (the
  flowchart library's start circles), `ellipse` and `doubleEllipse`, and
  rounded boxes whose corners make semicircular ends (a stadium);
- task: any other shape with a label, including the flowchart library's on-page
  and off-page references (connectors in the middle of a flow, kept so the
  arrows through them survive);
- not steps: text, swimlanes, pools, lanes and tables (their title gives the
  steps inside them a stage when it names one), groups (and unlabelled shapes
  that hold others), images, and shapes without a label.

A file we wrote ourselves (`export_drawio`) carries each step's kind and stage
as shape data, which win over the style.

Files come from anyone: the XML is parsed with defusedxml (no DTD, no entity,
nothing external), and the upload, each inflated page, all pages together, the
number of elements and the depth of nesting are capped, so a small file cannot
unfold into a large one.
"""

import base64
import binascii
import html
import math
import re
import urllib.parse
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

import defusedxml
import defusedxml.ElementTree as SafeET
from django.utils.translation import gettext as _

from hourglass.archive import ImportInvalid
from hourglass.validators import one_line
from systemmaps.document import (
    ARROW_INK,
    CRITICAL_STROKE_WIDTH,
    DECISION,
    INK,
    KINDS,
    LABEL_FONT_SIZE,
    STROKE_WIDTH,
    TASK,
    TERMINUS,
    WORK_KINDS,
    clean_label,
    look_of,
)
from systemmaps.interop import NOT_A_STEP, Dropped, ForeignPage, stage_named
from systemmaps.models import Automation
from systemmaps.schema import MAX_EDGES, MAX_NODES
from systemmaps.transfer import upload_text

# An inflated page, and all the pages of a file together.
MAX_PAGE_BYTES = 8 * 1024 * 1024
MAX_TOTAL_BYTES = 16 * 1024 * 1024
# XML tags in one file, all pages together, counted as their `<` before
# parsing (opening and closing: a cell is four to eight).
MAX_ELEMENTS = 200_000
# How deep shapes may sit inside one another (containers, groups, lanes).
MAX_DEPTH = 64
MAX_PAGES = 100

SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
_SNIFF = re.compile(rb"<mxfile\b|<mxGraphModel\b|<svg\b[^>]*\scontent\s*=", re.DOTALL)
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_LINE_TAGS = re.compile(
    r"<\s*(?:br|/?div|/?p|/?li|/?tr|/?h[1-6])\b[^>]*>", re.IGNORECASE
)
_TAG = re.compile(r"<[^>]*>")
# Characters XML 1.0 cannot hold at all, not even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_PLACEHOLDER = re.compile(r"%([A-Za-z0-9_.-]+)%")

# Shapes by style name (a bare style name or the value of `shape=`).
DECISION_SHAPES = frozenset({"rhombus", "mxgraph.flowchart.decision"})
TERMINUS_SHAPES = frozenset(
    {
        "mxgraph.flowchart.terminator",
        "mxgraph.flowchart.start_1",
        "mxgraph.flowchart.start_2",
        "ellipse",
        "doubleEllipse",
    }
)
CONTAINER_SHAPES = frozenset({"swimlane", "pool", "lane", "table", "tableRow"})
IMAGE_SHAPES = frozenset({"image"})
TEXT_SHAPES = frozenset({"text", "edgeLabel"})
# A rounded box is a stadium when its corners' radius is at least this share of
# half its shorter side (diagrams.net's arcSize is a percentage of that side).
STADIUM_ARC = 40
# diagrams.net's arcSize when the style gives none (mxConstants).
DEFAULT_ARC = 15


def looks_like_drawio(raw: bytes) -> bool:
    """Whether the start of an upload looks like a diagrams.net drawing."""
    return _SNIFF.search(bytes(raw[:1024])) is not None


def read_drawio(raw: bytes) -> list[ForeignPage]:
    """Every page of a diagrams.net file, or ImportInvalid saying why not."""
    text = upload_text(raw)
    budget = _Budget()
    root = _parse(text, budget, where=None)
    if _local(root.tag) == "svg":
        content = root.get("content") or ""
        if not content.strip():
            raise ImportInvalid(
                [_("The SVG file holds no diagrams.net drawing (no “content”).")]
            )
        root = _parse(content, budget, where=None)
    tag = _local(root.tag)
    if tag == "mxGraphModel":
        return [_read_page(root, _("Page %(number)d") % {"number": 1})]
    if tag != "mxfile":
        raise ImportInvalid(
            [
                _(
                    "The file is XML but not a diagrams.net drawing (it starts "
                    "with “%(tag)s”)."
                )
                % {"tag": tag[:40]}
            ]
        )
    diagrams = [child for child in root if _local(child.tag) == "diagram"]
    if not diagrams:
        raise ImportInvalid([_("The diagrams.net file has no pages.")])
    if len(diagrams) > MAX_PAGES:
        raise ImportInvalid(
            [
                _("The file has %(count)d pages; at most %(max)d can be read.")
                % {"count": len(diagrams), "max": MAX_PAGES}
            ]
        )
    pages = []
    for number, diagram in enumerate(diagrams, 1):
        title = one_line(diagram.get("name") or "") or _("Page %(number)d") % {
            "number": number
        }
        model = _model_of(diagram, title, budget)
        pages.append(_read_page(model, title))
    return pages


# ---------------------------------------------------------------------------
# From bytes to the model of each page
# ---------------------------------------------------------------------------


class _Budget:
    """What the file has unfolded into so far, across its pages."""

    def __init__(self) -> None:
        self.inflated = 0
        self.elements = 0


def _parse(text: str, budget: _Budget, *, where: str | None) -> ET.Element:
    """XML text as a tree: no DTD, no entity, nothing external, and no more
    elements than the file may hold."""
    budget.elements += text.count("<")
    if budget.elements > MAX_ELEMENTS:
        raise ImportInvalid(
            [
                _("The drawing has too many elements to read (at most %(max)d).")
                % {"max": MAX_ELEMENTS}
            ]
        )
    # The text is already decoded: an encoding declaration must not re-decode it.
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)
    try:
        return SafeET.fromstring(text, forbid_dtd=True)
    except defusedxml.DefusedXmlException:
        message = _(
            "The file declares a DTD or entities, which a diagrams.net file never "
            "has; it is not read, for safety."
        )
    except ET.ParseError as error:
        line, column = error.position
        message = _("The file is not valid XML (line %(line)d, column %(column)d).") % {
            "line": line,
            "column": column + 1,
        }
    if where is not None:
        message = _("Page “%(page)s”: %(message)s") % {
            "page": where,
            "message": message,
        }
    raise ImportInvalid([message])


def _model_of(diagram: ET.Element, title: str, budget: _Budget) -> ET.Element:
    """The `<mxGraphModel>` of a page, plain or compressed."""
    for child in diagram:
        if _local(child.tag) == "mxGraphModel":
            return child

    def invalid(message: str) -> ImportInvalid:
        return ImportInvalid(
            [_("Page “%(page)s”: %(message)s") % {"page": title, "message": message}]
        )

    data = "".join((diagram.text or "").split())
    if not data:
        return _fail_no_model(title)
    if data.startswith("<"):
        return _expect_model(_parse(data, budget, where=title), title)
    try:
        packed = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise invalid(_("its compressed drawing is not valid base64.")) from None
    room = min(MAX_PAGE_BYTES, MAX_TOTAL_BYTES - budget.inflated)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        inflated = inflater.decompress(packed, room + 1)
    except zlib.error:
        raise invalid(_("its compressed drawing cannot be inflated.")) from None
    if len(inflated) > room or inflater.unconsumed_tail:
        raise invalid(
            _("its drawing inflates to more than %(max)d MB, too large to read.")
            % {"max": room // (1024 * 1024) or 1}
        )
    budget.inflated += len(inflated)
    try:
        encoded = inflated.decode("ascii")
    except UnicodeDecodeError:
        # Some writers deflate the model without URL-encoding it first.
        try:
            encoded = inflated.decode("utf-8")
        except UnicodeDecodeError:
            raise invalid(_("its drawing is not UTF-8 text.")) from None
    if _BAD_PERCENT.search(encoded):
        raise invalid(_("its drawing is not URL-encoded correctly."))
    try:
        model_text = urllib.parse.unquote(encoded, errors="strict")
    except UnicodeDecodeError:
        raise invalid(_("its drawing is not UTF-8 text once URL-decoded.")) from None
    if not model_text.strip():
        return _fail_no_model(title)
    return _expect_model(_parse(model_text, budget, where=title), title)


def _expect_model(element: ET.Element, title: str) -> ET.Element:
    if _local(element.tag) != "mxGraphModel":
        return _fail_no_model(title)
    return element


def _fail_no_model(title: str) -> ET.Element:
    raise ImportInvalid(
        [_("Page “%(page)s” holds no drawing (no mxGraphModel).") % {"page": title}]
    )


def _local(tag: Any) -> str:
    """A tag without its namespace."""
    return str(tag).rsplit("}", 1)[-1] if isinstance(tag, str) else ""


# ---------------------------------------------------------------------------
# From a model to steps and arrows
# ---------------------------------------------------------------------------


class _Cell:
    """One mxCell, with the attributes of the `<object>` that wraps it."""

    __slots__ = ("id", "parent", "attrs", "cell", "style", "names", "geometry")

    def __init__(self, cell: ET.Element, wrapper: ET.Element | None) -> None:
        self.cell = cell
        self.attrs: dict[str, str] = dict(wrapper.attrib) if wrapper is not None else {}
        self.id = (wrapper if wrapper is not None else cell).get("id") or ""
        self.parent = cell.get("parent")
        self.style, self.names = parse_style(cell.get("style") or "")
        self.geometry = next(
            (child for child in cell if _local(child.tag) == "mxGeometry"), None
        )

    @property
    def is_vertex(self) -> bool:
        return self.cell.get("vertex") == "1"

    @property
    def is_edge(self) -> bool:
        return self.cell.get("edge") == "1"

    def has(self, names: Iterable[str]) -> bool:
        shape = self.style.get("shape")
        return any(name in self.names or name == shape for name in names)


def parse_style(style: str) -> tuple[dict[str, str], list[str]]:
    """A diagrams.net style as its `key=value` pairs and its bare names
    (`"rhombus;whiteSpace=wrap;"` → ({"whiteSpace": "wrap"}, ["rhombus"]))."""
    pairs: dict[str, str] = {}
    names: list[str] = []
    for part in style.split(";"):
        part = part.strip()
        if not part:
            continue
        key, equals, value = part.partition("=")
        if equals:
            pairs[key.strip()] = value.strip()
        else:
            names.append(part)
    return pairs, names


def _cells_of(model: ET.Element, title: str) -> list[_Cell]:
    root = next((child for child in model if _local(child.tag) == "root"), None)
    if root is None:
        _fail_no_model(title)
    cells: list[_Cell] = []
    for element in root:
        tag = _local(element.tag)
        if tag == "mxCell":
            cells.append(_Cell(element, None))
        else:
            # <object>, <UserObject> or any other wrapper holds its mxCell.
            inner = next((c for c in element if _local(c.tag) == "mxCell"), None)
            if inner is not None:
                cells.append(_Cell(inner, element))
    return cells


def _read_page(model: ET.Element, title: str) -> ForeignPage:
    cells = _cells_of(model, title)
    by_id: dict[str, _Cell] = {}
    for cell in cells:
        if cell.id in by_id:
            raise ImportInvalid(
                [
                    _("Page “%(page)s”: two elements have the id “%(id)s”.")
                    % {"page": title, "id": cell.id[:60]}
                ]
            )
        by_id[cell.id] = cell
    page = _Page(title, cells, by_id)
    return page.read()


class _Page:
    def __init__(self, title: str, cells: list[_Cell], by_id: dict[str, _Cell]):
        self.title = title
        self.cells = cells
        self.by_id = by_id
        self.children: dict[str, list[_Cell]] = {}
        for cell in cells:
            if cell.parent is not None:
                self.children.setdefault(cell.parent, []).append(cell)
        self.chains = {cell.id: self._chain(cell) for cell in cells}
        self.dropped: list[Dropped] = []

    def invalid(self, message: str) -> ImportInvalid:
        return ImportInvalid(
            [
                _("Page “%(page)s”: %(message)s")
                % {"page": self.title, "message": message}
            ]
        )

    def _chain(self, cell: _Cell) -> list[_Cell]:
        """The cell's ancestors that are shapes or arrows, nearest first (layers
        and the root are not): checked for cycles, missing parents and depth."""
        chain: list[_Cell] = []
        seen = {cell.id}
        parent_id = cell.parent
        while parent_id is not None:
            parent = self.by_id.get(parent_id)
            if parent is None:
                raise self.invalid(
                    _(
                        "element “%(id)s” sits in “%(parent)s”, which is not in "
                        "the page."
                    )
                    % {"id": cell.id[:60], "parent": parent_id[:60]}
                )
            if parent.id in seen:
                raise self.invalid(
                    _(
                        "element “%(id)s” is inside itself (its parents go round "
                        "in a circle)."
                    )
                    % {"id": cell.id[:60]}
                )
            seen.add(parent.id)
            if not (parent.is_vertex or parent.is_edge):
                break  # a layer: the top of the drawing
            chain.append(parent)
            if len(chain) > MAX_DEPTH:
                raise self.invalid(
                    _("element “%(id)s” is nested more than %(max)d deep.")
                    % {"id": cell.id[:60], "max": MAX_DEPTH}
                )
            parent_id = parent.parent
        return chain

    # -- labels ------------------------------------------------------------

    def raw_label(self, cell: _Cell) -> str:
        text = cell.attrs["label"] if "label" in cell.attrs else cell.cell.get("value")
        text = text or ""
        if (cell.attrs.get("placeholders") or cell.style.get("placeholders")) == "1":
            text = self._placeholders(cell, text)
        if cell.style.get("html") == "1":
            text = html_to_text(text)
        return text

    def _placeholders(self, cell: _Cell, text: str) -> str:
        def value(match: re.Match) -> str:
            name = match.group(1)
            for owner in (cell, *self.chains[cell.id]):
                if name in owner.attrs and name != "label":
                    return owner.attrs[name]
            return match.group(0)

        return _PLACEHOLDER.sub(value, text)

    def step_label(self, cell: _Cell) -> str:
        return step_text(self.raw_label(cell))

    def arrow_label(self, cell: _Cell) -> str:
        text = self.raw_label(cell)
        if not one_line(text):
            parts = [
                one_line(self.raw_label(child))
                for child in self.children.get(cell.id, [])
                if child.is_vertex
            ]
            text = " ".join(part for part in parts if part)
        return one_line(text)

    # -- positions ---------------------------------------------------------

    def number(self, cell: _Cell, name: str) -> float:
        if cell.geometry is None:
            return 0.0
        raw = cell.geometry.get(name)
        if raw is None or raw == "":
            return 0.0
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise self.invalid(
                _("element “%(id)s” has “%(value)s” as its %(name)s, not a number.")
                % {"id": cell.id[:60], "value": raw[:20], "name": name}
            )
        return value

    def top_left(self, cell: _Cell) -> tuple[float, float]:
        """The cell's top-left corner on the page: its geometry is relative to
        its parent shape's corner (or a fraction of its size, when relative)."""
        x, y = self.number(cell, "x"), self.number(cell, "y")
        chain = self.chains[cell.id]
        if chain and chain[0].is_vertex:
            parent = chain[0]
            px, py = self.top_left(parent)
            if cell.geometry is not None and cell.geometry.get("relative") == "1":
                x *= self.number(parent, "width")
                y *= self.number(parent, "height")
            x, y = x + px, y + py
        return x, y

    # -- what each shape is ------------------------------------------------

    def kind_of(self, cell: _Cell) -> str:
        own = cell.attrs.get("kind")
        if own in KINDS:
            return own
        if cell.has(DECISION_SHAPES):
            return DECISION
        if cell.has(TERMINUS_SHAPES) or self._is_stadium(cell):
            return TERMINUS
        return TASK

    def _is_stadium(self, cell: _Cell) -> bool:
        if cell.style.get("rounded") != "1":
            return False
        try:
            arc = float(cell.style.get("arcSize", DEFAULT_ARC))
        except ValueError:
            return False
        if cell.style.get("absoluteArcSize") == "1":
            # An absolute arcSize is the corner's diameter, in pixels.
            side = min(self.number(cell, "width"), self.number(cell, "height"))
            return side > 0 and arc / side * 100 >= STADIUM_ARC
        return arc >= STADIUM_ARC

    def is_container(self, cell: _Cell) -> bool:
        return cell.has(CONTAINER_SHAPES) or cell.style.get("shape", "").startswith(
            "table"
        )

    def holds_shapes(self, cell: _Cell) -> bool:
        return any(child.is_vertex for child in self.children.get(cell.id, []))

    def not_a_step(self, cell: _Cell, label: str) -> Dropped | None:
        """Why a shape is not a step, or None when it is one."""
        quoted = {"label": _short(label)}
        if cell.has(TEXT_SHAPES):
            return Dropped(
                what=_("Text “%(label)s”") % quoted,
                why=str(NOT_A_STEP["text"]),
            )
        if self.is_container(cell):
            return Dropped(
                what=_("Container “%(label)s”") % quoted if label else _("Container"),
                why=str(NOT_A_STEP["container"]),
            )
        if "group" in cell.names or (not label and self.holds_shapes(cell)):
            return Dropped(
                what=_("Group"),
                why=str(NOT_A_STEP["group"]),
            )
        if cell.has(IMAGE_SHAPES):
            return Dropped(
                what=_("Image “%(label)s”") % quoted if label else _("Image"),
                why=str(NOT_A_STEP["image"]),
            )
        if not label and cell.attrs.get("kind") not in KINDS:
            x, y = self.top_left(cell)
            return Dropped(
                what=_("Shape without text at %(x)d, %(y)d")
                % {"x": round(x), "y": round(y)},
                why=str(NOT_A_STEP["no text"]),
            )
        return None

    def stage_of(self, cell: _Cell) -> str | None:
        stage = stage_named(cell.attrs.get("stage") or "")
        if stage:
            return stage
        for ancestor in self.chains[cell.id]:
            if ancestor.is_vertex and self.is_container(ancestor):
                stage = stage_named(self.step_label(ancestor))
                if stage:
                    return stage
        return None

    def step_of(self, cell: _Cell) -> dict[str, Any]:
        """Our export's step details (its shape data: owner's email, critical
        yes/no, automation) as a "step" for the import's checks; a value another
        tool's file gives those names is taken only when it is one of ours."""
        attrs = cell.attrs
        if self.kind_of(cell) not in WORK_KINDS or not any(
            name in attrs for name in ("owner", "critical", "automation")
        ):
            return {}
        owner = one_line(attrs.get("owner") or "").strip()
        automation = attrs.get("automation")
        return {
            "step": {
                "owner": owner if "@" in owner else None,
                "critical": attrs.get("critical") == "yes",
                "automation": automation if automation in Automation.values else None,
            }
        }

    # -- the page ----------------------------------------------------------

    def read(self) -> ForeignPage:
        nodes: list[dict[str, Any]] = []
        labels: dict[str, str] = {}
        for cell in self.cells:
            if not cell.is_vertex:
                continue
            chain = self.chains[cell.id]
            if chain and chain[0].is_edge:
                continue  # an arrow's label, read with the arrow
            label = self.step_label(cell)
            labels[cell.id] = label
            reason = self.not_a_step(cell, label)
            if reason is not None:
                self.dropped.append(reason)
                continue
            x, y = self.top_left(cell)
            nodes.append(
                {
                    "id": cell.id,
                    "kind": self.kind_of(cell),
                    "label": label,
                    "x": x + self.number(cell, "width") / 2,
                    "y": y + self.number(cell, "height") / 2,
                    "stage": self.stage_of(cell),
                    "notes": cell.attrs.get("notes") or None,
                    **self.step_of(cell),
                }
            )
        steps = {node["id"]: node for node in nodes}
        edges = []
        for cell in self.cells:
            if not cell.is_edge:
                continue
            label = self.arrow_label(cell)
            ends = [
                self._step_at(cell.cell.get(end), steps) for end in ("source", "target")
            ]
            if all(end is not None for end in ends):
                edges.append(
                    {
                        "id": cell.id,
                        "source": ends[0],
                        "target": ends[1],
                        "label": label,
                    }
                )
                continue
            self.dropped.append(self._loose(cell, label, ends, labels))
        if len(nodes) > MAX_NODES or len(edges) > MAX_EDGES:
            raise self.invalid(
                _(
                    "it has %(steps)d steps and %(arrows)d arrows; a map holds at "
                    "most %(max_steps)d steps and %(max_arrows)d arrows."
                )
                % {
                    "steps": len(nodes),
                    "arrows": len(edges),
                    "max_steps": MAX_NODES,
                    "max_arrows": MAX_EDGES,
                }
            )
        return ForeignPage(
            title=self.title, nodes=nodes, edges=edges, dropped=self.dropped
        )

    def _step_at(self, cell_id: str | None, steps: Mapping[str, Any]) -> str | None:
        """The step an arrow's end is attached to: the cell itself, or the
        nearest step it sits in (a port or a label inside a shape)."""
        if cell_id is None or cell_id not in self.by_id:
            return None
        if cell_id in steps:
            return cell_id
        for ancestor in self.chains[cell_id]:
            if ancestor.id in steps:
                return ancestor.id
        return None

    def _loose(
        self,
        cell: _Cell,
        label: str,
        ends: list[str | None],
        labels: Mapping[str, str],
    ) -> Dropped:
        names = []
        for end, found in zip(("source", "target"), ends, strict=True):
            attached = cell.cell.get(end)
            if found is not None:
                names.append(_("“%(label)s”") % {"label": _short(labels[found])})
            elif attached in self.by_id and labels.get(attached):
                names.append(_("“%(label)s”") % {"label": _short(labels[attached])})
            else:
                names.append(_("nowhere"))
        what = (
            _("Arrow “%(label)s” from %(source)s to %(target)s")
            if label
            else _("Arrow from %(source)s to %(target)s")
        ) % {"label": _short(label), "source": names[0], "target": names[1]}
        if any(cell.cell.get(end) not in self.by_id for end in ("source", "target")):
            why = _("It has a loose end: it is not attached to a shape at both ends.")
        else:
            why = _(
                "One of its ends is not a step (text, a container, a group "
                "or an image)."
            )
        return Dropped(what=what, why=why)


def html_to_text(text: str) -> str:
    """An HTML label as plain text: lines where the HTML breaks them, tags
    dropped, entities decoded."""
    text = text.replace("\n", " ")
    text = _LINE_TAGS.sub("\n", text)
    text = _TAG.sub("", text)
    return html.unescape(text)


def step_text(text: str) -> str:
    """A step's label from a drawing: each line's spaces collapsed, at most
    two lines (the rest joins the second), as `clean_label` keeps it."""
    lines = [
        one_line(line) for line in clean_label(text.replace("\xa0", " ")).split("\n")
    ]
    lines = [line for line in lines if line]
    if len(lines) > 2:
        lines = [lines[0], " ".join(lines[1:])]
    return clean_label("\n".join(lines))


def _short(text: str, limit: int = 60) -> str:
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------
# Out: one page of plain XML that diagrams.net opens as the same flowchart
# ---------------------------------------------------------------------------

# The page diagrams.net shows around the drawing (A4 landscape, its default).
PAGE_WIDTH = 1169
PAGE_HEIGHT = 827
# How each kind is drawn: the editor's shapes (document.LOOKS) in diagrams.net's
# words. A terminus's arcSize of 50 (per cent of its height) makes its ends
# semicircles; a task's corner is absolute, in pixels (twice the radius).
_SHAPE_STYLES = {
    TERMINUS: "rounded=1;arcSize=50;",
    TASK: "rounded=1;absoluteArcSize=1;arcSize={diameter};",
    DECISION: "rhombus;",
}


def export_drawio(
    graph: Mapping[str, Any], steps: Mapping[str, Mapping[str, Any]] | None = None
) -> bytes:
    """The map as an uncompressed diagrams.net file of one page.

    Each step is an `<object>` whose attributes are its shape data (kind,
    stage, notes and, for tasks and decisions, the owner's email, critical
    yes/no and automation, from `steps` as `selectors.export_steps` gives
    them); labels are HTML (`html=1`), so a label's line break is a `<br>`.
    Our x and y are centres, diagrams.net's the top-left corner.
    """
    steps = steps or {}
    mxfile = ET.Element("mxfile", host="Hourglass", type="device")
    diagram = ET.SubElement(
        mxfile, "diagram", name=graph.get("name") or _("Map"), id="hourglass-map"
    )
    model = ET.SubElement(
        diagram,
        "mxGraphModel",
        grid="1",
        gridSize="10",
        guides="1",
        tooltips="1",
        connect="1",
        arrows="1",
        fold="1",
        page="1",
        pageScale="1",
        pageWidth=str(PAGE_WIDTH),
        pageHeight=str(PAGE_HEIGHT),
        math="0",
        shadow="0",
    )
    root = ET.SubElement(model, "root")
    ET.SubElement(root, "mxCell", id="0")
    ET.SubElement(root, "mxCell", id="1", parent="0")
    cell_ids = {}
    for node in graph["nodes"]:
        cell_id = cell_ids[node["id"]] = f"step-{node['id']}"
        kind = node["kind"]
        step = steps.get(node["id"]) or {}
        data = {"id": cell_id, "label": label_html(node.get("label") or "")}
        data["kind"] = kind
        if node.get("stage"):
            data["stage"] = node["stage"]
        if node.get("notes"):
            data["notes"] = _NOT_XML.sub("", node["notes"])
        if kind in WORK_KINDS:
            data["owner"] = step.get("owner") or ""
            data["critical"] = "yes" if step.get("critical") else "no"
            data["automation"] = step.get("automation") or Automation.MANUAL
        wrapper = ET.SubElement(root, "object", data)
        look = look_of(kind)
        cell = ET.SubElement(
            wrapper,
            "mxCell",
            style=_shape_style(kind, critical=bool(step.get("critical"))),
            vertex="1",
            parent="1",
        )
        ET.SubElement(
            cell,
            "mxGeometry",
            {
                "x": _number(node["x"] - look.width / 2),
                "y": _number(node["y"] - look.height / 2),
                "width": str(look.width),
                "height": str(look.height),
                "as": "geometry",
            },
        )
    for edge in graph["edges"]:
        cell = ET.SubElement(
            root,
            "mxCell",
            id=f"arrow-{edge['id']}",
            value=label_html(edge.get("label") or ""),
            style=(
                "edgeStyle=orthogonalEdgeStyle;rounded=0;html=1;endArrow=block;"
                f"endFill=1;strokeColor={ARROW_INK};strokeWidth={STROKE_WIDTH};"
                f"fontColor={INK};fontSize={LABEL_FONT_SIZE};"
                "labelBackgroundColor=#ffffff;"
            ),
            edge="1",
            parent="1",
            source=cell_ids[edge["source"]],
            target=cell_ids[edge["target"]],
        )
        ET.SubElement(cell, "mxGeometry", {"relative": "1", "as": "geometry"})
    return ET.tostring(mxfile, encoding="unicode").encode("utf-8") + b"\n"


def _shape_style(kind: str, *, critical: bool) -> str:
    look = look_of(kind)
    shape = _SHAPE_STYLES[kind].format(diameter=_number(look.radius * 2))
    width = CRITICAL_STROKE_WIDTH if critical else STROKE_WIDTH
    return (
        f"{shape}whiteSpace=wrap;html=1;fillColor={look.fill};"
        f"strokeColor={look.stroke};strokeWidth={width};fontColor={INK};"
        f"fontSize={LABEL_FONT_SIZE};"
    )


def label_html(label: str) -> str:
    """A label as diagrams.net's HTML label: the text escaped, its line break
    a `<br>` (the XML writer escapes the whole again, as the format wants)."""
    lines = _NOT_XML.sub("", label).split("\n")
    return "<br>".join(html.escape(line, quote=False) for line in lines)


def _number(value: float) -> str:
    """A coordinate to the hundredth, without trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
