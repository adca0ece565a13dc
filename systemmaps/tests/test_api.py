import copy
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from systemmaps import selectors
from systemmaps.models import ChecklistItem, Edge, Node, Revision, SystemMap
from systemmaps.schema import MAX_BYTES, MAX_EDGES, MAX_NODES

from .factories import chain_graph, make_map, webinar_graph


def graph_url(system_map) -> str:
    return reverse(
        "systemmaps:map-graph",
        kwargs={"slug": system_map.business.slug, "pk": system_map.pk},
    )


def put(client, system_map, body, *, version=None, raw=False, **headers):
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    data = body if raw else json.dumps(body)
    return client.put(
        graph_url(system_map), data, content_type="application/json", headers=headers
    )


def snapshot(system_map) -> dict:
    """Every stored row of one map, to prove a refused request wrote nothing."""
    return {
        "map": list(
            SystemMap.objects.filter(pk=system_map.pk).values(
                "name", "version", "status", "lint_errors", "lint_warnings"
            )
        ),
        "nodes": list(
            Node.objects.filter(map=system_map)
            .order_by("pk")
            .values("pk", "client_id", "kind", "label", "x", "y", "stage", "notes")
        ),
        "edges": list(
            Edge.objects.filter(map=system_map)
            .order_by("pk")
            .values("client_id", "source_id", "target_id", "label")
        ),
        "revisions": list(
            Revision.objects.filter(map=system_map).values_list("version", flat=True)
        ),
    }


# ---------------------------------------------------------------------------
# GET
# ---------------------------------------------------------------------------


def test_get_returns_the_graph_with_its_version_as_etag(alice_client, webinar_map):
    response = alice_client.get(graph_url(webinar_map))

    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    data = response.json()
    assert data["schema_version"] == 1
    assert data["name"] == "Webinar to client"
    assert {n["id"] for n in data["nodes"]} == {
        n["id"] for n in webinar_graph()["nodes"]
    }
    assert {(e["source"], e["target"], e["label"]) for e in data["edges"]} == {
        (e["source"], e["target"], e["label"]) for e in webinar_graph()["edges"]
    }


def test_member_may_read_the_graph(bob_client, webinar_map):
    assert bob_client.get(graph_url(webinar_map)).status_code == 200


def test_outsider_gets_404_on_get_and_put(charlie_client, webinar_map):
    before = snapshot(webinar_map)
    assert charlie_client.get(graph_url(webinar_map)).status_code == 404
    response = put(charlie_client, webinar_map, webinar_graph("Stolen"), version=1)
    assert response.status_code == 404
    assert snapshot(webinar_map) == before


def test_member_cannot_put(bob_client, webinar_map):
    before = snapshot(webinar_map)
    response = put(bob_client, webinar_map, webinar_graph("Mine now"), version=1)
    assert response.status_code == 403
    assert snapshot(webinar_map) == before


def test_deleted_map_is_not_served(alice_client, webinar_map):
    webinar_map.deleted_at = webinar_map.updated_at
    webinar_map.save()
    assert alice_client.get(graph_url(webinar_map)).status_code == 404


# ---------------------------------------------------------------------------
# PUT: success
# ---------------------------------------------------------------------------


def test_put_replaces_the_graph_bumps_the_version_and_returns_lint(
    alice_client, webinar_map, alice
):
    graph = webinar_graph("Webinar, revised")
    graph["nodes"] = [n for n in graph["nodes"] if n["id"] != "downsell"]
    graph["edges"] = [
        e for e in graph["edges"] if "downsell" not in (e["source"], e["target"])
    ]

    response = put(alice_client, webinar_map, graph, version=1)

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["version"] == 2
    assert response["ETag"] == '"2"'
    rules = {f["rule"] for f in data["lint"]}
    assert "decision-branches" in rules  # "Booked a consultation?" has one branch now
    webinar_map.refresh_from_db()
    assert webinar_map.version == 2
    assert webinar_map.name == "Webinar, revised"
    assert webinar_map.updated_by == alice
    assert webinar_map.lint_errors >= 1
    assert not Node.objects.filter(map=webinar_map, client_id="downsell").exists()
    assert Revision.objects.filter(map=webinar_map, version=2).exists()
    assert alice_client.get(graph_url(webinar_map)).json()["name"] == "Webinar, revised"


def test_put_keeps_the_rows_of_steps_that_stay(alice_client, webinar_map):
    pk_before = Node.objects.get(map=webinar_map, client_id="proposal").pk
    graph = webinar_graph()
    for node in graph["nodes"]:
        if node["id"] == "proposal":
            node["label"] = "Proposal sent within two days"

    assert put(alice_client, webinar_map, graph, version=1).status_code == 200

    node = Node.objects.get(map=webinar_map, client_id="proposal")
    assert node.pk == pk_before
    assert node.label == "Proposal sent within two days"


def test_if_match_accepts_a_weak_etag(alice_client, webinar_map):
    response = put(alice_client, webinar_map, webinar_graph(), **{"If-Match": 'W/"1"'})
    assert response.status_code == 200


def test_active_map_saved_with_errors_goes_back_to_draft(alice_client, webinar_map):
    webinar_map.status = "active"
    webinar_map.save()
    graph = webinar_graph()
    graph["edges"] = graph["edges"][:-1]  # "Signed?" loses its yes branch

    data = put(alice_client, webinar_map, graph, version=1).json()

    assert data["demoted"] is True
    assert data["status"] == "draft"
    webinar_map.refresh_from_db()
    assert webinar_map.status == "draft"


# ---------------------------------------------------------------------------
# PUT: refused, and nothing written
# ---------------------------------------------------------------------------


def test_stale_version_gets_412_with_the_current_graph_and_who_saved_it(
    alice_client, erin, webinar_map, client
):
    assert (
        put(alice_client, webinar_map, webinar_graph("Alice's"), version=1).status_code
        == 200
    )
    before = snapshot(webinar_map)

    client.force_login(erin)
    response = put(client, webinar_map, webinar_graph("Erin's"), version=1)

    assert response.status_code == 412
    data = response.json()
    assert data["error"] == "conflict"
    assert data["version"] == 2
    assert data["saved_by"] == "Alice Archer"
    assert data["saved_at"]
    assert data["graph"]["name"] == "Alice's"
    assert response["ETag"] == '"2"'
    assert snapshot(webinar_map) == before


def test_missing_if_match_gets_428(alice_client, webinar_map):
    before = snapshot(webinar_map)
    response = put(alice_client, webinar_map, webinar_graph("No header"))
    assert response.status_code == 428
    assert "If-Match" in response.json()["message"]
    assert snapshot(webinar_map) == before


def test_malformed_if_match_gets_400(alice_client, webinar_map):
    before = snapshot(webinar_map)
    response = put(alice_client, webinar_map, webinar_graph(), **{"If-Match": "*"})
    assert response.status_code == 400
    assert snapshot(webinar_map) == before


def test_body_over_one_megabyte_gets_413(alice_client, webinar_map):
    before = snapshot(webinar_map)
    graph = webinar_graph()
    graph["nodes"][1]["notes"] = "x" * (MAX_BYTES + 10)
    response = put(alice_client, webinar_map, graph, version=1)
    assert response.status_code == 413
    assert snapshot(webinar_map) == before


def test_bad_json_gets_400(alice_client, webinar_map):
    before = snapshot(webinar_map)
    response = put(alice_client, webinar_map, '{"nodes": [', version=1, raw=True)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert snapshot(webinar_map) == before


def test_schema_problems_get_400_listing_every_one_with_id_and_field(
    alice_client, webinar_map
):
    before = snapshot(webinar_map)
    graph = webinar_graph()
    graph["nodes"][0]["kind"] = "circle"
    graph["nodes"][1]["label"] = "x" * 201
    graph["nodes"][2]["x"] = "left"
    graph["edges"][0]["target"] = "nowhere"
    graph["edges"][1]["label"] = "y" * 61

    response = put(alice_client, webinar_map, graph, version=1)

    assert response.status_code == 400
    problems = {(p["id"], p["field"]) for p in response.json()["problems"]}
    assert problems == {
        ("start", "kind"),
        ("nurture", "label"),
        ("booked", "x"),
        ("e1", "target"),
        ("e2", "label"),
    }
    assert all(p["message"] for p in response.json()["problems"])
    assert snapshot(webinar_map) == before


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda g: g.update(schema_version=2), "schema_version"),
        (lambda g: g["nodes"].append(dict(g["nodes"][0])), "id"),
        (lambda g: g["nodes"][0].update(id="bad id!"), "id"),
        (lambda g: g["nodes"][0].update(stage="sell"), "stage"),
        (lambda g: g["nodes"][0].update(x=True), "x"),
        (lambda g: g["edges"].append(dict(g["edges"][0])), "id"),
        (lambda g: g.update(nodes="many"), "nodes"),
    ],
)
def test_each_schema_rule_is_enforced(alice_client, webinar_map, mutate, field):
    graph = webinar_graph()
    mutate(graph)
    response = put(alice_client, webinar_map, graph, version=1)
    assert response.status_code == 400
    assert field in {p["field"] for p in response.json()["problems"]}
    webinar_map.refresh_from_db()
    assert webinar_map.version == 1


@pytest.mark.parametrize("missing", [("nodes",), ("edges",), ("nodes", "edges")])
def test_a_put_without_nodes_or_edges_is_refused_and_wipes_nothing(
    alice_client, webinar_map, missing
):
    """A document without its lists is not an empty map: refused (400, naming
    each missing key) and nothing changes, the steps' checklists included."""

    step = Node.objects.get(map=webinar_map, client_id="nurture")
    ChecklistItem.objects.create(node=step, text="Write the email", position=0)
    before = snapshot(webinar_map)
    graph = webinar_graph()
    for key in missing:
        del graph[key]

    response = put(alice_client, webinar_map, graph, version=1)

    assert response.status_code == 400
    problems = response.json()["problems"]
    missing_said = {p["field"] for p in problems if "is missing" in p["message"]}
    assert missing_said == set(missing)
    assert snapshot(webinar_map) == before
    assert list(step.checklist_items.values_list("text", flat=True)) == [
        "Write the email"
    ]
    # An empty map is still a map: both lists, empty.
    empty = put(
        alice_client, webinar_map, {**graph, "nodes": [], "edges": []}, version=1
    )
    assert empty.status_code == 200


def test_too_many_nodes_or_edges_get_400(alice_client, webinar_map):
    graph = webinar_graph()
    graph["nodes"] = [
        {"id": f"n{i}", "kind": "task", "label": "x", "x": 0, "y": 0}
        for i in range(MAX_NODES + 1)
    ]
    graph["edges"] = []
    response = put(alice_client, webinar_map, graph, version=1)
    assert response.status_code == 400
    assert "at most 1000" in response.json()["problems"][0]["message"]

    graph = webinar_graph()
    graph["edges"] = [
        {"id": f"e{i}", "source": "start", "target": "nurture"}
        for i in range(MAX_EDGES + 1)
    ]
    response = put(alice_client, webinar_map, graph, version=1)
    assert response.status_code == 400
    assert "at most 2000" in response.json()["problems"][0]["message"]


def test_an_arrow_to_another_businesss_node_is_refused(
    alice_client, webinar_map, other_map
):
    foreign = Node.objects.filter(map=other_map).first()
    graph = webinar_graph()
    graph["edges"].append(
        {"id": "e99", "source": "start", "target": str(foreign.pk), "label": None}
    )
    before = snapshot(webinar_map)
    response = put(alice_client, webinar_map, graph, version=1)
    assert response.status_code == 400
    assert snapshot(webinar_map) == before


# ---------------------------------------------------------------------------
# Layout and analysis
# ---------------------------------------------------------------------------


def test_layout_returns_positions_for_every_posted_node(alice_client, webinar_map):
    url = reverse(
        "systemmaps:map-layout", kwargs={"slug": "acme", "pk": webinar_map.pk}
    )
    response = alice_client.post(
        url, json.dumps(webinar_graph()), content_type="application/json"
    )
    assert response.status_code == 200
    positions = response.json()["positions"]
    assert set(positions) == {n["id"] for n in webinar_graph()["nodes"]}
    assert (
        positions["start"]["x"] < positions["nurture"]["x"] < positions["booked"]["x"]
    )


def test_member_cannot_ask_for_a_layout(bob_client, webinar_map):
    url = reverse(
        "systemmaps:map-layout", kwargs={"slug": "acme", "pk": webinar_map.pk}
    )
    response = bob_client.post(
        url, json.dumps(webinar_graph()), content_type="application/json"
    )
    assert response.status_code == 403


def test_analysis_json(bob_client, webinar_map):
    url = reverse(
        "systemmaps:map-analysis", kwargs={"slug": "acme", "pk": webinar_map.pk}
    )
    data = bob_client.get(url).json()
    assert data["starts"] == ["start"]
    assert sorted(data["ends"]) == ["bucket", "onboard"]


# ---------------------------------------------------------------------------
# What a save writes: only what changed, in a number of queries that does not
# grow with the map
# ---------------------------------------------------------------------------


def _move_every_step(graph: dict) -> None:
    for node in graph["nodes"]:
        node["x"] += 40.0
        node["y"] += 20.0


def _change_a_few(graph: dict) -> None:
    """One label, one step and its arrows out, one step and arrow in."""
    graph["nodes"][1]["label"] = "Renamed task"
    gone = graph["nodes"].pop(2)["id"]
    graph["edges"] = [
        e for e in graph["edges"] if gone not in (e["source"], e["target"])
    ]
    graph["edges"].append(
        {"id": "bridge", "source": graph["nodes"][1]["id"], "target": "t2"}
        | {"label": None}
    )
    graph["nodes"].append(
        {"id": "extra", "kind": "task", "label": "Extra", "x": 5.0, "y": 90.0}
    )
    graph["edges"].append(
        {"id": "to-extra", "source": "start", "target": "extra", "label": None}
    )


def _unchanged(graph: dict) -> None:
    pass


CHANGES = {
    "unchanged": _unchanged,
    "every-step-moved": _move_every_step,
    "a-few-changes": _change_a_few,
}


def _changed_map(acme, alice, steps: int, change) -> tuple[SystemMap, dict]:
    """A saved `steps`-task map, and its graph with `change` made to it."""
    graph = chain_graph(f"{steps} steps", steps)
    system_map = make_map(acme, alice, graph["name"], graph=graph)
    changed = copy.deepcopy(graph)
    change(changed)
    return system_map, changed


def _assert_stored(system_map, graph: dict) -> None:
    stored = selectors.graph_of(system_map)
    assert {n["id"]: n for n in stored["nodes"]} == {
        n["id"]: {"stage": None, "notes": None, **n} for n in graph["nodes"]
    }
    assert {e["id"]: e for e in stored["edges"]} == {e["id"]: e for e in graph["edges"]}


def _save_changed(client, acme, alice, steps: int, change) -> list[dict]:
    """Save a `steps`-task map with `change` made to it; the queries it took."""
    system_map, changed = _changed_map(acme, alice, steps, change)
    with CaptureQueriesContext(connection) as queries:
        response = put(client, system_map, changed, version=system_map.version)
    assert response.status_code == 200, response.content
    _assert_stored(system_map, changed)
    return queries.captured_queries


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_save_queries_do_not_grow_with_the_map(
    alice_client, acme, alice, change, django_assert_max_num_queries
):
    small = _save_changed(alice_client, acme, alice, 5, change)
    system_map, changed = _changed_map(acme, alice, 300, change)

    with django_assert_max_num_queries(len(small)):
        response = put(alice_client, system_map, changed, version=system_map.version)

    assert response.status_code == 200
    _assert_stored(system_map, changed)


def _writes(queries: list[dict], table: str) -> list[str]:
    pattern = re.compile(
        rf'^(?:\d+ times: )?(?:INSERT INTO|UPDATE|DELETE FROM) "{table}"'
    )
    return [q["sql"] for q in queries if pattern.match(q["sql"])]


def _assigned(sql: str) -> list[str]:
    """The columns an UPDATE sets (none for another statement)."""
    if " UPDATE " not in f" {sql}":
        return []
    return re.findall(r'"(\w+)" = ', sql.split(" WHERE ")[0].split(" FROM ")[0])


def test_an_unchanged_save_writes_no_step_or_arrow(alice_client, acme, alice):
    queries = _save_changed(alice_client, acme, alice, 20, _unchanged)

    assert _writes(queries, "systemmaps_node") == []
    assert _writes(queries, "systemmaps_edge") == []
    # Still a save: a new version with its revision.
    assert len(_writes(queries, "systemmaps_revision")) == 1


def test_moving_every_step_writes_only_the_positions(alice_client, acme, alice):
    queries = _save_changed(alice_client, acme, alice, 20, _move_every_step)

    (update,) = _writes(queries, "systemmaps_node")
    assert _assigned(update) == ["x", "y"]
    assert _writes(queries, "systemmaps_edge") == []


def test_a_few_changes_write_those_rows_only(alice_client, acme, alice):
    graph = chain_graph("Few", 20)
    system_map = make_map(acme, alice, graph["name"], graph=graph)
    before = {
        "nodes": dict(
            Node.all_objects.filter(map=system_map).values_list("client_id", "pk")
        ),
        "edges": dict(
            Edge.objects.filter(map=system_map).values_list("client_id", "pk")
        ),
    }
    changed = copy.deepcopy(graph)
    _change_a_few(changed)

    with CaptureQueriesContext(connection) as queries:
        response = put(alice_client, system_map, changed, version=1)

    assert response.status_code == 200
    step_writes = _writes(queries, "systemmaps_node")
    # t1 marked deleted, t0's label, the new step.
    assert [_assigned(sql) for sql in step_writes] == [["deleted_at"], ["label"], []]
    assert step_writes[2].startswith('INSERT INTO "systemmaps_node"')
    arrow_writes = _writes(queries, "systemmaps_edge")
    assert [sql.split(" ")[0] for sql in arrow_writes] == ["DELETE", "INSERT"]
    nodes = {n.client_id: n for n in Node.all_objects.filter(map=system_map)}
    assert {k: n.pk for k, n in nodes.items() if k != "extra"} == before["nodes"]
    assert nodes["t1"].deleted_at is not None
    assert nodes["t0"].label == "Renamed task"
    edges = dict(Edge.objects.filter(map=system_map).values_list("client_id", "pk"))
    kept = {k: v for k, v in before["edges"].items() if k not in ("e1", "e2")}
    assert {k: v for k, v in edges.items() if k in before["edges"]} == kept
    assert set(edges) - set(before["edges"]) == {"bridge", "to-extra"}
