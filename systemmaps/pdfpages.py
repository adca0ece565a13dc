"""A map's PDF on paper pages.

Graphviz (through cairo) draws a map as one PDF page the size of the drawing:
for a map that flows left to right, a long strip no printer takes. `paginate`
puts that drawing on A4 or Letter pages, whichever way up needs fewer:

- scaled down to fit one page, but never so far that its smallest text prints
  below `MIN_TEXT_PT`;
- past that, at that smallest scale, cut into pieces the printable width wide
  (each overlapping the next by `OVERLAP`, so an arrow cut at an edge is seen
  on both): a drawing lower than a page becomes bands laid under each other,
  as many to a page as fit, read like lines of text; a taller one becomes tiles,
  one a page, named like a spreadsheet's cells (A1 top left, B1 right of it),
  in the footer with the page's number.

The drawing stays vector and is stored once: the strip's content becomes a Form
XObject that every page draws, clipped to its piece. Plain bytes in and out,
reading only what cairo writes (a classic cross-reference table, one page whose
resources and content are indirect objects); anything else is a ValueError.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

__all__ = ["MARGIN", "MIN_TEXT_PT", "OVERLAP", "Piece", "Plan", "paginate", "plan"]

# Points (1/72 in). 8 pt is the smallest text a printed page is read at.
MIN_TEXT_PT = 8.0
MARGIN = 36.0  # half an inch: inside every printer's unprintable edge
OVERLAP = 18.0  # what one piece shares with the next
GAP = 18.0  # between two bands on a page
FOOTER_PT = 9.0


@dataclass(frozen=True)
class Piece:
    """A part of the scaled drawing (`left`, `top`, `width`, `height`, in page
    points from the drawing's top left) and where its top left lands on the page
    (`x`, `y`, from the page's top left)."""

    left: float
    top: float
    width: float
    height: float
    x: float
    y: float


@dataclass(frozen=True)
class Plan:
    paper: tuple[float, float]  # the page, width × height, as it lies
    scale: float
    pages: tuple[tuple[Piece, ...], ...]
    names: tuple[str, ...] = ()  # each page's tile (tiles only)


def plan(
    width: float,
    height: float,
    *,
    paper: tuple[float, float],
    smallest_text: float,
) -> Plan:
    """How a `width` × `height` drawing whose smallest text is `smallest_text`
    points goes on `paper` (either way up): the fewest pages, then the larger
    scale, then the page turned like the drawing."""
    short, long = sorted(paper)
    min_scale = min(1.0, MIN_TEXT_PT / smallest_text)
    options = [
        _plan(width, height, page, min_scale) for page in ((short, long), (long, short))
    ]
    wide = width > height
    return min(
        options,
        key=lambda p: (len(p.pages), -p.scale, (p.paper[0] > p.paper[1]) != wide),
    )


def _plan(
    width: float, height: float, page: tuple[float, float], min_scale: float
) -> Plan:
    room_w, room_h = page[0] - 2 * MARGIN, page[1] - 2 * MARGIN
    fit = min(room_w / width, room_h / height, 1.0)
    if fit >= min_scale:
        w, h = width * fit, height * fit
        piece = Piece(0, 0, w, h, MARGIN + (room_w - w) / 2, MARGIN)
        return Plan(page, fit, ((piece,),))
    scale = min_scale
    w, h = width * scale, height * scale
    lefts = _starts(w, room_w)
    if h <= room_h:
        per_page = max(1, math.floor((room_h + GAP) / (h + GAP)))
        bands = [Piece(x, 0, min(room_w, w - x), h, 0, 0) for x in lefts]
        pages = tuple(
            tuple(
                Piece(b.left, 0, b.width, h, MARGIN, MARGIN + slot * (h + GAP))
                for slot, b in enumerate(bands[first : first + per_page])
            )
            for first in range(0, len(bands), per_page)
        )
        return Plan(page, scale, pages)
    tops = _starts(h, room_h)
    pieces, names = [], []
    for row, top in enumerate(tops, start=1):
        for col, left in enumerate(lefts):
            size = (min(room_w, w - left), min(room_h, h - top))
            pieces.append((Piece(left, top, *size, MARGIN, MARGIN),))
            names.append(f"{_column(col)}{row}")
    return Plan(page, scale, tuple(pieces), tuple(names))


def _starts(length: float, room: float) -> list[float]:
    """Where each piece of `length` starts, pieces `room` long overlapping by
    OVERLAP."""
    if length <= room:
        return [0.0]
    count = math.ceil((length - OVERLAP) / (room - OVERLAP))
    return [i * (room - OVERLAP) for i in range(count)]


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(ord("A") + rest) + name
    return name


# ---------------------------------------------------------------------------
# Reading cairo's PDF, writing the paged one
# ---------------------------------------------------------------------------

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_SUBSECTION = re.compile(rb"(\d+) (\d+)\s*\r?\n")
_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])")
_REF = rb"(\d+) 0 R"


def _number(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


class _Source:
    """The objects of a one-page PDF as cairo writes it, by number, as bytes."""

    def __init__(self, pdf: bytes) -> None:
        self.pdf = pdf
        found = _STARTXREF.search(pdf[-64:])
        if not found or not pdf.startswith(b"%PDF-"):
            raise ValueError("not a PDF with a cross-reference table")
        xref = int(found[1])
        if pdf[xref : xref + 4] != b"xref":
            raise ValueError("cross-reference streams are not read")
        trailer_at = pdf.index(b"trailer", xref)
        table = pdf[xref + 4 : trailer_at]
        self.offsets: dict[int, int] = {}
        position = 0
        while (head := _SUBSECTION.search(table, position)) is not None:
            first, count = int(head[1]), int(head[2])
            entries = _ENTRY.findall(table, head.end(), head.end() + 20 * count)
            for n, (offset, _gen, kind) in enumerate(entries, start=first):
                if kind == b"n":
                    self.offsets[n] = int(offset)
            position = head.end() + 20 * count
        ends = sorted([*self.offsets.values(), xref])
        self.raw = {
            n: pdf[at : ends[ends.index(at) + 1]] for n, at in self.offsets.items()
        }
        self.size = max(self.offsets) + 1
        trailer = pdf[trailer_at:]
        self.root = self._ref(trailer, b"Root")
        info = re.search(rb"/Info " + _REF, trailer)
        self.info = int(info[1]) if info else None
        self.pages = self._ref(self.raw[self.root], b"Pages")
        kids = re.search(rb"/Kids\s*\[\s*" + _REF + rb"\s*\]", self.raw[self.pages])
        if kids is None:
            raise ValueError("not one page")
        self.page = int(kids[1])
        page = self.raw[self.page]
        box = re.search(rb"/MediaBox\s*\[([^\]]*)\]", page)
        if box is None:
            raise ValueError("the page has no MediaBox")
        self.box = tuple(float(v) for v in box[1].split())
        self.contents = self._ref(page, b"Contents")
        self.resources = self._ref(page, b"Resources")
        group = re.search(rb"/Group\s*(<<[^<>]*>>)", page)
        self.group = group[1] if group else b""

    def _ref(self, text: bytes, key: bytes) -> int:
        found = re.search(rb"/" + key + rb"\s+" + _REF, text)
        if found is None:
            raise ValueError(f"no indirect /{key.decode()}")
        return int(found[1])

    def stream(self, n: int) -> tuple[bytes, bytes]:
        """The stream of object `n` as stored, and its /Filter entry."""
        raw = self.raw[n]
        head, _sep, rest = raw.partition(b"stream")
        rest = rest[2:] if rest.startswith(b"\r\n") else rest[1:]
        length = re.search(rb"/Length\s+(\d+)(\s+0\s+R)?", head)
        if length is None:
            raise ValueError("a stream without a length")
        count = int(length[1])
        if length[2]:
            count = int(re.search(rb"obj\s+(\d+)", self.raw[count])[1])
        found = re.search(rb"/Filter\s*(/\w+|\[[^\]]*\])", head)
        return rest[:count], (b"/Filter " + found[1] if found else b"")


def paginate(
    pdf: bytes, *, paper: tuple[float, float], smallest_text: float
) -> tuple[bytes, Plan]:
    """`pdf` (cairo's one page) on pages of `paper` (points); the paged PDF and
    the plan it follows."""
    source = _Source(pdf)
    x0, y0, x1, y1 = source.box
    layout = plan(x1 - x0, y1 - y0, paper=paper, smallest_text=smallest_text)
    data, filter_entry = source.stream(source.contents)

    objects = {
        n: raw
        for n, raw in source.raw.items()
        if n not in (source.root, source.pages, source.page, source.contents)
    }
    # New objects take the old page's number, then numbers past the last.
    free = iter([source.page, *range(source.size, source.size + 2 * len(layout.pages))])
    form = source.contents
    form_dict = (
        b"<< /Type /XObject /Subtype /Form /BBox [ "
        + " ".join(_number(v) for v in source.box).encode()
        + b" ] /Resources %d 0 R " % source.resources
        + (b"/Group " + source.group + b" " if source.group else b"")
        + filter_entry
        + b" /Length %d >>" % len(data)
    )
    objects[form] = _object(form, form_dict + b"\nstream\n" + data + b"\nendstream")
    kids = []
    total = len(layout.pages)
    fonts = ""
    if total > 1:
        # The footers' font: one of the fourteen every PDF reader has.
        font = next(free)
        objects[font] = _object(
            font, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
        )
        fonts = f"/Font << /F1 {font} 0 R >> "
    page_w, page_h = layout.paper
    for number, pieces in enumerate(layout.pages, start=1):
        content = _page_content(layout, pieces, (x0, y0, y1 - y0))
        if total > 1:
            label = f"{number} / {total}"
            if layout.names:
                label += f"  {layout.names[number - 1]}"
            content += (
                f"BT /F1 {_number(FOOTER_PT)} Tf 0.3 g {_number(MARGIN)} "
                f"{_number(MARGIN / 2 - FOOTER_PT / 3)} Td ({label}) Tj ET\n"
            )
        page = next(free)
        stream = next(free)
        body = content.encode("ascii")
        objects[stream] = _object(
            stream, b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream"
        )
        objects[page] = _object(
            page,
            f"<< /Type /Page /Parent {source.pages} 0 R /MediaBox [ 0 0 "
            f"{_number(page_w)} {_number(page_h)} ] /Contents {stream} 0 R "
            f"/Resources << /XObject << /Map {form} 0 R >> {fonts}>> >>".encode(),
        )
        kids.append(page)
    objects[source.pages] = _object(
        source.pages,
        f"<< /Type /Pages /Kids [ {' '.join(f'{k} 0 R' for k in kids)} ] "
        f"/Count {len(kids)} >>".encode(),
    )
    objects[source.root] = _object(
        source.root, f"<< /Type /Catalog /Pages {source.pages} 0 R >>".encode()
    )
    return _write(pdf.split(b"\n", 1)[0], objects, source), layout


def _page_content(layout: Plan, pieces, box: tuple[float, float, float]) -> str:
    """Each piece: clipped to its place, the drawing moved and scaled under it;
    a dashed rule between two bands."""
    x0, y0, height = box
    s, page_h = layout.scale, layout.paper[1]
    out = []
    for piece in pieces:
        bottom = page_h - piece.y - piece.height
        # The drawing's top left (x0, y0 + height) lands at the piece's, moved
        # by where the piece starts in the drawing.
        e = piece.x - piece.left - s * x0
        f = page_h - piece.y + piece.top - s * (y0 + height)
        out.append(
            f"q {_number(piece.x)} {_number(bottom)} {_number(piece.width)} "
            f"{_number(piece.height)} re W n {_number(s)} 0 0 {_number(s)} "
            f"{_number(e)} {_number(f)} cm /Map Do Q\n"
        )
    for upper in pieces[:-1]:
        rule = page_h - upper.y - upper.height - GAP / 2
        out.append(
            f"q 0.6 G 0.5 w [3 3] 0 d {_number(MARGIN)} {_number(rule)} m "
            f"{_number(layout.paper[0] - MARGIN)} {_number(rule)} l S Q\n"
        )
    return "".join(out)


def _object(number: int, body: bytes) -> bytes:
    return b"%d 0 obj\n" % number + body + b"\nendobj\n"


def _write(header: bytes, objects: dict[int, bytes], source: _Source) -> bytes:
    out = bytearray(header + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += objects[number]
    size = max(offsets) + 1
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        if number in offsets:
            out += b"%010d 00000 n \n" % offsets[number]
        else:
            out += b"0000000000 00001 f \n"
    info = f" /Info {source.info} 0 R" if source.info in objects else ""
    out += (
        f"trailer\n<< /Size {size} /Root {source.root} 0 R{info} >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)
