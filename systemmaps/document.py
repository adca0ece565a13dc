"""The map document and its vocabulary, in one place: what kinds of step there
are, how each kind looks, how far apart new steps go, one index over a
document, and how a step is named in a message. Pure: no database.

The document is the graph JSON (schema v1, see `schema.py`):

    nodes: [{"id", "kind": "terminus"|"task"|"decision", "label", "x", "y",
             "stage", "notes"}]
    edges: [{"id", "source", "target", "label"}]

`x` and `y` are the centre of a shape, in canvas pixels. A terminus is a *start*
when arrows only leave it and a *stop* when arrows only arrive; tasks and
decisions are the steps people do in between (`WORK_KINDS`). Lint, outline,
walk, gaps, layout, schema, the built-in templates, the JSON transfer, the
rollup's step pairs and the editor (through `editor_config`) all read this.
"""

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

SCHEMA_VERSION = 1

TERMINUS = "terminus"
TASK = "task"
DECISION = "decision"
KINDS = (TERMINUS, TASK, DECISION)
# Kinds of step that people do: termini only mark where a system starts and stops.
WORK_KINDS = (TASK, DECISION)

# The role of a node in the flow: a terminus is a start or a stop by its arrows.
START = "start"
STOP = "stop"
# A terminus with arrows both ways, or none: the lint flags it.
START_OR_STOP = "start-or-stop"

# A step's role in words, so no page relies on a shape or a colour alone.
ROLE_WORDS = {
    START: gettext_lazy("Start"),
    STOP: gettext_lazy("Stop"),
    START_OR_STOP: gettext_lazy("Start or stop"),
    TASK: gettext_lazy("Task"),
    DECISION: gettext_lazy("Decision"),
}


# ---------------------------------------------------------------------------
# One sign per state of a step, on every page, drawing and export
# ---------------------------------------------------------------------------

# The states a step shows with a sign. The automation ones are the values of
# `models.Automation`. A sign is never alone: the words go beside it (and the
# sign is aria-hidden), through the {% sign %} tag or `step_badges`.
CRITICAL = "critical"
AUTOMATED = "automated"
COULD_BE_AUTOMATED = "could"
MANUAL = "manual"
PROBLEM = "problem"
SIGNS = {
    CRITICAL: "★",
    AUTOMATED: "⚙",
    COULD_BE_AUTOMATED: "⚡",
    # By hand (not the ✎ that pages use for "write" or "changes").
    MANUAL: "✍",
    # A problem someone flagged at a step: not the same as a critical step.
    PROBLEM: "⚑",
}
SIGN_WORDS = {
    CRITICAL: gettext_lazy("Critical"),
    AUTOMATED: gettext_lazy("Automated"),
    COULD_BE_AUTOMATED: gettext_lazy("Could be automated"),
    MANUAL: gettext_lazy("Manual"),
    PROBLEM: gettext_lazy("Problem"),
}


# ---------------------------------------------------------------------------
# How the shapes look (the editor, the palette and the exports)
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Look:
    """A kind's shape on the canvas, in pixels, and its colours."""

    width: int
    height: int
    fill: str
    stroke: str
    # Corner radius of the rectangle (a terminus's ends are half its height);
    # a decision is a diamond and has none.
    radius: float
    # Room for the label inside the shape, and the lines it may take.
    label_width: int
    label_lines: int
    # Characters per line when a drawing wraps the label by count (Graphviz):
    # diamonds grow with the square of their label, so decisions wrap narrower.
    wrap: int


LOOKS: dict[str, Look] = {
    TERMINUS: Look(140, 44, "#dff3e8", "#1c8a6e", 22, 124, 2, 24),
    TASK: Look(140, 48, "#ffffff", "#3e4c59", 2, 124, 2, 24),
    DECISION: Look(132, 80, "#fff1cc", "#b7791f", 0, 88, 3, 16),
}
INK = "#1f2933"
ARROW_INK = "#52606d"
STROKE_WIDTH = 1.5
# The size of a label's text, in pixels (points in the exports): `label_width`
# and `label_lines` are counted at this size.
LABEL_FONT_SIZE = 12
# The canvas's typeface (hourglass.css --font): the editor measures labels in it.
LABEL_FONT = (
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
)
# A critical step's outline is drawn thicker, besides the word in its label.
CRITICAL_STROKE_WIDTH = 2.6


# A step's badges on the canvas (the editor and the edit page's first drawing):
# where they sit, inset from the corners of the shape's box (a diamond's corners
# are empty, so its badges sit on its sides; termini have none), their size, and
# the colours of each (fill, stroke, ink).
BADGE_INSET: dict[str, tuple[int, int]] = {TASK: (0, 0), DECISION: (30, 16)}
BADGE_RADIUS = 9
BADGE_LOOKS: dict[str, dict[str, str]] = {
    CRITICAL: {"fill": "#c53030", "stroke": "#ffffff", "ink": "#ffffff"},
    "owner": {"fill": "#2854c5", "stroke": "#ffffff", "ink": "#ffffff"},
    AUTOMATED: {"fill": "#e3f4ea", "stroke": "#1c8a6e", "ink": "#14593f"},
    COULD_BE_AUTOMATED: {"fill": "#fff1cc", "stroke": "#b7791f", "ink": "#7a4d0b"},
}


def badge_spots(kind: str) -> dict[str, tuple[float, float]] | None:
    """Where each badge of a kind goes, in the shape's own coordinates; None
    for a kind without badges."""
    inset = BADGE_INSET.get(kind)
    if inset is None:
        return None
    look, (dx, dy) = LOOKS[kind], inset
    return {
        "critical": (dx, dy),
        "owner": (look.width - dx, dy),
        "automation": (look.width - dx, look.height - dy),
    }


def outline_point(
    box: "Box", start: tuple[float, float], diamond: bool
) -> tuple[float, float] | None:
    """Where an arrow from `start` towards the centre of `box` meets its outline,
    from the geometry alone; None when the arrow starts at the centre or the box
    is flat. Diamonds are exact; the rounded ends of a terminus are met where
    the arrow usually meets them, at the middle of the side. The editor's
    shapes.outlinePoint is the same rule (tests/js/label_wraps.json)."""
    cx, cy = box.x + box.width / 2, box.y + box.height / 2
    ux, uy = start[0] - cx, start[1] - cy
    hw, hh = box.width / 2, box.height / 2
    if (ux == 0 and uy == 0) or not hw or not hh:
        return None
    if diamond:
        reach = abs(ux) / hw + abs(uy) / hh
    else:
        reach = max(abs(ux) / hw, abs(uy) / hh)
    t = 1 / reach
    return cx + ux * t, cy + uy * t


def wrap_label(label: str, width: float, lines: int, measure) -> list[str]:
    """A step's label broken into lines of at most `width` pixels as `measure`
    (text -> pixels) counts them: by words, a word longer than a line cut where
    it must be, at most `lines` lines with an ellipsis on the last when there is
    more; newlines in the label are kept. The editor's labels.wrapLabel is the
    same rule (tests/js/label_wraps.json holds cases both answer alike)."""
    room = width - 4  # canvas and SVG measure a little differently
    out: list[str] = []
    for paragraph in str(label).split("\n"):
        line = ""
        for word in paragraph.split():
            rest = word
            while measure(rest) > room:
                cut = len(rest) - 1
                while cut > 1 and measure(rest[:cut]) > room:
                    cut -= 1
                if line:
                    out.append(line)
                out.append(rest[:cut])
                line = ""
                rest = rest[cut:]
            candidate = f"{line} {rest}" if line else rest
            if measure(candidate) <= room:
                line = candidate
            else:
                out.append(line)
                line = rest
        out.append(line)
    if len(out) > lines:
        last = out[lines - 1]
        while last and measure(f"{last}…") > room:
            last = last[:-1]
        out[lines - 1 :] = [f"{last.rstrip()}…"]
    return out


def look_of(kind: str | None) -> Look:
    """The look of a kind; an unknown kind is drawn as a task."""
    return LOOKS.get(kind or "", LOOKS[TASK])


# ---------------------------------------------------------------------------
# Spacing of new steps (templates, the wizard, the outline and the editor)
# ---------------------------------------------------------------------------

# A new step goes one column to the right of the one it follows…
COLUMN = 220.0
# …and a new branch one row below the decision's other branches.
ROW = 120.0
# The editor's grid, and how far down it looks for a free spot for a new step.
GRID = 10
FREE_SPOT_STEP = 90
# The room a new step keeps clear around it, so it does not touch its neighbours.
FREE_SPOT_MARGIN = 16
# How often a new step looks one step further for a free spot before it settles:
# from the middle of the view (the palette, three grid cells a time), and after
# the step it follows ("what happens next?", `FREE_SPOT_STEP` down a time).
CENTRE_TRIES = 40
NEXT_TRIES = 60


# The one "next free spot" rule. The editor's JavaScript (editor/commands.js)
# runs the same algorithm on the same numbers (given through `editor_config`);
# tests/js/free_spots.json, written and checked by test_document.py, holds
# cases both must answer alike.


@dataclass(frozen=True, slots=True)
class Box:
    """A shape's rectangle on the canvas: top-left corner and size, in pixels."""

    x: float
    y: float
    width: float
    height: float


def box_of(node: Mapping[str, Any]) -> Box:
    """The rectangle a node's shape covers (its `x` and `y` are the centre)."""
    look = look_of(node.get("kind"))
    return Box(
        node["x"] - look.width / 2, node["y"] - look.height / 2, look.width, look.height
    )


def overlaps(a: Box, b: Box) -> bool:
    """Whether two boxes share area; touching is not overlapping."""
    return not (
        b.x + b.width <= a.x
        or b.y + b.height <= a.y
        or b.x >= a.x + a.width
        or b.y >= a.y + a.height
    )


def spot_is_free(
    boxes: Sequence[Box], cx: float, cy: float, width: float, height: float, margin
) -> bool:
    """Whether a shape of that size centred on (cx, cy), with `margin` all round,
    is clear of every box."""
    room = Box(
        cx - width / 2 - margin,
        cy - height / 2 - margin,
        width + 2 * margin,
        height + 2 * margin,
    )
    return not any(overlaps(box, room) for box in boxes)


def free_spot(
    boxes: Sequence[Box],
    start: tuple[float, float],
    step: tuple[float, float],
    width: float,
    height: float,
    margin: float,
    tries: int,
) -> tuple[float, float]:
    """The first free centre from `start` on, `step` by `step`, after at most
    `tries` steps (the last one taken whether free or not)."""
    x, y = start
    for _try in range(tries):
        if spot_is_free(boxes, x, y, width, height, margin):
            break
        x, y = x + step[0], y + step[1]
    return x, y


def next_free_spot(
    nodes: Iterable[Mapping[str, Any]], start: tuple[float, float], kind: str = TASK
) -> tuple[float, float]:
    """Where a new step of `kind` that would go at `start` (one column after the
    step it follows) goes instead: the first spot down from there that keeps
    `FREE_SPOT_MARGIN` clear of every shape — the editor's "what happens next?"."""
    look = look_of(kind)
    return free_spot(
        [box_of(n) for n in nodes],
        start,
        (0, FREE_SPOT_STEP),
        look.width,
        look.height,
        FREE_SPOT_MARGIN,
        NEXT_TRIES,
    )


def editor_config() -> dict[str, Any]:
    """The vocabulary the editor's JavaScript needs, as JSON-ready data."""
    return {
        "schemaVersion": SCHEMA_VERSION,
        "kinds": list(KINDS),
        "workKinds": list(WORK_KINDS),
        "shapes": {
            kind: {
                "width": look.width,
                "height": look.height,
                "fill": look.fill,
                "stroke": look.stroke,
                "radius": look.radius,
                "labelWidth": look.label_width,
                "labelLines": look.label_lines,
            }
            for kind, look in LOOKS.items()
        },
        "signs": dict(SIGNS),
        "badges": {
            "inset": {kind: list(inset) for kind, inset in BADGE_INSET.items()},
            "radius": BADGE_RADIUS,
            "looks": {name: dict(look) for name, look in BADGE_LOOKS.items()},
        },
        "ink": INK,
        "arrowInk": ARROW_INK,
        "strokeWidth": STROKE_WIDTH,
        "fontSize": LABEL_FONT_SIZE,
        "font": LABEL_FONT,
        "spacing": {
            "column": COLUMN,
            "row": ROW,
            "grid": GRID,
            "freeSpotStep": FREE_SPOT_STEP,
            "freeSpotMargin": FREE_SPOT_MARGIN,
            "centreTries": CENTRE_TRIES,
            "nextTries": NEXT_TRIES,
        },
    }


def palette() -> list[dict[str, Any]]:
    """The editor's palette: each kind with its look and words, in kind order."""
    words = {
        TERMINUS: gettext_lazy("Start / stop"),
        TASK: gettext_lazy("Task"),
        DECISION: gettext_lazy("Decision"),
    }
    return [
        {
            "kind": kind,
            "look": LOOKS[kind],
            "label": words[kind],
            # The palette's icon is a 48 × 24 miniature of the shape.
            "diamond": kind == DECISION,
            "icon_radius": min(LOOKS[kind].radius, 11),
        }
        for kind in KINDS
    ]


# ---------------------------------------------------------------------------
# One index over a document
# ---------------------------------------------------------------------------

NodeData = Mapping[str, Any]
EdgeData = Mapping[str, Any]


class Index:
    """Lookups over a map's nodes and arrows, shared by every reader.

    Ids may be any hashable (the document's ids, or database keys in the
    rollup). Arrows to or from unknown ids are kept in `edges` but indexed
    only at the ends that exist. `successors` lists each node's ways on once
    (two arrows to the same step are one way on), in the order of the nodes,
    so a search walks the same way whatever order the arrows arrive in.
    """

    def __init__(self, nodes: Iterable[NodeData], edges: Iterable[EdgeData]):
        self.nodes: list[NodeData] = list(nodes)
        self.edges: list[EdgeData] = list(edges)
        self.by_id: dict[Hashable, NodeData] = {n["id"]: n for n in self.nodes}
        self.position = {node_id: i for i, node_id in enumerate(self.by_id)}
        self.out_edges: dict[Hashable, list[EdgeData]] = defaultdict(list)
        self.in_edges: dict[Hashable, list[EdgeData]] = defaultdict(list)
        for edge in self.edges:
            self.out_edges[edge["source"]].append(edge)
            self.in_edges[edge["target"]].append(edge)
        last = len(self.position)
        self.successors: dict[Hashable, list[Hashable]] = {
            node_id: sorted(
                dict.fromkeys(e["target"] for e in self.out_edges.get(node_id, ())),
                key=lambda other: self.position.get(other, last),
            )
            for node_id in self.by_id
        }
        self.starts: list[Hashable] = []
        self.stops: list[Hashable] = []
        for node in self.nodes:
            role = self.role(node["id"])
            if role == START:
                self.starts.append(node["id"])
            elif role == STOP:
                self.stops.append(node["id"])

    def role(self, node_id: Hashable) -> str:
        """start, stop, start-or-stop, task or decision."""
        kind = self.by_id[node_id]["kind"]
        if kind != TERMINUS:
            return kind
        has_in, has_out = (
            bool(self.in_edges.get(node_id)),
            bool(self.out_edges.get(node_id)),
        )
        if has_out and not has_in:
            return START
        if has_in and not has_out:
            return STOP
        return START_OR_STOP

    def is_isolated(self, node_id: Hashable) -> bool:
        return not self.in_edges.get(node_id) and not self.out_edges.get(node_id)

    def node_order(self, node_ids: Iterable[Hashable]) -> tuple[Hashable, ...]:
        """The ids in the order of the nodes."""
        return tuple(sorted(node_ids, key=self.position.__getitem__))


def starts_and_stops(
    nodes: Sequence[NodeData], edges: Sequence[EdgeData]
) -> tuple[list[Hashable], list[Hashable]]:
    """A start is a terminus with arrows out and none in; a stop is a terminus
    with arrows in and none out. Both in the order of the nodes."""
    index = Index(nodes, edges)
    return index.starts, index.stops


# ---------------------------------------------------------------------------
# A step's name in messages
# ---------------------------------------------------------------------------


def step_name(node: NodeData) -> str:
    """The step's label in quotes, or what kind of step it is when it has none
    ("an unnamed task"), for the middle of a sentence."""
    label = (node.get("label") or "").strip()
    if label:
        # Translatable, so a language can use its own quotation marks.
        return _("“%(label)s”") % {"label": label}
    return {
        TERMINUS: _("an unnamed start or stop"),
        TASK: _("an unnamed task"),
        DECISION: _("an unnamed decision"),
    }.get(node.get("kind"), _("an unnamed step"))


def step_title(node: NodeData) -> str:
    """The step's label, or what kind of step it is when it has none ("Unnamed
    task"), for a heading or a list."""
    label = (node.get("label") or "").strip()
    if label:
        return label
    return {
        TERMINUS: _("Unnamed start or stop"),
        TASK: _("Unnamed task"),
        DECISION: _("Unnamed decision"),
    }.get(node.get("kind"), _("Unnamed step"))


def clean_label(text: str) -> str:
    """A step's label as typed into a text box: it may hold line breaks (a
    label in two lines, "Bake and decorate" over "(day before)"), kept as
    ``\\n`` whatever the browser sent (a form sends ``\\r\\n``), without the
    spaces at the ends of its lines or empty lines."""
    lines = (line.strip() for line in str(text).splitlines())
    return "\n".join(line for line in lines if line)


def capfirst(text: str) -> str:
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------------------
# Building documents
# ---------------------------------------------------------------------------


def empty_graph(name: str = "") -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "name": name, "nodes": [], "edges": []}


def spread_stages(count: int, stages: Sequence[str]) -> list[str | None]:
    """The stage of each of `count` steps in a row that spans `stages` (in the
    hourglass's order): the row cut into as many runs as there are stages, as
    even as can be, longer runs first (7 steps over like, trust, try: 3 like,
    2 trust, 2 try; fewer steps than stages: one each of the first). No stages:
    None."""
    if not stages:
        return [None] * count
    return [stages[index * len(stages) // count] for index in range(count)]


def chain_graph(
    name: str, steps: Sequence[tuple[str, str]], *, stages: Sequence[str] = ()
) -> dict[str, Any]:
    """A map of `steps` ((kind, label) pairs) in a row, one column apart, each
    joined to the next by an arrow, its steps given `stages` in order
    (`spread_stages`): the new-map wizard's start, tasks and stop."""
    step_stages = spread_stages(len(steps), stages)
    nodes = [
        {
            "id": f"n{i}",
            "kind": kind,
            "label": label.strip(),
            "x": COLUMN * (i - 1),
            "y": 0.0,
            "stage": step_stages[i - 1],
            "notes": None,
        }
        for i, (kind, label) in enumerate(steps, start=1)
    ]
    edges = [
        {"id": f"e{i}", "source": f"n{i}", "target": f"n{i + 1}", "label": None}
        for i in range(1, len(nodes))
    ]
    return {
        "schema_version": SCHEMA_VERSION,
        "name": name,
        "nodes": nodes,
        "edges": edges,
    }
