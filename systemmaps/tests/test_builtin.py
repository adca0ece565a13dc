import pytest

from hourglass.models import MARKETING_STAGES, OPERATIONS_STAGES, STAGE_ORDER
from systemmaps.builtin import TEMPLATES, get_template
from systemmaps.graph import ERROR, WARNING, lint
from systemmaps.schema import validate_graph

by_key = pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.key)


def starts_and_stops(graph):
    sources = {edge["source"] for edge in graph["edges"]}
    targets = {edge["target"] for edge in graph["edges"]}
    termini = [node["id"] for node in graph["nodes"] if node["kind"] == "terminus"]
    starts = [t for t in termini if t in sources and t not in targets]
    stops = [t for t in termini if t in targets and t not in sources]
    return starts, stops


def test_there_are_nine_templates_with_unique_keys():
    keys = [template.key for template in TEMPLATES]
    assert len(keys) == 9
    assert len(set(keys)) == len(keys)


def test_get_template_finds_a_template_by_key_and_none_for_an_unknown_key():
    assert get_template("webinar") is TEMPLATES[0]
    assert get_template("referral-programme").half == "operations"
    assert get_template("no-such-template") is None


@by_key
def test_template_is_a_valid_graph_document_unchanged_by_validation(template):
    assert validate_graph(template.graph) == template.graph


@by_key
def test_template_lints_without_errors(template):
    graph = template.graph
    findings = lint(graph["nodes"], graph["edges"])
    assert [f.message for f in findings if f.severity == ERROR] == []


@by_key
def test_template_lints_without_warnings(template):
    graph = template.graph
    findings = lint(graph["nodes"], graph["edges"])
    assert [f.message for f in findings if f.severity == WARNING] == []


@by_key
def test_template_has_one_start_a_stop_a_decision_and_six_to_fourteen_steps(
    template,
):
    graph = template.graph
    starts, stops = starts_and_stops(graph)
    assert len(starts) == 1
    assert stops
    assert any(node["kind"] == "decision" for node in graph["nodes"])
    assert 6 <= len(graph["nodes"]) <= 14


@by_key
def test_template_decisions_have_distinct_labelled_answers(template):
    graph = template.graph
    for node in graph["nodes"]:
        if node["kind"] != "decision":
            continue
        labels = [e["label"] for e in graph["edges"] if e["source"] == node["id"]]
        assert len(labels) >= 2, node["label"]
        assert all(labels), node["label"]
        assert len(set(labels)) == len(labels), node["label"]


@by_key
def test_template_stages_are_the_node_stages_in_hourglass_order_within_its_half(
    template,
):
    used = {node["stage"] for node in template.graph["nodes"]} - {None}
    assert template.stages == [stage for stage in STAGE_ORDER if stage in used]
    half = MARKETING_STAGES if template.half == "marketing" else OPERATIONS_STAGES
    assert set(template.stages) <= set(half)
    assert template.half in ("marketing", "operations")


@by_key
def test_template_reads_left_to_right_without_overlapping_steps(template):
    nodes = template.graph["nodes"]
    positions = [(node["x"], node["y"]) for node in nodes]
    assert len(set(positions)) == len(positions)
    (start,), _ = starts_and_stops(template.graph)
    start_x = next(node["x"] for node in nodes if node["id"] == start)
    assert start_x == min(node["x"] for node in nodes)


@by_key
def test_template_has_a_name_a_description_and_a_note_on_a_critical_step(template):
    assert type(template.name) is str and template.name
    assert type(template.description) is str and len(template.description) > 40
    assert template.graph["name"] == template.name
    assert any(node["notes"] for node in template.graph["nodes"])


def test_webinar_template_is_the_example_system_of_the_design():
    graph = get_template("webinar").graph
    kinds = {node["label"]: node["kind"] for node in graph["nodes"]}
    assert kinds == {
        "Webinar": "terminus",
        "Email nurture campaign": "task",
        "Booked a consultation?": "decision",
        "Down-sell campaign": "task",
        "Future email automation bucket": "terminus",
        "Consultation call": "task",
        "Proposal sent": "task",
        "Signed?": "decision",
        "Onboard new client": "terminus",
    }
    label = {node["id"]: node["label"] for node in graph["nodes"]}
    arrows = {
        (label[edge["source"]], label[edge["target"]], edge["label"])
        for edge in graph["edges"]
    }
    assert arrows == {
        ("Webinar", "Email nurture campaign", None),
        ("Email nurture campaign", "Booked a consultation?", None),
        ("Booked a consultation?", "Down-sell campaign", "no"),
        ("Down-sell campaign", "Future email automation bucket", None),
        ("Booked a consultation?", "Consultation call", "yes"),
        ("Consultation call", "Proposal sent", None),
        ("Proposal sent", "Signed?", None),
        ("Signed?", "Email nurture campaign", "no"),
        ("Signed?", "Onboard new client", "yes"),
    }
    assert len(graph["edges"]) == len(arrows)
    starts, stops = starts_and_stops(graph)
    assert [label[s] for s in starts] == ["Webinar"]
    assert {label[s] for s in stops} == {
        "Future email automation bucket",
        "Onboard new client",
    }


def test_copy_graph_leaves_the_template_untouched():
    template = get_template("webinar")
    graph = template.copy_graph()
    graph["nodes"][0]["label"] = "Changed"
    graph["edges"].clear()
    assert template.graph["nodes"][0]["label"] == "Webinar"
    assert len(template.graph["edges"]) == 9
