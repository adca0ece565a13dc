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
# A critical step's outline is drawn thicker, besides the word in its label.
CRITICAL_STROKE_WIDTH = 2.6


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
        "ink": INK,
        "arrowInk": ARROW_INK,
        "strokeWidth": STROKE_WIDTH,
        "fontSize": LABEL_FONT_SIZE,
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
