"""A map as Mermaid flowchart text, to paste into wikis, READMEs and docs, and
a Mermaid flowchart read back as a map (`read_mermaid`, at the end).

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

import dataclasses
import html
import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from hourglass.archive import ImportInvalid

from . import interop
from .document import DECISION, TASK, TERMINUS, WORK_KINDS, clean_label
from .layout import step_badges, strip_step_badges
from .schema import MAX_EDGES, MAX_NODES
from .transfer import upload_text

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


# ---------------------------------------------------------------------------
# Reading a Mermaid flowchart (the import)
# ---------------------------------------------------------------------------
#
# A tokenizer turns the text into tokens (ids, shapes with their labels, arrows
# with theirs, `|text|`, `&`, statement ends, keywords, the lines we ignore),
# and a recursive-descent parser reads the statements:
#
#   document   := header SEP statements EOF
#   header     := ("flowchart" | "graph") [direction]
#   statements := { [statement] SEP }
#   statement  := "subgraph" [id] [title] SEP statements "end"
#               | "direction" direction | ignored-line | chain
#   chain      := group { [edge-id "@"] arrow ["|" text "|"] group }
#   group      := node { "&" node }
#   node       := id [shape | "@{" attributes "}"] [":::" class]
#
# Mermaid's own grammar (its flowchart syntax page) is the reference; what is
# not a step or an arrow of ours (styles, clicks, classes, invisible links,
# subgraphs) is left out with a note or a listed reason.

MAX_SUBGRAPH_DEPTH = 20

# The shape brackets, longest opening first, and the closing(s) each takes.
_OPENERS = (
    ("(((", (")))",)),
    ("((", ("))",)),
    ("([", ("])",)),
    ("(", (")",)),
    ("[[", ("]]",)),
    ("[(", (")]",)),
    ("[/", ("/]", "\\]")),
    ("[\\", ("\\]", "/]")),
    ("[", ("]",)),
    ("{{", ("}}",)),
    ("{", ("}",)),
    (">", ("]",)),
)
_OPENER_KINDS = {"{": DECISION, "([": TERMINUS, "((": TERMINUS, "(((": TERMINUS}
# Mermaid's named shapes (`A@{ shape: … }`, v11) that are ours; any other is a task.
_NAMED_KINDS = {
    **dict.fromkeys(("diam", "diamond", "decision", "question"), DECISION),
    **dict.fromkeys(
        (
            "stadium",
            "terminal",
            "pill",
            "circle",
            "circ",
            "sm-circ",
            "small-circle",
            "start",
            "fr-circ",
            "framed-circle",
            "stop",
            "dbl-circ",
            "double-circle",
        ),
        TERMINUS,
    ),
}
_DIRECTIONS = frozenset(("LR", "RL", "TD", "TB", "BT"))
_HEADERS = frozenset(("flowchart", "graph", "flowchart-elk"))
# The first word of Mermaid's other diagrams: told apart from a broken flowchart.
_OTHER_DIAGRAMS = frozenset(
    (
        "sequenceDiagram",
        "classDiagram",
        "classDiagram-v2",
        "stateDiagram",
        "stateDiagram-v2",
        "erDiagram",
        "journey",
        "gantt",
        "pie",
        "quadrantChart",
        "requirementDiagram",
        "gitGraph",
        "C4Context",
        "C4Container",
        "C4Component",
        "C4Dynamic",
        "C4Deployment",
        "mindmap",
        "timeline",
        "zenuml",
        "sankey-beta",
        "xychart-beta",
        "block-beta",
        "packet-beta",
        "kanban",
        "architecture-beta",
        "radar-beta",
        "treemap-beta",
    )
)
# Lines that only style or link the drawing: skipped, one note per kind.
_IGNORED_KEYWORDS = frozenset(
    ("classDef", "class", "style", "linkStyle", "click", "accTitle", "accDescr")
)

_ID = re.compile(r"[^\W](?:[\w]|-(?![-.=>])|\.(?![-.]))*")
# A whole arrow: -->, ---, --o, --x, ---->, ==>, ===, -.->, -.-, -..->, with an
# optional head at the start (<-->, o--o, x--x); ~~~ is the invisible link.
_ARROW = re.compile(r"(?P<start>[<ox])?(?:--+[-xo>]|==+[=xo>]|-\.+-[xo>]?)|~~~+")
# The start of an arrow with its text in the middle (`-- text -->`) and the end
# each start takes.
_ARROW_STARTS = (
    ("--", re.compile(r"--+[-xo>]")),
    ("==", re.compile(r"==+[=xo>]")),
    ("-.", re.compile(r"-?\.+-[xo>]?")),
)
_HEADED = re.compile(r"^[<ox]?[-=.~]+[>ox]$")
_ENTITY = re.compile(r"([#&])(#?[A-Za-z0-9]+);")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
# A Font Awesome icon in a label (`fa:fa-car`, `fab:fa-github`): drawn, not text.
_ICON = re.compile(r"(?<![\w-])fa[a-z]?:fa-[\w-]+\s*")
# Emphasis marks of a markdown string: * and _ (up to three) that open a word
# or close one. No pairing (that would take a search per mark): a mark inside
# a word (snake_case) or standing alone ("5 * 3") stays.
_MARKDOWN = re.compile(
    r"(?<![\w*_])[*_]{1,3}(?=[^\s*_])|(?<=[^\s*_])[*_]{1,3}(?![\w*_])"
)


@dataclasses.dataclass
class _Token:
    kind: str
    value: Any
    line: int
    column: int


@dataclasses.dataclass
class _Arrow:
    text: str
    label: str | None


class _SyntaxError(Exception):
    def __init__(self, line: int, column: int, message: str):
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message


def _expected(what: str, found: str) -> str:
    return _("expected %(what)s, found “%(found)s”.") % {
        "what": what,
        "found": found,
    }


class _Lexer:
    """The tokens of a flowchart's text (after its front matter)."""

    def __init__(self, text: str, first_line: int = 1):
        self.text = text
        self.pos = 0
        self.first_line = first_line
        # The line of `counted`, and where that line starts: newlines are
        # counted once, as the lexer moves on, never again from the start.
        self.line = first_line
        self.line_start = 0
        self.counted = 0
        # The end of the line holding positions line_end_from … line_end_at.
        self.line_end_from = self.line_end_at = -1
        self.tokens: list[_Token] = []

    # -- positions --------------------------------------------------------

    def where(self, pos: int) -> tuple[int, int]:
        text = self.text
        if pos < self.counted:
            # Only an error can point back; count from the start then.
            start = text.rfind("\n", 0, pos) + 1
            return self.first_line + text.count("\n", 0, pos), pos - start + 1
        lines = text.count("\n", self.counted, pos)
        if not lines:
            return self.line, pos - self.line_start + 1
        start = text.rfind("\n", self.counted, pos) + 1
        return self.line + lines, pos - start + 1

    def fail(self, message: str, pos: int) -> _SyntaxError:
        line, column = self.where(pos)
        return _SyntaxError(line, column, message)

    def emit(self, kind: str, value: Any, pos: int) -> None:
        line, column = self.where(pos)
        self.tokens.append(_Token(kind, value, line, column))

    def advance_to(self, pos: int) -> None:
        if pos > self.counted:
            lines = self.text.count("\n", self.counted, pos)
            if lines:
                self.line += lines
                self.line_start = self.text.rfind("\n", self.counted, pos) + 1
            self.counted = pos
        self.pos = pos

    def line_end(self, pos: int) -> int:
        """Where the line holding `pos` ends (remembered for the line, so a
        long line is not scanned again for each of its shapes and arrows)."""
        if not self.line_end_from <= pos <= self.line_end_at:
            end = self.text.find("\n", pos)
            self.line_end_from = pos
            self.line_end_at = len(self.text) if end < 0 else end
        return self.line_end_at

    def shown(self, pos: int) -> str:
        """The character at `pos` as a message shows it."""
        if pos >= len(self.text):
            return _("the end of the file")
        char = self.text[pos]
        if char == "\n":
            return _("the end of the line")
        return char if char.isprintable() else f"U+{ord(char):04X}"

    def at_statement_start(self) -> bool:
        return not self.tokens or self.tokens[-1].kind == "SEP"

    def after_node(self) -> bool:
        return bool(self.tokens) and self.tokens[-1].kind in (
            "ID",
            "SHAPE",
            "ATTRS",
            "CLASS",
        )

    # -- the tokens -------------------------------------------------------

    def run(self) -> list[_Token]:
        text = self.text
        while self.pos < len(text):
            start = self.pos
            char = text[start]
            if char in " \t\r":
                self.advance_to(start + 1)
            elif char in "\n;":
                if self.tokens and self.tokens[-1].kind != "SEP":
                    self.emit("SEP", char, start)
                self.advance_to(start + 1)
            elif text.startswith("%%", start):
                self.comment(start)
            elif char == '"':
                label, end = self.string(start)
                self.emit("STRING", label, start)
                self.advance_to(end)
            elif char == "|":
                self.pipe(start)
            elif char == "&":
                self.emit("AMP", char, start)
                self.advance_to(start + 1)
            elif self.arrow(start):
                pass
            elif _ID.match(text, start):
                self.word(start)
            else:
                raise self.fail(
                    _("unexpected “%(char)s”.") % {"char": self.shown(start)}, start
                )
        if not self.tokens or self.tokens[-1].kind != "SEP":
            self.emit("SEP", "", self.pos)
        self.emit("EOF", "", self.pos)
        return self.tokens

    def comment(self, start: int) -> None:
        if self.text.startswith("%%{", start):
            end = self.text.find("}%%", start)
            if end < 0:
                raise self.fail(_("this directive is not closed by “}%%”."), start)
            self.advance_to(end + 3)
        else:
            self.advance_to(self.line_end(start))

    def string(self, start: int) -> tuple[str, int]:
        """A quoted label from `start` (its `"`): (label, position after it).
        A markdown string ("`…`") may hold line breaks; a plain one may not."""
        text = self.text
        if text.startswith('"`', start):
            end = text.find('`"', start + 2)
            if end < 0:
                raise self.fail(_('this markdown string is not closed by “`"”.'), start)
            return _markdown_label(text[start + 2 : end]), end + 2
        end = text.find('"', start + 1, self.line_end(start))
        if end < 0:
            raise self.fail(_('this text is not closed by a quote (").'), start)
        return _label(text[start + 1 : end]), end + 1

    def pipe(self, start: int) -> None:
        text = self.text
        inner = start + 1
        while inner < len(text) and text[inner] in " \t":
            inner += 1
        if text.startswith('"', inner):
            label, after = self.string(inner)
            end = text.find("|", after)
            if end < 0 or text[after:end].strip() or "\n" in text[after:end]:
                raise self.fail(_("the arrow's text is not closed by “|”."), start)
        else:
            end = text.find("|", start + 1)
            if end < 0 or "\n" in text[start:end]:
                raise self.fail(_("the arrow's text is not closed by “|”."), start)
            label = _label(text[start + 1 : end])
        self.emit("PIPE", label, start)
        self.advance_to(end + 1)

    def arrow(self, start: int) -> bool:
        text = self.text
        if not self.after_node():
            return False
        match = _ARROW.match(text, start)
        if match and match.group("start") in ("o", "x"):
            # `o--o` or `x--x` only after a space: `Bo--oC` is not an arrow
            # with heads but an id; `A o--o B` is.
            if start == 0 or text[start - 1] not in " \t":
                match = None
        if match:
            self.emit("ARROW", _Arrow(match.group(), None), start)
            self.advance_to(match.end())
            return True
        for opening, closing in _ARROW_STARTS:
            head = 1 if text[start : start + 1] == "<" else 0
            if not text.startswith(opening, start + head):
                continue
            begin = start + head + len(opening)
            end_of_line = self.line_end(begin)
            inner = begin
            while inner < end_of_line and text[inner] in " \t":
                inner += 1
            if text.startswith('"', inner):
                label, after = self.string(inner)
                end = closing.search(text, after, end_of_line)
                if end is None or text[after : end.start()].strip():
                    raise self.fail(
                        _expected(_("the end of the arrow"), opening), start
                    )
            else:
                end = closing.search(text, begin, end_of_line)
                if end is None:
                    raise self.fail(
                        _expected(_("the end of the arrow"), opening), start
                    )
                label = _label(text[begin : end.start()])
            kind = text[start : start + head] + opening + end.group()
            self.emit("ARROW", _Arrow(kind, label), start)
            self.advance_to(end.end())
            return True
        return False

    def word(self, start: int) -> None:
        text = self.text
        match = _ID.match(text, start)
        word = match.group()
        end = match.end()
        if self.at_statement_start():
            if word in _IGNORED_KEYWORDS and (end == len(text) or text[end] in " \t:"):
                self.emit("IGNORED", word, start)
                stop = self.line_end(end)
                if word == "accDescr" and text[end:stop].strip().startswith("{"):
                    close = text.find("}", end)
                    stop = len(text) if close < 0 else close + 1
                self.advance_to(stop)
                return
            if word in ("subgraph", "end", "direction") and (
                end == len(text) or text[end] in " \t\r\n;"
            ):
                self.emit("KEYWORD", word, start)
                self.advance_to(end)
                if word == "subgraph":
                    self.subgraph_header()
                return
        self.emit("ID", word, start)
        self.advance_to(end)
        if text.startswith("@{", end):
            self.attributes(end)
        elif text.startswith("@", end):
            # An arrow's own id: `A e1@--> B`.
            self.tokens[-1].kind = "EDGE_ID"
            self.advance_to(end + 1)
            if not self.arrow_after_edge_id():
                raise self.fail(_expected(_("an arrow"), self.shown(end + 1)), end)
        else:
            self.shape(end)
        if text.startswith(":::", self.pos):
            suffix = _ID.match(text, self.pos + 3)
            if suffix is None:
                raise self.fail(_expected(_("a class name"), ":::"), self.pos)
            self.emit("CLASS", suffix.group(), self.pos)
            self.advance_to(suffix.end())

    def arrow_after_edge_id(self) -> bool:
        # The edge id stands between a node and its arrow: read the arrow as if
        # it followed the node.
        edge_id = self.tokens.pop()
        found = self.arrow(self.pos)
        if found:
            self.tokens.insert(len(self.tokens) - 1, edge_id)
        else:
            self.tokens.append(edge_id)
        return found

    def shape(self, start: int) -> None:
        text = self.text
        for opening, closings in _OPENERS:
            if not text.startswith(opening, start):
                continue
            inner = start + len(opening)
            while inner < len(text) and text[inner] in " \t":
                inner += 1
            if text.startswith('"', inner):
                label, after = self.string(inner)
                while after < len(text) and text[after] in " \t":
                    after += 1
                closing = next((c for c in closings if text.startswith(c, after)), None)
                if closing is None:
                    raise self.fail(
                        _expected(f"“{closings[0]}”", self.shown(after)),
                        after,
                    )
                end = after + len(closing)
            else:
                stop = self.line_end(inner)
                found = [
                    (at, closing)
                    for closing in closings
                    if (at := text.find(closing, inner, stop)) >= 0
                ]
                if not found:
                    raise self.fail(
                        _("this shape is not closed by “%(closing)s”.")
                        % {"closing": closings[0]},
                        start,
                    )
                at, closing = min(found)
                label = _label(text[inner:at])
                end = at + len(closing)
            self.emit("SHAPE", (_OPENER_KINDS.get(opening, TASK), label), start)
            self.advance_to(end)
            return

    def attributes(self, start: int) -> None:
        """`@{ shape: diam, label: "…" }`: the keys we read, the others skipped."""
        text = self.text
        pos = start + 2
        values: dict[str, str] = {}
        while True:
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            if text.startswith("}", pos):
                break
            key = re.compile(r"[A-Za-z][\w-]*").match(text, pos)
            if key is None:
                raise self.fail(
                    _expected(_("a name such as “shape”"), self.shown(pos)), pos
                )
            pos = key.end()
            while pos < len(text) and text[pos] in " \t":
                pos += 1
            if not text.startswith(":", pos):
                raise self.fail(_expected("“:”", self.shown(pos)), pos)
            pos += 1
            while pos < len(text) and text[pos] in " \t":
                pos += 1
            if text.startswith('"', pos):
                value, pos = self.string(pos)
            else:
                bare = re.compile(r"[^,}\n]*").match(text, pos)
                value = bare.group().strip()
                pos = bare.end()
                if pos >= len(text):
                    raise self.fail(
                        _("these shape settings are not closed by “}”."), start
                    )
            values[key.group()] = value
        self.emit("ATTRS", values, start)
        self.advance_to(pos + 1)

    def subgraph_header(self) -> None:
        """After `subgraph`: [id] [\"title\" | [title] | more words]."""
        text = self.text
        pos = self.pos
        stop = self.line_end(pos)
        semicolon = text.find(";", pos, stop)
        comment = text.find("%%", pos, stop)
        for end in (semicolon, comment):
            if end >= 0:
                stop = min(stop, end)
        while pos < stop and text[pos] in " \t":
            pos += 1
        if text.startswith('"', pos):
            label, after = self.string(pos)
            self.emit("STRING", label, pos)
            pos = after
        else:
            match = _ID.match(text, pos)
            if match:
                self.emit("ID", match.group(), pos)
                pos = match.end()
                while pos < stop and text[pos] in " \t":
                    pos += 1
                self.advance_to(pos)
                self.shape(pos)
                pos = self.pos
        rest = text[pos:stop].strip()
        if rest:
            self.emit("TEXT", _label(rest), pos)
        self.advance_to(stop)


def _decode(text: str) -> str:
    """Mermaid's entity codes (#quot;, #35;, #9829;) and HTML's (&amp;) in one
    pass, so what one decodes is never decoded again."""

    def one(match: re.Match) -> str:
        mark, name = match.groups()
        if mark == "#" and name.isdigit():
            number = int(name)
            return chr(number) if 0 < number <= 0x10FFFF else match.group()
        decoded = html.unescape(f"&{name};")
        return decoded if decoded != f"&{name};" else match.group()

    return _ENTITY.sub(one, text)


def _label(raw: str) -> str:
    """A label as written (quoted or not) as plain text: `<br>` a line break,
    other tags and icons dropped, entity codes decoded."""
    text = _BR.sub("\n", raw)
    text = _TAG.sub("", text)
    text = _ICON.sub("", text)
    return _decode(text)


def _markdown_label(raw: str) -> str:
    """A markdown string's text: its own line breaks kept, ** and _ dropped."""
    text = _MARKDOWN.sub("", raw)
    return _label(text)


@dataclasses.dataclass
class _Node:
    label: str
    kind: str = TASK
    stage: str | None = None
    # Given a shape or a label somewhere (not only named in an arrow).
    drawn: bool = False
    # Placed in a subgraph already: the first subgraph a node is named in is
    # where it sits.
    placed: bool = False


class _Parser:
    def __init__(self, tokens: list[_Token]):
        self.tokens = tokens
        self.index = 0
        self.nodes: dict[str, _Node] = {}
        # (source, target, label, arrow text, line)
        self.links: list[tuple[str, str, str | None, str, int]] = []
        # {id: title} of every subgraph
        self.subgraphs: dict[str, str] = {}
        self.edge_ids: set[str] = set()
        self.settings: list[str] = []
        self.ignored: dict[str, int] = {}

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, token: _Token, message: str) -> _SyntaxError:
        return _SyntaxError(token.line, token.column, message)

    def found(self, token: _Token) -> str:
        if token.kind == "SEP":
            return _("the end of the line")
        if token.kind == "EOF":
            return _("the end of the file")
        if token.kind == "ARROW":
            return token.value.text
        if token.kind == "STRING":
            return f'"{token.value[:30]}"'
        return str(token.value)[:30]

    # -- the grammar ------------------------------------------------------

    def document(self) -> None:
        while self.peek().kind == "SEP":
            self.take()
        header = self.take()
        if header.kind != "ID" or header.value not in _HEADERS:
            raise self.fail(
                header,
                _expected(_("“flowchart” or “graph”"), self.found(header)),
            )
        if self.peek().kind == "ID" and self.peek().value in _DIRECTIONS:
            self.take()
        self.end_of_statement()
        self.statements(depth=0, stage=None, opened=None)

    def end_of_statement(self) -> None:
        token = self.peek()
        if token.kind == "SEP":
            self.take()
        elif token.kind != "EOF":
            raise self.fail(
                token, _expected(_("the end of the line"), self.found(token))
            )

    def statements(
        self, *, depth: int, stage: str | None, opened: _Token | None
    ) -> None:
        while True:
            token = self.peek()
            if token.kind == "SEP":
                self.take()
            elif token.kind == "EOF":
                if opened is not None:
                    raise self.fail(
                        token,
                        _(
                            "the subgraph opened on line %(line)d is not closed "
                            "by “end”."
                        )
                        % {"line": opened.line},
                    )
                return
            elif token.kind == "KEYWORD" and token.value == "end":
                if opened is None:
                    raise self.fail(token, _("“end” closes no subgraph."))
                self.take()
                self.end_of_statement()
                return
            elif token.kind == "KEYWORD" and token.value == "subgraph":
                self.subgraph(depth=depth + 1, stage=stage)
            elif token.kind == "KEYWORD" and token.value == "direction":
                self.take()
                direction = self.take()
                if direction.kind != "ID" or direction.value not in _DIRECTIONS:
                    raise self.fail(
                        direction,
                        _expected(
                            "LR, RL, TD, TB " + _("or") + " BT", self.found(direction)
                        ),
                    )
                self.end_of_statement()
            elif token.kind == "IGNORED":
                self.take()
                self.ignored[token.value] = self.ignored.get(token.value, 0) + 1
                self.end_of_statement()
            else:
                self.chain(stage=stage, in_subgraph=opened is not None)
                self.end_of_statement()

    def subgraph(self, *, depth: int, stage: str | None) -> None:
        opened = self.take()
        if depth > MAX_SUBGRAPH_DEPTH:
            raise self.fail(
                opened,
                _("subgraphs are nested more than %(max)d deep.")
                % {"max": MAX_SUBGRAPH_DEPTH},
            )
        name = title = None
        if self.peek().kind == "STRING":
            title = self.take().value
        elif self.peek().kind == "ID":
            name = self.take().value
            if self.peek().kind == "SHAPE":
                title = self.take().value[1]
        if self.peek().kind == "TEXT":
            more = self.take().value
            if title is None:
                # `subgraph Order handling`: all the words are the title (and
                # what arrows to the subgraph name it by).
                title, name = (f"{name} {more}" if name else more), None
        if name or title:
            self.subgraphs[name or title] = title or name
        hint = interop.stage_named(title or "") or interop.stage_named(name or "")
        self.end_of_statement()
        self.statements(depth=depth, stage=hint or stage, opened=opened)

    def chain(self, *, stage: str | None, in_subgraph: bool) -> None:
        left = self.group(stage=stage, in_subgraph=in_subgraph)
        while self.peek().kind in ("ARROW", "EDGE_ID"):
            if self.peek().kind == "EDGE_ID":
                self.edge_ids.add(self.take().value)
            arrow_token = self.take()
            arrow = arrow_token.value
            label = arrow.label
            if self.peek().kind == "PIPE":
                label = self.take().value
            right = self.group(stage=stage, in_subgraph=in_subgraph)
            for source in left:
                for target in right:
                    self.links.append(
                        (source, target, label, arrow.text, arrow_token.line)
                    )
            left = right

    def group(self, *, stage: str | None, in_subgraph: bool) -> list[str]:
        names = [self.node(stage=stage, in_subgraph=in_subgraph)]
        while self.peek().kind == "AMP":
            self.take()
            names.append(self.node(stage=stage, in_subgraph=in_subgraph))
        return names

    def node(self, *, stage: str | None, in_subgraph: bool) -> str:
        token = self.take()
        if token.kind != "ID":
            raise self.fail(token, _expected(_("a node id"), self.found(token)))
        name = token.value
        node = self.nodes.get(name)
        if node is None:
            node = self.nodes[name] = _Node(label=name)
        if in_subgraph and not node.placed:
            node.placed = True
            node.stage = stage
        following = self.peek()
        if following.kind == "SHAPE":
            self.take()
            node.kind, node.label = following.value
            node.drawn = True
        elif following.kind == "ATTRS":
            self.take()
            values = following.value
            if "shape" in values:
                node.kind = _NAMED_KINDS.get(values["shape"].strip().lower(), TASK)
                node.drawn = True
            if "label" in values:
                node.label = values["label"]
                node.drawn = True
            if not values.keys() & {"shape", "label"}:
                # `e1@{ animate: true }`: settings of an arrow (or a node) only.
                self.settings.append(name)
        if self.peek().kind == "CLASS":
            self.take()
            self.ignored[":::"] = self.ignored.get(":::", 0) + 1
        return name


def _front_matter(text: str) -> tuple[str, str, int]:
    """(title, the text after the front matter, the line that text starts on).
    Front matter is a `---` … `---` block before the flowchart; only its
    top-level `title:` is read."""
    lines = text.split("\n")
    first = 0
    while first < len(lines) and not lines[first].strip():
        first += 1
    if first == len(lines) or lines[first].strip() != "---":
        return "", text, 1
    for index in range(first + 1, len(lines)):
        if lines[index].strip() == "---":
            title = ""
            for line in lines[first + 1 : index]:
                if line.startswith("title:"):
                    title = line[len("title:") :].strip()
                    if len(title) >= 2 and title[0] == title[-1] and title[0] in "\"'":
                        title = title[1:-1]
            return title, "\n".join(lines[index + 1 :]), index + 2
    raise ImportInvalid(
        [
            _("Line %(line)d: the front matter (---) is not closed by a line “---”.")
            % {"line": first + 1}
        ]
    )


def _opening(text: str) -> tuple[str, str]:
    """(the first word of the diagram, the text of a `%%` comment line before
    it): what kind of Mermaid diagram this is, and our export's title line."""
    comment = ""
    in_directive = False
    for line in text.split("\n", 200)[:200]:
        stripped = line.strip()
        if in_directive:
            in_directive = "}%%" not in stripped
            continue
        if not stripped:
            continue
        if stripped.startswith("%%{"):
            in_directive = "}%%" not in stripped
            continue
        if stripped.startswith("%%"):
            comment = comment or stripped[2:].strip()
            continue
        return re.split(r"[\s;]", stripped, maxsplit=1)[0], comment
    return "", comment


def looks_like_mermaid(raw: bytes) -> bool:
    """Whether an upload is Mermaid text: its first line that is not front
    matter, a comment or a directive starts a flowchart, or another Mermaid
    diagram (which the reader then refuses by name)."""
    head = bytes(raw[:65536]).decode("utf-8", "replace").removeprefix("\ufeff")
    try:
        _title, body, _line = _front_matter(head)
    except ImportInvalid:
        return False
    word, _comment = _opening(body)
    return word in _HEADERS or word in _OTHER_DIAGRAMS


def read_mermaid(raw: bytes | str) -> list[interop.ForeignPage]:
    """A Mermaid flowchart as one page of steps and arrows, without positions
    (the import lays it out), or ImportInvalid naming the line and column."""
    text = upload_text(raw).replace("\r\n", "\n").replace("\r", "\n")
    title, body, first_line = _front_matter(text)
    word, comment = _opening(body)
    if word in _OTHER_DIAGRAMS:
        raise ImportInvalid(
            [
                _(
                    "This is a Mermaid %(diagram)s, not a flowchart: only "
                    "flowcharts can be imported."
                )
                % {"diagram": word}
            ]
        )
    try:
        tokens = _Lexer(body, first_line).run()
        parser = _Parser(tokens)
        parser.document()
    except _SyntaxError as error:
        raise ImportInvalid(
            [
                _("Line %(line)d, column %(column)d: %(problem)s")
                % {"line": error.line, "column": error.column, "problem": error.message}
            ]
        ) from None
    return [_page(parser, title or _decode(comment))]


def _one_line(text: str | None) -> str:
    return " ".join(clean_label(text or "").split("\n"))


def _page(parser: _Parser, title: str) -> interop.ForeignPage:
    not_steps = {
        name
        for name, node in parser.nodes.items()
        if not node.drawn and (name in parser.subgraphs or name in parser.edge_ids)
    }
    nodes = [
        {
            "id": name,
            "kind": node.kind,
            "label": clean_label(strip_step_badges(node.label)) or name,
            "x": None,
            "y": None,
            "stage": node.stage,
        }
        for name, node in parser.nodes.items()
        if name not in not_steps
    ]
    if len(nodes) > MAX_NODES:
        raise ImportInvalid(
            [
                _("The flowchart has %(count)d steps; a map holds at most %(max)d.")
                % {"count": len(nodes), "max": MAX_NODES}
            ]
        )
    names = {name: _one_line(title) for name, title in parser.subgraphs.items()}
    names.update((node["id"], node["label"].split("\n")[0]) for node in nodes)
    edges: list[dict[str, Any]] = []
    dropped: list[interop.Dropped] = []
    one_way = 0
    for source, target, label, arrow, _line in parser.links:
        ends = {
            "source": names.get(source, source),
            "target": names.get(target, target),
        }
        if arrow.startswith("~"):
            dropped.append(
                interop.Dropped(
                    _("Invisible link from “%(source)s” to “%(target)s”") % ends,
                    _(
                        "An invisible link only spaces out Mermaid's drawing; "
                        "it is not an arrow."
                    ),
                )
            )
        elif source in not_steps or target in not_steps:
            dropped.append(
                interop.Dropped(
                    _("Arrow from “%(source)s” to “%(target)s”") % ends,
                    _("It joins a subgraph, not a step."),
                )
            )
        else:
            if not _HEADED.match(arrow) or arrow[0] in "<ox":
                one_way += 1
            edges.append(
                {
                    "id": f"e{len(edges) + 1}",
                    "source": source,
                    "target": target,
                    "label": _one_line(label),
                }
            )
    if len(edges) > MAX_EDGES:
        raise ImportInvalid(
            [
                _("The flowchart has %(count)d arrows; a map holds at most %(max)d.")
                % {"count": len(edges), "max": MAX_EDGES}
            ]
        )
    return interop.ForeignPage(
        title=_one_line(title),
        nodes=nodes,
        edges=edges,
        dropped=dropped,
        notes=_notes(parser, one_way),
    )


def _notes(parser: _Parser, one_way: int) -> list[str]:
    counts = dict(parser.ignored)
    counts["acc"] = counts.pop("accTitle", 0) + counts.pop("accDescr", 0)
    counts["settings"] = sum(1 for name in parser.settings if name in parser.edge_ids)
    counts["one-way"] = one_way
    sentences = {
        "classDef": lambda n: ngettext(
            "%(count)d class definition (classDef) was ignored.",
            "%(count)d class definitions (classDef) were ignored.",
            n,
        ),
        "class": lambda n: ngettext(
            "%(count)d class line was ignored.",
            "%(count)d class lines were ignored.",
            n,
        ),
        ":::": lambda n: ngettext(
            "%(count)d class suffix (:::) was ignored.",
            "%(count)d class suffixes (:::) were ignored.",
            n,
        ),
        "style": lambda n: ngettext(
            "%(count)d style line was ignored.",
            "%(count)d style lines were ignored.",
            n,
        ),
        "linkStyle": lambda n: ngettext(
            "%(count)d arrow style line (linkStyle) was ignored.",
            "%(count)d arrow style lines (linkStyle) were ignored.",
            n,
        ),
        "click": lambda n: ngettext(
            "%(count)d click line (a link or a callback) was ignored.",
            "%(count)d click lines (links or callbacks) were ignored.",
            n,
        ),
        "acc": lambda n: ngettext(
            "%(count)d accessibility title or description was ignored.",
            "%(count)d accessibility titles or descriptions were ignored.",
            n,
        ),
        "settings": lambda n: ngettext(
            "%(count)d arrow setting (such as an animation) was ignored.",
            "%(count)d arrow settings (such as animations) were ignored.",
            n,
        ),
        "one-way": lambda n: ngettext(
            "%(count)d link without one arrow head was read as an arrow from "
            "left to right.",
            "%(count)d links without one arrow head were read as arrows from "
            "left to right.",
            n,
        ),
    }
    return [
        sentences[kind](counts[kind]) % {"count": counts[kind]}
        for kind in sentences
        if counts.get(kind)
    ]
