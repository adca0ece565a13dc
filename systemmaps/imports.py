"""An uploaded map file, whatever tool drew it: which format it is (from its
content, never its name), its pages read and checked as maps, and the names
the new maps are proposed.

The readers of other tools' formats (`drawio`, `mermaid`, `lucid`) build on
`interop`; this module sits above them and `transfer`, so that neither needs to
know the others (the one place that knows every format).
"""

import codecs
import dataclasses
from collections.abc import Callable
from datetime import date
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hourglass.archive import ImportInvalid
from hourglass.models import STAGE_ORDER

from .drawio import looks_like_drawio, read_drawio
from .graph import Finding, lint
from .interop import Dropped, ForeignPage, graph_counts, page_document
from .lucid import looks_like_lucid_csv, read_lucid_csv
from .mermaid import looks_like_mermaid, read_mermaid
from .models import ImportFormat
from .transfer import ImportedMap, import_data, import_document

MAX_NAME = 200
# The other tools' formats, in the order they are tried on a file that is not
# our JSON: (looks like it, read its pages).
READERS: dict[str, tuple[Callable[[bytes], bool], Callable[[bytes], list]]] = {
    ImportFormat.DRAWIO: (looks_like_drawio, read_drawio),
    ImportFormat.LUCID: (looks_like_lucid_csv, read_lucid_csv),
    ImportFormat.MERMAID: (looks_like_mermaid, read_mermaid),
}


@dataclasses.dataclass
class PageRead:
    """One page of the file as a map to be: what the summary shows of it."""

    number: int
    title: str
    # The checked map (fresh ids), or None when `problems` say why it is not one.
    imported: ImportedMap | None
    problems: list[str] = dataclasses.field(default_factory=list)
    dropped: list[Dropped] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    counts: dict[str, int] = dataclasses.field(default_factory=dict)
    findings: list[Finding] = dataclasses.field(default_factory=list)

    @property
    def dropped_by_reason(self) -> list[tuple[str, list[str]]]:
        """What was left out, grouped by reason in the order first met: a file's
        dozens of text cells read as one line, not dozens."""
        groups: dict[str, list[str]] = {}
        for item in self.dropped:
            groups.setdefault(item.why, []).append(item.what)
        return list(groups.items())

    @property
    def label(self) -> str:
        return self.title or _("Page %(number)d") % {"number": self.number}

    @property
    def counts_text(self) -> str:
        """ "7 steps, 1 decision, 8 arrows"."""
        counts = self.counts
        return _("%(steps)s, %(decisions)s, %(arrows)s") % {
            "steps": ngettext("%(count)d step", "%(count)d steps", counts["steps"])
            % {"count": counts["steps"]},
            "decisions": ngettext(
                "%(count)d decision", "%(count)d decisions", counts["decisions"]
            )
            % {"count": counts["decisions"]},
            "arrows": ngettext("%(count)d arrow", "%(count)d arrows", counts["arrows"])
            % {"count": counts["arrows"]},
        }


@dataclasses.dataclass
class FileRead:
    format: str
    pages: list[PageRead]

    @property
    def format_label(self) -> str:
        return ImportFormat(self.format).label

    @property
    def importable(self) -> bool:
        return any(page.imported is not None for page in self.pages)

    @property
    def problems(self) -> list[str]:
        """Every page's problems, each named after its page when there are
        several."""
        if len(self.pages) == 1:
            return list(self.pages[0].problems)
        return [
            _("%(page)s: %(problem)s") % {"page": page.label, "problem": problem}
            for page in self.pages
            for problem in page.problems
        ]

    @property
    def fields(self) -> dict[str, Any]:
        """The map fields the file carries: ours in our JSON; from another
        tool's file, the stages its containers named (swimlanes, subgraphs)."""
        if self.format == ImportFormat.JSON:
            first = self.pages[0].imported
            return first.fields if first is not None else {}
        named = {
            node["stage"]
            for page in self.pages
            if page.imported is not None
            for node in page.imported.graph["nodes"]
            if node.get("stage")
        }
        return {"stages": [s for s in STAGE_ORDER if s in named]} if named else {}


def understood_formats() -> str:
    """The formats the import page reads, as one translated sentence."""
    return _(
        "Hourglass JSON, diagrams.net or draw.io (.drawio, .xml, or .svg with the "
        "diagram inside), a Mermaid flowchart (.mmd) or a Lucidchart CSV export."
    )


def sniff(raw: bytes) -> str:
    """The ImportFormat of a file from its first bytes and shape, or
    ImportInvalid saying which formats are understood. (Its size is the
    upload form's to check, and every reader's: transfer.upload_text.)"""
    head = raw.removeprefix(codecs.BOM_UTF8).lstrip()
    if head[:1] in (b"{", b"["):
        return ImportFormat.JSON
    if not head:
        raise ImportInvalid([_("The file is empty.")])
    for name, (looks_like, _read) in READERS.items():
        if looks_like(raw):
            return name
    raise ImportInvalid(
        [
            _("This file is in no format Hourglass can read. It reads: %(formats)s")
            % {"formats": understood_formats()}
        ]
    )


def read_file(raw: bytes, *, format: str | None = None) -> FileRead:
    """Every page of the file, read and checked (nothing is written); raises
    ImportInvalid when the file as a whole cannot be read. `format` skips the
    sniffing (a draft knows its format)."""
    format = format or sniff(raw)
    if format == ImportFormat.JSON:
        try:
            imported = import_document(raw)
        except ImportInvalid as invalid:
            pages = [PageRead(1, "", None, problems=list(invalid.problems))]
        else:
            graph = imported.graph
            pages = [_checked(1, graph["name"], imported)]
        return FileRead(format, pages)
    foreign = READERS[format][1](raw)
    if not foreign:
        raise ImportInvalid([_("The file holds no diagram.")])
    return FileRead(
        format,
        [_foreign(number, page) for number, page in enumerate(foreign, start=1)],
    )


def _checked(number: int, title: str, imported: ImportedMap, **extra) -> PageRead:
    graph = imported.graph
    return PageRead(
        number,
        title,
        imported,
        counts=graph_counts(graph["nodes"], graph["edges"]),
        findings=lint(graph["nodes"], graph["edges"]),
        **extra,
    )


def _foreign(number: int, page: ForeignPage) -> PageRead:
    extra = {"dropped": page.dropped, "notes": page.notes}
    try:
        imported = import_data(page_document(page, name=page.title[:MAX_NAME]))
    except ImportInvalid as invalid:
        return PageRead(
            number,
            page.title,
            None,
            problems=list(invalid.problems),
            counts=page.counts,
            **extra,
        )
    return _checked(number, page.title, imported, **extra)


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------


def name_key(name: str) -> str:
    """What makes two map names the same: case and outer spaces aside."""
    return name.strip().casefold()


def free_name(wanted: str, taken: set[str], day: date) -> str:
    """`wanted`, or when a map already has it (`taken` holds name_key of every
    name), "wanted (imported 7 Dec 2026)", then "… 2", "… 3" and so on."""
    wanted = wanted.strip()[:MAX_NAME]
    if name_key(wanted) not in taken:
        return wanted
    values = {"date": date_format(day, "DATE_FORMAT"), "number": 1}
    while True:
        if values["number"] == 1:
            pattern = _("%(name)s (imported %(date)s)")
        else:
            pattern = _("%(name)s (imported %(date)s %(number)d)")
        candidate = pattern % {**values, "name": wanted}
        if len(candidate) > MAX_NAME:
            # A long name gives way to the suffix, which tells the maps apart.
            cut = wanted[: len(wanted) - (len(candidate) - MAX_NAME)].rstrip()
            candidate = pattern % {**values, "name": cut}
        if name_key(candidate) not in taken:
            return candidate
        values["number"] += 1
