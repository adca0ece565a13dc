"""Graphviz layout and export on plain data: runs the real `dot`, no database."""

import re
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from systemmaps import layout
from systemmaps.document import box_of, look_of, overlaps
from systemmaps.layout import LayoutError

WEBINAR_NODES = [
    ("webinar", "terminus", "Webinar"),
    ("nurture", "task", "Email nurture campaign"),
    ("booked", "decision", "Booked a consultation?"),
    ("downsell", "task", "Down-sell campaign"),
    ("bucket", "terminus", "Future email automation bucket"),
    ("call", "task", "Consultation call"),
    ("proposal", "task", "Proposal sent"),
    ("signed", "decision", "Signed?"),
    ("onboard", "terminus", "Onboard new client"),
]
WEBINAR_EDGES = [
    ("webinar", "nurture", None),
    ("nurture", "booked", None),
    ("booked", "downsell", "no"),
    ("downsell", "bucket", None),
    ("booked", "call", "yes"),
    ("call", "proposal", None),
    ("proposal", "signed", None),
    ("signed", "nurture", "no"),
    ("signed", "onboard", "yes"),
]

HOSTILE_LABELS = [
    "</text><script>alert(1)</script>",
    '" onload="alert(1)',
    'x"]; evil -> pwned; a [label="',
    "<b>html</b>",
    "<<table><tr><td>x</td></tr></table>>",
    '\\"]; evil [label=\\',
    "a\\",
    "<!-- comment --><a href='javascript:alert(1)'>x</a>",
    "<![CDATA[x]]> &amp; &lt;b&gt; &nbsp; &#60; &foo;",
]


def make_node(node_id, kind="task", label="Step"):
    return {
        "id": node_id,
        "kind": kind,
        "label": label,
        "x": 0.0,
        "y": 0.0,
        "stage": None,
        "notes": None,
    }


def make_edge(edge_id, source, target, label=None):
    return {"id": edge_id, "source": source, "target": target, "label": label}


def webinar():
    nodes = [make_node(i, kind, label) for i, kind, label in WEBINAR_NODES]
    edges = [
        make_edge(f"edge-{n}", source, target, label)
        for n, (source, target, label) in enumerate(WEBINAR_EDGES)
    ]
    return nodes, edges


def parse_svg(data: bytes) -> ET.Element:
    return ET.fromstring(data)


def local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def node_groups(root: ET.Element) -> list[ET.Element]:
    return [
        el
        for el in root.iter()
        if local(el.tag) == "g" and "node" in el.get("class", "").split()
    ]


def texts(element: ET.Element) -> list[str]:
    return [el.text or "" for el in element.iter() if local(el.tag) == "text"]


def assert_inert(root: ET.Element) -> None:
    for el in root.iter():
        assert not local(el.tag).lower().endswith("script"), el.tag
        assert local(el.tag) != "a", "link element in SVG"
        for attr in el.attrib:
            assert not local(attr).lower().startswith("on"), attr
            assert local(attr).lower() != "href", attr


def polygon_points(group: ET.Element) -> list[tuple[float, float]]:
    polygon = next(el for el in group.iter() if local(el.tag) == "polygon")
    pairs = [p.split(",") for p in polygon.get("points").split()]
    points = [(float(x), float(y)) for x, y in pairs]
    # Graphviz closes polygons by repeating the first point.
    return points[:-1] if points[0] == points[-1] else points


def group_of_kind(root: ET.Element, kind: str) -> ET.Element:
    return next(g for g in node_groups(root) if kind in g.get("class").split())


def fake_dot(tmp_path, body: str) -> str:
    script = tmp_path / "dot"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return str(script)


# -- tidy_positions -----------------------------------------------------------


def test_tidy_positions_returns_every_webinar_node():
    nodes, edges = webinar()

    positions = layout.tidy_positions(nodes, edges)

    assert set(positions) == {node["id"] for node in nodes}
    for position in positions.values():
        assert set(position) == {"x", "y"}
        assert position["x"] >= 0 and position["y"] >= 0


def test_tidy_positions_flow_left_to_right():
    nodes, edges = webinar()

    positions = layout.tidy_positions(nodes, edges)

    start, nurture, booked = (
        positions[i]["x"] for i in ("webinar", "nurture", "booked")
    )
    assert start < nurture < booked
    assert positions["signed"]["x"] < positions["onboard"]["x"]


def test_tidy_position_is_the_node_centre():
    # A lone node fills the drawing: its centre is half its size from the
    # top-left corner, and a short label's shape is as large as the canvas's.
    look = look_of("task")
    positions = layout.tidy_positions([make_node("only", label="A step")], [])

    assert positions["only"]["y"] == pytest.approx(look.height / 2, abs=0.5)
    assert positions["only"]["x"] == pytest.approx(look.width / 2, abs=0.5)


@pytest.mark.parametrize("kind", ["terminus", "task", "decision"])
def test_tidy_positions_never_lay_canvas_shapes_on_top_of_each_other(kind):
    # Graphviz sizes a shape to its label; short labels made boxes smaller than
    # the canvas draws, so tidied shapes overlapped there. A chain, a fan-out
    # and a fan-in of one-letter steps.
    ids = "abcdefgh"
    nodes = [make_node(i, kind=kind, label=i.upper()) for i in ids]
    edges = [make_edge("e1", "a", "b"), make_edge("e2", "b", "c")]
    edges += [make_edge(f"f{i}", "c", t) for i, t in enumerate("def")]
    edges += [make_edge(f"g{i}", s, "g") for i, s in enumerate("def")]
    edges.append(make_edge("h", "g", "h"))

    positions = layout.tidy_positions(nodes, edges)

    boxes = [box_of({"kind": kind, **positions[i]}) for i in ids]
    for one, box in enumerate(boxes):
        for other in boxes[one + 1 :]:
            assert not overlaps(box, other), (box, other)


def test_tidy_positions_have_y_growing_downward():
    # Three siblings share a rank and stack vertically; their order from the top
    # must match the order dot draws them in the SVG (where y grows downward).
    nodes = [make_node(i, label=i.upper()) for i in ("root", "b", "c", "d")]
    edges = [make_edge(f"e{i}", "root", t) for i, t in enumerate("bcd")]

    positions = layout.tidy_positions(nodes, edges)
    root = parse_svg(layout.export(nodes, edges, fmt="svg"))

    svg_y = {
        "".join(texts(g)).lower(): float(
            next(el for el in g.iter() if local(el.tag) == "text").get("y")
        )
        for g in node_groups(root)
    }
    assert sorted("bcd", key=lambda i: positions[i]["y"]) == sorted(
        "bcd", key=lambda i: svg_y[i]
    )
    assert len({positions[i]["y"] for i in "bcd"}) == 3
    assert len({positions[i]["x"] for i in "bcd"}) == 1


def test_tidy_positions_of_empty_graph_is_empty():
    assert layout.tidy_positions([], []) == {}


def test_edges_to_unknown_nodes_are_ignored():
    nodes = [make_node("a"), make_node("b")]
    edges = [make_edge("e0", "a", "b"), make_edge("e1", "a", "ghost")]

    assert set(layout.tidy_positions(nodes, edges)) == {"a", "b"}
    root = parse_svg(layout.export(nodes, edges, fmt="svg"))
    assert len(node_groups(root)) == 2


# -- to_dot -------------------------------------------------------------------


def test_dot_source_uses_generated_names_not_ids():
    nodes = [make_node("SECRET_ID_1", "terminus"), make_node("SECRET_ID_2")]
    edges = [make_edge("SECRET_EDGE", "SECRET_ID_1", "SECRET_ID_2", "go")]

    source = layout.to_dot(nodes, edges, title="Map")

    assert "SECRET" not in source
    assert "n0 -> n1" in source
    assert "rankdir=LR" in source


def test_dot_source_quotes_and_escapes_labels():
    nodes = [make_node("a", label='<b>x</b> "hi" \\N & co')]

    source = layout.to_dot(nodes, [])

    assert 'label="<b>x</b> \\"hi\\" \\\\N &amp; co"' in source


def test_long_labels_are_wrapped():
    nodes = [make_node("a", label="one two three four five six seven eight nine")]

    source = layout.to_dot(nodes, [])

    label = re.search(r'n0 \[.*label="([^"]*)"', source).group(1)
    assert all(len(line) <= 24 for line in label.split("\\n"))
    assert label.count("\\n") >= 1


def test_a_two_line_label_is_drawn_on_two_lines_not_glued():
    nodes = [make_node("a", label="Bake and decorate\r\n(day before)")]

    svg = layout.export(nodes, [], fmt="svg").decode()

    texts = [el.text for el in ET.fromstring(svg).iter() if el.tag.endswith("text")]
    assert texts == ["Bake and decorate", "(day before)"]


# -- export -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "magic"),
    [("svg", b"<?xml"), ("png", b"\x89PNG\r\n\x1a\n"), ("pdf", b"%PDF")],
)
def test_export_starts_with_format_magic(fmt, magic):
    nodes, edges = webinar()

    data = layout.export(nodes, edges, fmt=fmt, title="Webinar")

    assert data.startswith(magic)
    if fmt == "svg":
        assert b"<svg" in data[:200]


def test_png_is_rendered_at_144_dpi():
    nodes, edges = webinar()

    svg_width_pt = float(
        parse_svg(layout.export(nodes, edges, fmt="svg"))
        .get("width")
        .removesuffix("pt")
    )
    png = layout.export(nodes, edges, fmt="png")

    (png_width,) = struct.unpack(">I", png[16:20])
    assert png_width == pytest.approx(svg_width_pt * 2, abs=4)


def test_export_rejects_unknown_format():
    with pytest.raises(ValueError, match="gif"):
        layout.export([make_node("a")], [], fmt="gif")


def test_svg_draws_each_kind_with_its_shape():
    nodes, edges = webinar()

    root = parse_svg(layout.export(nodes, edges, fmt="svg"))

    decision = polygon_points(group_of_kind(root, "decision"))
    assert len(decision) == 4
    assert len({x for x, _ in decision}) == 3  # a diamond: top/bottom share x
    task = polygon_points(group_of_kind(root, "task"))
    assert len(task) == 4
    assert len({x for x, _ in task}) == 2 and len({y for _, y in task}) == 2
    terminus = group_of_kind(root, "terminus")
    path = next(el for el in terminus.iter() if local(el.tag) == "path")
    assert "C" in path.get("d")  # rounded ends are curves
    assert len(node_groups(root)) == len(nodes)


def test_svg_shows_arrow_labels_and_title_on_top():
    nodes, edges = webinar()

    root = parse_svg(layout.export(nodes, edges, fmt="svg", title="Webinar system"))

    all_text = texts(root)
    assert "yes" in all_text and "no" in all_text
    assert "Webinar system" in all_text
    title_y = next(
        float(el.get("y"))
        for el in root.iter()
        if local(el.tag) == "text" and el.text == "Webinar system"
    )
    node_ys = [
        float(el.get("y"))
        for g in node_groups(root)
        for el in g.iter()
        if local(el.tag) == "text"
    ]
    assert title_y < min(node_ys)


def test_svg_has_no_comments_or_graph_name_from_user_text():
    nodes = [make_node("a", label="-- x --> <!-- y")]

    data = layout.export(nodes, [], fmt="svg", title="<!-- t -->")

    assert b"<!--" not in data


def test_export_of_empty_graph_is_a_valid_svg():
    root = parse_svg(layout.export([], [], fmt="svg"))

    assert local(root.tag) == "svg"
    assert node_groups(root) == []


@pytest.mark.parametrize("label", HOSTILE_LABELS)
def test_hostile_label_is_shown_literally_and_stays_inert(label):
    nodes = [make_node("a", "terminus", "Start"), make_node("b", "decision", label)]
    edges = [make_edge("e0", "a", "b", label)]

    data = layout.export(nodes, edges, fmt="svg", title=label)

    root = parse_svg(data)
    assert_inert(root)
    groups = node_groups(root)
    assert len(groups) == 2
    # Wrapping may break the label at spaces; compare without whitespace.
    shown = "".join(texts(groups[1])).replace(" ", "")
    assert shown == label.replace(" ", "")
    assert len(layout.tidy_positions(nodes, edges)) == 2


@pytest.mark.parametrize(
    ("label", "shown"),
    [("\\N", "\\N"), ("\\G", "\\G"), ("a\\lb", "a\\lb"), ("\\E \\T \\H", "\\E\\T\\H")],
)
def test_graphviz_escapes_in_labels_are_shown_literally(label, shown):
    root = parse_svg(layout.export([make_node("a", label=label)], [], fmt="svg"))

    (group,) = node_groups(root)
    assert "".join(texts(group)).replace(" ", "") == shown


def test_control_characters_do_not_break_the_svg():
    nodes = [make_node("a", label="bell\x07 nul\x00 vt\x0b bom\ufeff nonchar\ufffe")]

    root = parse_svg(layout.export(nodes, [], fmt="svg"))

    assert "bell" in "".join(texts(node_groups(root)[0]))


# -- Graphviz missing, failing or slow ----------------------------------------


def test_missing_dot_raises_layout_error(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHVIZ_DOT", str(tmp_path / "no-such-dot"))

    with pytest.raises(LayoutError, match="Graphviz 'dot' is not installed") as info:
        layout.tidy_positions([make_node("a")], [])
    assert info.value.code == "missing"
    with pytest.raises(LayoutError, match="not installed"):
        layout.export([make_node("a")], [], fmt="svg")


def test_dot_not_on_path_raises_layout_error(monkeypatch):
    monkeypatch.delenv("GRAPHVIZ_DOT", raising=False)
    monkeypatch.setattr(layout.shutil, "which", lambda name: None)

    with pytest.raises(LayoutError, match="not installed"):
        layout.export([make_node("a")], [], fmt="png")


def test_slow_dot_raises_layout_error(monkeypatch, tmp_path):
    # exec, so the timeout's kill reaches the sleeping process itself.
    monkeypatch.setenv("GRAPHVIZ_DOT", fake_dot(tmp_path, "exec sleep 5"))

    with pytest.raises(LayoutError, match="took longer than 0.5 seconds") as info:
        layout.tidy_positions([make_node("a")], [], timeout=0.5)
    assert info.value.code == "timeout"


def test_failing_dot_raises_layout_error_with_its_message(monkeypatch, tmp_path):
    script = fake_dot(tmp_path, "echo 'Error: syntax error in line 1' >&2; exit 1")
    monkeypatch.setenv("GRAPHVIZ_DOT", script)

    with pytest.raises(LayoutError, match="exit status 1.*syntax error") as info:
        layout.export([make_node("a")], [], fmt="pdf")
    assert info.value.code == "failed"


# -- Any labels, any small graph ----------------------------------------------

TRICKY = st.sampled_from(
    [
        '"',
        "\\",
        "\\N",
        '\\"',
        "<",
        ">",
        "&",
        "&nbsp;",
        "&#1;",
        "\n",
        "\r\n",
        "\t",
        "</text><script>alert(1)</script>",
        '" onload="alert(1)',
        '"]; x -> y [label="',
        "😀👩‍👩‍👧",
        "مرحبا بالعالم",
        "שלום",
        "\u202e",
        "\x00\x1f\x7f",
        "\ufffe\uffff",
    ]
)
LABELS = st.lists(st.one_of(st.text(max_size=12), TRICKY), max_size=6).map("".join)
IDS = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
    min_size=1,
    max_size=64,
)


@st.composite
def graphs(draw):
    ids = draw(st.lists(IDS, max_size=8, unique=True))
    kinds = st.sampled_from(["terminus", "task", "decision"])
    nodes = [make_node(i, draw(kinds), draw(LABELS)) for i in ids]
    edges = []
    if ids:
        pairs = st.tuples(st.sampled_from(ids), st.sampled_from(ids))
        for n, (source, target) in enumerate(draw(st.lists(pairs, max_size=12))):
            label = draw(st.none() | LABELS.map(lambda s: s[:60]))
            edges.append(make_edge(f"e{n}", source, target, label))
    return nodes, edges


@settings(max_examples=40, deadline=None, database=None)
@given(graph=graphs(), title=st.none() | LABELS)
def test_any_small_graph_lays_out_and_exports_inert_svg(graph, title):
    nodes, edges = graph

    assert layout.to_dot(nodes, edges, title=title).startswith("digraph systemmap {")
    positions = layout.tidy_positions(nodes, edges)
    data = layout.export(nodes, edges, fmt="svg", title=title)

    assert set(positions) == {node["id"] for node in nodes}
    root = parse_svg(data)
    assert_inert(root)
    assert len(node_groups(root)) == len(nodes)


# -- Step details: owner initials, critical marker, automation -----------------


def node_group_of(root: ET.Element, index: int) -> ET.Element:
    return next(g for g in node_groups(root) if g.get("id") == f"n{index}")


def test_step_badges_say_owner_critical_and_automation_in_words():
    assert layout.step_badges(None) == ""
    assert layout.step_badges({"automation": "manual"}) == ""
    assert (
        layout.step_badges({"initials": "AA", "critical": True, "automation": "could"})
        == "AA · ★\u00a0Critical · ⚡\u00a0Could be automated"
    )
    assert layout.step_badges({"automation": "automated"}) == "⚙\u00a0Automated"


def test_details_add_a_line_to_task_and_decision_labels():
    nodes, edges = webinar()
    details = {
        "call": {"initials": "BB", "critical": True, "automation": "could"},
        "booked": {"initials": "", "critical": False, "automation": "automated"},
        "nurture": {"initials": "AA", "critical": False, "automation": "manual"},
    }

    root = parse_svg(layout.export(nodes, edges, fmt="svg", details=details))

    call = node_group_of(root, 5)
    assert " ".join(texts(call)).replace("\u00a0", " ") == (
        "Consultation call BB · ★ Critical · ⚡ Could be automated"
    )
    assert call.get("class").split() == ["node", "task", "critical", "automation-could"]
    # The outline of a critical step is drawn thicker, besides the word.
    outline = next(el for el in call.iter() if local(el.tag) == "polygon")
    assert outline.get("stroke-width") == "2.6"
    booked = node_group_of(root, 2)
    assert "⚙\u00a0Automated" in "".join(texts(booked))
    assert "automation-automated" in booked.get("class").split()
    assert texts(node_group_of(root, 1)) == ["Email nurture campaign", "AA"]
    # Steps without details are as before.
    assert texts(node_group_of(root, 3)) == ["Down-sell campaign"]


def test_details_of_termini_are_not_shown():
    nodes, edges = webinar()
    details = {"webinar": {"initials": "AA", "critical": True, "automation": "could"}}

    assert layout.to_dot(nodes, edges, details=details) == layout.to_dot(nodes, edges)


def test_png_and_pdf_exports_take_details():
    nodes, edges = webinar()
    details = {"call": {"initials": "BB", "critical": True, "automation": "could"}}

    with_details = layout.export(nodes, edges, fmt="png", details=details)
    plain = layout.export(nodes, edges, fmt="png")
    assert with_details.startswith(b"\x89PNG") and with_details != plain
    assert layout.export(nodes, edges, fmt="pdf", details=details).startswith(b"%PDF-")


@pytest.mark.parametrize("initials", HOSTILE_LABELS)
def test_hostile_owner_initials_are_shown_literally_and_stay_inert(initials):
    nodes = [make_node("a", "task", "Call"), make_node("b", "decision", "Signed?")]
    details = {
        "a": {"initials": initials, "critical": True},
        "b": {"initials": initials, "automation": "could"},
    }

    root = parse_svg(layout.export(nodes, [], fmt="svg", details=details))

    assert_inert(root)
    # No arrow or node made of the text: it stays inside its label.
    assert not [g for g in root.iter() if "edge" in g.get("class", "").split()]
    groups = node_groups(root)
    assert len(groups) == 2
    for group in groups:
        shown = "".join(texts(group)).replace(" ", "").replace("\u00a0", "")
        assert initials.replace(" ", "") in shown


@pytest.mark.parametrize("initials", ["\\N", "\\G", "a\\lb"])
def test_graphviz_escapes_in_initials_are_shown_literally(initials):
    details = {"a": {"initials": initials}}

    root = parse_svg(
        layout.export([make_node("a", label="Call")], [], fmt="svg", details=details)
    )

    (group,) = node_groups(root)
    assert texts(group) == ["Call", initials]


# ---------------------------------------------------------------------------
# Every script drawn: Hangul, Polish and Romanian letters in PNG and PDF
# ---------------------------------------------------------------------------


def labelled(*labels: str) -> list[dict]:
    return [
        {"id": f"s{n}", "kind": "task", "label": label, "x": 0, "y": 0, "stage": ""}
        for n, label in enumerate(labels)
    ]


def test_a_pdf_embeds_a_font_with_hangul_and_one_with_polish_letters(tmp_path):
    pdf = tmp_path / "map.pdf"
    pdf.write_bytes(
        layout.export(labelled("고객 상담 예약", "Łódź: ściągnięcie"), [], fmt="pdf")
    )

    listed = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout

    fonts = [line.split()[0] for line in listed.splitlines()[2:]]
    assert any("NanumGothic" in font for font in fonts), listed
    assert any("DejaVuSans" in font for font in fonts), listed


def _pixels(png: bytes) -> bytes:
    """The decoded rows of a PNG (zlib of its IDAT chunks), to compare drawings."""
    position, data = 8, b""
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        if kind == b"IDAT":
            data += png[position + 8 : position + 8 + length]
        position += 12 + length
    return zlib.decompress(data)


def test_hangul_in_a_png_is_letters_not_boxes(tmp_path, monkeypatch):
    """The same label drawn again by a Graphviz that sees only the DejaVu fonts
    (a fontconfig of that folder alone) is boxes, the missing-glyph marks: the
    drawing with the installed fonts is not that."""
    label = labelled("고객 상담 예약")
    drawn = layout.export(label, [], fmt="png")
    (tmp_path / "fonts.conf").write_text(
        "<?xml version='1.0'?><fontconfig>"
        "<dir>/usr/share/fonts/truetype/dejavu</dir>"
        f"<cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    monkeypatch.setenv("FONTCONFIG_FILE", str(tmp_path / "fonts.conf"))
    boxes = layout.export(label, [], fmt="png")
    # The check itself: the same drawing twice is the same pixels.
    assert _pixels(layout.export(label, [], fmt="png")) == _pixels(boxes)

    assert _pixels(drawn) != _pixels(boxes)
