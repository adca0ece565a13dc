"""The outline: the flow as an indented list (pure functions on the graph
document) and the outline page that edits a map through it."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from hourglass.tests.utils import HTMX
from systemmaps import outline, selectors, services
from systemmaps.document import FREE_SPOT_STEP, box_of, overlaps
from systemmaps.graph import OVERLAP, lint
from systemmaps.models import Revision
from systemmaps.schema import validate_graph

from .factories import webinar_graph
from .utils import maps_snapshot

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def shape(chain: list[outline.Entry]) -> list:
    """A chain as plain data: node ids, "↩id" for references, and
    (id, {branch label: chain}) for a step with branches."""
    result = []
    for entry in chain:
        if entry.ref:
            result.append(f"↩{entry.node['id']}")
        elif entry.branches:
            result.append(
                (
                    entry.node["id"],
                    {b.label: shape(b.entries) for b in entry.branches},
                )
            )
        else:
            result.append(entry.node["id"])
    return result


def node(graph: dict, node_id: str) -> dict:
    return next(n for n in graph["nodes"] if n["id"] == node_id)


def edge(graph: dict, edge_id: str) -> dict:
    return next(e for e in graph["edges"] if e["id"] == edge_id)


def arrows(graph: dict) -> set[tuple]:
    return {(e["source"], e["target"], e["label"]) for e in graph["edges"]}


def by_id(graph: dict) -> tuple[dict, dict]:
    """Nodes and edges keyed by id: the order of the rows is not the point."""
    return (
        {n["id"]: n for n in graph["nodes"]},
        {e["id"]: e for e in graph["edges"]},
    )


def task(node_id: str, label: str, kind: str = "task", x: float = 0.0) -> dict:
    return {
        "id": node_id,
        "kind": kind,
        "label": label,
        "x": x,
        "y": 0.0,
        "stage": None,
        "notes": None,
    }


def clear_of_the_others(graph: dict, node_id: str) -> bool:
    mine = box_of(node(graph, node_id))
    return not any(
        overlaps(mine, box_of(n)) for n in graph["nodes"] if n["id"] != node_id
    )


def arrow(edge_id: str, source: str, target: str, label=None) -> dict:
    return {"id": edge_id, "source": source, "target": target, "label": label}


def document(nodes: list[dict], edges: list[dict]) -> dict:
    return {"schema_version": 1, "name": "", "nodes": nodes, "edges": edges}


def chain_graph(count: int) -> dict:
    """Start, `count - 2` steps (every fifth a decision with a way out), stop."""
    nodes = [task("s", "Start", "terminus"), task("end", "Stop", "terminus")]
    edges = []
    previous, label = "s", None
    for i in range(1, count - 1):
        kind = "decision" if i % 5 == 0 else "task"
        nodes.append(task(f"n{i}", f"Step {i}", kind, x=220.0 * i))
        edges.append(arrow(f"e{i}", previous, f"n{i}", label))
        label = None
        if kind == "decision":
            edges.append(arrow(f"x{i}", f"n{i}", "end", "no"))
            label = "yes"
        previous = f"n{i}"
    edges.append(arrow("last", previous, "end", label))
    return document(nodes, edges)


# ---------------------------------------------------------------------------
# Flow order
# ---------------------------------------------------------------------------


def test_flow_follows_the_arrows_from_the_start_with_branches_nested():
    result = outline.flow(webinar_graph())

    assert [shape(chain) for chain in result.flows] == [
        [
            "start",
            "nurture",
            (
                "booked",
                {
                    "no": ["downsell", "bucket"],
                    "yes": [
                        "call",
                        "proposal",
                        ("signed", {"no": ["↩nurture"], "yes": ["onboard"]}),
                    ],
                },
            ),
        ]
    ]
    assert result.unreached == []


def test_loop_back_is_a_reference_not_a_repetition():
    rows = outline.rows(outline.flow(webinar_graph()).flows)

    steps = [r.entry.node["id"] for r in rows if r.type == "step-open"]
    refs = [r.entry.node["id"] for r in rows if r.type == "ref"]
    assert steps.count("nurture") == 1
    assert refs == ["nurture"]
    assert sorted(steps) == sorted(n["id"] for n in webinar_graph()["nodes"])


def test_branches_follow_the_order_of_the_arrows():
    graph = webinar_graph()
    # The "yes" arrow first in the document: its branch comes first.
    graph["edges"].sort(key=lambda e: e["id"] != "e5")

    booked = outline.flow(graph).flows[0][2]

    assert [b.label for b in booked.branches] == ["yes", "no"]


def test_merging_branches_list_the_shared_step_once():
    graph = document(
        [
            task("s", "Lead comes in", "terminus"),
            task("q", "Qualified?", "decision"),
            task("a", "Call them"),
            task("b", "Email them"),
            task("m", "Add to CRM"),
            task("z", "Done", "terminus"),
        ],
        [
            arrow("e1", "s", "q"),
            arrow("e2", "q", "a", "yes"),
            arrow("e3", "q", "b", "no"),
            arrow("e4", "a", "m"),
            arrow("e5", "b", "m"),
            arrow("e6", "m", "z"),
        ],
    )

    [chain] = outline.flow(graph).flows

    assert shape(chain) == [
        "s",
        ("q", {"yes": ["a", "m", "z"], "no": ["b", "↩m"]}),
    ]


def test_steps_no_start_reaches_are_listed_apart():
    graph = webinar_graph()
    graph["nodes"] += [
        task("orphan", "Print flyers"),
        task("after", "Hand out flyers"),
        task("alone", "Forgotten idea"),
    ]
    # The unreached chain is listed from its first step, even though the
    # second comes first in the document, and it points into the main flow.
    graph["nodes"].insert(0, graph["nodes"].pop(-2))
    graph["edges"] += [
        arrow("o1", "orphan", "after"),
        arrow("o2", "after", "call"),
    ]

    result = outline.flow(graph)

    assert [shape(c) for c in result.unreached] == [
        ["orphan", "after", "↩call"],
        ["alone"],
    ]
    reached = {r.entry.node["id"] for r in outline.rows(result.flows) if r.entry}
    assert not reached & {"orphan", "after", "alone"}


def test_a_map_without_start_is_all_unreached():
    graph = document(
        [task("a", "One"), task("b", "Two")],
        [arrow("e1", "a", "b"), arrow("e2", "b", "a")],
    )

    result = outline.flow(graph)

    assert result.flows == []
    assert [shape(c) for c in result.unreached] == [["a", "b", "↩a"]]


def test_every_start_has_its_own_flow():
    graph = webinar_graph()
    graph["nodes"].append(task("ad", "Facebook ad", "terminus"))
    graph["edges"].append(arrow("ad1", "ad", "nurture"))

    result = outline.flow(graph)

    assert [shape(c)[:2] for c in result.flows] == [
        ["start", "nurture"],
        ["ad", "↩nurture"],
    ]


def test_kinds_are_named_in_words():
    rows = outline.rows(outline.flow(webinar_graph()).flows)
    words = {
        r.entry.node["id"]: (r.entry.kind_label, r.entry.stage_label)
        for r in rows
        if r.type == "step-open"
    }

    assert words["start"] == ("Start", "Try")
    assert words["nurture"] == ("Task", "Like")
    assert words["booked"] == ("Decision", "Try")
    assert words["bucket"] == ("Stop", "")


def test_rows_open_and_close_in_pairs():
    rows = outline.rows(outline.flow(webinar_graph()).flows)
    depth = 0
    for row in rows:
        if row.type.endswith("-open"):
            depth += 1
        elif row.type.endswith("-close"):
            depth -= 1
        assert depth >= 0
    assert depth == 0
    assert [r.type for r in rows[:2]] == ["list-open", "step-open"]


def deep_graph(levels: int) -> dict:
    """Decisions nested `levels` deep: each “yes” leads to the next decision."""
    nodes = [task("s", "Start", "terminus"), task("z", "Stop", "terminus")]
    edges = [arrow("e0", "s", "d0")]
    for i in range(levels):
        nodes.append(task(f"d{i}", f"Question {i}?", "decision"))
        target = f"d{i + 1}" if i + 1 < levels else "z"
        edges.append(arrow(f"y{i}", f"d{i}", target, "yes"))
        edges.append(arrow(f"n{i}", f"d{i}", "z", "no"))
    return document(nodes, edges)


def test_a_deeply_nested_map_needs_no_recursion():
    graph = deep_graph(2000)

    rows = outline.rows(outline.flow(graph).flows)

    assert sum(r.type == "step-open" for r in rows) == 2002
    assert max(_depths(rows)) > 2000


def _depths(rows):
    depth = 0
    for row in rows:
        depth += row.type.endswith("-open") - row.type.endswith("-close")
        yield depth


# ---------------------------------------------------------------------------
# Edits
# ---------------------------------------------------------------------------


def test_rename_changes_only_the_label_and_leaves_the_input_alone():
    graph = webinar_graph()

    renamed = outline.rename(graph, "nurture", "Weekly tips email")

    assert node(renamed, "nurture")["label"] == "Weekly tips email"
    assert node(graph, "nurture")["label"] == "Email nurture campaign"
    assert renamed["edges"] == graph["edges"]
    assert [n for n in renamed["nodes"] if n["id"] != "nurture"] == [
        n for n in graph["nodes"] if n["id"] != "nurture"
    ]


def test_an_edit_of_an_unknown_step_raises_step_not_found():
    for edit in (
        lambda g: outline.rename(g, "nope", "x"),
        lambda g: outline.add_next(g, "nope", "x"),
        lambda g: outline.add_branch(g, "nope", "x", "yes"),
        lambda g: outline.delete(g, "nope"),
    ):
        with pytest.raises(outline.StepNotFound):
            edit(webinar_graph())


def test_add_next_puts_a_task_between_the_step_and_its_successor():
    graph = webinar_graph()

    added, new_id = outline.add_next(graph, "nurture", "Send the replay")

    new = node(added, new_id)
    assert new == {
        "id": new_id,
        "kind": "task",
        "label": "Send the replay",
        "x": node(graph, "nurture")["x"] + 220,
        # Not on top of the decision one column on: the first free spot below it.
        "y": FREE_SPOT_STEP,
        "stage": "like",
        "notes": None,
    }
    assert clear_of_the_others(added, new_id)
    # The new task took over the arrow to the decision, id and all.
    assert edge(added, "e2") == arrow("e2", new_id, "booked")
    assert ("nurture", new_id, None) in arrows(added)
    assert len(added["edges"]) == len(graph["edges"]) + 1
    # Listed right after the step it follows.
    ids = [n["id"] for n in added["nodes"]]
    assert ids[ids.index("nurture") + 1] == new_id
    validate_graph(added)
    assert [shape(c) for c in outline.flow(added).flows][0][:4] == [
        "start",
        "nurture",
        new_id,
        shape(outline.flow(graph).flows[0])[2],
    ]


def test_add_next_on_a_start_with_several_arrows_takes_over_all_of_them():
    graph = document(
        [task("s", "Open day", "terminus"), task("a", "Tour"), task("b", "Talk")],
        [arrow("e1", "s", "a"), arrow("e2", "s", "b")],
    )

    added, new_id = outline.add_next(graph, "s", "Welcome desk")

    assert arrows(added) == {
        ("s", new_id, None),
        (new_id, "a", None),
        (new_id, "b", None),
    }


def test_add_next_after_a_dead_end_appends():
    graph = document([task("a", "Only step")], [])

    added, new_id = outline.add_next(graph, "a", "Then this")

    assert arrows(added) == {("a", new_id, None)}


def test_add_next_refuses_a_decision_and_a_stop():
    with pytest.raises(outline.OutlineError, match="add a branch"):
        outline.add_next(webinar_graph(), "booked", "x")
    with pytest.raises(outline.OutlineError, match="stops"):
        outline.add_next(webinar_graph(), "onboard", "x")


def test_add_branch_adds_a_labelled_arrow_to_a_new_task():
    graph = webinar_graph()

    added, new_id = outline.add_branch(
        graph, "booked", "Invite to next webinar", "later"
    )

    assert node(added, new_id)["kind"] == "task"
    assert node(added, new_id)["label"] == "Invite to next webinar"
    assert node(added, new_id)["x"] == node(graph, "booked")["x"] + 220
    # Below the decision's two other branches.
    assert node(added, new_id)["y"] == 240.0
    assert clear_of_the_others(added, new_id)
    assert ("booked", new_id, "later") in arrows(added)
    assert arrows(added) - arrows(graph) == {("booked", new_id, "later")}
    booked = outline.flow(added).flows[0][2]
    assert [b.label for b in booked.branches] == ["no", "yes", "later"]


def test_add_branch_refuses_a_taken_label_and_a_step_that_is_no_decision():
    with pytest.raises(outline.OutlineError) as error:
        outline.add_branch(webinar_graph(), "booked", "x", " YES ")
    assert error.value.field == "edge_label"
    with pytest.raises(outline.OutlineError) as error:
        outline.add_branch(webinar_graph(), "booked", "x", "  ")
    assert error.value.field == "edge_label"
    with pytest.raises(outline.OutlineError, match="Only a decision"):
        outline.add_branch(webinar_graph(), "call", "x", "yes")


def test_default_branch_label_is_yes_then_no_then_nothing():
    graph = webinar_graph()
    assert outline.default_branch_label(graph, "booked") == ""
    graph["edges"] = [e for e in graph["edges"] if e["id"] != "e5"]
    assert outline.default_branch_label(graph, "booked") == "yes"
    graph["edges"] = [e for e in graph["edges"] if e["id"] != "e3"]
    graph["edges"].append(arrow("ex", "booked", "call", "Yes"))
    assert outline.default_branch_label(graph, "booked") == "no"


def test_delete_reconnects_a_step_with_one_arrow_in_and_one_out():
    graph = webinar_graph()

    deleted = outline.delete(graph, "proposal")

    assert "proposal" not in {n["id"] for n in deleted["nodes"]}
    # The arrow in now leads on to the step after; the arrow out is gone.
    assert edge(deleted, "e6") == arrow("e6", "call", "signed")
    assert "e7" not in {e["id"] for e in deleted["edges"]}
    assert len(deleted["edges"]) == len(graph["edges"]) - 1
    assert len(graph["nodes"]) == 9  # the input is untouched


def test_delete_keeps_the_label_of_a_decisions_branch():
    deleted = outline.delete(webinar_graph(), "downsell")

    assert edge(deleted, "e3") == arrow("e3", "booked", "bucket", "no")


def test_delete_of_a_step_with_several_arrows_removes_them_all():
    graph = webinar_graph()

    deleted = outline.delete(graph, "nurture")

    assert {e["id"] for e in deleted["edges"]} == {e["id"] for e in graph["edges"]} - {
        "e1",
        "e2",
        "e8",
    }
    assert arrows(deleted) <= arrows(graph)


def test_delete_does_not_bridge_into_a_self_loop_or_a_second_arrow():
    loop = document(
        [task("a", "A"), task("b", "B")],
        [arrow("e1", "a", "b"), arrow("e2", "b", "a")],
    )
    assert outline.delete(loop, "b")["edges"] == []

    shortcut = document(
        [task("a", "A"), task("b", "B"), task("c", "C")],
        [arrow("e1", "a", "b"), arrow("e2", "b", "c"), arrow("e3", "a", "c")],
    )
    assert arrows(outline.delete(shortcut, "b")) == {("a", "c", None)}

    self_loop = document(
        [task("a", "A"), task("b", "B")],
        [arrow("e1", "b", "b"), arrow("e2", "a", "b")],
    )
    assert arrows(outline.delete(self_loop, "b")) == set()


def test_new_ids_never_collide(monkeypatch):
    suffixes = iter(["aaaaaa", "aaaaaa", "bbbbbb"])
    monkeypatch.setattr(outline, "_token", lambda: next(suffixes))
    assert outline.new_id("n", {"naaaaaa"}) == "nbbbbbb"
    monkeypatch.undo()

    graph = webinar_graph()
    for i in range(60):
        graph, _new = outline.add_next(graph, "start", f"Step {i}")
    node_ids = [n["id"] for n in graph["nodes"]]
    edge_ids = [e["id"] for e in graph["edges"]]
    assert len(set(node_ids)) == len(node_ids) == 69
    assert len(set(edge_ids)) == len(edge_ids) == 69
    assert all(re.fullmatch(r"n[0-9a-f]{6}", i) for i in node_ids[1:61])
    validate_graph(graph)


def test_add_next_draws_a_fresh_suffix_when_one_is_taken(monkeypatch):
    # The node id draws twice (the first is taken), then the edge id once.
    suffixes = iter(["000001", "000002", "000003"])
    monkeypatch.setattr(outline, "_token", lambda: next(suffixes))
    graph = webinar_graph()
    graph["nodes"].append(task("n000001", "Taken"))

    added, new_id = outline.add_next(graph, "call", "Prepare the call")

    assert new_id == "n000002"
    assert ("call", "n000002", None) in arrows(added)


def test_new_steps_stay_on_the_canvas():
    graph = document([task("a", "Far right", x=999_990.0)], [])

    added, new_id = outline.add_next(graph, "a", "Next")

    assert node(added, new_id)["x"] == 1_000_000
    validate_graph(added)


# ---------------------------------------------------------------------------
# The outline page
# ---------------------------------------------------------------------------


def outline_url(system_map, **query) -> str:
    url = reverse(
        "systemmaps:map-outline",
        kwargs={"slug": system_map.business.slug, "pk": system_map.pk},
    )
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def op_url(system_map, op: str, node_id: str) -> str:
    return reverse(
        f"systemmaps:outline-{op}",
        kwargs={
            "slug": system_map.business.slug,
            "pk": system_map.pk,
            "node": node_id,
        },
    )


def post(client, system_map, op, node_id, data, *, htmx):
    return client.post(
        op_url(system_map, op, node_id), data, headers=HTMX if htmx else {}
    )


def saved_graph(system_map) -> dict:
    system_map.refresh_from_db()
    return selectors.graph_of(system_map)


def test_page_lists_the_map_in_flow_order_with_branch_labels(alice_client, webinar_map):
    response = alice_client.get(outline_url(webinar_map))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    expected = [
        'id="step-start"',
        "Webinar",
        'id="step-nurture"',
        'id="step-booked"',
        "Booked a consultation?",
        '<span class="branch-label">no</span>',
        'id="step-downsell"',
        'id="step-bucket"',
        '<span class="branch-label">yes</span>',
        'id="step-call"',
        'id="step-proposal"',
        'id="step-signed"',
        '<span class="branch-label">no</span>',
        "back to “Email nurture campaign”",
        '<span class="branch-label">yes</span>',
        'id="step-onboard"',
    ]
    positions, start = [], 0
    for text in expected:
        start = html.index(text, start)
        positions.append(start)
    assert positions == sorted(positions)
    # Listed once as a step; the loop back is a link to it, not a repetition.
    assert html.count('data-step-id="nurture"') == 1
    assert html.count('data-ref="nurture"') == 1
    assert 'href="#step-nurture"' in html
    # Kinds and stages in words, and a heading for the flow.
    assert "From the start “Webinar”" in html
    for words in ("Start<", "Task<", "Decision<", "Stop<", "Stage: Like"):
        assert words in html
    assert "Not reached from the start" not in html


def test_page_has_the_steps_no_start_reaches(alice_client, acme, alice):
    graph = webinar_graph()
    graph["nodes"].append(task("orphan", "Print flyers"))
    system_map = services.map_create(
        business=acme,
        acting_user=alice,
        name="With an orphan",
        half="marketing",
        stages=["know"],
        graph=graph,
    )

    html = alice_client.get(outline_url(system_map)).content.decode()

    assert "Not reached from the start" in html
    assert html.index("Not reached from the start") < html.index('id="step-orphan"')


def test_htmx_get_returns_only_the_outline(alice_client, webinar_map):
    response = alice_client.get(outline_url(webinar_map), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="outline"')


def test_editor_sees_the_controls_and_a_form_opens_with_focus(
    client_for, erin, webinar_map
):
    client = client_for(erin)
    html = client.get(outline_url(webinar_map)).content.decode()
    assert 'data-action="rename"' in html
    assert 'data-action="delete"' in html
    assert html.count('data-action="branch"') == 2  # the two decisions
    # Neither a decision nor a stop offers a next step.
    assert html.count('data-action="add"') == 9 - 2 - 2

    html = client.get(outline_url(webinar_map, rename="nurture")).content.decode()
    form = re.search(r'<form class="outline-form".*?</form>', html, re.S).group()
    assert op_url(webinar_map, "rename", "nurture") in form
    assert re.search(r"<textarea[^>]*>\s*Email nurture campaign</textarea>", form)
    assert "autofocus" in form
    assert 'name="version" value="1"' in form
    assert "Cancel" in form


def test_a_form_that_does_not_fit_the_step_does_not_open(alice_client, webinar_map):
    html = alice_client.get(outline_url(webinar_map, add="booked")).content.decode()
    assert "outline-form" not in html
    html = alice_client.get(outline_url(webinar_map, branch="call")).content.decode()
    assert "outline-form" not in html
    html = alice_client.get(outline_url(webinar_map, branch="booked")).content.decode()
    assert "outline-form" in html


def test_branch_form_suggests_a_free_label(alice_client, acme, alice):
    graph = webinar_graph()
    graph["edges"] = [e for e in graph["edges"] if e["id"] != "e3"]
    system_map = services.map_create(
        business=acme,
        acting_user=alice,
        name="One branch",
        half="marketing",
        stages=["try"],
        graph=graph,
    )

    html = alice_client.get(outline_url(system_map, branch="booked")).content.decode()

    assert re.search(r'name="edge_label"[^>]*value="no"', html)


OPS = {
    "rename": ("nurture", {"label": "Weekly tips email"}),
    "details": (
        "call",
        {"kind": "task", "stage": "buy", "notes": "Book 30 minutes\nSend the agenda"},
    ),
    "add-next": ("call", {"label": "Prepare the call"}),
    "add-branch": ("booked", {"label": "Ask again later", "edge_label": "later"}),
    "delete": ("proposal", {}),
}


def expected_graph(op: str, before: dict, after: dict) -> dict:
    node_id, data = OPS[op]
    if op == "rename":
        return outline.rename(before, node_id, data["label"])
    if op == "details":
        return outline.change_details(before, node_id, **data)
    if op == "delete":
        return outline.delete(before, node_id)
    # The request drew its own random ids; give the expected graph the same.
    [new_id] = {n["id"] for n in after["nodes"]} - {n["id"] for n in before["nodes"]}
    [new_edge] = {e["id"] for e in after["edges"]} - {e["id"] for e in before["edges"]}
    if op == "add-next":
        expected, made = outline.add_next(before, node_id, data["label"])
    else:
        expected, made = outline.add_branch(
            before, node_id, data["label"], data["edge_label"]
        )
    for n in expected["nodes"]:
        if n["id"] == made:
            n["id"] = new_id
    for e in expected["edges"]:
        if e["target"] == made and e["source"] == node_id:
            e["id"] = new_edge
        e["source"] = new_id if e["source"] == made else e["source"]
        e["target"] = new_id if e["target"] == made else e["target"]
    return expected


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
@pytest.mark.parametrize("op", list(OPS))
def test_each_edit_saves_a_new_version_with_the_expected_graph(
    alice_client, webinar_map, op, htmx
):
    node_id, data = OPS[op]
    before = selectors.graph_of(webinar_map)

    response = post(
        alice_client, webinar_map, op, node_id, {"version": 1, **data}, htmx=htmx
    )

    after = saved_graph(webinar_map)
    assert webinar_map.version == 2
    assert by_id(after) == by_id(expected_graph(op, before, after))
    revision = Revision.objects.get(map=webinar_map, version=2)
    assert revision.note.startswith("Outline: ")
    assert revision.created_by.email == "alice@example.com"
    new_ids = {n["id"] for n in after["nodes"]} - {n["id"] for n in before["nodes"]}
    focus = {"rename": "nurture", "details": "call", "delete": "call"}.get(
        op
    ) or new_ids.pop()
    if htmx:
        assert response.status_code == 200
        html = response.content.decode()
        assert html.lstrip().startswith('<div id="outline"')
        assert "Saved as version 2." in html
        assert 'name="version" value="2"' in html
        # Keyboard focus lands on the step the edit made or changed.
        assert re.search(rf'id="label-{focus}" tabindex="-1" autofocus', html)
    else:
        assert response.status_code == 302
        assert response["Location"] == outline_url(webinar_map) + f"#step-{focus}"
        page = alice_client.get(response["Location"]).content.decode()
        assert "Saved as version" not in page
        assert "message-success" in page


def test_a_stale_version_is_refused_with_the_current_outline(
    alice_client, client_for, erin, webinar_map
):
    # Erin saves meanwhile (version 2).
    erin_client = client_for(erin)
    erin_client.post(
        op_url(webinar_map, "rename", "call"), {"version": 1, "label": "Discovery call"}
    )
    before = maps_snapshot()

    for op, (node_id, data) in OPS.items():
        response = post(
            alice_client, webinar_map, op, node_id, {"version": 1, **data}, htmx=True
        )

        assert response.status_code == 422, op
        html = response.content.decode()
        assert (
            "Someone saved this map meanwhile (version 2 by Erin Edwards); your "
            "change was not applied — here is the current outline." in html
        )
        assert "Discovery call" in html  # the current outline
        assert maps_snapshot() == before
        if op == "rename":
            # What Alice typed is still there, now on the current version.
            form = re.search(r'<form class="outline-form".*?</form>', html, re.S)
            assert re.search(r">\s*Weekly tips email</textarea>", form.group())
            assert 'name="version" value="2"' in form.group()
        if op == "details":
            form = re.search(r'<form class="outline-form".*?</form>', html, re.S)
            assert re.search(r'<option value="buy" selected>', form.group())
            assert "Book 30 minutes\nSend the agenda</textarea>" in form.group()


def test_a_stale_version_without_htmx_shows_the_page_with_the_message(
    alice_client, webinar_map, alice
):
    services.map_save_graph(
        system_map=webinar_map,
        graph=webinar_graph(),
        acting_user=alice,
        expected_version=1,
    )
    before = maps_snapshot()

    response = post(
        alice_client, webinar_map, "delete", "proposal", {"version": 1}, htmx=False
    )

    assert response.status_code == 422
    assert "<html" in response.content.decode()
    assert "Someone saved this map meanwhile (version 2 by Alice Archer)" in (
        response.content.decode()
    )
    assert maps_snapshot() == before


@pytest.mark.parametrize(
    "op,node_id,data,field,message",
    [
        ("rename", "call", {"label": "x" * 201}, "label", "at most 200 characters"),
        ("rename", "call", {"label": "  "}, "label", "This field is required"),
        ("add-next", "call", {"label": ""}, "label", "This field is required"),
        (
            "add-branch",
            "booked",
            {"label": "Ask", "edge_label": "x" * 61},
            "edge_label",
            "at most 60 characters",
        ),
        (
            "add-branch",
            "booked",
            {"label": "Ask", "edge_label": "Yes"},
            "edge_label",
            "already has a branch “Yes”",
        ),
        (
            "add-branch",
            "booked",
            {"label": "x" * 201, "edge_label": "maybe"},
            "label",
            "at most 200 characters",
        ),
    ],
)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_bad_input_is_refused_next_to_the_field(
    alice_client, webinar_map, op, node_id, data, field, message, htmx
):
    before = maps_snapshot()

    response = post(
        alice_client, webinar_map, op, node_id, {"version": 1, **data}, htmx=htmx
    )

    assert response.status_code == 422
    html = response.content.decode()
    errors = re.search(
        rf'<ul class="errorlist" id="outline-{field}_error">.*?</ul>', html, re.S
    )
    assert errors and message in errors.group()
    assert re.search(
        rf'id="outline-{field}"[^>]*autofocus|autofocus[^>]*id="outline-{field}"', html
    )
    assert maps_snapshot() == before


def test_a_post_without_version_is_refused(alice_client, webinar_map):
    before = maps_snapshot()

    response = post(alice_client, webinar_map, "delete", "proposal", {}, htmx=True)

    assert response.status_code == 422
    assert "reload it" in response.content.decode()
    assert maps_snapshot() == before


def test_a_long_label_still_fits_the_revision_note(alice_client, webinar_map):
    response = post(
        alice_client,
        webinar_map,
        "rename",
        "call",
        {"version": 1, "label": "y" * 200},
        htmx=True,
    )

    assert response.status_code == 200
    note = Revision.objects.get(map=webinar_map, version=2).note
    assert len(note) <= 200


def test_member_sees_no_controls_and_may_not_edit(bob_client, webinar_map):
    html = bob_client.get(outline_url(webinar_map)).content.decode()
    assert 'id="step-nurture"' in html
    assert "data-action" not in html
    assert "<form" not in html.split('id="outline"')[1]
    html = bob_client.get(outline_url(webinar_map, rename="nurture")).content.decode()
    assert "outline-form" not in html
    before = maps_snapshot()

    for op, (node_id, data) in OPS.items():
        for htmx in (True, False):
            response = post(
                bob_client, webinar_map, op, node_id, {"version": 1, **data}, htmx=htmx
            )
            assert response.status_code == 403, op

    assert maps_snapshot() == before


def test_outsider_gets_404(charlie_client, webinar_map):
    before = maps_snapshot()

    assert charlie_client.get(outline_url(webinar_map)).status_code == 404
    for op, (node_id, data) in OPS.items():
        response = post(
            charlie_client, webinar_map, op, node_id, {"version": 1, **data}, htmx=True
        )
        assert response.status_code == 404, op

    assert maps_snapshot() == before


def test_an_unknown_step_is_404(alice_client, webinar_map):
    before = maps_snapshot()
    for op, (_node_id, data) in OPS.items():
        response = post(
            alice_client, webinar_map, op, "nope", {"version": 1, **data}, htmx=True
        )
        assert response.status_code == 404, op
    assert maps_snapshot() == before


def test_add_next_on_a_decision_is_refused_with_a_message(alice_client, webinar_map):
    before = maps_snapshot()

    response = post(
        alice_client,
        webinar_map,
        "add-next",
        "booked",
        {"version": 1, "label": "x"},
        htmx=True,
    )

    assert response.status_code == 422
    assert "add a branch instead" in response.content.decode()
    assert maps_snapshot() == before


def test_map_page_links_the_outline(alice_client, webinar_map):
    html = alice_client.get(webinar_map.get_absolute_url()).content.decode()
    assert f'href="{outline_url(webinar_map)}"' in html


def test_a_deeply_nested_map_renders(alice_client, acme, alice):
    system_map = services.map_create(
        business=acme,
        acting_user=alice,
        name="Deep",
        half="marketing",
        stages=["try"],
        graph=deep_graph(400),
    )

    response = alice_client.get(outline_url(system_map))

    assert response.status_code == 200
    assert response.content.decode().count('class="outline-step') == 402


def _queries(client, url) -> int:
    client.get(url)  # the first visit of a business writes to the session
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_outline_queries_do_not_grow_with_the_map(alice_client, acme, alice):
    small, large = (
        services.map_create(
            business=acme,
            acting_user=alice,
            name=f"{count} steps",
            half="marketing",
            stages=["try"],
            graph=chain_graph(count),
        )
        for count in (10, 200)
    )

    assert _queries(alice_client, outline_url(small)) == _queries(
        alice_client, outline_url(large)
    )
    assert _queries(alice_client, outline_url(large)) <= 8


def test_editor_config_links_the_outline_and_the_panel(alice_client, webinar_map):
    url = reverse(
        "systemmaps:map-edit",
        kwargs={"slug": webinar_map.business.slug, "pk": webinar_map.pk},
    )

    config = alice_client.get(url).context["config"]

    assert config["outlineUrl"] == outline_url(webinar_map)
    assert config["panelUrl"] == (f"/b/acme/maps/{webinar_map.pk}/steps/NODE/panel/")


# ---------------------------------------------------------------------------
# Kind, stage and notes; two-line names; new steps in free space
# ---------------------------------------------------------------------------


def test_change_details_sets_stage_and_notes_and_leaves_the_rest():
    graph = webinar_graph()

    changed = outline.change_details(
        graph, "call", kind="task", stage="buy", notes="Agenda first"
    )

    assert node(changed, "call") == node(graph, "call") | {
        "stage": "buy",
        "notes": "Agenda first",
    }
    assert changed["edges"] == graph["edges"]
    cleared = outline.change_details(changed, "call", kind="task", stage="", notes="")
    assert (node(cleared, "call")["stage"], node(cleared, "call")["notes"]) == (
        None,
        None,
    )


def test_a_task_with_two_unlabelled_ways_becomes_a_decision_with_yes_and_no():
    graph = document(
        [
            task("s", "Open", "terminus"),
            task("a", "Ask", x=220.0),
            task("b", "B", x=440.0),
            task("c", "C", x=660.0),
        ],
        [arrow("e1", "s", "a"), arrow("e2", "a", "b"), arrow("e3", "a", "c")],
    )

    changed = outline.change_details(graph, "a", kind="decision", stage="", notes="")

    assert node(changed, "a")["kind"] == "decision"
    assert arrows(changed) == {("s", "a", None), ("a", "b", "yes"), ("a", "c", "no")}
    assert not [f for f in lint(changed["nodes"], changed["edges"]) if "a" in f.nodes]


def test_a_labelled_way_keeps_its_label_and_the_other_gets_the_free_answer():
    graph = document(
        [task("a", "Ask"), task("b", "B", x=220.0), task("c", "C", x=440.0)],
        [arrow("e2", "a", "b"), arrow("e3", "a", "c", "Yes")],
    )

    changed = outline.change_details(graph, "a", kind="decision", stage="", notes="")

    assert arrows(changed) == {("a", "b", "no"), ("a", "c", "Yes")}


@pytest.mark.parametrize(
    "node_id, kind, message",
    [
        # One way on: a decision needs an arrow for each answer.
        ("call", "decision", "“Consultation call” has fewer than two ways on"),
        # Arrows in and out: neither a start nor a stop.
        ("call", "terminus", "“Consultation call” has arrows coming in and going out"),
    ],
)
def test_a_kind_the_arrows_do_not_allow_is_refused_naming_the_step(
    node_id, kind, message
):
    with pytest.raises(outline.OutlineError) as error:
        outline.change_details(webinar_graph(), node_id, kind=kind, stage="", notes="")
    assert message in error.value.message
    assert error.value.field == "kind"


def test_two_ways_with_the_same_label_cannot_make_a_decision():
    graph = document(
        [task("a", "Ask"), task("b", "B", x=220.0), task("c", "C", x=440.0)],
        [arrow("e2", "a", "b", "ok"), arrow("e3", "a", "c", "OK ")],
    )
    with pytest.raises(outline.OutlineError, match="the same label"):
        outline.change_details(graph, "a", kind="decision", stage="", notes="")


def test_the_details_form_opens_with_the_step_as_it_is(alice_client, webinar_map):
    html = alice_client.get(
        outline_url(webinar_map, details="nurture")
    ).content.decode()

    form = re.search(r'<form class="outline-form".*?</form>', html, re.S).group()
    assert op_url(webinar_map, "details", "nurture") in form
    assert "Kind of “Email nurture campaign”" in form
    assert re.search(r'<option value="task" selected>', form)
    assert re.search(r'<option value="like" selected>', form)
    assert 'id="outline-notes"' in form
    assert re.search(
        r'id="outline-kind"[^>]*autofocus|autofocus[^>]*id="outline-kind"', form
    )


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_a_refused_kind_keeps_what_was_typed_and_names_the_step(
    alice_client, webinar_map, htmx
):
    before = maps_snapshot()
    data = {"version": 1, "kind": "decision", "stage": "buy", "notes": "Typed\nnotes"}

    response = post(alice_client, webinar_map, "details", "call", data, htmx=htmx)

    assert response.status_code == 422
    html = response.content.decode()
    errors = re.search(
        r'<ul class="errorlist" id="outline-kind_error">.*?</ul>', html, re.S
    )
    assert "“Consultation call” has fewer than two ways on" in errors.group()
    form = re.search(r'<form class="outline-form".*?</form>', html, re.S).group()
    assert re.search(r'<option value="decision" selected>', form)
    assert re.search(r'<option value="buy" selected>', form)
    assert "Typed\nnotes</textarea>" in form
    assert maps_snapshot() == before


def test_a_refused_rename_keeps_the_two_lines_typed(alice_client, webinar_map):
    before = maps_snapshot()
    typed = "Bake and decorate\r\n" + "x" * 200

    response = post(
        alice_client,
        webinar_map,
        "rename",
        "call",
        {"version": 1, "label": typed},
        htmx=True,
    )

    assert response.status_code == 422
    form = re.search(
        r'<form class="outline-form".*?</form>', response.content.decode(), re.S
    )
    assert "Bake and decorate\r\n" + "x" * 200 + "</textarea>" in form.group()
    assert maps_snapshot() == before


def test_a_two_line_name_is_saved_with_its_line_break(alice_client, webinar_map):
    response = post(
        alice_client,
        webinar_map,
        "rename",
        "call",
        {"version": 1, "label": "Bake and decorate\r\n(day before)"},
        htmx=True,
    )

    assert response.status_code == 200
    assert node(saved_graph(webinar_map), "call")["label"] == (
        "Bake and decorate\n(day before)"
    )
    html = response.content.decode()
    # Shown as typed: the outline keeps the break (white-space: pre-line).
    assert re.search(
        r'class="outline-label lines" id="label-call"[^>]*>'
        r"Bake and decorate\n\(day before\)",
        html,
    )


def test_add_next_step_leaves_no_shape_hidden(alice_client, webinar_map):
    post(
        alice_client,
        webinar_map,
        "add-next",
        "nurture",
        {"version": 1, "label": "Send the replay"},
        htmx=True,
    )

    graph = saved_graph(webinar_map)
    assert [f for f in lint(graph["nodes"], graph["edges"]) if f.rule == OVERLAP] == []
    webinar_map.refresh_from_db()
    assert webinar_map.lint_warnings == 0


def test_a_rename_of_a_step_deleted_meanwhile_gives_the_text_back(
    alice_client, client_for, erin, webinar_map
):
    client_for(erin).post(op_url(webinar_map, "delete", "proposal"), {"version": 1})

    response = post(
        alice_client,
        webinar_map,
        "rename",
        "proposal",
        {"version": 1, "label": "Proposal sent by email"},
        htmx=True,
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert "Someone saved this map meanwhile" in html
    assert "What you typed: “Proposal sent by email”" in html
