"""The map document's vocabulary and index (no database)."""

import json
import os
import random
from pathlib import Path

import pytest

from systemmaps import document
from systemmaps.document import (
    DECISION,
    START,
    START_OR_STOP,
    STOP,
    TASK,
    TERMINUS,
    Index,
    chain_graph,
    step_name,
    step_title,
)
from systemmaps.schema import validate_graph


def node(node_id, kind=TASK, label=None):
    return {"id": node_id, "kind": kind, "label": label, "x": 0.0, "y": 0.0}


def edge(edge_id, source, target, label=None):
    return {"id": edge_id, "source": source, "target": target, "label": label}


def test_a_step_without_a_label_is_named_by_its_kind():
    assert (
        step_title({"id": "x", "kind": "decision", "label": ""}) == "Unnamed decision"
    )
    assert step_title({"id": "x", "kind": "task", "label": None}) == "Unnamed task"
    assert step_title({"id": "x", "kind": "terminus", "label": "  Go "}) == "Go"
    assert step_name({"id": "x", "kind": "terminus", "label": " "}) == (
        "an unnamed start or stop"
    )
    assert step_name({"id": "x", "kind": "task", "label": " Call "}) == "“Call”"


def test_termini_are_starts_or_stops_by_their_arrows():
    nodes = [
        node("a", TERMINUS),
        node("b"),
        node("c", TERMINUS),
        node("d", TERMINUS),
        node("e", TERMINUS),
        node("f", DECISION),
    ]
    edges = [
        edge("1", "a", "b"),
        edge("2", "b", "c"),
        edge("3", "b", "d"),
        edge("4", "d", "f"),
    ]
    index = Index(nodes, edges)
    assert index.starts == ["a"]
    assert index.stops == ["c"]
    roles = [index.role(n["id"]) for n in nodes]
    assert roles == [START, TASK, STOP, START_OR_STOP, START_OR_STOP, DECISION]
    assert index.is_isolated("e") and not index.is_isolated("f")


def test_successors_are_once_each_in_node_order_whatever_the_arrow_order():
    nodes = [node("s", TERMINUS), node("x"), node("y"), node("z")]
    edges = [
        edge("1", "s", "z"),
        edge("2", "s", "x"),
        edge("3", "s", "z"),
        edge("4", "s", "y"),
    ]
    index = Index(nodes, edges)
    assert index.successors["s"] == ["x", "y", "z"]
    assert [e["id"] for e in index.out_edges["s"]] == ["1", "2", "3", "4"]
    assert index.node_order({"z", "s", "y"}) == ("s", "y", "z")


def test_the_index_takes_database_keys_too():
    index = Index(
        [{"id": 7, "kind": TERMINUS}, {"id": 3, "kind": TASK}],
        [{"source": 7, "target": 3}],
    )
    assert index.starts == [7]
    assert index.successors == {7: [3], 3: []}


def test_a_chain_is_a_valid_document_one_column_apart():
    graph = chain_graph(
        "Sales",
        [(TERMINUS, " Lead "), (TASK, "Call"), (TERMINUS, "Won")],
        stages=["buy"],
    )
    assert validate_graph(graph) == graph
    assert [n["label"] for n in graph["nodes"]] == ["Lead", "Call", "Won"]
    xs = [n["x"] for n in graph["nodes"]]
    assert [b - a for a, b in zip(xs, xs[1:], strict=False)] == [document.COLUMN] * 2
    assert {n["stage"] for n in graph["nodes"]} == {"buy"}
    assert [(e["source"], e["target"]) for e in graph["edges"]] == [
        ("n1", "n2"),
        ("n2", "n3"),
    ]


def test_the_editor_gets_every_kind_with_its_look():
    config = document.editor_config()
    assert config["kinds"] == list(document.KINDS)
    assert config["workKinds"] == list(document.WORK_KINDS)
    for kind, look in document.LOOKS.items():
        shape = config["shapes"][kind]
        assert (shape["width"], shape["height"]) == (look.width, look.height)
        assert (shape["fill"], shape["stroke"]) == (look.fill, look.stroke)
        assert shape["radius"] == look.radius
        assert (shape["labelWidth"], shape["labelLines"]) == (
            look.label_width,
            look.label_lines,
        )
    assert config["spacing"]["column"] == document.COLUMN


def test_the_editor_gets_every_number_it_draws_and_places_with():
    config = document.editor_config()
    assert config["schemaVersion"] == document.SCHEMA_VERSION
    assert (config["ink"], config["arrowInk"]) == (document.INK, document.ARROW_INK)
    assert config["strokeWidth"] == document.STROKE_WIDTH
    assert config["fontSize"] == document.LABEL_FONT_SIZE
    assert config["spacing"] == {
        "column": document.COLUMN,
        "row": document.ROW,
        "grid": document.GRID,
        "freeSpotStep": document.FREE_SPOT_STEP,
        "freeSpotMargin": document.FREE_SPOT_MARGIN,
        "centreTries": document.CENTRE_TRIES,
        "nextTries": document.NEXT_TRIES,
    }


# The cases the editor's JavaScript answers too (tests/js/free_spots.test.mjs), so
# the one "next free spot" rule cannot drift between the two.
FREE_SPOTS = Path(__file__).parent / "js" / "free_spots.json"


def _free_spot_cases() -> list[dict]:
    rng = random.Random(16)
    cases = []
    for number in range(60):
        boxes = [
            {
                "x": rng.randrange(-300, 300, 10),
                "y": rng.randrange(-300, 300, 10),
                "width": rng.choice((120, 132, 140, 160)),
                "height": rng.choice((44, 48, 80)),
            }
            for _ in range(rng.randrange(0, 12))
        ]
        cases.append(
            {
                "boxes": boxes,
                "start": [rng.randrange(-200, 200, 10), rng.randrange(-200, 200, 10)],
                "step": rng.choice(([0, 90], [30, 30], [0, 70], [-24, 24])),
                "size": {"width": 140, "height": rng.choice((44, 48, 80))},
                "margin": rng.choice((0, 12, 16)),
                "tries": rng.choice((3, 40, 60)) if number else 0,
            }
        )
    for case in cases:
        x, y = document.free_spot(
            [document.Box(**b) for b in case["boxes"]],
            tuple(case["start"]),
            tuple(case["step"]),
            case["size"]["width"],
            case["size"]["height"],
            case["margin"],
            case["tries"],
        )
        case["expected"] = [x, y]
    return cases


def test_the_editor_free_spot_cases_are_the_rule_of_document_py():
    cases = _free_spot_cases()
    if os.environ.get("HOURGLASS_WRITE_FIXTURES"):
        FREE_SPOTS.write_text(json.dumps(cases, indent=1) + "\n")
    assert json.loads(FREE_SPOTS.read_text()) == cases, (
        "Run HOURGLASS_WRITE_FIXTURES=1 pytest on this test to rewrite the table"
    )
    # The table is worth something only if the rule had to move in some cases.
    moved = [c for c in cases if c["expected"] != c["start"]]
    assert 10 < len(moved) < len(cases)


def test_a_next_step_goes_below_the_shape_already_one_column_on():
    nodes = [
        {"id": "a", "kind": TASK, "x": 0.0, "y": 0.0},
        {"id": "b", "kind": TERMINUS, "x": document.COLUMN, "y": 0.0},
    ]
    x, y = document.next_free_spot(nodes, (document.COLUMN, 0.0))
    assert (x, y) == (document.COLUMN, document.FREE_SPOT_STEP)
    task, stop = document.LOOKS[TASK], document.LOOKS[TERMINUS]
    # Clear of the stop by the margin: worked out from the shapes' heights.
    assert y - task.height / 2 >= stop.height / 2 + document.FREE_SPOT_MARGIN


def test_a_next_step_stays_where_it_goes_when_the_spot_is_free():
    nodes = [{"id": "a", "kind": TASK, "x": 0.0, "y": 0.0}]
    assert document.next_free_spot(nodes, (document.COLUMN, 0.0)) == (
        document.COLUMN,
        0.0,
    )


@pytest.mark.parametrize(
    "count, stages, expected",
    [
        # Written out by hand from the rule: runs as even as can be, in order.
        (7, ["like", "trust", "try"], ["like"] * 3 + ["trust"] * 2 + ["try"] * 2),
        (4, ["know", "like"], ["know", "know", "like", "like"]),
        (3, ["buy"], ["buy"] * 3),
        (2, ["know", "like", "trust"], ["know", "like"]),
        (5, [], [None] * 5),
    ],
)
def test_a_row_of_steps_spans_its_stages_in_order(count, stages, expected):
    from systemmaps.document import spread_stages

    assert spread_stages(count, stages) == expected


def test_a_label_keeps_its_line_breaks_without_blank_lines_or_edge_spaces():
    assert document.clean_label("Bake and decorate\r\n(day before)") == (
        "Bake and decorate\n(day before)"
    )
    assert document.clean_label("  a \r\r\n\n  b  \n") == "a\nb"
    assert document.clean_label("one line") == "one line"
    assert document.clean_label(" \n ") == ""
