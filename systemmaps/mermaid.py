"""A map as Mermaid flowchart text, to paste into wikis, READMEs and docs.

Labels are typed by users and the text is rendered by someone else's Mermaid, so
nothing in a label may survive as syntax or markup: node ids are generated (n0,
n1, …), every label is quoted, and the characters that could close a quote,
start a directive (`%%{…}%%`), a markdown string (backtick), an HTML tag or an
entity are written as Mermaid entity codes. A line break in a step's label is
Mermaid's `<br>`, any other becomes a space, so a label or a name can never
start a line of its own.

A task's or decision's owner initials, critical marker and automation (the
optional `details`, by node id, as `layout.export` takes them) follow its label
in brackets, escaped the same way.
"""

import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from .document import DECISION, TASK, TERMINUS, WORK_KINDS
from .layout import step_badges

# Mermaid's entity codes: `#name;` or `#<decimal>;`. `#` itself is escaped in the
# same single pass, so the `#` of an inserted code is never escaped again.
_ESCAPES = {
    "#": "#35;",
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "%": "#37;",
    "`": "#96;",
    "|": "#124;",
}
# Every control character and Unicode line or paragraph separator reads as a space.
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")

_SHAPES = {
    TERMINUS: ('(["', '"])'),
    TASK: ('["', '"]'),
    DECISION: ('{"', '"}'),
}


def escape_label(text: str | None) -> str:
    """`text` on one line, safe inside a quoted Mermaid label."""
    one_line = _BREAKS.sub(" ", text or "")
    return "".join(_ESCAPES.get(char, char) for char in one_line).strip()


def escape_lines(text: str | None) -> str:
    """A step's label, safe inside a quoted Mermaid label, each of its lines
    escaped on its own and joined by Mermaid's `<br>` (ours, never the user's:
    their `<` is an entity code), so a two-line label draws on two lines."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = [escape_label(line) for line in lines]
    return "<br>".join(line for line in kept if line)


def to_mermaid(
    graph: dict[str, Any], details: Mapping[str, Mapping[str, Any]] | None = None
) -> str:
    """Mermaid `flowchart LR` text for a graph document (schema v1)."""
    details = details or {}
    title = escape_label(graph.get("name")) or _("System map")
    lines = [f"%% {title}"]
    lines.append("flowchart LR")
    names: dict[str, str] = {}
    for index, node in enumerate(graph.get("nodes", [])):
        name = f"n{index}"
        names[node["id"]] = name
        opening, closing = _SHAPES.get(node.get("kind"), _SHAPES[TASK])
        label = escape_lines(node.get("label"))
        if node.get("kind") in WORK_KINDS:
            badges = escape_label(step_badges(details.get(node["id"])))
            if badges:
                label = f"{label} ({badges})" if label else f"({badges})"
        # Mermaid refuses an empty quoted label; a space keeps the box.
        label = label or " "
        lines.append(f"    {name}{opening}{label}{closing}")
    for edge in graph.get("edges", []):
        source = names.get(edge.get("source"))
        target = names.get(edge.get("target"))
        if source is None or target is None:
            continue
        label = escape_label(edge.get("label"))
        arrow = f'-->|"{label}"|' if label else "-->"
        lines.append(f"    {source} {arrow} {target}")
    return "\n".join(lines) + "\n"
