"""The write services of system maps, called directly, and the overview's selector."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from systemmaps import document, selectors, services
from systemmaps.graph import lint
from systemmaps.models import (
    Automation,
    ChecklistItem,
    ChecklistRun,
    Edge,
    MapStatus,
    Node,
    Revision,
    StepFlag,
    SystemMap,
)

from .factories import graph_with_errors, make_map, webinar_graph
from .utils import maps_snapshot


def without_name(graph: dict) -> dict:
    return {key: value for key, value in graph.items() if key != "name"}


def save(system_map, graph, user, *, expected_version=None, note=""):
    return services.map_save_graph(
        system_map=system_map,
        graph=graph,
        acting_user=user,
        expected_version=expected_version,
        note=note,
    )


def update(system_map, user, **changes):
    fields = {
        "name": system_map.name,
        "description": system_map.description,
        "half": system_map.half,
        "stages": system_map.stages,
        "product": system_map.product,
        "status": system_map.status,
        **changes,
    }
    return services.map_update(system_map=system_map, acting_user=user, **fields)


# ---------------------------------------------------------------------------
# Create
# ---------------------------------------------------------------------------


def test_map_create_starts_at_version_one_with_one_revision(acme, alice):
    system_map = make_map(acme, alice, "Webinar to client", stages=["try", "like"])

    system_map.refresh_from_db()
    assert system_map.version == 1
    assert system_map.stages == ["like", "try"]  # hourglass order
    assert system_map.created_by == alice
    assert system_map.updated_by == alice
    revision = Revision.objects.get(map=system_map)
    assert revision.version == 1
    assert revision.created_by == alice
    assert revision.graph == webinar_graph("Webinar to client")
    assert selectors.graph_of(system_map) == webinar_graph("Webinar to client")


def test_map_create_stores_the_lint_counts(acme, alice):
    graph = graph_with_errors()
    findings = lint(graph["nodes"], graph["edges"])

    broken = make_map(acme, alice, "Broken", graph=graph)
    clean = make_map(acme, alice, "Clean")

    assert broken.lint_errors == sum(f.severity == "error" for f in findings) == 2
    assert broken.lint_warnings == 0
    assert (clean.lint_errors, clean.lint_warnings) == (0, 0)


def test_map_create_without_a_graph_is_an_empty_map(acme, alice):
    system_map = services.map_create(
        business=acme,
        acting_user=alice,
        name="Empty",
        half="operations",
        stages=["buy"],
    )

    assert system_map.nodes.count() == 0
    assert Revision.objects.get(map=system_map).graph["nodes"] == []
    # An empty map has neither start nor stop.
    assert system_map.lint_errors == 2


# ---------------------------------------------------------------------------
# Save the graph
# ---------------------------------------------------------------------------


def test_stale_expected_version_raises_and_writes_nothing(webinar_map, alice, erin):
    save(webinar_map, webinar_graph("Alice's"), alice, expected_version=1)
    before = maps_snapshot()

    with pytest.raises(services.VersionConflict) as conflict:
        save(webinar_map, webinar_graph("Erin's"), erin, expected_version=1)

    assert conflict.value.system_map.version == 2
    assert conflict.value.system_map.name == "Alice's"
    assert maps_snapshot() == before


def test_save_with_the_current_version_bumps_it(webinar_map, alice):
    result = save(webinar_map, webinar_graph("Renamed"), alice, expected_version=1)

    webinar_map.refresh_from_db()
    assert result.system_map.version == webinar_map.version == 2
    assert webinar_map.name == "Renamed"


def test_save_updates_kept_steps_and_arrows_in_place_and_deletes_removed_ones(
    webinar_map, alice
):
    pks = dict(Node.objects.filter(map=webinar_map).values_list("client_id", "pk"))
    edge_pks = dict(Edge.objects.filter(map=webinar_map).values_list("client_id", "pk"))
    graph = webinar_graph()
    graph["nodes"] = [
        n for n in graph["nodes"] if n["id"] not in ("downsell", "bucket")
    ]
    for node in graph["nodes"]:
        if node["id"] == "proposal":
            node["label"] = "Quote sent"
    graph["nodes"].append(
        {"id": "kickoff", "kind": "task", "label": "Kick-off call", "x": 9.0, "y": 9.0}
    )
    graph["edges"] = [e for e in graph["edges"] if e["id"] not in ("e3", "e4", "e9")]
    graph["edges"] += [
        {"id": "e3", "source": "booked", "target": "nurture", "label": "no"},
        {"id": "e9", "source": "signed", "target": "kickoff", "label": "yes"},
        {"id": "e10", "source": "kickoff", "target": "onboard", "label": None},
    ]

    save(webinar_map, graph, alice)

    nodes = {n.client_id: n for n in Node.objects.filter(map=webinar_map)}
    assert set(nodes) == set(pks) - {"downsell", "bucket"} | {"kickoff"}
    for client_id, node in nodes.items():
        if client_id != "kickoff":
            assert node.pk == pks[client_id], client_id
    assert nodes["proposal"].label == "Quote sent"
    assert nodes["kickoff"].pk not in pks.values()
    edges = Edge.objects.filter(map=webinar_map)
    assert {(e.client_id, e.source.client_id, e.target.client_id) for e in edges} == {
        (e["id"], e["source"], e["target"]) for e in graph["edges"]
    }
    # An arrow keeps its row by id, even when its ends or label change (e3, e9);
    # the one left out (e4) is gone, the new one (e10) has a row of its own.
    kept = {e.client_id: e.pk for e in edges if e.client_id != "e10"}
    assert kept == {k: v for k, v in edge_pks.items() if k != "e4"}
    assert edges.get(client_id="e10").pk not in edge_pks.values()
    assert not Edge.objects.filter(pk=edge_pks["e4"]).exists()
    assert edges.get(client_id="e3").label == "no"
    assert selectors.graph_of(webinar_map)["nodes"][-1]["label"] == "Kick-off call"


def _edge_to_a_missing_step(graph: dict) -> None:
    graph["edges"].append(
        {"id": "e99", "source": "call", "target": "ghost", "label": None}
    )


def _two_arrows_with_one_id(graph: dict) -> None:
    graph["edges"].append({**graph["edges"][0], "id": "e2"})


@pytest.mark.parametrize(
    ("break_graph", "error"),
    [(_edge_to_a_missing_step, KeyError), (_two_arrows_with_one_id, IntegrityError)],
    ids=["arrow-to-missing-step", "arrow-id-twice"],
)
def test_a_save_that_fails_halfway_leaves_the_map_as_it_was(
    webinar_map, alice, break_graph, error
):
    save(webinar_map, webinar_graph("Second"), alice)
    before = maps_snapshot()
    # Services trust their input: this graph skipped validation. Steps are
    # removed, changed and added before the arrows fail to be written.
    graph = webinar_graph("Third")
    graph["nodes"] = [n for n in graph["nodes"] if n["id"] != "bucket"]
    graph["nodes"][0]["label"] = "Changed"
    graph["nodes"].append({"id": "new", "kind": "task", "label": "New", "x": 0, "y": 0})
    graph["edges"] = [e for e in graph["edges"] if e["target"] != "bucket"]
    break_graph(graph)

    with pytest.raises(error):
        save(webinar_map, graph, alice, expected_version=2)

    assert maps_snapshot() == before
    webinar_map.refresh_from_db()
    assert webinar_map.version == 2
    assert webinar_map.name == "Second"


def test_each_save_stores_a_revision_of_who_when_which_version_and_the_graph(
    webinar_map, alice, erin
):
    graph = graph_with_errors("Second")

    result = save(webinar_map, graph, erin, note="Cut the yes branch")

    revision = Revision.objects.get(map=webinar_map, version=2)
    assert revision.created_by == erin
    assert revision.note == "Cut the yes branch"
    assert revision.graph == graph
    assert revision.created_at == result.system_map.updated_at
    webinar_map.refresh_from_db()
    assert webinar_map.updated_by == erin
    assert webinar_map.lint_errors == 2
    assert list(
        Revision.objects.filter(map=webinar_map).values_list("version", flat=True)
    ) == [2, 1]


# ---------------------------------------------------------------------------
# Revisions
# ---------------------------------------------------------------------------


def test_revision_restore_saves_the_old_graph_as_a_new_version(webinar_map, alice):
    second = webinar_graph()
    second["nodes"][6]["label"] = "Quote sent"
    save(webinar_map, second, alice)
    save(webinar_map, graph_with_errors(), alice)
    first = Revision.objects.get(map=webinar_map, version=1)

    result = services.revision_restore(
        system_map=webinar_map, revision=first, acting_user=alice
    )

    assert result.system_map.version == 4
    assert selectors.graph_of(result.system_map) == first.graph
    assert result.system_map.lint_errors == 0
    assert list(
        Revision.objects.filter(map=webinar_map).values_list("version", flat=True)
    ) == [4, 3, 2, 1]
    restored = Revision.objects.get(map=webinar_map, version=4)
    assert restored.graph == first.graph
    assert restored.note == "Restored version 1"
    # The versions in between are untouched.
    assert Revision.objects.get(map=webinar_map, version=2).graph == second


# ---------------------------------------------------------------------------
# Duplicate
# ---------------------------------------------------------------------------


def test_map_duplicate_copies_steps_and_arrows_into_a_new_map(webinar_map, erin):
    save(webinar_map, graph_with_errors(), erin)
    webinar_map.refresh_from_db()
    before = maps_snapshot()
    original_graph = selectors.graph_of(webinar_map)

    copy = services.map_duplicate(system_map=webinar_map, acting_user=erin)

    assert copy.pk != webinar_map.pk
    assert copy.name == "Copy of Webinar to client"
    assert (copy.half, copy.stages, copy.business) == (
        webinar_map.half,
        webinar_map.stages,
        webinar_map.business,
    )
    assert copy.version == 1
    assert (copy.lint_errors, copy.lint_warnings) == (2, 0)
    assert copy.created_by == erin
    assert without_name(selectors.graph_of(copy)) == without_name(original_graph)
    original_node_pks = {
        pk for pk in Node.objects.filter(map=webinar_map).values_list("pk", flat=True)
    }
    assert not original_node_pks & set(
        Node.objects.filter(map=copy).values_list("pk", flat=True)
    )
    assert Revision.objects.filter(map=copy).count() == 1
    # The original is untouched: its rows are exactly what they were.
    after = maps_snapshot()
    assert [m for m in after["maps"] if m["pk"] != copy.pk] == before["maps"]
    assert [n for n in after["nodes"] if n["map_id"] != copy.pk] == before["nodes"]
    assert [e for e in after["edges"] if e["map_id"] != copy.pk] == before["edges"]
    assert [r for r in after["revisions"] if r["map_id"] != copy.pk] == before[
        "revisions"
    ]


STEP_COLUMNS = (
    "client_id",
    "owner_id",
    "critical",
    "automation",
    "automation_tool",
    "minutes_per_run",
    "runs_per_month",
    "hourly_cost",
    "sop_why",
    "sop_reviewed_on",
)


def steps_table(system_map) -> list[dict]:
    return list(
        Node.objects.filter(map=system_map).order_by("client_id").values(*STEP_COLUMNS)
    )


def checklists(system_map) -> dict[str, list[str]]:
    items = ChecklistItem.objects.filter(node__map=system_map).order_by(
        "node__client_id", "position"
    )
    found: dict[str, list[str]] = {}
    for client_id, text in items.values_list("node__client_id", "text"):
        found.setdefault(client_id, []).append(text)
    return found


def give_details(system_map, user, owner) -> None:
    """Owners, costs, an SOP with a checklist, a run and a flag on the webinar map."""
    call = Node.objects.get(map=system_map, client_id="call")
    services.step_update(
        node=call,
        owner=owner,
        critical=True,
        automation=Automation.COULD,
        automation_tool="Calendly",
        minutes_per_run=Decimal("45"),
        runs_per_month=Decimal("12.5"),
        hourly_cost=Decimal("80.25"),
    )
    services.sop_update(
        node=call, why="First impressions sell.", reviewed_on=date(2024, 5, 2)
    )
    for text in ("Read the lead's answers", "Send the agenda", "Book the call"):
        services.checklist_item_add(node=call, text=text)
    services.checklist_item_move(
        item=ChecklistItem.objects.get(node=call, text="Book the call"), offset=-1
    )
    signed = Node.objects.get(map=system_map, client_id="signed")
    services.step_update(node=signed, automation=Automation.AUTOMATED)
    services.checklist_item_add(node=signed, text="Countersign")
    run = services.run_start(node=call, acting_user=user, subject="ACME Ltd")
    services.run_tick(
        run=run, item=call.checklist_items.first(), ticked=True, acting_user=user
    )
    services.flag_add(node=call, acting_user=user, text="The agenda template is old.")


def test_map_duplicate_copies_owners_costs_sops_and_checklists(
    webinar_map, alice, erin, acme
):
    give_details(webinar_map, alice, erin.memberships.get(business=acme))

    copy = services.map_duplicate(system_map=webinar_map, acting_user=erin)

    original = steps_table(webinar_map)
    copied = steps_table(copy)
    assert copied == original
    call = next(row for row in copied if row["client_id"] == "call")
    assert call["owner_id"] == erin.memberships.get(business=acme).pk
    assert (call["critical"], call["automation"]) == (True, "could")
    assert call["hourly_cost"] == Decimal("80.25")
    assert call["sop_reviewed_on"] == date(2024, 5, 2)
    assert (
        checklists(copy)
        == checklists(webinar_map)
        == {
            "call": ["Read the lead's answers", "Book the call", "Send the agenda"],
            "signed": ["Countersign"],
        }
    )
    # Runs and flagged problems happened in the original, not in the copy.
    assert not ChecklistRun.objects.filter(node__map=copy).exists()
    assert not StepFlag.objects.filter(node__map=copy).exists()
    assert ChecklistRun.objects.filter(node__map=webinar_map).count() == 1


def test_map_duplicate_queries_do_not_grow_with_steps(acme, alice, erin):
    owner = erin.memberships.get(business=acme)

    def map_with(count: int):
        graph = {
            "schema_version": 1,
            "name": f"{count} steps",
            "nodes": [
                {"id": f"n{i}", "kind": "task", "label": f"Step {i}"}
                | {"x": 200.0 * i, "y": 0.0, "stage": None, "notes": None}
                for i in range(count)
            ],
            "edges": [],
        }
        system_map = make_map(acme, alice, graph["name"], graph=graph)
        Node.objects.filter(map=system_map).update(
            owner=owner, critical=True, minutes_per_run=5
        )
        ChecklistItem.objects.bulk_create(
            ChecklistItem(node=node, text="Do it", position=0)
            for node in system_map.nodes.all()
        )
        return system_map

    def counted(system_map) -> tuple[int, SystemMap]:
        with CaptureQueriesContext(connection) as queries:
            copy = services.map_duplicate(system_map=system_map, acting_user=alice)
        # SQLite takes map_create's insert of the steps in batches of a few
        # hundred values: those are the drawing's, not the details'.
        drawing = [
            q for q in queries if q["sql"].startswith('INSERT INTO "systemmaps_node"')
        ]
        return len(queries) - len(drawing), copy

    small_count, _copy = counted(map_with(5))
    large_count, copy = counted(map_with(200))
    assert large_count == small_count
    assert Node.objects.filter(map=copy, owner=owner, critical=True).count() == 200
    assert ChecklistItem.objects.filter(node__map=copy).count() == 200


def test_steps_restore_skips_termini_and_unknown_ids(webinar_map, acme, alice):
    owner = alice.memberships.get(business=acme)
    before = steps_table(webinar_map)

    services.steps_restore(
        system_map=webinar_map,
        steps={
            "start": {"owner_id": owner.pk, "critical": True, "checklist": ["x"]},
            "ghost": {"owner_id": owner.pk, "checklist": ["y"]},
        },
    )

    assert steps_table(webinar_map) == before
    assert not ChecklistItem.objects.exists()


def test_map_import_writes_the_drawing_and_the_steps_in_one_transaction(acme, alice):
    # A value the database refuses (critical may not be NULL) fails the steps'
    # write after the drawing is written: neither is kept.
    steps = {"call": {"critical": None, "checklist": ["Send the agenda"]}}

    with pytest.raises(IntegrityError):
        services.map_import(
            business=acme,
            acting_user=alice,
            name="Imported",
            half="marketing",
            stages=["try"],
            graph=webinar_graph("Imported"),
            steps=steps,
        )

    assert not SystemMap.objects.exists()
    assert not Node.objects.exists()
    assert not Revision.objects.exists()


# ---------------------------------------------------------------------------
# Update: status and name
# ---------------------------------------------------------------------------


def test_map_update_refuses_active_while_the_map_has_errors(acme, alice):
    broken = make_map(acme, alice, "Broken", graph=graph_with_errors("Broken"))
    before = maps_snapshot()

    with pytest.raises(services.MapNotReady) as refused:
        update(broken, alice, status=MapStatus.ACTIVE, product="Changed")

    assert "2 lint error(s)" in str(refused.value)
    assert maps_snapshot() == before


def test_map_update_makes_a_clean_map_active_without_a_new_version(webinar_map, erin):
    update(webinar_map, erin, status=MapStatus.ACTIVE, description="  Runs monthly ")

    webinar_map.refresh_from_db()
    assert webinar_map.status == MapStatus.ACTIVE
    assert webinar_map.description == "Runs monthly"
    assert webinar_map.updated_by == erin
    assert webinar_map.version == 1
    assert Revision.objects.filter(map=webinar_map).count() == 1


def test_map_update_may_keep_a_map_with_errors_as_a_draft(acme, alice):
    broken = make_map(acme, alice, "Broken", graph=graph_with_errors("Broken"))

    update(broken, alice, stages=["buy", "know"], status=MapStatus.DRAFT)

    broken.refresh_from_db()
    assert broken.stages == ["know", "buy"]


def test_renaming_a_map_bumps_the_version_and_records_a_revision(webinar_map, erin):
    update(webinar_map, erin, name=" Webinar funnel ")

    webinar_map.refresh_from_db()
    assert webinar_map.name == "Webinar funnel"
    assert webinar_map.version == 2
    revision = Revision.objects.get(map=webinar_map, version=2)
    assert revision.note == "Renamed"
    assert revision.created_by == erin
    assert revision.graph == webinar_graph("Webinar funnel")


# ---------------------------------------------------------------------------
# Delete, restore, purge
# ---------------------------------------------------------------------------


def test_soft_delete_hides_the_map_but_keeps_its_rows(webinar_map, erin):
    services.map_delete(system_map=webinar_map, acting_user=erin)

    assert not SystemMap.objects.alive().filter(pk=webinar_map.pk).exists()
    assert SystemMap.objects.in_trash().filter(pk=webinar_map.pk).exists()
    webinar_map.refresh_from_db()
    assert webinar_map.deleted_by == erin
    assert webinar_map.nodes.count() == 9
    assert webinar_map.revisions.count() == 1


def test_map_restore_brings_a_deleted_map_back(webinar_map, erin):
    services.map_delete(system_map=webinar_map, acting_user=erin)

    services.map_restore(system_map=webinar_map)

    assert SystemMap.objects.alive().filter(pk=webinar_map.pk).exists()
    assert not SystemMap.objects.in_trash().filter(pk=webinar_map.pk).exists()
    webinar_map.refresh_from_db()
    assert (webinar_map.deleted_at, webinar_map.deleted_by) == (None, None)


def test_purge_deletes_only_maps_deleted_more_than_30_days_ago(acme, alice, other_map):
    now = timezone.now()
    old = make_map(acme, alice, "Old")
    older = make_map(acme, alice, "Older")
    recent = make_map(acme, alice, "Recent")
    alive = make_map(acme, alice, "Alive")
    SystemMap.objects.filter(pk=old.pk).update(deleted_at=now - timedelta(days=31))
    SystemMap.objects.filter(pk=older.pk).update(deleted_at=now - timedelta(days=90))
    SystemMap.objects.filter(pk=recent.pk).update(deleted_at=now - timedelta(days=29))
    other_map.deleted_at = now - timedelta(days=45)
    other_map.save()

    purged = services.maps_purge_deleted()

    assert purged == 3
    assert set(SystemMap.objects.values_list("pk", flat=True)) == {recent.pk, alive.pk}
    assert not Node.objects.filter(map_id__in=[old.pk, older.pk]).exists()
    assert not Edge.objects.filter(map_id__in=[old.pk, older.pk]).exists()
    assert not Revision.objects.filter(map_id__in=[old.pk, older.pk]).exists()
    assert Node.objects.filter(map=recent).count() == 9


def test_purge_with_nothing_old_enough_returns_zero(webinar_map):
    assert services.maps_purge_deleted() == 0
    assert SystemMap.objects.filter(pk=webinar_map.pk).exists()


# ---------------------------------------------------------------------------
# The overview's selector
# ---------------------------------------------------------------------------


def test_maps_by_stage_lists_each_map_under_every_stage_it_spans(
    acme, alice, other_map
):
    webinar = make_map(acme, alice, "Webinar", stages=["like", "try"])
    onboarding = make_map(acme, alice, "Onboarding", half="operations", stages=["buy"])
    gone = make_map(acme, alice, "Gone", stages=["try"])
    services.map_delete(system_map=gone, acting_user=alice)

    by_stage = selectors.maps_by_stage(acme)

    assert list(by_stage) == ["know", "like", "trust", "try", "buy", "repeat", "refer"]
    assert {stage: [m.pk for m in maps] for stage, maps in by_stage.items()} == {
        "know": [],
        "like": [webinar.pk],
        "trust": [],
        "try": [webinar.pk],
        "buy": [onboarding.pk],
        "repeat": [],
        "refer": [],
    }


@pytest.mark.parametrize("count", [2, 30])
def test_maps_by_stage_is_one_query_however_many_maps(
    acme, alice, django_assert_num_queries, count
):
    for i in range(count):
        make_map(
            acme,
            alice,
            f"Map {i}",
            graph=document.empty_graph(),
            stages=["know", "buy"],
        )

    with django_assert_num_queries(1):
        by_stage = selectors.maps_by_stage(acme)
        # What the overview shows of each map.
        shown = [
            (m.name, m.get_status_display(), m.lint_errors, m.get_absolute_url())
            for maps in by_stage.values()
            for m in maps
        ]

    assert len(shown) == 2 * count
