"""The graph JSON document (schema version 1): checking it and naming every problem.

    {"schema_version": 1, "name": "…",
     "nodes": [{"id", "kind", "label", "x", "y", "stage", "notes"}],
     "edges": [{"id", "source", "target", "label"}]}

`stage`, `notes` and an edge's `label` may be omitted or null. `validate_graph`
returns the clean document or every problem found, each naming the node or edge
id and the field, so the editor can point at it; nothing is written on a problem.
"""

import math
import re
from dataclasses import dataclass
from typing import Any

from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from hourglass.models import Stage
from hourglass.validators import ONE_LINE_MESSAGE, is_one_line

from .document import KINDS, SCHEMA_VERSION

MAX_NODES = 1000
MAX_EDGES = 2000
MAX_BYTES = 1024 * 1024
MAX_NAME = 200
MAX_NODE_LABEL = 200
MAX_EDGE_LABEL = 60
MAX_NOTES = 5000
# Coordinates far outside any screen are a bug or an attack, not a drawing.
MAX_COORDINATE = 1_000_000
ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
# Read once: `Stage.values` builds its list anew on every use, once per node here.
# A tuple, not a set: a hostile stage may be unhashable (a list, an object).
_STAGES = tuple(Stage.values)


@dataclass(frozen=True)
class Problem:
    message: str
    path: str
    id: str | None = None
    field: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "id": self.id,
            "field": self.field,
            "message": self.message,
        }


class GraphInvalid(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def _text(value: Any, *, limit: int, required: bool) -> tuple[str | None, str | None]:
    """(clean text, problem message) for an optional or required string field."""
    if value is None:
        return ("", None) if not required else (None, _("This field is required."))
    if not isinstance(value, str):
        return None, _("Must be text.")
    if "\x00" in value:
        return None, _("Must not contain a NUL character.")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            # A JSON escape such as "\ud800" gives half of a surrogate pair, which
            # no database can store as UTF-8.
            return None, _("contains an invalid character (a lone surrogate).")
    if len(value) > limit:
        return None, _("At most %(limit)d characters (this has %(count)d).") % {
            "limit": limit,
            "count": len(value),
        }
    return value, None


def _number(value: Any) -> tuple[float | None, str | None]:
    # bool is an int in Python; true/false are not coordinates.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None, _("Must be a number.")
    # The bound first: an integer too large for a float (1e400 written out)
    # cannot be asked whether it is finite.
    if abs(value) > MAX_COORDINATE or not math.isfinite(value):
        return None, _("Must be a finite number between -%(max)d and %(max)d.") % {
            "max": MAX_COORDINATE
        }
    return float(value), None


def _ident(value: Any) -> str | None:
    if isinstance(value, str) and ID_PATTERN.match(value):
        return value
    return None


_NODE_ID_MESSAGES = (
    _lazy("A node id must be 1 to 64 letters, digits or - _ . :"),
    _lazy("Two nodes share the id “%(id)s”."),
)
_EDGE_ID_MESSAGES = (
    _lazy("An edge id must be 1 to 64 letters, digits or - _ . :"),
    _lazy("Two edges share the id “%(id)s”."),
)


def _check_id(raw: dict, path: str, seen: set[str], problem, messages) -> str | None:
    """The valid id of a node or edge, or None after naming what is wrong with it.

    A duplicate id is reported and still returned, so its other fields are checked;
    the caller keeps only the first of a duplicate."""
    malformed, duplicate = messages
    value = raw.get("id")
    ident = _ident(value)
    if ident is None:
        shown = value[:64] if isinstance(value, str) and value else None
        problem(str(malformed), f"{path}.id", id=shown, field="id")
    elif ident in seen:
        problem(str(duplicate) % {"id": ident}, f"{path}.id", id=ident, field="id")
    return ident


def validate_graph(data: Any) -> dict[str, Any]:
    """The clean graph document, or GraphInvalid listing every problem."""
    problems: list[Problem] = []

    def problem(message: str, path: str, id: str | None = None, field=None) -> None:
        problems.append(Problem(message=message, path=path, id=id, field=field))

    if not isinstance(data, dict):
        raise GraphInvalid([Problem(_("The document must be a JSON object."), "$")])

    version = data.get("schema_version")
    if version != SCHEMA_VERSION or isinstance(version, bool):
        problem(
            _("schema_version must be %(version)d.") % {"version": SCHEMA_VERSION},
            "schema_version",
            field="schema_version",
        )
    name, error = _text(data.get("name"), limit=MAX_NAME, required=False)
    if not error:
        # The map takes this name (a save renames it): trimmed and one line,
        # like the form's.
        name = name.strip()
        if not is_one_line(name):
            error = str(ONE_LINE_MESSAGE)
    if error:
        problem(error, "name", field="name")

    # Both lists are required, even empty: a document without them is not
    # "a map with no steps" (a PUT of it would wipe the map and its details).
    for key, what in (("nodes", _("steps")), ("edges", _("arrows"))):
        if key not in data:
            problem(
                _(
                    "%(key)s is missing: send the list of the map's %(what)s "
                    "([] for none)."
                )
                % {"key": key, "what": what},
                key,
                field=key,
            )
    raw_nodes = data.get("nodes", [])
    raw_edges = data.get("edges", [])
    if not isinstance(raw_nodes, list):
        problem(_("nodes must be a list."), "nodes", field="nodes")
        raw_nodes = []
    if not isinstance(raw_edges, list):
        problem(_("edges must be a list."), "edges", field="edges")
        raw_edges = []
    if len(raw_nodes) > MAX_NODES:
        problem(
            _("A map holds at most %(max)d steps; this one has %(count)d.")
            % {"max": MAX_NODES, "count": len(raw_nodes)},
            "nodes",
            field="nodes",
        )
        raw_nodes = []
    if len(raw_edges) > MAX_EDGES:
        problem(
            _("A map holds at most %(max)d arrows; this one has %(count)d.")
            % {"max": MAX_EDGES, "count": len(raw_edges)},
            "edges",
            field="edges",
        )
        raw_edges = []

    nodes: list[dict[str, Any]] = []
    node_ids: set[str] = set()
    for index, raw in enumerate(raw_nodes):
        path = f"nodes[{index}]"
        if not isinstance(raw, dict):
            problem(_("Each node must be a JSON object."), path)
            continue
        node_id = _check_id(raw, path, node_ids, problem, _NODE_ID_MESSAGES)
        kind = raw.get("kind")
        if kind not in KINDS:
            problem(
                _("kind must be %(kinds)s.") % {"kinds": get_text_list(KINDS, _("or"))},
                f"{path}.kind",
                id=node_id,
                field="kind",
            )
        label, error = _text(raw.get("label"), limit=MAX_NODE_LABEL, required=True)
        if error:
            problem(error, f"{path}.label", id=node_id, field="label")
        notes, error = _text(raw.get("notes"), limit=MAX_NOTES, required=False)
        if error:
            problem(error, f"{path}.notes", id=node_id, field="notes")
        stage = raw.get("stage")
        if stage in (None, ""):
            stage = None
        elif stage not in _STAGES:
            problem(
                _("stage must be one of %(stages)s, or null.")
                % {"stages": ", ".join(Stage.values)},
                f"{path}.stage",
                id=node_id,
                field="stage",
            )
        coordinates = {}
        for axis in ("x", "y"):
            value, error = _number(raw.get(axis))
            if error:
                problem(error, f"{path}.{axis}", id=node_id, field=axis)
            coordinates[axis] = value
        if node_id is not None and node_id not in node_ids:
            node_ids.add(node_id)
            nodes.append(
                {
                    "id": node_id,
                    "kind": kind,
                    "label": label,
                    "x": coordinates["x"],
                    "y": coordinates["y"],
                    "stage": stage,
                    "notes": notes or None,
                }
            )

    edges: list[dict[str, Any]] = []
    edge_ids: set[str] = set()
    for index, raw in enumerate(raw_edges):
        path = f"edges[{index}]"
        if not isinstance(raw, dict):
            problem(_("Each edge must be a JSON object."), path)
            continue
        edge_id = _check_id(raw, path, edge_ids, problem, _EDGE_ID_MESSAGES)
        ends = {}
        for end in ("source", "target"):
            value = raw.get(end)
            if not isinstance(value, str) or value not in node_ids:
                problem(
                    _("%(end)s must be the id of a node of this map.") % {"end": end},
                    f"{path}.{end}",
                    id=edge_id,
                    field=end,
                )
            ends[end] = value
        label, error = _text(raw.get("label"), limit=MAX_EDGE_LABEL, required=False)
        if error:
            problem(error, f"{path}.label", id=edge_id, field="label")
        if edge_id is not None and edge_id not in edge_ids:
            edge_ids.add(edge_id)
            edges.append(
                {
                    "id": edge_id,
                    "source": ends["source"],
                    "target": ends["target"],
                    "label": label or None,
                }
            )

    if problems:
        raise GraphInvalid(problems)
    return {
        "schema_version": SCHEMA_VERSION,
        "name": name or "",
        "nodes": nodes,
        "edges": edges,
    }
