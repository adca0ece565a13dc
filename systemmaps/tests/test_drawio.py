"""diagrams.net files: the reader (shapes, positions, labels, arrows, pages,
hostile files), the real templates of diagrams.net, the export and its round
trip through the reader, and the export on the map page."""

import base64
import html
import re
import urllib.parse
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from django.urls import reverse
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from hourglass.archive import ImportInvalid
from hourglass.models import Stage
from systemmaps import selectors, services
from systemmaps.drawio import export_drawio, looks_like_drawio, read_drawio
from systemmaps.interop import page_document
from systemmaps.schema import validate_graph
from systemmaps.transfer import import_data

from .factories import webinar_graph
from .utils import membership, step

DATA = Path(__file__).parent / "data" / "drawio"
SAMPLES = sorted(DATA.glob("*.xml"))


# ---------------------------------------------------------------------------
# Building files
# ---------------------------------------------------------------------------


def vertex(cell_id, value="Step", style="", x=0, y=0, w=120, h=60, parent="1", **extra):
    attrs = "".join(f" {key}={quoteattr(str(val))}" for key, val in extra.items())
    return (
        f"<mxCell id={quoteattr(cell_id)} value={quoteattr(value)} "
        f'style={quoteattr(style)} vertex="1" parent={quoteattr(parent)}{attrs}>'
        f'<mxGeometry x="{x}" y="{y}" width="{w}" height="{h}" as="geometry"/>'
        "</mxCell>"
    )


def edge(cell_id, source=None, target=None, value="", parent="1", style=""):
    ends = ""
    if source is not None:
        ends += f" source={quoteattr(source)}"
    if target is not None:
        ends += f" target={quoteattr(target)}"
    return (
        f"<mxCell id={quoteattr(cell_id)} value={quoteattr(value)} "
        f'style={quoteattr(style)} edge="1" parent={quoteattr(parent)}{ends}>'
        '<mxGeometry relative="1" as="geometry"><mxPoint x="5" y="5" '
        'as="targetPoint"/></mxGeometry></mxCell>'
    )


def model(*cells: str) -> str:
    return (
        '<mxGraphModel dx="800" dy="600" grid="1"><root><mxCell id="0"/>'
        '<mxCell id="1" parent="0"/>' + "".join(cells) + "</root></mxGraphModel>"
    )


def compress(text: str) -> str:
    """A page as diagrams.net compresses it: URL-encoded, raw deflate, base64."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    encoded = urllib.parse.quote(text, safe="~()*!.'").encode("ascii")
    return base64.b64encode(packer.compress(encoded) + packer.flush()).decode()


def mxfile(*pages: str, compressed: bool = False, names=None) -> bytes:
    diagrams = []
    for number, page in enumerate(pages, 1):
        name = (names or {}).get(number, f"Page-{number}")
        body = compress(page) if compressed else page
        diagrams.append(
            f'<diagram id="d{number}" name={quoteattr(name)}>{body}</diagram>'
        )
    return f'<mxfile host="test">{"".join(diagrams)}</mxfile>'.encode()


def one_page(*cells: str, **options):
    pages = read_drawio(mxfile(model(*cells), **options))
    assert len(pages) == 1
    return pages[0]


def kinds(page) -> dict[str, str]:
    return {node["label"]: node["kind"] for node in page.nodes}


# ---------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "w", "h", "kind"),
    [
        ("rhombus;whiteSpace=wrap;html=1;", 120, 80, "decision"),
        ("shape=rhombus;", 120, 80, "decision"),
        ("shape=mxgraph.flowchart.decision;whiteSpace=wrap;", 120, 80, "decision"),
        ("shape=mxgraph.flowchart.terminator;", 120, 40, "terminus"),
        ("strokeWidth=2;html=1;shape=mxgraph.flowchart.start_1;", 60, 60, "terminus"),
        ("shape=mxgraph.flowchart.start_2;", 60, 60, "terminus"),
        ("ellipse;whiteSpace=wrap;html=1;", 80, 80, "terminus"),
        ("shape=ellipse;", 80, 40, "terminus"),
        ("ellipse;shape=doubleEllipse;", 80, 40, "terminus"),
        ("rounded=1;whiteSpace=wrap;arcSize=50;", 120, 40, "terminus"),
        ("rounded=1;arcSize=40;", 120, 40, "terminus"),
        ("rounded=1;arcSize=39;", 120, 40, "task"),
        # An absolute arcSize is the corner's diameter: 40 on a 40 high box.
        ("rounded=1;absoluteArcSize=1;arcSize=40;", 120, 40, "terminus"),
        ("rounded=1;absoluteArcSize=1;arcSize=8;", 120, 40, "task"),
        # diagrams.net's default rounding (15 %) is a rounded box, a task.
        ("rounded=1;whiteSpace=wrap;html=1;", 120, 60, "task"),
        ("whiteSpace=wrap;html=1;", 120, 60, "task"),
        ("", 120, 60, "task"),
        ("shape=mxgraph.flowchart.process;", 120, 60, "task"),
        ("shape=hexagon;perimeter=hexagonPerimeter;", 120, 60, "task"),
        ("shape=mxgraph.flowchart.on-page_reference;", 40, 40, "task"),
        ("shape=mxgraph.flowchart.off-page_reference;", 40, 40, "task"),
    ],
)
def test_a_shape_becomes_a_step_by_its_style(style, w, h, kind):
    page = one_page(vertex("a", "Pay", style, w=w, h=h))

    assert [(n["label"], n["kind"]) for n in page.nodes] == [("Pay", kind)]
    assert page.dropped == []


@pytest.mark.parametrize(
    ("style", "what", "why_word"),
    [
        ("text;html=1;strokeColor=none;", "Text “Legend”", "text"),
        ("edgeLabel;html=1;", "Text “Legend”", "text"),
        ("swimlane;startSize=20;", "Container “Legend”", "Swimlanes"),
        ("shape=pool;", "Container “Legend”", "Swimlanes"),
        ("shape=table;startSize=30;", "Container “Legend”", "Swimlanes"),
        ("shape=tableRow;", "Container “Legend”", "Swimlanes"),
        ("image;html=1;image=img/lib/logo.svg;", "Image “Legend”", "Pictures"),
        ("shape=image;image=data:image/png,AAAA;", "Image “Legend”", "Pictures"),
        ("group", "Group", "group"),
    ],
)
def test_text_containers_images_and_groups_are_dropped_with_the_reason(
    style, what, why_word
):
    page = one_page(vertex("a", "Legend", style))

    assert page.nodes == []
    assert [d.what for d in page.dropped] == [what]
    assert why_word in page.dropped[0].why


def test_a_shape_without_text_is_dropped_naming_where_it_is():
    page = one_page(vertex("a", "  ", "rounded=1;", x=40, y=70), vertex("b", "Kept"))

    assert kinds(page) == {"Kept": "task"}
    assert [d.what for d in page.dropped] == ["Shape without text at 40, 70"]
    assert page.dropped[0].why == "A shape without text is not a step."


def test_an_unlabelled_shape_holding_others_is_a_group_and_its_shapes_are_read():
    page = one_page(
        vertex("g", "", "", x=100, y=100, w=300, h=200),
        vertex("a", "Inside", "", x=10, y=20, w=100, h=40, parent="g"),
    )

    assert page.dropped[0].what == "Group"
    assert [(n["label"], n["x"], n["y"]) for n in page.nodes] == [("Inside", 160, 140)]


# ---------------------------------------------------------------------------
# Positions
# ---------------------------------------------------------------------------


def test_positions_are_centres_made_absolute_through_every_ancestor():
    page = one_page(
        vertex("lane", "Sales", "swimlane;", x=100, y=200, w=600, h=400),
        vertex("grp", "", "group", x=30, y=40, w=300, h=200, parent="lane"),
        vertex("a", "Deep", "", x=5, y=7, w=100, h=40, parent="grp"),
        vertex("b", "Shallow", "", x=300, y=10, w=80, h=60, parent="lane"),
        vertex("c", "Top", "", x=-50, y=-20, w=100, h=40),
    )

    centres = {n["label"]: (n["x"], n["y"]) for n in page.nodes}
    assert centres == {
        "Deep": (100 + 30 + 5 + 50, 200 + 40 + 7 + 20),
        "Shallow": (100 + 300 + 40, 200 + 10 + 30),
        "Top": (0, 0),
    }


def test_a_shape_in_a_second_layer_is_placed_like_one_in_the_first():
    page = one_page(
        '<mxCell id="layer2" parent="0"/>',
        vertex("a", "On layer 2", "", x=10, y=10, w=20, h=20, parent="layer2"),
    )

    assert [(n["label"], n["x"], n["y"]) for n in page.nodes] == [
        ("On layer 2", 20, 20)
    ]


# ---------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("Send <b>invoice</b><br>to&nbsp;client", "Send invoice\nto client"),
        (
            "Reviewers are&nbsp;<div>to&nbsp;<span>be invited</span></div>",
            "Reviewers are\nto be invited",
        ),
        ("<p>One</p><p>Two</p>", "One\nTwo"),
        ("Fish &amp; chips &lt;3", "Fish & chips <3"),
        ("  lots   of\n\n space  ", "lots of space"),
        ("a<br>b<br>c", "a\nb c"),
    ],
)
def test_html_labels_become_plain_text(value, label):
    page = one_page(vertex("a", value, "html=1;whiteSpace=wrap;"))

    assert page.nodes[0]["label"] == label


def test_an_html_label_of_only_tags_is_no_label():
    page = one_page(vertex("a", "<div><br></div>&nbsp;", "html=1;"))

    assert page.nodes == []
    assert page.dropped[0].why == "A shape without text is not a step."


def test_a_label_that_is_not_html_keeps_what_looks_like_tags():
    page = one_page(vertex("a", "Use <b> and &amp;\nthen stop", "whiteSpace=wrap;"))

    assert page.nodes[0]["label"] == "Use <b> and &amp;\nthen stop"


def test_a_label_of_a_wrapping_object_with_placeholders():
    cell = (
        '<object id="a" label="%verb% the %thing%" verb="Pack" thing="box" '
        'placeholders="1"><mxCell style="" vertex="1" parent="1">'
        '<mxGeometry width="100" height="40" as="geometry"/></mxCell></object>'
        '<UserObject id="b" label="Ship it %nothing%"><mxCell vertex="1" '
        'parent="1"><mxGeometry x="200" width="100" height="40" as="geometry"/>'
        "</mxCell></UserObject>"
    )
    page = one_page(cell)

    assert [n["label"] for n in page.nodes] == ["Pack the box", "Ship it %nothing%"]


# ---------------------------------------------------------------------------
# Stages from swimlanes
# ---------------------------------------------------------------------------


def test_a_swimlane_titled_with_a_stage_gives_its_steps_that_stage():
    with translation.override("fr"):
        french_trust = str(Stage.TRUST.label)
    page = one_page(
        vertex("l1", "Buy", "swimlane;", w=500, h=300),
        vertex("a", "Invoice", "", x=10, y=40, parent="l1"),
        vertex("l2", french_trust.upper(), "swimlane;", y=400, w=500, h=300),
        vertex("inner", "repeat", "swimlane;", x=10, y=30, w=400, h=200, parent="l2"),
        vertex("b", "Call back", "", x=10, y=40, parent="inner"),
        vertex("c", "Thank", "", x=300, y=40, parent="l2"),
        vertex("l3", "Back office", "swimlane;", y=800, w=500, h=300),
        vertex("d", "File", "", x=10, y=40, parent="l3"),
        vertex("e", "Alone", "", x=900),
    )

    stages = {n["label"]: n["stage"] for n in page.nodes}
    assert stages == {
        "Invoice": "buy",
        "Call back": "repeat",
        "Thank": "trust",
        "File": None,
        "Alone": None,
    }


# ---------------------------------------------------------------------------
# Arrows
# ---------------------------------------------------------------------------


def test_arrows_between_steps_keep_their_labels():
    page = one_page(
        vertex("a", "Paid?", "rhombus;"),
        vertex("b", "Ship", "", x=200),
        vertex("c", "Remind", "", x=400),
        edge("e1", "a", "b", "yes"),
        edge("e2", "a", "c", "<i>no</i>", style="html=1;"),
        edge("e3", "b", "c"),
    )

    assert page.edges == [
        {"id": "e1", "source": "a", "target": "b", "label": "yes"},
        {"id": "e2", "source": "a", "target": "c", "label": "no"},
        {"id": "e3", "source": "b", "target": "c", "label": ""},
    ]
    assert page.counts == {"steps": 3, "decisions": 1, "arrows": 3}


def test_an_arrow_label_in_child_cells_is_the_arrow_label_not_text():
    page = one_page(
        vertex("a", "Paid?", "rhombus;"),
        vertex("b", "Ship", "", x=200),
        edge("e1", "a", "b"),
        vertex(
            "lab", "yes", "edgeLabel;html=1;align=center;", parent="e1", connectable="0"
        ),
        vertex("lab2", "please", "text;", parent="e1", connectable="0"),
    )

    assert page.edges == [
        {"id": "e1", "source": "a", "target": "b", "label": "yes please"}
    ]
    assert page.dropped == []


def test_an_arrow_to_a_cell_inside_a_step_goes_to_the_step():
    page = one_page(
        vertex("a", "Order", ""),
        vertex("port", "", "ellipse;", x=110, y=25, w=10, h=10, parent="a"),
        vertex("b", "Pack", "", x=300),
        edge("e1", "port", "b"),
    )

    assert page.edges == [{"id": "e1", "source": "a", "target": "b", "label": ""}]
    assert [d.what for d in page.dropped] == ["Shape without text at 110, 25"]


def test_arrows_with_a_loose_end_are_dropped_with_the_reason():
    page = one_page(
        vertex("a", "Order", ""),
        vertex("t", "Legend", "text;"),
        edge("e1", "a", None, "later"),
        edge("e2", None, "a"),
        edge("e3", "a", "t"),
        edge("e4", "a", "ghost"),
    )

    assert page.edges == []
    assert [d.what for d in page.dropped] == [
        "Text “Legend”",
        "Arrow “later” from “Order” to nowhere",
        "Arrow from nowhere to “Order”",
        "Arrow from “Order” to “Legend”",
        "Arrow from “Order” to nowhere",
    ]
    loose = "It has a loose end: it is not attached to a shape at both ends."
    assert [d.why for d in page.dropped[1:]] == [
        loose,
        loose,
        "One of its ends is not a step (text, a container, a group or an image).",
        loose,
    ]


# ---------------------------------------------------------------------------
# Files: pages, compression, SVG, our own shape data
# ---------------------------------------------------------------------------


def test_every_page_is_read_compressed_or_plain_with_its_name():
    first = model(vertex("a", "One"))
    second = model(vertex("a", "Two"), vertex("b", "Three", "rhombus;"))
    raw = (
        b'<mxfile><diagram name="Orders">'
        + compress(first).encode()
        + b'</diagram><diagram name="Returns">'
        + second.encode()
        + b'</diagram><diagram id="x">'
        + compress(first).encode()
        + b"</diagram></mxfile>"
    )

    pages = read_drawio(raw)

    assert [(p.title, kinds(p)) for p in pages] == [
        ("Orders", {"One": "task"}),
        ("Returns", {"Two": "task", "Three": "decision"}),
        ("Page 3", {"One": "task"}),
    ]


def test_compressed_and_plain_pages_read_alike():
    cells = (
        vertex("a", "Ünïcode ✓ 100%", "rounded=1;arcSize=50;"),
        vertex("b", "Done?", "rhombus;", x=200),
        edge("e", "a", "b", "ja & nee"),
    )

    plain = one_page(*cells)
    packed = one_page(*cells, compressed=True)

    assert plain == packed
    assert plain.nodes[0]["label"] == "Ünïcode ✓ 100%"


def test_a_bare_model_is_one_page():
    pages = read_drawio(model(vertex("a", "Alone")).encode())

    assert [(p.title, kinds(p)) for p in pages] == [("Page 1", {"Alone": "task"})]


@pytest.mark.parametrize("compressed", [False, True])
def test_an_svg_with_an_embedded_drawing_is_read(compressed):
    inner = mxfile(model(vertex("a", "Drawn", "ellipse;")), compressed=compressed)
    raw = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!-- exported --><svg xmlns="http://www.w3.org/2000/svg" width="10" '
        f'height="10" content={quoteattr(inner.decode())}><g/></svg>'
    ).encode()

    assert looks_like_drawio(raw)
    assert [kinds(p) for p in read_drawio(raw)] == [{"Drawn": "terminus"}]


def test_our_own_shape_data_wins_over_the_style():
    cell = (
        '<object id="a" label="Begin" kind="terminus" stage="know" notes="Why">'
        '<mxCell style="rhombus;" vertex="1" parent="1"><mxGeometry width="10" '
        'height="10" as="geometry"/></mxCell></object>'
    )
    page = one_page(cell)

    assert page.nodes == [
        {
            "id": "a",
            "kind": "terminus",
            "label": "Begin",
            "x": 5,
            "y": 5,
            "stage": "know",
            "notes": "Why",
        }
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'<mxfile host="x"><diagram>', True),
        (b"\xef\xbb\xbf<?xml version='1.0'?>\n<mxGraphModel><root/>", True),
        (b'<svg xmlns="http://www.w3.org/2000/svg" content="&lt;mxfile&gt;">', True),
        (b'<svg xmlns="http://www.w3.org/2000/svg" width="3"><g/></svg>', False),
        (b'{"schema_version": 1, "nodes": []}', False),
        (b"flowchart LR\n  a --> b\n", False),
        (b"Id,Name,Shape Library\n", False),
        (b" " * 2000 + b"<mxfile>", False),
    ],
)
def test_looks_like_drawio_sniffs_the_start(raw, expected):
    assert looks_like_drawio(raw) is expected


# ---------------------------------------------------------------------------
# Hostile and broken files: a message, nothing else
# ---------------------------------------------------------------------------


def _deflated(data: bytes) -> str:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.b64encode(packer.compress(data) + packer.flush()).decode()


def _page(body: str) -> bytes:
    return f'<mxfile><diagram name="P">{body}</diagram></mxfile>'.encode()


_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    '<mxfile><diagram name="&lol3;"/></mxfile>'
)
_CHAIN = "".join(
    vertex(f"v{i}", f"L{i}", "", parent=f"v{i - 1}" if i else "1") for i in range(80)
)

HOSTILE = [
    ("billion laughs", _LAUGHS.encode(), "DTD"),
    (
        "external entity",
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<mxfile><diagram>&x;</diagram></mxfile>",
        "DTD",
    ),
    (
        "external DTD",
        b'<!DOCTYPE mxfile SYSTEM "http://example.com/x.dtd"><mxfile/>',
        "DTD",
    ),
    (
        "entities inside a compressed page",
        _page(
            compress('<!DOCTYPE m [<!ENTITY a "b">]><mxGraphModel>&a;</mxGraphModel>')
        ),
        "DTD",
    ),
    ("deep nesting", mxfile(model(_CHAIN)), "nested more than"),
    (
        "deep XML nesting",
        b"<mxfile>" + b"<a>" * 90_000 + b"</a>" * 90_000 + b"</mxfile>",
        "no pages",
    ),
    (
        "parent cycle",
        mxfile(model(vertex("a", "A", parent="b"), vertex("b", "B", parent="a"))),
        "circle",
    ),
    ("own parent", mxfile(model(vertex("a", "A", parent="a"))), "circle"),
    (
        "missing parent",
        mxfile(model(vertex("a", "A", parent="nope"))),
        "not in the page",
    ),
    ("10 MB label", mxfile(model(vertex("a", "x" * 10_000_000))), "1 MB"),
    (
        "10 MB label, compressed",
        _page(
            _deflated(urllib.parse.quote(model(vertex("a", "x" * 10_000_000))).encode())
        ),
        "inflates to more than",
    ),
    ("huge inflation", _page(_deflated(b"A" * 50_000_000)), "inflates to more than"),
    (
        "inflation beyond the total across pages",
        mxfile(*[model(vertex("a", "y" * 6_000_000))] * 3, compressed=True),
        "inflates to more than",
    ),
    ("bad base64", _page("@@not*base64@@"), "base64"),
    (
        "bad deflate",
        _page(base64.b64encode(b"this is not deflate").decode()),
        "inflated",
    ),
    ("bad percent-encoding", _page(_deflated(b"%3CmxGraphModel%zz")), "URL-encoded"),
    ("percent-encoded non-UTF-8", _page(_deflated(b"%3Ca%FF%FE/%3E")), "UTF-8"),
    ("not XML", b"this is just text", "not valid XML"),
    (
        "truncated XML",
        b'<mxfile><diagram name="P"><mxGraphModel><root>',
        "not valid XML",
    ),
    ("empty", b"", "empty"),
    ("only spaces", b"  \n\t ", "empty"),
    ("not UTF-8", b'<mxfile><diagram name="caf\xe9"/></mxfile>', "UTF-8"),
    ("no pages", b'<mxfile host="x"></mxfile>', "no pages"),
    ("empty page", b'<mxfile><diagram name="P"> </diagram></mxfile>', "no drawing"),
    ("page of something else", _page(compress("<html><body/></html>")), "no drawing"),
    ("model without root", _page(compress("<mxGraphModel/>")), "no drawing"),
    ("another XML", b"<html><body>hi</body></html>", "not a diagrams.net drawing"),
    ("SVG without a drawing", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
    (
        "two cells with one id",
        mxfile(model(vertex("a", "A"), vertex("a", "B"))),
        "two elements have the id",
    ),
    (
        "a position that is not a number",
        mxfile(model(vertex("a", "A", x="NaN"))),
        "not a number",
    ),
    (
        "an infinite position",
        mxfile(model(vertex("a", "A", x="1e999"))),
        "not a number",
    ),
    (
        "too many elements",
        b"<mxfile>" + b"<x/>" * 210_000 + b"</mxfile>",
        "too many elements",
    ),
    (
        "too many steps",
        mxfile(model(*(vertex(f"v{i}", "S", x=i) for i in range(1001)))),
        "at most 1000 steps",
    ),
    ("too many pages", mxfile(*[model()] * 101), "at most 100"),
    ("not a file", None, "must be a file"),
]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [pytest.param(raw, fragment, id=name) for name, raw, fragment in HOSTILE],
)
def test_a_hostile_or_broken_file_gets_a_message_and_nothing_else(raw, fragment):
    with pytest.raises(ImportInvalid) as caught:
        read_drawio(raw)

    problems = caught.value.problems
    assert len(problems) == 1
    assert isinstance(problems[0], str)
    assert fragment in problems[0]


def test_a_message_about_a_page_names_the_page():
    raw = mxfile(model(vertex("a", "A")), "", names={1: "Fine", 2: "Broken"})

    with pytest.raises(ImportInvalid) as caught:
        read_drawio(raw)

    assert caught.value.problems == [
        "Page “Broken” holds no drawing (no mxGraphModel)."
    ]


# ---------------------------------------------------------------------------
# The real templates of diagrams.net, counted independently
# ---------------------------------------------------------------------------


def _independent_counts(raw: bytes) -> dict[str, int]:
    """Steps, decisions, arrows and dropped elements of a one-page compressed
    file, read with the standard library and the documented mapping."""
    body = re.search(rb"<diagram[^>]*>([^<]+)</diagram>", raw).group(1)
    xml = urllib.parse.unquote(zlib.decompress(base64.b64decode(body), -15).decode())
    cells = list(ET.fromstring(xml).iter("mxCell"))
    by_id = {c.get("id"): c for c in cells}

    def text(cell):
        value = re.sub(r"<[^>]+>", " ", cell.get("value") or "")
        return html.unescape(value).replace("\xa0", " ").strip()

    def words(cell):
        style = cell.get("style") or ""
        return {part.split("=")[-1] for part in style.split(";") if part}

    def not_step_style(cell):
        return words(cell) & {"text", "swimlane", "group", "image", "edgeLabel"}

    labels_of_edges = {
        c.get("id")
        for c in cells
        if c.get("vertex") == "1" and by_id[c.get("parent")].get("edge") == "1"
    }
    steps = {
        c.get("id")
        for c in cells
        if c.get("vertex") == "1"
        and c.get("id") not in labels_of_edges
        and text(c)
        and not not_step_style(c)
    }
    decisions = {
        i for i in steps if words(by_id[i]) & {"rhombus", "mxgraph.flowchart.decision"}
    }

    def step_of(cell_id):
        if cell_id in steps:
            return cell_id
        parent = by_id[cell_id].get("parent") if cell_id in by_id else None
        return parent if parent in steps else None

    edges = [c for c in cells if c.get("edge") == "1"]
    arrows = [e for e in edges if step_of(e.get("source")) and step_of(e.get("target"))]
    vertices = [
        c
        for c in cells
        if c.get("vertex") == "1" and c.get("id") not in labels_of_edges
    ]
    return {
        "steps": len(steps),
        "decisions": len(decisions),
        "arrows": len(arrows),
        "dropped": len(vertices) - len(steps) + len(edges) - len(arrows),
    }


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_a_real_diagrams_net_template_gives_the_counts_in_its_xml(path):
    raw = path.read_bytes()

    pages = read_drawio(raw)

    assert looks_like_drawio(raw)
    assert len(pages) == 1
    page = pages[0]
    assert {**page.counts, "dropped": len(page.dropped)} == _independent_counts(raw)
    assert all(d.what and d.why for d in page.dropped)
    # The page makes a map our checks accept.
    imported = import_data(page_document(page))
    assert len(imported.graph["nodes"]) == page.counts["steps"]


def test_the_event_chain_template_keeps_its_29_arrows():
    page = read_drawio((DATA / "epc.xml").read_bytes())[0]

    assert page.counts["arrows"] == 29
    assert page.nodes[0]["label"] == "Reviewers are\nto be invited"


def test_the_samples_are_the_published_files():
    shared = Path(__file__).resolve().parents[3] / "shared" / "interop" / "drawio"
    if not shared.is_dir():
        pytest.skip("the shared folder is not beside this clone")
    for path in SAMPLES:
        assert path.read_bytes() == (shared / path.name).read_bytes()


# ---------------------------------------------------------------------------
# Export, and the round trip through the reader
# ---------------------------------------------------------------------------


def test_the_export_is_one_uncompressed_page_of_our_shapes(webinar_graph_document):
    raw = export_drawio(
        webinar_graph_document,
        {"call": {"owner": "bob@example.com", "critical": True, "automation": "could"}},
    )
    mxfile_element = ET.fromstring(raw)

    assert mxfile_element.get("host") == "Hourglass"
    (diagram,) = mxfile_element.findall("diagram")
    assert diagram.get("name") == "Webinar to client"
    objects = {o.get("id"): o for o in diagram.iter("object")}
    call = objects["step-call"]
    assert (call.get("kind"), call.get("owner"), call.get("critical")) == (
        "task",
        "bob@example.com",
        "yes",
    )
    assert call.get("automation") == "could"
    assert objects["step-nurture"].get("critical") == "no"
    assert objects["step-start"].get("owner") is None
    geometry = call.find("mxCell/mxGeometry")
    node = next(n for n in webinar_graph_document["nodes"] if n["id"] == "call")
    assert float(geometry.get("x")) + float(geometry.get("width")) / 2 == node["x"]
    assert float(geometry.get("y")) + float(geometry.get("height")) / 2 == node["y"]
    assert "strokeWidth=2.6" in call.find("mxCell").get("style")
    assert "rhombus" in objects["step-booked"].find("mxCell").get("style")
    arrows = [c for c in diagram.iter("mxCell") if c.get("edge") == "1"]
    assert len(arrows) == len(webinar_graph_document["edges"])
    assert all("edgeStyle=orthogonalEdgeStyle" in a.get("style") for a in arrows)
    assert sorted(a.get("value") for a in arrows if a.get("value")) == [
        "no",
        "no",
        "yes",
        "yes",
    ]


def test_a_two_line_label_is_exported_as_html_with_a_break():
    graph = validate_graph(
        {
            "schema_version": 1,
            "name": "M",
            "nodes": [
                {
                    "id": "a",
                    "kind": "task",
                    "label": "Bake <cake> & decorate\n(day before)",
                    "x": 0,
                    "y": 0,
                }
            ],
            "edges": [],
        }
    )

    label = ET.fromstring(export_drawio(graph)).find(".//object").get("label")

    assert label == "Bake &lt;cake&gt; &amp; decorate<br>(day before)"


_WORD = st.text(
    st.characters(
        exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp", "Cf", "Co", "Cn"),
    ),
    min_size=1,
    max_size=12,
)
_LINE = st.lists(_WORD, min_size=1, max_size=5).map(" ".join)
_LABEL = (
    st.lists(_LINE, min_size=1, max_size=2)
    .map("\n".join)
    .filter(lambda label: len(label) <= 200)
)
_EDGE_LABEL = st.none() | _LINE.filter(lambda label: len(label) <= 60)
_COORDINATE = st.floats(min_value=-100_000, max_value=100_000, allow_nan=False).map(
    lambda value: round(value, 2)
)


@st.composite
def drawn_graphs(draw):
    """Maps as the editor stores them: labels of words, at most two lines,
    arrow labels one line, centres to the hundredth."""
    count = draw(st.integers(min_value=1, max_value=8))
    nodes = [
        {
            "id": f"n{i}",
            "kind": draw(st.sampled_from(["terminus", "task", "decision"])),
            "label": draw(_LABEL),
            "x": draw(_COORDINATE),
            "y": draw(_COORDINATE),
            "stage": draw(st.sampled_from([None, *Stage.values])),
        }
        for i in range(1, count + 1)
    ]
    edges = [
        {
            "id": f"e{i}",
            "source": f"n{draw(st.integers(1, count))}",
            "target": f"n{draw(st.integers(1, count))}",
            "label": draw(_EDGE_LABEL),
        }
        for i in range(1, draw(st.integers(0, 10)) + 1)
    ]
    return validate_graph(
        {"schema_version": 1, "name": draw(_LINE), "nodes": nodes, "edges": edges}
    )


@settings(deadline=None, max_examples=60)
@given(drawn_graphs())
def test_export_then_import_gives_the_same_graph(graph):
    (page,) = read_drawio(export_drawio(graph))
    imported = import_data(page_document(page)).graph

    assert imported["name"] == graph["name"]
    assert [(n["kind"], n["label"], n["stage"]) for n in imported["nodes"]] == [
        (n["kind"], n["label"], n["stage"]) for n in graph["nodes"]
    ]
    for ours, theirs in zip(graph["nodes"], imported["nodes"], strict=True):
        assert abs(ours["x"] - theirs["x"]) <= 0.5
        assert abs(ours["y"] - theirs["y"]) <= 0.5
    position = {n["id"]: i for i, n in enumerate(graph["nodes"], 1)}
    assert [(e["source"], e["target"], e["label"]) for e in imported["edges"]] == [
        (f"n{position[e['source']]}", f"n{position[e['target']]}", e["label"])
        for e in graph["edges"]
    ]
    assert page.dropped == []


def test_export_then_import_brings_the_step_details_back(webinar_graph_document):
    details = {
        "call": {"owner": "bob@example.com", "critical": True, "automation": "could"},
        "nurture": {"owner": None, "critical": False, "automation": "automated"},
    }
    (page,) = read_drawio(export_drawio(webinar_graph_document, details))
    imported = import_data(page_document(page))

    by_label = {n["id"]: n["label"] for n in imported.graph["nodes"]}
    label_of = {n["id"]: n["label"] for n in webinar_graph_document["nodes"]}
    got = {
        by_label[node_id]: (step["owner"], step["critical"], step["automation"])
        for node_id, step in imported.steps.items()
    }
    assert got[label_of["call"]] == ("bob@example.com", True, "could")
    assert got[label_of["nurture"]] == (None, False, "automated")
    # Every other task and decision: as exported, unowned, not critical, manual.
    work = [n for n in webinar_graph_document["nodes"] if n["kind"] != "terminus"]
    assert len(got) == len(work)
    assert {
        value
        for key, value in got.items()
        if key not in (label_of["call"], label_of["nurture"])
    } == {(None, False, "manual")}


def test_shape_data_of_another_tool_is_not_taken_for_step_details():
    raw = b"""<mxGraphModel><root><mxCell id="0"/><mxCell id="1" parent="0"/>
      <object id="t" label="Pack" owner="the warehouse" critical="very"
              automation="robots">
        <mxCell style="rounded=0;" vertex="1" parent="1">
          <mxGeometry x="0" y="0" width="120" height="60" as="geometry"/></mxCell>
      </object></root></mxGraphModel>"""
    (page,) = read_drawio(raw)
    imported = import_data(page_document(page))

    (step,) = imported.steps.values()
    assert (step["owner"], step["critical"], step["automation"]) == (
        None,
        False,
        "manual",
    )


# ---------------------------------------------------------------------------
# The export on the map page
# ---------------------------------------------------------------------------


@pytest.fixture
def webinar_graph_document():
    return validate_graph(webinar_graph())


def _export_url(system_map) -> str:
    return reverse(
        "systemmaps:map-export",
        kwargs={"slug": "acme", "pk": system_map.pk, "fmt": "drawio"},
    )


def test_a_member_downloads_the_map_as_a_drawio_file(
    client_for, bob, acme, webinar_map
):
    services.step_update(
        node=step(webinar_map, "call"), owner=membership(bob, acme), critical=True
    )

    response = client_for(bob).get(_export_url(webinar_map))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.jgraph.mxfile"
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="webinar-to-client-v1.drawio"'
    )
    assert response.content == export_drawio(
        selectors.graph_of(webinar_map), selectors.export_steps(webinar_map)
    )
    call = ET.fromstring(response.content).find(".//object[@id='step-call']")
    assert (call.get("owner"), call.get("critical")) == (bob.email, "yes")
    (page,) = read_drawio(response.content)
    assert page.counts == {"steps": 9, "decisions": 2, "arrows": 9}


def test_the_export_menu_offers_the_drawio_file(client_for, bob, webinar_map):
    response = client_for(bob).get(webinar_map.get_absolute_url())

    assert f'href="{_export_url(webinar_map)}"' in response.text
    assert "diagrams.net (draw.io) file" in response.text


def test_an_outsider_cannot_download_the_drawio_file(
    client_for, charlie, other_co, webinar_map
):
    response = client_for(charlie).get(_export_url(webinar_map))

    assert response.status_code == 404
