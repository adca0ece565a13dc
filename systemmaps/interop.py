"""Maps drawn in other tools: what every reader of a foreign format returns.

A reader (`drawio.read_drawio`, `mermaid.read_mermaid`, `lucid.read_lucid_csv`)
turns a file into one `ForeignPage` per page of the drawing, or raises
`ImportInvalid` (from `hourglass.archive`) with translated messages when the
file cannot be read at all. A page keeps what maps onto our flowchart (steps
and arrows, with the ids the other tool gave them) and lists every element it
left out, with the reason, so the import page can show them before anything is
created. `page_document` turns a page into a graph document that goes through
the same checks as our own JSON file (`transfer.import_data`).
"""

import dataclasses
import functools
from typing import Any

from django.utils.translation import gettext_lazy as _lazy

from hourglass.languages import in_every_language
from hourglass.models import Stage
from systemmaps.document import DECISION, SCHEMA_VERSION
from systemmaps.layout import tidy_positions
from systemmaps.schema import MAX_EDGE_LABEL, MAX_NODE_LABEL


@dataclasses.dataclass
class Dropped:
    """An element of the file that is not part of the map."""

    # The element as the user knows it in the other tool, e.g. 'Text “Legend”'
    # or 'Arrow “yes” from “Paid?”' (translated).
    what: str
    # Why it was left out, one translated sentence.
    why: str


# Why an element of another tool's drawing is not a step, whichever tool drew it
# (`Dropped.why`, as str(NOT_A_STEP[...])).
NOT_A_STEP = {
    "text": _lazy("Free text is not a step."),
    "container": _lazy(
        "Swimlanes, pools, lanes and tables hold steps but are not steps; the "
        "steps inside them are read."
    ),
    "group": _lazy("A group only holds other shapes; the shapes in it are read."),
    "image": _lazy("Pictures are not steps."),
    "no text": _lazy("A shape without text is not a step."),
}


@dataclasses.dataclass
class ForeignPage:
    """One page of a foreign drawing, as steps and arrows.

    nodes: {"id": str, "kind": "terminus" | "task" | "decision", "label": str,
            "x": float | None, "y": float | None, "stage": str | None}
           x and y are the shape's centre in pixels (y grows downward); None
           when the format has no positions (Mermaid), then the page is laid
           out with the tidy-up. A reader may add "step": the step details of
           a task or decision in the shape of a JSON file's (owner's email,
           critical, automation), which the import checks as it checks those.
    edges: {"id": str, "source": node id, "target": node id, "label": str}
    """

    title: str
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    dropped: list[Dropped] = dataclasses.field(default_factory=list)
    # Remarks that are not a dropped element ("3 style lines were ignored").
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return graph_counts(self.nodes, self.edges)


def graph_counts(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> dict:
    """What an import's summary counts: steps (every shape, start and stop
    too), the decisions among them, and arrows."""
    kinds = [node["kind"] for node in nodes]
    return {
        "steps": len(kinds),
        "decisions": kinds.count(DECISION),
        "arrows": len(edges),
    }


def page_document(page: ForeignPage, *, name: str = "") -> dict[str, Any]:
    """The page as a schema-1 graph document, positioned, for `import_data`.

    Labels longer than the schema allows are cut (the other tools allow any
    length); a page without positions is laid out left to right. Ids become
    n1…, e1… (another tool's ids need not fit our id pattern).
    """
    ids = {node["id"]: f"n{index}" for index, node in enumerate(page.nodes, 1)}
    positions = {}
    if any(node.get("x") is None or node.get("y") is None for node in page.nodes):
        positions = tidy_positions(page.nodes, page.edges)
    nodes = []
    for node in page.nodes:
        where = positions.get(node["id"], node)
        nodes.append(
            {
                "id": ids[node["id"]],
                "kind": node["kind"],
                "label": _cut(node.get("label") or "", MAX_NODE_LABEL),
                "x": round(float(where["x"]), 2),
                "y": round(float(where["y"]), 2),
                "stage": node.get("stage"),
                "notes": node.get("notes"),
                # Step details a reader found (our own .drawio export's shape
                # data), checked by the import as a JSON file's are.
                **({"step": node["step"]} if node.get("step") else {}),
            }
        )
    edges = [
        {
            "id": f"e{index}",
            "source": ids.get(edge["source"], edge["source"]),
            "target": ids.get(edge["target"], edge["target"]),
            "label": _cut(edge.get("label") or "", MAX_EDGE_LABEL) or None,
        }
        for index, edge in enumerate(page.edges, 1)
    ]
    return {
        "schema_version": SCHEMA_VERSION,
        "name": name or page.title,
        "nodes": nodes,
        "edges": edges,
    }


def _cut(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def stage_named(text: str) -> str | None:
    """The stage a title names (a swimlane's, a subgraph's): the stage's value
    or its name in any of the app's languages, ignoring case ("Buy", "achat",
    "KUPNO"); None when it names none."""
    return _stage_names().get(" ".join(str(text).split()).casefold())


@functools.cache
def _stage_names() -> dict[str, str]:
    names = {}
    for stage in Stage:
        for words in in_every_language(stage.label):
            names.setdefault(words.casefold(), stage.value)
    names.update({stage.value: stage.value for stage in Stage})
    return names
