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

import codecs
import dataclasses
from typing import Any

from django.utils.translation import gettext as _

from hourglass.archive import ImportInvalid
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


@dataclasses.dataclass
class ForeignPage:
    """One page of a foreign drawing, as steps and arrows.

    nodes: {"id": str, "kind": "terminus" | "task" | "decision", "label": str,
            "x": float | None, "y": float | None, "stage": str | None}
           x and y are the shape's centre in pixels (y grows downward); None
           when the format has no positions (Mermaid), then the page is laid
           out with the tidy-up.
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


# The largest file any import reads (our JSON and the other tools' files alike).
MAX_IMPORT_BYTES = 1024 * 1024


def read_text(raw: bytes | str) -> str:
    """An uploaded file as text: at most MAX_IMPORT_BYTES, UTF-8, without a
    byte order mark, not blank; or ImportInvalid saying which it is not."""
    if isinstance(raw, str):
        # Characters never outnumber bytes: skip encoding a huge text to count it.
        size = len(raw)
        if size <= MAX_IMPORT_BYTES:
            size = len(raw.encode("utf-8", "surrogatepass"))
    elif isinstance(raw, bytes | bytearray):
        size = len(raw)
    else:
        raise ImportInvalid([_("The upload must be a file.")])
    if size > MAX_IMPORT_BYTES:
        raise ImportInvalid(
            [
                _(
                    "The file is %(size)d bytes; at most %(max)d bytes (1 MB) "
                    "can be imported."
                )
                % {"size": size, "max": MAX_IMPORT_BYTES}
            ]
        )
    if isinstance(raw, bytes | bytearray):
        # A byte order mark, as some editors write, is not part of the text.
        bom = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
        try:
            text = bytes(raw[bom:]).decode("utf-8")
        except UnicodeDecodeError as error:
            raise ImportInvalid(
                [
                    _("The file is not UTF-8 text (invalid byte at position %(pos)d).")
                    % {"pos": bom + error.start}
                ]
            ) from None
    else:
        text = raw.removeprefix("\ufeff")
    if not text.strip():
        raise ImportInvalid([_("The file is empty.")])
    return text


def stage_named(text: str | None) -> str | None:
    """The stage (its value) that a container's title in another tool names:
    a stage's value or its name in any of the app's languages ("Trust",
    "Confiance", "trust"), case and surrounding spaces aside; else None."""
    wanted = " ".join(str(text or "").split()).casefold()
    if not wanted:
        return None
    for stage in Stage:
        names = [stage.value, *in_every_language(stage.label)]
        if wanted in (name.casefold() for name in names):
            return stage.value
    return None


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
