"""Maps drawn in Lucidchart, from its "Export → CSV of shape data" file.

Each row after the header is one element of the document: a `Document` row,
one `Page` row per page (its title in Text Area 1), one row per shape (Name
is the shape, e.g. "Process" or "Decision"; Page ID its page; Contained By
the containers it sits in) and one `Line` row per line (Line Source and Line
Destination are the ids of the shapes it joins, Source Arrow and Destination
Arrow its ends, Text Area 1 its text). The file has no positions: each page
is laid out by the import.

A step's label is its Text Area 1 (or the first text area with text); the
shape's further text areas become the step's notes, so nothing typed is lost.
Text, swim lanes, pools, images and groups are not steps: they are listed as
dropped, and a lane's or pool's title that names one of our stages gives that
stage to the steps it contains. A line with a loose end, or joining something
that is not a step, is dropped with its reason.
"""

import csv
import io
import re
from typing import Any

from django.utils.translation import gettext as _

from hourglass.archive import ImportInvalid

from . import interop
from .document import DECISION, TASK, TERMINUS, clean_label
from .schema import MAX_EDGES, MAX_NODES
from .transfer import upload_text

# More rows than a map could use (pages, shapes and lines of the largest map).
MAX_ROWS = 4 * (MAX_NODES + MAX_EDGES)

_DECISIONS = frozenset(("decision", "diamond"))
_TERMINI = frozenset(
    ("terminator", "start/end", "start", "end", "circle", "ellipse", "oval")
)
# Names (lowercase) of the shapes that are not steps, and what each is.
_TEXT = frozenset(("text", "text box", "textbox", "note", "comment"))
_IMAGES = frozenset(("image", "picture", "svg image"))
# Words in a container's name ("Vertical Swim Lane", "Horizontal Pool"), whole.
_LANE_WORDS = re.compile(r"\b(?:swim ?lanes?|pools?|lanes?|tables?)\b")
_GROUP_WORDS = re.compile(r"\b(?:containers?|groups?)\b")
_PAGE = "page"
_LINE = "line"
_DOCUMENT = "document"
_TEXT_AREA = re.compile(r"^text area (\d+)$")
_REQUIRED = ("id", "name")


def looks_like_lucid_csv(raw: bytes) -> bool:
    """Whether an upload is Lucidchart's CSV of shape data: its header row
    (comma or semicolon separated) names the Id, Name and Text Area 1 or Line
    Source columns."""
    head = bytes(raw[:4096]).decode("utf-8", "replace").removeprefix("\ufeff")
    first = head.split("\n", 1)[0]
    try:
        header = next(csv.reader([first], delimiter=_delimiter(first)))
    except (csv.Error, StopIteration):
        return False
    names = {column.strip().casefold() for column in header}
    return {"id", "name"} <= names and bool(
        names & {"text area 1", "line source", "shape library"}
    )


def read_lucid_csv(raw: bytes) -> list[interop.ForeignPage]:
    """One page of steps and arrows per page of the Lucidchart document, or
    ImportInvalid naming the row (the header is row 1) of each problem."""
    text = upload_text(raw)
    rows = _rows(text)
    header = [column.strip().casefold() for column in rows[0][1]]
    missing = [column for column in _REQUIRED if column not in header]
    if missing:
        raise ImportInvalid(
            [
                _(
                    "This is not a Lucidchart CSV of shape data: the first row "
                    "has no column “%(column)s”."
                )
                % {"column": missing[0].title()}
            ]
        )
    records = [_record(header, row, number) for number, row in rows]
    return _Document(records[1:]).pages()


def _delimiter(line: str) -> str:
    # Lucidchart writes commas; a spreadsheet saved in a comma-decimal locale
    # writes semicolons. The header has no quotes to hide either.
    return ";" if line.count(";") > line.count(",") else ","


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """The file's rows with their numbers (the header is row 1), blank rows
    left out but counted, as a spreadsheet counts them."""
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    rows: list[tuple[int, list[str]]] = []
    number = 0
    try:
        for number, row in enumerate(reader, 1):
            if not any(cell.strip() for cell in row):
                continue
            rows.append((number, row))
            if len(rows) > MAX_ROWS + 1:
                raise ImportInvalid(
                    [
                        _("The file has more than %(max)d rows; a map needs fewer.")
                        % {"max": MAX_ROWS}
                    ]
                )
    except csv.Error:
        raise ImportInvalid(
            [
                _(
                    "Row %(row)d cannot be read as CSV: a field is too long or "
                    "a quote is not closed."
                )
                % {"row": number + 1}
            ]
        ) from None
    if len(rows) < 2:
        raise ImportInvalid([_("The file has a header row but no shapes.")])
    return rows


def _record(header: list[str], row: list[str], number: int) -> dict[str, Any]:
    record: dict[str, Any] = {"row": number, "texts": {}}
    for column, cell in zip(header, row, strict=False):
        area = _TEXT_AREA.match(column)
        if area:
            record["texts"][int(area.group(1))] = cell
        else:
            record[column] = cell.strip()
    return record


class _Document:
    def __init__(self, records: list[dict[str, Any]]):
        self.records = records
        self.by_id: dict[str, dict[str, Any]] = {}
        problems = []
        for record in records:
            element_id = record.get("id", "")
            if not element_id:
                problems.append(_("Row %(row)d has no Id.") % {"row": record["row"]})
            elif element_id in self.by_id:
                problems.append(
                    _("Row %(row)d repeats the Id %(id)s of row %(first)d.")
                    % {
                        "row": record["row"],
                        "id": element_id,
                        "first": self.by_id[element_id]["row"],
                    }
                )
            else:
                self.by_id[element_id] = record
        if problems:
            raise ImportInvalid(problems)

    def pages(self) -> list[interop.ForeignPage]:
        pages = [r for r in self.records if _name(r) == _PAGE]
        if not pages:
            # A file written by hand (or by Lucidchart's import template) may
            # skip the page rows: everything is on one page.
            pages = [{"id": "", "row": 0, "texts": {}}]
        title = next(
            (_first_text(r) for r in self.records if _name(r) == _DOCUMENT), ""
        )
        page_ids = {page["id"] for page in pages}
        by_page: dict[str, list[dict[str, Any]]] = {page["id"]: [] for page in pages}
        problems = []
        for record in self.records:
            if _name(record) in (_PAGE, _DOCUMENT):
                continue
            page_id = record.get("page id", "")
            if len(pages) == 1 and page_id not in page_ids:
                page_id = pages[0]["id"]
            if page_id not in by_page:
                problems.append(
                    _("Row %(row)d: Page ID “%(page)s” is not the Id of a page.")
                    % {"row": record["row"], "page": page_id}
                )
                continue
            by_page[page_id].append(record)
        if problems:
            raise ImportInvalid(problems)
        result = []
        for number, page in enumerate(pages, 1):
            page_title = _one_line(_first_text(page)) or title
            if len(pages) > 1:
                page_title = page_title or _("Page %(number)d") % {"number": number}
            result.append(self.page(page_title, by_page[page["id"]]))
        return result

    def page(self, title: str, records: list[dict[str, Any]]) -> interop.ForeignPage:
        nodes: list[dict[str, Any]] = []
        dropped: list[interop.Dropped] = []
        # The elements that are not steps, for the lines that join them.
        elsewhere: set[str] = set()
        lines = []
        for record in records:
            name = _name(record)
            if name == _LINE:
                lines.append(record)
                continue
            label = _first_text(record)
            what = _what(record, self.by_id)
            reason = _not_a_step(name, label)
            if reason:
                dropped.append(interop.Dropped(what, reason))
                elsewhere.add(record["id"])
                continue
            notes = "\n".join(
                clean_label(text)
                for _number, text in sorted(record["texts"].items())
                if clean_label(text) and clean_label(text) != label
            )
            nodes.append(
                {
                    "id": record["id"],
                    "kind": _kind(name),
                    "label": label,
                    "x": None,
                    "y": None,
                    "stage": self.stage(record),
                    "notes": notes or None,
                }
            )
        if len(nodes) > MAX_NODES:
            raise ImportInvalid(
                [
                    _(
                        "The page “%(page)s” has %(count)d steps; a map holds at most "
                        "%(max)d."
                    )
                    % {"page": title, "count": len(nodes), "max": MAX_NODES}
                ]
            )
        steps = {node["id"]: node for node in nodes}
        edges = []
        for record in lines:
            edge, reason = self.edge(record, steps, elsewhere)
            if edge is None:
                dropped.append(interop.Dropped(_what(record, self.by_id), reason))
            else:
                edge["id"] = f"e{len(edges) + 1}"
                edges.append(edge)
        return interop.ForeignPage(
            title=title, nodes=nodes, edges=edges, dropped=dropped
        )

    def stage(self, record: dict[str, Any]) -> str | None:
        """The stage named by the innermost container around a shape that
        names one (Contained By lists the containers' ids)."""
        seen = set()
        containers = _ids(record.get("contained by", ""))
        while containers:
            container_id = containers.pop(0)
            if container_id in seen:
                continue
            seen.add(container_id)
            container = self.by_id.get(container_id)
            if container is None:
                continue
            stage = interop.stage_named(_first_text(container))
            if stage:
                return stage
            containers.extend(_ids(container.get("contained by", "")))
        return None

    def edge(
        self,
        record: dict[str, Any],
        steps: dict[str, dict[str, Any]],
        elsewhere: set[str],
    ) -> tuple[dict[str, Any] | None, str]:
        source = record.get("line source", "")
        target = record.get("line destination", "")
        if not source or not target:
            return None, _(
                "It has a loose end: it is not attached to a shape at both ends."
            )
        for end in (source, target):
            if end in elsewhere:
                return None, _(
                    "One of its ends is not a step (text, a container, a group "
                    "or an image)."
                )
            if end not in steps:
                return None, _("It joins a shape that is not on this page.")
        if _has_head(record.get("source arrow")) and not _has_head(
            record.get("destination arrow")
        ):
            # Drawn backwards: the head is at the line's start.
            source, target = target, source
        label = _one_line(_first_text(record))
        return {"source": source, "target": target, "label": label}, ""


def _name(record: dict[str, Any]) -> str:
    return " ".join(str(record.get("name", "")).split()).casefold()


def _first_text(record: dict[str, Any]) -> str:
    """Text Area 1, or the first text area that holds text."""
    for _number, text in sorted(record["texts"].items()):
        label = clean_label(text)
        if label:
            return label
    return ""


def _one_line(text: str) -> str:
    return " ".join(clean_label(text).split("\n"))


def _ids(cell: str) -> list[str]:
    return [part for part in re.split(r"[,;\s]+", cell or "") if part]


def _has_head(arrow: str | None) -> bool:
    return (arrow or "").strip().casefold() not in ("", "none")


def _kind(name: str) -> str:
    if name in _DECISIONS:
        return DECISION
    if name in _TERMINI:
        return TERMINUS
    return TASK


def _not_a_step(name: str, label: str) -> str:
    """Why a shape is not a step ("" when it is one)."""
    if name in _TEXT:
        reason = "text"
    elif name in _IMAGES:
        reason = "image"
    elif _LANE_WORDS.search(name):
        reason = "container"
    elif _GROUP_WORDS.search(name):
        reason = "group"
    elif not label:
        reason = "no text"
    else:
        return ""
    return str(interop.NOT_A_STEP[reason])


def _what(record: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> str:
    """An element as the user knows it in Lucidchart, e.g. 'Process “Bake”
    (row 6)'; a line by the texts of the shapes it joins."""
    if _name(record) == _LINE:
        ends = {}
        for end, column in (("source", "line source"), ("target", "line destination")):
            ident = record.get(column, "")
            joined = by_id.get(ident)
            text = _one_line(_first_text(joined)) if joined else ""
            ends[end] = text or ident or "?"
        return _("Line from “%(source)s” to “%(target)s” (row %(row)d)") % {
            **ends,
            "row": record["row"],
        }
    label = _one_line(_first_text(record))
    shape = record.get("name") or _("Shape")
    if label:
        return _("%(shape)s “%(label)s” (row %(row)d)") % {
            "shape": shape,
            "label": label,
            "row": record["row"],
        }
    return _("%(shape)s (row %(row)d)") % {"shape": shape, "row": record["row"]}
