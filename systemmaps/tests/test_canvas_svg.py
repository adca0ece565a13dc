"""The edit page's first paint: the map drawn by the server at the stored
positions, in the editor's look (systemmaps/canvas_svg.py)."""

import json
import os
import random
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from systemmaps import document, services
from systemmaps.canvas_svg import canvas_svg, estimate_measure
from systemmaps.document import DECISION, LOOKS, TASK, TERMINUS

from .factories import chain_graph, make_map

SVG = "{http://www.w3.org/2000/svg}"


def node(node_id, kind=TASK, label="A step", x=0.0, y=0.0):
    return {"id": node_id, "kind": kind, "label": label, "x": x, "y": y}


def drawn(nodes, edges=(), badges=None) -> ET.Element:
    """The drawing, parsed: it must be well-formed XML whatever the labels."""
    graph = {"nodes": list(nodes), "edges": list(edges)}
    return ET.fromstring(str(canvas_svg(graph, badges or {})))


def shape(svg, node_id) -> ET.Element:
    (group,) = [g for g in svg.iter(f"{SVG}g") if g.get("data-static-node") == node_id]
    return group


def lines_of(group) -> list[str]:
    label = group.find(f"{SVG}text")
    return [span.text for span in label.findall(f"{SVG}tspan")]


def test_each_shape_sits_at_its_stored_centre():
    svg = drawn([node("a", TASK, x=300, y=-40), node("b", DECISION, x=-10.5, y=7)])

    task, decision = LOOKS[TASK], LOOKS[DECISION]
    assert shape(svg, "a").get("transform") == (
        f"translate({300 - task.width / 2:g},{-40 - task.height / 2:g})"
    )
    assert shape(svg, "b").get("transform") == (
        f"translate({-10.5 - decision.width / 2:g},{7 - decision.height / 2:g})"
    )


def test_the_view_box_holds_every_shape_with_a_margin():
    svg = drawn([node("a", TASK, x=0, y=0), node("b", TERMINUS, x=500, y=200)])

    x, y, width, height = map(float, svg.get("viewBox").split())
    task, terminus = LOOKS[TASK], LOOKS[TERMINUS]
    assert (x, y) == (-task.width / 2 - 24, -task.height / 2 - 24)
    assert x + width == 500 + terminus.width / 2 + 24
    assert y + height == 200 + terminus.height / 2 + 24
    assert (svg.get("width"), svg.get("height")) == (f"{width:g}", f"{height:g}")


def test_kinds_are_drawn_in_their_shape_and_colours_an_unknown_one_as_a_task():
    svg = drawn(
        [node("t", TERMINUS), node("k", TASK), node("d", DECISION), node("x", "blob")]
    )

    terminus = shape(svg, "t").find(f"{SVG}rect")
    assert terminus.get("rx") == f"{LOOKS[TERMINUS].radius:g}"
    assert terminus.get("fill") == LOOKS[TERMINUS].fill
    assert terminus.get("stroke") == LOOKS[TERMINUS].stroke
    diamond = shape(svg, "d").find(f"{SVG}polygon")
    assert diamond.get("points") == "0,40 66,0 132,40 66,80"
    assert diamond.get("fill") == LOOKS[DECISION].fill
    unknown = shape(svg, "x")
    assert unknown.get("data-kind") == TASK
    assert unknown.find(f"{SVG}rect").get("fill") == LOOKS[TASK].fill


def test_labels_are_wrapped_to_the_shape_with_an_ellipsis_past_the_last_line():
    label = "Send the signed proposal to the client and wait for an answer today"
    svg = drawn([node("a", TASK, label=label), node("b", TASK, label="One\nTwo")])

    lines = lines_of(shape(svg, "a"))
    assert len(lines) == LOOKS[TASK].label_lines
    assert lines[-1].endswith("…")
    measure = estimate_measure(document.LABEL_FONT_SIZE)
    assert all(measure(line) <= LOOKS[TASK].label_width - 4 for line in lines)
    assert " ".join(lines).startswith("Send the signed")
    assert lines_of(shape(svg, "b")) == ["One", "Two"]


def test_hostile_labels_and_ids_are_text_not_markup():
    hostile = '</text></svg><script>alert("x")</script><img src=x onerror=alert(1)>'
    svg_text = str(
        canvas_svg(
            {
                "nodes": [node('"><b>', TASK, label=hostile), node("b", TASK)],
                "edges": [
                    {"id": "e<1>", "source": '"><b>', "target": "b", "label": hostile}
                ],
            },
            {'"><b>': {"ownerInitials": "<i>", "ownerName": "<script>x</script>"}},
        )
    )

    assert "<script" not in svg_text
    assert "<img" not in svg_text
    assert "<b>" not in svg_text
    svg = ET.fromstring(svg_text)
    group = shape(svg, '"><b>')
    assert "".join(lines_of(group)).startswith("</text></svg><script>")
    edge_text = svg.find(f".//{SVG}g[@class='static-edge']/{SVG}text")
    assert edge_text.text == hostile
    owner = group.find(f".//{SVG}text[@data-badge='owner']")
    assert owner.text == "<i>"
    assert owner.get("aria-label") == "Owner: <script>x</script>"


def test_badges_show_what_a_step_has_termini_none():
    badges = {
        "k": {
            "critical": True,
            "automation": "could",
            "ownerInitials": "BB",
            "ownerName": "Bob Baker",
        },
        "d": {"critical": False, "automation": "automated", "ownerInitials": ""},
        "t": {"critical": True, "automation": "automated", "ownerInitials": "BB"},
    }
    svg = drawn(
        [node("k", TASK), node("d", DECISION), node("t", TERMINUS), node("n", TASK)],
        badges=badges,
    )

    def badge_texts(node_id):
        texts = shape(svg, node_id).findall(f".//{SVG}text[@data-badge]")
        return [(t.get("data-badge"), t.text, t.get("aria-label")) for t in texts]

    assert badge_texts("k") == [
        ("critical", document.SIGNS["critical"], "Critical step"),
        ("automation", document.SIGNS["could"], "Could be automated"),
        ("owner", "BB", "Owner: Bob Baker"),
    ]
    automated = document.SIGNS["automated"]
    assert badge_texts("d") == [("automation", automated, "Automated")]
    assert badge_texts("t") == []
    assert badge_texts("n") == []
    # A decision's badges sit on its sides, where document.badge_spots says.
    circle = shape(svg, "d").find(f".//{SVG}circle")
    spot = document.badge_spots(DECISION)["automation"]
    assert (circle.get("cx"), circle.get("cy")) == (f"{spot[0]:g}", f"{spot[1]:g}")


def test_an_arrow_runs_between_the_outlines_with_its_label_in_the_middle():
    svg = drawn(
        [node("a", TASK, x=0, y=0), node("b", TASK, x=300, y=0)],
        [{"id": "e1", "source": "a", "target": "b", "label": "yes"}],
    )

    edge = svg.find(f".//{SVG}g[@data-static-edge='e1']")
    path = edge.find(f"{SVG}path").get("d")
    half = LOOKS[TASK].width / 2
    assert path == f"M {half:g} 0 L {300 - half:g} 0"
    head = edge.find(f"{SVG}polygon").get("points").split()
    assert head[0] == f"{300 - half:g},0"
    label = edge.find(f"{SVG}text")
    assert (label.text, label.get("x"), label.get("y")) == ("yes", "150", "0")


def test_arrows_to_unknown_steps_are_left_out():
    svg = drawn([node("a")], [{"id": "e", "source": "a", "target": "gone"}])

    assert svg.find(f".//{SVG}g[@data-static-edge]") is None


# ---------------------------------------------------------------------------
# The rules the editor's JavaScript shares (tests/js/label_wraps.test.mjs)
# ---------------------------------------------------------------------------

LABEL_WRAPS = Path(__file__).parent / "js" / "label_wraps.json"
WIDTHS = {"i": 3, "l": 3, " ": 4, "m": 11, "W": 12, "M": 11, "é": 7, "가": 12}


def _wrap_cases() -> dict:
    rng = random.Random(17)
    words = [
        "Send", "the", "proposal", "i", "WWWWWWWWWWWWWWWWWWWW", "client", "mmmmm",
        "réunion", "가나다라마바사", "llll", "and", "follow-up", "today", "ok",
    ]  # fmt: skip
    cases = []
    for _number in range(60):
        count = rng.randrange(0, 14)
        parts = [rng.choice(words) for _ in range(count)]
        label = ""
        for part in parts:
            label += part + rng.choice([" ", " ", "  ", "\n"])
        width, lines = rng.choice([(124, 2), (88, 3), (64, 3), (40, 1)])
        cases.append({"label": label, "width": width, "lines": lines})
    measure = lambda text: sum(WIDTHS.get(ch, 7) for ch in text)  # noqa: E731
    for case in cases:
        case["expected"] = document.wrap_label(
            case["label"], case["width"], case["lines"], measure
        )
    return {"widths": WIDTHS, "cases": cases}


def test_the_editor_label_wrap_cases_are_the_rule_of_document_py():
    table = _wrap_cases()
    if os.environ.get("HOURGLASS_WRITE_FIXTURES"):
        LABEL_WRAPS.write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n")
    assert json.loads(LABEL_WRAPS.read_text()) == table, (
        "Run HOURGLASS_WRITE_FIXTURES=1 pytest on this test to rewrite the table"
    )
    cases = table["cases"]
    # Worth something only if cases cut words, wrap and end in an ellipsis.
    assert sum(len(c["expected"]) > 1 for c in cases) > 20
    assert sum(c["expected"][-1].endswith("…") for c in cases) > 10


def test_the_editor_gets_the_badge_geometry_and_font_of_document_py():
    config = document.editor_config()

    assert config["font"] == document.LABEL_FONT
    assert config["badges"]["radius"] == document.BADGE_RADIUS
    assert config["badges"]["inset"] == {
        kind: list(inset) for kind, inset in document.BADGE_INSET.items()
    }
    assert config["badges"]["looks"] == document.BADGE_LOOKS


# ---------------------------------------------------------------------------
# The edit page carries the drawing
# ---------------------------------------------------------------------------


def edit_url(system_map):
    return reverse(
        "systemmaps:map-edit",
        kwargs={"slug": system_map.business.slug, "pk": system_map.pk},
    )


def test_the_edit_page_draws_every_step_before_any_script(alice_client, webinar_map):
    response = alice_client.get(edit_url(webinar_map))

    page = response.content.decode()
    match = re.search(r'<svg class="static-map".*?</svg>', page, re.S)
    svg = ET.fromstring(match.group(0))
    drawn_ids = {g.get("data-static-node") for g in svg.iter(f"{SVG}g")} - {None}
    assert drawn_ids == set(webinar_map.nodes.values_list("client_id", flat=True))
    edges = {g.get("data-static-edge") for g in svg.iter(f"{SVG}g")} - {None}
    assert edges == set(webinar_map.edges.values_list("client_id", flat=True))


def test_the_edit_page_draws_a_step_owner_badge(alice_client, webinar_map, bob, acme):
    step = webinar_map.nodes.get(client_id="call")
    services.step_update(node=step, owner=acme.memberships.get(user=bob))

    page = alice_client.get(edit_url(webinar_map)).content.decode()

    assert 'data-badge="owner" role="img" aria-label="Owner: Bob Baker"' in page


def test_the_edit_page_queries_do_not_grow_with_steps(alice_client, acme, alice):
    small = make_map(acme, alice, "Small", graph=chain_graph("Small", 3))
    large = make_map(acme, alice, "Large", graph=chain_graph("Large", 120))
    alice_client.get(edit_url(small))  # sessions and caches warm

    with CaptureQueriesContext(connection) as small_queries:
        alice_client.get(edit_url(small))
    with CaptureQueriesContext(connection) as large_queries:
        page = alice_client.get(edit_url(large)).content.decode()

    assert len(large_queries) == len(small_queries)
    assert page.count("data-static-node=") == 122
