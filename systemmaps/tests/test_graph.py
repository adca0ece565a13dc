"""Lint and analysis of system maps, on plain data (no database)."""

import itertools
import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from systemmaps.graph import (
    CLOSED_LOOP,
    DEAD_END,
    DECISION_BRANCHES,
    DECISION_LABELS,
    DUPLICATE_ARROW,
    ISOLATED,
    NO_END,
    NO_START,
    OVERLAP,
    RULES,
    SELF_LOOP,
    TERMINUS_IN_AND_OUT,
    UNREACHABLE,
    Finding,
    analyse,
    has_errors,
    lint,
)

_placed = itertools.count()


def node(node_id, kind="task", label=None, stage=None):
    # Each a column from the last, so no two shapes hide each other (a finding
    # of its own, tested apart).
    return {
        "id": node_id,
        "kind": kind,
        "label": node_id if label is None else label,
        "x": 220.0 * next(_placed),
        "y": 0.0,
        "stage": stage,
        "notes": None,
    }


def start(node_id="S", label="Start"):
    return node(node_id, "terminus", label)


def stop(node_id="E", label="Stop"):
    return node(node_id, "terminus", label)


def decision(node_id, label=None):
    return node(node_id, "decision", label)


def edge(edge_id, source, target, label=None):
    return {"id": edge_id, "source": source, "target": target, "label": label}


def arrows(*pairs):
    """Edges e1, e2, … from (source, target) or (source, target, label)."""
    return [edge(f"e{i}", *pair) for i, pair in enumerate(pairs, 1)]


def of_rule(rule, nodes, edges):
    return [f for f in lint(nodes, edges) if f.rule == rule]


def webinar():
    nodes = [
        node("webinar", "terminus", "Webinar", "know"),
        node("nurture", "task", "Email nurture campaign", "like"),
        decision("booked", "Booked a consultation?") | {"stage": "trust"},
        node("downsell", "task", "Down-sell campaign"),
        node("bucket", "terminus", "Future email automation bucket"),
        node("call", "task", "Consultation call", "try"),
        node("proposal", "task", "Proposal sent", "try"),
        decision("signed", "Signed?") | {"stage": "buy"},
        node("onboard", "terminus", "Onboard new client", "buy"),
    ]
    edges = [
        edge("e1", "webinar", "nurture"),
        edge("e2", "nurture", "booked"),
        edge("e3", "booked", "downsell", "No"),
        edge("e4", "downsell", "bucket"),
        edge("e5", "booked", "call", "Yes"),
        edge("e6", "call", "proposal"),
        edge("e7", "proposal", "signed"),
        edge("e8", "signed", "nurture", "No"),
        edge("e9", "signed", "onboard", "Yes"),
    ]
    return nodes, edges


# --- the example system ------------------------------------------------------


def test_webinar_example_has_no_findings():
    assert lint(*webinar()) == []


def test_webinar_example_analysis():
    result = analyse(*webinar())

    assert result["starts"] == ["webinar"]
    assert result["ends"] == ["bucket", "onboard"]
    # No: Webinar, nurture, Booked?, Down-sell, bucket = 5 steps.
    # Yes: Webinar, nurture, Booked?, call, Proposal, Signed?, Onboard = 7 steps;
    # the way back from "Signed?" to the nurture campaign adds no route.
    assert result["paths"] == [
        {"start": "webinar", "end": "bucket", "count": 1, "longest": 5},
        {"start": "webinar", "end": "onboard", "count": 1, "longest": 7},
    ]
    assert result["steps_per_stage"] == {
        "like": 1,
        "trust": 1,
        "none": 1,
        "try": 2,
        "buy": 1,
    }
    assert result["branches"] == [
        {
            "decision": "booked",
            "label": "Booked a consultation?",
            "branches": [
                {"edge": "e3", "label": "No", "target": "downsell"},
                {"edge": "e5", "label": "Yes", "target": "call"},
            ],
        },
        {
            "decision": "signed",
            "label": "Signed?",
            "branches": [
                {"edge": "e8", "label": "No", "target": "nurture"},
                {"edge": "e9", "label": "Yes", "target": "onboard"},
            ],
        },
    ]
    json.dumps(result)


# --- the rules ---------------------------------------------------------------


def test_empty_map_has_no_start_and_no_end_only():
    assert [f.rule for f in lint([], [])] == [NO_START, NO_END]


def test_no_start_when_no_terminus_only_sends_arrows():
    findings = of_rule(NO_START, [node("A"), stop()], arrows(("A", "E")))
    assert [(f.severity, f.nodes, f.edges) for f in findings] == [("error", (), ())]


def test_no_start_not_reported_with_a_start():
    assert of_rule(NO_START, [start(), node("A"), stop()], arrows(("S", "A"))) == []


def test_no_end_when_no_terminus_only_receives_arrows():
    findings = of_rule(NO_END, [start(), node("A")], arrows(("S", "A")))
    assert [(f.severity, f.nodes) for f in findings] == [("error", ())]


def test_no_end_not_reported_with_an_end():
    assert of_rule(NO_END, [start(), stop()], arrows(("S", "E"))) == []


def test_terminus_with_arrows_in_and_out():
    nodes = [start(), node("T", "terminus", "Invoice"), stop()]
    findings = of_rule(TERMINUS_IN_AND_OUT, nodes, arrows(("S", "T"), ("T", "E")))
    assert [(f.severity, f.nodes, f.edges) for f in findings] == [
        ("error", ("T",), ("e1", "e2"))
    ]
    assert "“Invoice”" in findings[0].message


def test_task_with_arrows_in_and_out_is_not_a_terminus_problem():
    nodes = [start(), node("T", "task", "Invoice"), stop()]
    assert of_rule(TERMINUS_IN_AND_OUT, nodes, arrows(("S", "T"), ("T", "E"))) == []


def test_isolated_node_is_reported_only_as_isolated():
    nodes = [start(), node("A"), stop(), node("X", label="Send survey")]
    findings = lint(nodes, arrows(("S", "A"), ("A", "E")))
    assert [(f.rule, f.severity, f.nodes) for f in findings] == [
        (ISOLATED, "error", ("X",))
    ]
    assert findings[0].message.startswith("“Send survey” is not connected")


def test_isolated_decision_is_not_also_short_of_branches():
    nodes = [start(), stop(), decision("D")]
    assert [f.rule for f in lint(nodes, arrows(("S", "E")))] == [ISOLATED]


def test_connected_nodes_are_not_isolated():
    assert of_rule(ISOLATED, [start(), stop()], arrows(("S", "E"))) == []


def test_self_loop():
    nodes = [start(), node("A"), stop()]
    edges = arrows(("S", "A"), ("A", "E"), ("A", "A"))
    findings = lint(nodes, edges)
    assert [(f.rule, f.severity, f.nodes, f.edges) for f in findings] == [
        (SELF_LOOP, "error", ("A",), ("e3",))
    ]


def test_arrow_between_two_steps_is_not_a_self_loop():
    nodes = [start(), node("A"), stop()]
    assert of_rule(SELF_LOOP, nodes, arrows(("S", "A"), ("A", "E"))) == []


def test_duplicate_arrow_is_a_warning_naming_the_extra_arrows():
    nodes = [start(), node("A"), stop()]
    # The arrow with the smallest id is kept, whatever the order.
    edges = [
        edge("e3", "S", "A"),
        edge("e1", "S", "A"),
        edge("e2", "A", "E"),
        edge("e4", "S", "A"),
    ]
    findings = lint(nodes, edges)
    assert [(f.rule, f.severity, f.nodes, f.edges) for f in findings] == [
        (DUPLICATE_ARROW, "warning", ("S", "A"), ("e3", "e4"))
    ]
    assert not has_errors(findings)


def test_arrows_to_different_steps_are_not_duplicates():
    nodes = [start(), decision("D"), stop("E1"), stop("E2")]
    edges = arrows(("S", "D"), ("D", "E1", "Yes"), ("D", "E2", "No"))
    assert of_rule(DUPLICATE_ARROW, nodes, edges) == []


def test_unreachable_steps():
    nodes = [start(), node("A"), stop(), node("B", label="Cold call"), node("C")]
    edges = arrows(("S", "A"), ("A", "E"), ("B", "C"), ("C", "E"))
    findings = of_rule(UNREACHABLE, nodes, edges)
    assert [(f.severity, f.nodes) for f in findings] == [
        ("error", ("B",)),
        ("error", ("C",)),
    ]
    assert findings[0].message.startswith("Nothing leads to “Cold call”")
    assert "cannot be reached from any start" in findings[1].message


def test_unreachable_needs_a_start():
    nodes = [node("A"), node("B"), stop()]
    findings = lint(nodes, arrows(("A", "B"), ("B", "E")))
    assert [f.rule for f in findings] == [NO_START]


def test_reached_steps_are_not_unreachable():
    nodes = [start(), node("A"), node("B"), stop()]
    edges = arrows(("S", "A"), ("A", "B"), ("B", "E"))
    assert of_rule(UNREACHABLE, nodes, edges) == []


def test_dead_end():
    nodes = [start(), node("A"), stop(), node("B", label="Proposal sent")]
    findings = lint(nodes, arrows(("S", "A"), ("A", "E"), ("A", "B")))
    assert [(f.rule, f.severity, f.nodes) for f in findings] == [
        (DEAD_END, "error", ("B",))
    ]
    assert findings[0].message.startswith("“Proposal sent” leads nowhere")


def test_step_leading_only_into_a_closed_loop_is_a_dead_end():
    nodes = [start(), decision("D"), stop(), node("X"), node("Y"), node("Z")]
    edges = arrows(
        ("S", "D"), ("D", "E", "Yes"), ("D", "X", "No"), ("X", "Y"), ("Y", "Z")
    ) + [edge("back", "Z", "Y")]
    findings = lint(nodes, edges)
    assert [(f.rule, f.nodes) for f in findings] == [
        (DEAD_END, ("X",)),
        (CLOSED_LOOP, ("Y", "Z")),
    ]
    assert findings[0].message.startswith("No route from “X” reaches a stop")


def test_dead_end_needs_an_end():
    nodes = [start(), node("A"), node("B")]
    assert [f.rule for f in lint(nodes, arrows(("S", "A"), ("A", "B")))] == [NO_END]


def test_steps_that_reach_an_end_are_not_dead_ends():
    assert of_rule(DEAD_END, *webinar()) == []


def test_closed_loop():
    nodes = [
        start(),
        decision("D"),
        stop(),
        node("A", label="Follow up"),
        node("B", label="Wait a week"),
    ]
    edges = arrows(("S", "D"), ("D", "E", "Yes"), ("D", "A", "No"), ("A", "B"))
    edges.append(edge("e0", "B", "A"))
    findings = lint(nodes, edges)
    assert [(f.rule, f.severity, f.nodes, f.edges) for f in findings] == [
        (CLOSED_LOOP, "error", ("A", "B"), ("e0", "e4"))
    ]
    assert findings[0].message.startswith(
        "“Follow up” and “Wait a week” go round in a loop with no way out"
    )


def test_step_only_looping_to_itself_is_a_closed_loop():
    nodes = [start(), decision("D"), stop(), node("A")]
    edges = arrows(("S", "D"), ("D", "E", "Yes"), ("D", "A", "No"), ("A", "A"))
    findings = lint(nodes, edges)
    assert [(f.rule, f.nodes, f.edges) for f in findings] == [
        (SELF_LOOP, ("A",), ("e4",)),
        (CLOSED_LOOP, ("A",), ("e4",)),
    ]


def test_long_closed_loop_names_its_first_steps():
    nodes = [start(), decision("D"), stop()] + [node(f"L{i}") for i in range(6)]
    edges = arrows(
        ("S", "D"),
        ("D", "E", "Yes"),
        ("D", "L0", "No"),
        *[(f"L{i}", f"L{(i + 1) % 6}") for i in range(6)],
    )
    (finding,) = lint(nodes, edges)
    assert finding.rule == CLOSED_LOOP
    assert finding.nodes == tuple(f"L{i}" for i in range(6))
    assert finding.message.startswith("“L0”, “L1”, “L2” and 3 other steps go round")


def test_loop_with_a_way_out_is_not_closed():
    # The nurture cycle: "Signed?" → No → back to the nurture campaign.
    assert of_rule(CLOSED_LOOP, *webinar()) == []


def test_decision_with_one_way_on():
    nodes = [start(), decision("D", "Paid?"), stop()]
    findings = lint(nodes, arrows(("S", "D"), ("D", "E")))
    assert [(f.rule, f.severity, f.nodes, f.edges) for f in findings] == [
        (DECISION_BRANCHES, "error", ("D",), ("e2",))
    ]
    assert findings[0].message.startswith("“Paid?” has only one way on")


def test_decision_with_two_arrows_to_the_same_step_has_one_way_on():
    nodes = [start(), decision("D"), stop()]
    edges = arrows(("S", "D"), ("D", "E", "Yes"), ("D", "E", "No"))
    assert [f.rule for f in lint(nodes, edges)] == [DUPLICATE_ARROW, DECISION_BRANCHES]


def test_decision_with_no_way_on():
    nodes = [start(), decision("D", ""), stop(), node("A")]
    edges = arrows(("S", "D"), ("S", "A"), ("A", "E"))
    findings = of_rule(DECISION_BRANCHES, nodes, edges)
    assert [(f.nodes, f.edges) for f in findings] == [(("D",), ())]
    assert findings[0].message.startswith("An unnamed decision has no way on")


def test_decision_with_two_ways_on_has_enough_branches():
    assert of_rule(DECISION_BRANCHES, *webinar()) == []


def test_decision_arrow_without_label():
    nodes = [start(), decision("D", "Paid?"), stop("E1"), stop("E2"), stop("E3")]
    edges = arrows(("S", "D"), ("D", "E1", "Yes"), ("D", "E2", "  "), ("D", "E3"))
    findings = lint(nodes, edges)
    assert [(f.rule, f.severity, f.nodes, f.edges) for f in findings] == [
        (DECISION_LABELS, "error", ("D",), ("e3", "e4"))
    ]
    assert "has no label" in findings[0].message


def test_decision_arrows_with_the_same_label_ignoring_case_and_spaces():
    nodes = [start(), decision("D", "Paid?"), stop("E1"), stop("E2"), stop("E3")]
    edges = arrows(("S", "D"), ("D", "E1", " yes"), ("D", "E2", "No"), ("D", "E3"))
    edges.append(edge("e5", "D", "E3", "Yes "))
    findings = of_rule(DECISION_LABELS, nodes, edges)
    assert [(f.nodes, f.edges) for f in findings] == [
        (("D",), ("e4",)),
        (("D",), ("e2", "e5")),
    ]
    assert "is labelled “Yes”" in findings[1].message


def test_decision_with_distinct_labels_passes():
    assert of_rule(DECISION_LABELS, *webinar()) == []


def test_decision_with_a_single_arrow_is_not_asked_for_labels():
    nodes = [start(), decision("D"), stop()]
    assert of_rule(DECISION_LABELS, nodes, arrows(("S", "D"), ("D", "E"))) == []


# --- findings ----------------------------------------------------------------


def test_findings_come_by_rule_then_input_order():
    nodes = [start(), node("Z"), node("Y"), stop(), node("Q"), node("P")]
    edges = arrows(("S", "Z"), ("S", "Y"), ("Y", "E"), ("P", "E"))
    findings = lint(nodes, edges)
    assert [(f.rule, f.nodes) for f in findings] == [
        (ISOLATED, ("Q",)),
        (UNREACHABLE, ("P",)),
        (DEAD_END, ("Z",)),
    ]


def test_unnamed_step_gets_a_readable_name():
    nodes = [start(), node("A"), stop(), node("B", label="  ")]
    (finding,) = lint(nodes, arrows(("S", "A"), ("A", "E"), ("A", "B")))
    assert finding.message.startswith("An unnamed task leads nowhere")


def test_finding_as_dict():
    finding = Finding(DEAD_END, "error", "“A” leads nowhere.", ("A",), ("e1",))
    assert finding.as_dict() == {
        "rule": "dead-end",
        "severity": "error",
        "message": "“A” leads nowhere.",
        "nodes": ["A"],
        "edges": ["e1"],
    }


def test_has_errors():
    warning = Finding(DUPLICATE_ARROW, "warning", "…")
    error = Finding(NO_START, "error", "…")
    assert not has_errors([])
    assert not has_errors([warning])
    assert has_errors([warning, error])


# --- analysis ----------------------------------------------------------------


def test_paths_through_a_decision_are_counted_and_measured():
    nodes = [start(), decision("D"), node("A"), node("B"), node("C"), stop()]
    edges = arrows(
        ("S", "D"), ("D", "A", "Yes"), ("D", "B", "No"), ("A", "C"), ("C", "E")
    )
    edges.append(edge("e6", "B", "E"))
    assert analyse(nodes, edges)["paths"] == [
        {"start": "S", "end": "E", "count": 2, "longest": 5}
    ]


def test_paths_are_counted_without_listing_them():
    # Forty diamonds in a row: 2**40 routes, counted in linear time.
    nodes = [start(), stop()]
    pairs = []
    previous = "S"
    for i in range(40):
        nodes += [decision(f"D{i}"), node(f"A{i}"), node(f"B{i}"), node(f"J{i}")]
        pairs += [
            (previous, f"D{i}"),
            (f"D{i}", f"A{i}", "Yes"),
            (f"D{i}", f"B{i}", "No"),
            (f"A{i}", f"J{i}"),
            (f"B{i}", f"J{i}"),
        ]
        previous = f"J{i}"
    pairs.append((previous, "E"))
    edges = arrows(*pairs)

    assert lint(nodes, edges) == []
    assert analyse(nodes, edges)["paths"] == [
        {"start": "S", "end": "E", "count": 2**40, "longest": 2 + 40 * 3}
    ]


def test_loop_entered_twice_is_cut_where_the_node_order_first_reaches_it():
    # Y and X loop into each other and both follow the start. The search visits
    # Y first (node order, not arrow or id order), so X → Y is the arrow dropped:
    # S-Y-X-E and S-X-E. Were X visited first, Y → X would go and only S-X-E stay.
    nodes = [start(), node("Y"), node("X"), stop()]
    edges = arrows(("S", "X"), ("X", "Y"), ("X", "E"), ("Y", "X"), ("S", "Y"))
    expected = [{"start": "S", "end": "E", "count": 2, "longest": 4}]
    assert analyse(nodes, edges)["paths"] == expected
    assert analyse(nodes, edges[::-1])["paths"] == expected


def test_duplicate_arrows_are_one_route():
    nodes = [start(), node("A"), stop()]
    edges = arrows(("S", "A"), ("S", "A"), ("A", "E"))
    assert analyse(nodes, edges)["paths"][0]["count"] == 1


def test_paths_from_several_starts_to_the_ends_they_reach():
    nodes = [start("S1"), start("S2"), node("A"), node("B"), stop("E1"), stop("E2")]
    edges = arrows(("S1", "A"), ("S2", "A"), ("A", "E1"), ("S2", "B"), ("B", "E2"))
    result = analyse(nodes, edges)
    assert result["starts"] == ["S1", "S2"]
    assert result["ends"] == ["E1", "E2"]
    assert result["paths"] == [
        {"start": "S1", "end": "E1", "count": 1, "longest": 3},
        {"start": "S2", "end": "E1", "count": 1, "longest": 3},
        {"start": "S2", "end": "E2", "count": 1, "longest": 3},
    ]


def test_long_chain_needs_no_recursion():
    nodes = [start()] + [node(f"T{i}") for i in range(998)] + [stop()]
    ids = [n["id"] for n in nodes]
    edges = arrows(*zip(ids, ids[1:], strict=False))
    assert lint(nodes, edges) == []
    assert analyse(nodes, edges)["paths"] == [
        {"start": "S", "end": "E", "count": 1, "longest": 1000}
    ]


def test_analysis_of_an_empty_map():
    assert analyse([], []) == {
        "starts": [],
        "ends": [],
        "paths": [],
        "steps_per_stage": {},
        "branches": [],
    }


def random_map(rng, nodes_count, edges_count):
    kinds = ["terminus", "task", "decision"]
    stages = [None, "", "know", "buy"]
    nodes = [
        node(f"n{i}", rng.choice(kinds), rng.choice(["", "Call", "Send quote"]))
        | {"stage": rng.choice(stages)}
        for i in range(nodes_count)
    ]
    edges = [
        edge(
            f"e{i}",
            f"n{rng.randrange(nodes_count)}",
            f"n{rng.randrange(nodes_count)}",
            rng.choice([None, "", "Yes", "yes ", "No"]),
        )
        for i in range(edges_count)
    ]
    return nodes, edges


def test_large_map_is_linted_and_analysed():
    nodes, edges = random_map(random.Random(1000), 1000, 2000)
    assert isinstance(lint(nodes, edges), list)
    assert isinstance(analyse(nodes, edges)["paths"], list)


# --- properties --------------------------------------------------------------

labels = st.sampled_from([None, "", " ", "Yes", "yes ", "No", "Call"])


@st.composite
def maps(draw):
    size = draw(st.integers(0, 40))
    nodes = [
        node(
            f"n{i}",
            draw(st.sampled_from(["terminus", "task", "decision"])),
            draw(labels) or "",
            draw(st.sampled_from([None, "", "know", "try", "buy"])),
        )
        for i in range(size)
    ]
    if not size:
        return nodes, []
    ends = st.integers(0, size - 1).map(lambda i: f"n{i}")
    pairs = draw(st.lists(st.tuples(ends, ends, labels), max_size=80))
    # Duplicate arrows and self-loops are drawn on purpose.
    return nodes, [edge(f"e{i}", *pair) for i, pair in enumerate(pairs)]


# conftest.py's autouse settings fixture is unrelated to these pure functions.
property_settings = settings(
    max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@property_settings
@given(maps())
def test_lint_and_analyse_never_crash_and_give_json(graph):
    nodes, edges = graph
    findings = lint(nodes, edges)
    result = analyse(nodes, edges)

    json.dumps([f.as_dict() for f in findings])
    json.dumps(result)
    node_ids = {n["id"] for n in nodes}
    edge_ids = {e["id"] for e in edges}
    rule_order = list(RULES)
    assert [rule_order.index(f.rule) for f in findings] == sorted(
        rule_order.index(f.rule) for f in findings
    )
    for finding in findings:
        assert finding.severity == RULES[finding.rule].severity
        assert finding.message
        assert set(finding.nodes) <= node_ids
        assert set(finding.edges) <= edge_ids
    isolated = {f.nodes[0] for f in findings if f.rule == ISOLATED}
    assert not any(
        set(f.nodes) & isolated
        for f in findings
        if f.rule in (UNREACHABLE, DEAD_END, DECISION_BRANCHES)
    )
    for path in result["paths"]:
        assert path["count"] >= 1
        assert 2 <= path["longest"] <= len(nodes)


@property_settings
@given(maps(), st.randoms(use_true_random=False))
def test_lint_and_analyse_do_not_depend_on_arrow_order(graph, rng):
    nodes, edges = graph
    shuffled = edges[:]
    rng.shuffle(shuffled)

    findings = lint(nodes, edges)
    assert lint(nodes, edges) == findings
    assert sorted(lint(nodes, shuffled), key=repr) == sorted(findings, key=repr)

    result = analyse(nodes, edges)
    assert analyse(nodes, edges) == result
    other = analyse(nodes, shuffled)
    for key in ("starts", "ends", "paths", "steps_per_stage"):
        assert other[key] == result[key]


# --- shapes on top of each other -------------------------------------------


def test_a_shape_hidden_under_another_is_a_warning_naming_both():
    hidden = stop() | {"x": 220.0, "y": 10.0}
    nodes = [start() | {"x": 0.0}, node("a") | {"x": 220.0, "y": 0.0}, hidden]
    findings = of_rule(OVERLAP, nodes, arrows(("S", "a"), ("a", "E")))
    assert findings == [
        Finding(
            OVERLAP,
            "warning",
            "“a” and “Stop” lie on top of each other on the canvas, so one hides "
            "the other. Move one of them (or tidy the layout).",
            ("a", "E"),
        )
    ]
    assert RULES[OVERLAP].severity == "warning"


def test_shapes_that_only_touch_do_not_overlap():
    # A task is 140 wide: centres 140 apart touch edge to edge.
    nodes = [start() | {"x": 0.0}, node("a") | {"x": 140.0}, stop() | {"x": 280.0}]
    assert of_rule(OVERLAP, nodes, arrows(("S", "a"), ("a", "E"))) == []


def test_every_overlapping_pair_is_found_in_a_long_row():
    # Every step 100 px after the last: each overlaps its neighbour only.
    nodes = [node(f"t{i}") | {"x": 100.0 * i, "y": 0.0} for i in range(300)]
    pairs = [f.nodes for f in of_rule(OVERLAP, nodes, [])]
    assert pairs == [(f"t{i}", f"t{i + 1}") for i in range(299)]


def test_no_built_in_template_hides_a_step():
    from systemmaps.builtin import TEMPLATES

    for template in TEMPLATES:
        graph = template.graph
        assert of_rule(OVERLAP, graph["nodes"], graph["edges"]) == [], template.key
