"""Moving a map in and out as a JSON file (the graph document, schema v1).

An exported file holds the map's drawing only. An imported file may come from
another business, another installation or a text editor: only the graph document
is read (anything else in the file, such as database ids, is ignored), it is
checked with `validate_graph`, and every node and edge gets a fresh id, so
nothing in the file can point at rows that exist here.
"""

import codecs
import json
import re
from typing import Any

from django.utils.translation import gettext as _

from systemmaps.schema import SCHEMA_VERSION, GraphInvalid, Problem, validate_graph

MAX_IMPORT_BYTES = 1024 * 1024

_NODE_KEYS = ("id", "kind", "label", "x", "y", "stage", "notes")
_EDGE_KEYS = ("id", "source", "target", "label")
_PATH = re.compile(r"^(nodes|edges)\[(\d+)\](?:\.(\w+))?$")


class ImportInvalid(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def export_json(graph: dict[str, Any]) -> bytes:
    """The graph document as a UTF-8 JSON file, keys in schema order."""
    document = {
        "schema_version": graph.get("schema_version", SCHEMA_VERSION),
        "name": graph.get("name", ""),
        "nodes": [
            {key: node.get(key) for key in _NODE_KEYS} for node in graph["nodes"]
        ],
        "edges": [
            {key: edge.get(key) for key in _EDGE_KEYS} for edge in graph["edges"]
        ],
    }
    text = json.dumps(document, ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")


def import_json(raw: bytes | str) -> dict[str, Any]:
    """The validated graph document of an uploaded file, with fresh ids
    (n1…nN, e1…eM in file order), or ImportInvalid naming every problem."""
    data = _parse(raw)
    if not isinstance(data, dict):
        raise ImportInvalid(
            [_("The file must hold one JSON object (a map), not a list or a value.")]
        )
    document = _with_string_ids(data)
    try:
        clean = validate_graph(document)
    except GraphInvalid as error:
        raise ImportInvalid(
            [_describe(problem, data) for problem in error.problems]
        ) from None
    _check_encodable(clean)
    return _renumbered(clean)


def _parse(raw: bytes | str) -> Any:
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
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise ImportInvalid(
            [
                _(
                    "The file is not valid JSON: %(error)s (line %(line)d, column "
                    "%(column)d)."
                )
                % {"error": error.msg, "line": error.lineno, "column": error.colno}
            ]
        ) from None
    except (ValueError, RecursionError):
        # NaN/Infinity, integers too long to read, nesting too deep to follow.
        raise ImportInvalid(
            [_("The file is not valid JSON for a map: a value cannot be read.")]
        ) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def _with_string_ids(data: dict[str, Any]) -> dict[str, Any]:
    """A shallow copy in which integer ids (common in hand-written files) are
    strings, and edges without an id get one, so validation can follow them."""
    document = dict(data)
    nodes = data.get("nodes")
    if isinstance(nodes, list):
        document["nodes"] = [
            {**node, "id": _as_id(node.get("id"))} if isinstance(node, dict) else node
            for node in nodes
        ]
    edges = data.get("edges")
    if isinstance(edges, list):
        taken = {
            _as_id(edge.get("id"))
            for edge in edges
            if isinstance(edge, dict) and isinstance(_as_id(edge.get("id")), str)
        }
        converted = []
        for index, edge in enumerate(edges):
            if not isinstance(edge, dict):
                converted.append(edge)
                continue
            edge_id = _as_id(edge.get("id"))
            if edge_id is None:
                edge_id = _free_id(f"edge-{index + 1}", taken)
                taken.add(edge_id)
            converted.append(
                {
                    **edge,
                    "id": edge_id,
                    "source": _as_id(edge.get("source")),
                    "target": _as_id(edge.get("target")),
                }
            )
        document["edges"] = converted
    return document


def _as_id(value: Any) -> Any:
    # bool is an int in Python; true is not an id.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _free_id(wanted: str, taken: set[Any]) -> str:
    candidate, suffix = wanted, 1
    while candidate in taken:
        suffix += 1
        candidate = f"{wanted}.{suffix}"
    return candidate


def _describe(problem: Problem, data: dict[str, Any]) -> str:
    """A problem as one sentence naming the node or edge (position in the file
    and its id as written there) and the field."""
    match = _PATH.match(problem.path)
    if match is None:
        # The other document-level messages already say what they are about.
        if problem.field == "name":
            return _("Field “name”: %(message)s") % {"message": problem.message}
        return problem.message
    collection, index, field = match.group(1), int(match.group(2)), match.group(3)
    item = data[collection][index]
    original = item.get("id") if isinstance(item, dict) else None
    if collection == "nodes":
        where = _("Node %(number)d") % {"number": index + 1}
    else:
        where = _("Arrow %(number)d") % {"number": index + 1}
    if isinstance(original, str):
        shown = original if len(original) <= 40 else original[:40] + "…"
        where += " " + _("(id “%(id)s”)") % {"id": shown}
    elif original is not None:
        where += " " + _("(id %(id)s)") % {"id": json.dumps(original)[:40]}
    message = problem.message
    if field in ("source", "target") and isinstance(item, dict):
        message += " " + _("(the file says %(value)s)") % {
            "value": json.dumps(item.get(field), ensure_ascii=False)[:60]
        }
    if field:
        return _("%(where)s, field “%(field)s”: %(message)s") % {
            "where": where,
            "field": field,
            "message": message,
        }
    return _("%(where)s: %(message)s") % {"where": where, "message": message}


def _check_encodable(graph: dict[str, Any]) -> None:
    """JSON escapes can carry half of a surrogate pair, which no database or file
    can store as UTF-8; name the text that holds one."""
    problems = []

    def check(value: str | None, where: str) -> None:
        try:
            (value or "").encode("utf-8")
        except UnicodeEncodeError:
            problems.append(
                _("%(where)s: contains an invalid character (a lone surrogate).")
                % {"where": where}
            )

    check(graph["name"], _("Field “name”"))
    for index, node in enumerate(graph["nodes"]):
        for field in ("label", "notes"):
            check(
                node[field],
                _("Node %(number)d (id “%(id)s”), field “%(field)s”")
                % {"number": index + 1, "id": node["id"], "field": field},
            )
    for index, edge in enumerate(graph["edges"]):
        check(
            edge["label"],
            _("Arrow %(number)d (id “%(id)s”), field “label”")
            % {"number": index + 1, "id": edge["id"]},
        )
    if problems:
        raise ImportInvalid(problems)


def _renumbered(graph: dict[str, Any]) -> dict[str, Any]:
    new_ids = {node["id"]: f"n{index}" for index, node in enumerate(graph["nodes"], 1)}
    return {
        "schema_version": graph["schema_version"],
        "name": graph["name"],
        "nodes": [{**node, "id": new_ids[node["id"]]} for node in graph["nodes"]],
        "edges": [
            {
                **edge,
                "id": f"e{index}",
                "source": new_ids[edge["source"]],
                "target": new_ids[edge["target"]],
            }
            for index, edge in enumerate(graph["edges"], 1)
        ],
    }
