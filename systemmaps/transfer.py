"""Moving a map in and out as a JSON file (the graph document, schema v1).

An exported file holds the map's drawing and, under each task's and decision's
`"step"`, who does it and what it costs, its SOP text and checklist items (the
owner as the member's email; never runs or flagged problems). An imported file
may come from another business, another installation or a text editor: only the
graph document and those step details are read (anything else in the file, such
as database ids, is ignored), everything is checked (`validate_graph`, then each
step's values), and every node and edge gets a fresh id, so nothing in the file
can point at rows that exist here. Mapping owner emails to members is the
importing view's job: this module knows no database.
"""

import codecs
import dataclasses
import json
import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from hourglass.archive import ImportInvalid
from hourglass.models import Half, Stage
from systemmaps.document import SCHEMA_VERSION, WORK_KINDS
from systemmaps.models import STEP_DETAIL_FIELDS, STEP_SOP_FIELDS, Automation
from systemmaps.schema import (
    MAX_NOTES,
    GraphInvalid,
    Problem,
    validate_graph,
)

MAX_IMPORT_BYTES = 1024 * 1024

_NODE_KEYS = ("id", "kind", "label", "x", "y", "stage", "notes")
_EDGE_KEYS = ("id", "source", "target", "label")
_PATH = re.compile(r"^(nodes|edges)\[(\d+)\](?:\.(\w+))?$")

# The details of a step in a file, in this order, then its checklist.
STEP_KEYS = (*STEP_DETAIL_FIELDS, *STEP_SOP_FIELDS, "checklist")
# The largest figure each step column holds (its max_digits, two decimals).
NUMBER_LIMITS = {
    "minutes_per_run": Decimal("999999.99"),
    "runs_per_month": Decimal("9999999.99"),
    "hourly_cost": Decimal("99999999.99"),
}
TEXT_LIMITS = {"automation_tool": 100, "sop_why": MAX_NOTES}
MAX_EMAIL = 254
MAX_CHECKLIST_ITEMS = 200
MAX_CHECKLIST_TEXT = 500
CENT = Decimal("0.01")
# The map's own fields a file may carry beside its graph, and their lengths.
MAP_KEYS = ("half", "stages", "product", "description")
MAP_TEXT_LIMITS = {"product": 200, "description": 5000}


@dataclasses.dataclass
class ImportedMap:
    """An import's graph (fresh ids) and the details of its steps by those ids."""

    graph: dict[str, Any]
    # {node id: {"owner": email or None, "critical": …, "checklist": [text, …]}}
    steps: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    # The map's own fields the file carries (MAP_KEYS, checked), for the import
    # page to fill in; a file without them (older exports) has none.
    fields: dict[str, Any] = dataclasses.field(default_factory=dict)


def export_json(
    graph: dict[str, Any],
    steps: dict[str, dict[str, Any]] | None = None,
    *,
    fields: dict[str, Any] | None = None,
) -> bytes:
    """The graph document as a UTF-8 JSON file, keys in schema order.

    `steps` (by node id, keys of STEP_KEYS; the owner as an email) go under each
    task's and decision's "step"; without them, a node's own "step" (as a file
    read back has it) is written again. `fields` (the map's MAP_KEYS) follow
    the name, so a re-import asks for nothing again.
    """
    nodes = []
    for node in graph["nodes"]:
        document_node = {key: node.get(key) for key in _NODE_KEYS}
        step = node.get("step") if steps is None else steps.get(node.get("id"))
        if isinstance(step, dict) and node.get("kind") in WORK_KINDS:
            document_node["step"] = {key: _plain(step.get(key)) for key in STEP_KEYS}
        nodes.append(document_node)
    document = {
        "schema_version": graph.get("schema_version", SCHEMA_VERSION),
        "name": graph.get("name", ""),
        **{key: fields[key] for key in MAP_KEYS if key in (fields or {})},
        "nodes": nodes,
        "edges": [
            {key: edge.get(key) for key in _EDGE_KEYS} for edge in graph["edges"]
        ],
    }
    text = json.dumps(document, ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8")


def _plain(value: Any) -> Any:
    """Decimals as JSON numbers (whole ones without ".0"), dates as YYYY-MM-DD."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def import_json(raw: bytes | str) -> dict[str, Any]:
    """The validated graph document of an uploaded file, with fresh ids
    (n1…nN, e1…eM in file order), or ImportInvalid naming every problem."""
    return import_document(raw).graph


def import_document(raw: bytes | str) -> ImportedMap:
    """The validated graph of an uploaded file with fresh ids, and the checked
    details of its steps by those ids; or ImportInvalid naming every problem."""
    return import_data(_parse(raw))


def import_data(data: Any) -> ImportedMap:
    """`import_document` for a file already read into Python values (our JSON,
    or what a reader of another tool's format built): every check, fresh ids."""
    if not isinstance(data, dict):
        raise ImportInvalid(
            [_("The file must hold one JSON object (a map), not a list or a value.")]
        )
    document = _with_string_ids(data)
    step_problems: list[str] = []
    steps = _read_steps(document, data, step_problems)
    try:
        clean = validate_graph(document)
    except GraphInvalid as error:
        raise ImportInvalid(
            [_describe(problem, data) for problem in error.problems] + step_problems
        ) from None
    if step_problems:
        raise ImportInvalid(step_problems)
    _check_encodable(clean, steps)
    fields = _read_fields(data)
    new_ids = _new_ids(clean)
    return ImportedMap(
        graph=_renumbered(clean),
        steps={new_ids[node_id]: step for node_id, step in steps.items()},
        fields=fields,
    )


def _read_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The map fields of the file (MAP_KEYS present and not null), checked."""
    fields: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    half = data.get("half")
    if half is not None:
        if half in Half.values:
            fields["half"] = half
        else:
            problems.append(("half", _one_of(Half.values)))
    stages = data.get("stages")
    if stages is not None:
        if (
            isinstance(stages, list)
            and stages
            and all(isinstance(s, str) and s in Stage.values for s in stages)
        ):
            fields["stages"] = list(dict.fromkeys(stages))
        else:
            problems.append(("stages", _one_of(Stage.values)))
    for name, limit in MAP_TEXT_LIMITS.items():
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            problems.append((name, _("must be text.")))
        elif len(value) > limit:
            problems.append((name, _("At most %(max)d characters.") % {"max": limit}))
        elif not _encodable(value):
            problems.append((name, _("contains an invalid character.")))
        else:
            fields[name] = value.strip()
    if problems:
        raise ImportInvalid(
            [
                _("Field “%(field)s”: %(message)s")
                % {"field": name, "message": message}
                for name, message in problems
            ]
        )
    return fields


def _one_of(values: list[str]) -> str:
    return _("must be one of %(values)s.") % {"values": ", ".join(values)}


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def upload_text(raw: bytes | str) -> str:
    """An uploaded file as text, for every importer: at most MAX_IMPORT_BYTES,
    UTF-8 (a byte order mark dropped), not empty; or ImportInvalid saying which."""
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


def _parse(raw: bytes | str) -> Any:
    text = upload_text(raw)
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


def _node_where(index: int, original: Any) -> str:
    """ "Node 3 (id “call”)": a node by its position in the file and its id there."""
    where = _("Node %(number)d") % {"number": index + 1}
    if isinstance(original, str):
        shown = original if len(original) <= 40 else original[:40] + "…"
        where += " " + _("(id “%(id)s”)") % {"id": shown}
    elif original is not None:
        where += " " + _("(id %(id)s)") % {"id": json.dumps(original)[:40]}
    return where


def _read_steps(
    document: dict[str, Any], data: dict[str, Any], problems: list[str]
) -> dict[str, dict[str, Any]]:
    """The checked step details of the file's tasks and decisions, by their id in
    the file; a problem for each value that is not right (termini have none:
    their "step" is ignored, like anything else a node has that is not ours)."""
    nodes = document.get("nodes")
    if not isinstance(nodes, list):
        return {}
    steps = {}
    for index, node in enumerate(nodes):
        if not isinstance(node, dict) or node.get("kind") not in WORK_KINDS:
            continue
        raw = node.get("step")
        if raw is None:
            continue
        original = data["nodes"][index].get("id")
        where = _node_where(index, original)
        messages: list[tuple[str, str]] = []
        step = _read_step(raw, messages)
        for name, message in messages:
            problems.append(
                _("%(where)s, field “%(field)s”: %(message)s")
                % {"where": where, "field": name, "message": message}
            )
        if not messages and isinstance(node.get("id"), str):
            steps[node["id"]] = step
    return steps


def _read_step(raw: Any, messages: list[tuple[str, str]]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        messages.append(("step", _("must be an object of step details.")))
        return {}
    step: dict[str, Any] = {}

    owner = raw.get("owner")
    if owner is not None and (not isinstance(owner, str) or len(owner) > MAX_EMAIL):
        messages.append(("step.owner", _("must be a member's email address, or null.")))
    step["owner"] = owner.strip() or None if isinstance(owner, str) else None

    critical = raw.get("critical")
    if critical is not None and not isinstance(critical, bool):
        messages.append(("step.critical", _("must be true or false.")))
    step["critical"] = critical is True

    automation = raw.get("automation")
    if automation is None:
        automation = Automation.MANUAL
    elif automation not in Automation.values:
        messages.append(
            (
                "step.automation",
                _one_of(Automation.values),
            )
        )
    step["automation"] = automation

    for name, limit in TEXT_LIMITS.items():
        value = raw.get(name)
        if value is None:
            value = ""
        elif not isinstance(value, str):
            messages.append((f"step.{name}", _("must be text.")))
        elif len(value) > limit:
            messages.append(
                (f"step.{name}", _("At most %(max)d characters.") % {"max": limit})
            )
        step[name] = value.strip() if isinstance(value, str) else ""

    for name, limit in NUMBER_LIMITS.items():
        value = raw.get(name)
        step[name] = None
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            messages.append((f"step.{name}", _("must be a number, or null.")))
            continue
        # Compared before rounding: quantize fails on numbers beyond precision.
        number = Decimal(str(value))
        if number < 0:
            messages.append((f"step.{name}", _("must be 0 or more.")))
        elif number > limit:
            messages.append(
                (f"step.{name}", _("must be at most %(max)s.") % {"max": limit})
            )
        else:
            step[name] = number.quantize(CENT, rounding=ROUND_HALF_UP)

    reviewed = raw.get("sop_reviewed_on")
    step["sop_reviewed_on"] = None
    if reviewed is not None:
        try:
            if not isinstance(reviewed, str) or len(reviewed) != 10:
                raise ValueError(reviewed)
            step["sop_reviewed_on"] = date.fromisoformat(reviewed)
        except ValueError:
            messages.append(
                ("step.sop_reviewed_on", _("must be a date as YYYY-MM-DD, or null."))
            )

    checklist = raw.get("checklist")
    step["checklist"] = []
    if checklist is None:
        return step
    if not isinstance(checklist, list):
        messages.append(("step.checklist", _("must be a list of texts.")))
        return step
    if len(checklist) > MAX_CHECKLIST_ITEMS:
        messages.append(
            (
                "step.checklist",
                _("At most %(max)d items.") % {"max": MAX_CHECKLIST_ITEMS},
            )
        )
        return step
    for number, item in enumerate(checklist, start=1):
        text = item.strip() if isinstance(item, str) else ""
        if not text or len(text) > MAX_CHECKLIST_TEXT:
            messages.append(
                (
                    "step.checklist",
                    _("item %(number)d must be text of 1 to %(max)d characters.")
                    % {"number": number, "max": MAX_CHECKLIST_TEXT},
                )
            )
        else:
            step["checklist"].append(text)
    return step


def _check_encodable(
    graph: dict[str, Any], steps: dict[str, dict[str, Any]] | None = None
) -> None:
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
    steps = steps or {}
    for index, node in enumerate(graph["nodes"]):
        step = steps.get(node["id"])
        if step is None:
            continue
        texts = [
            ("step.owner", step["owner"]),
            *((f"step.{name}", step[name]) for name in TEXT_LIMITS),
            *(("step.checklist", text) for text in step["checklist"]),
        ]
        for name, text in texts:
            check(
                text,
                _("Node %(number)d (id “%(id)s”), field “%(field)s”")
                % {"number": index + 1, "id": node["id"], "field": name},
            )
    if problems:
        raise ImportInvalid(problems)


def _new_ids(graph: dict[str, Any]) -> dict[str, str]:
    return {node["id"]: f"n{index}" for index, node in enumerate(graph["nodes"], 1)}


def _renumbered(graph: dict[str, Any]) -> dict[str, Any]:
    new_ids = _new_ids(graph)
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
