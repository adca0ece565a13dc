"""A save that leaves a step out only marks it deleted; a later save with its id
again (a revision restore, the editor's undo, a re-import of the same ids)
brings back the same row with everything that hung on it (issue 14). The
metrics and meeting issues of such a step: metrics/tests/test_restore_steps.py.
"""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from hourglass import archive
from hourglass.tests.utils import get_drawn
from systemmaps import portability, selectors, services
from systemmaps.models import (
    TRASH_DAYS,
    ChecklistItem,
    ChecklistRun,
    Node,
    Revision,
    RunTick,
    StepFlag,
)

from .factories import chain_graph, make_map, webinar_graph, without_steps
from .utils import membership, step, step_url

WORDS = (
    "Consultation call",
    "Dial the client",
    "Book the room",
    "For Jane Roe",
    "The line drops",
    "Phone app",
)


@pytest.fixture
def call(webinar_map, acme, alice, bob) -> Node:
    """“Consultation call” with everything a step can carry: bob as owner,
    critical, automation and costs, an SOP, two checklist items, a finished run
    with a tick and an open one, an open flag."""
    node = step(webinar_map, "call")
    services.step_update(
        node=node,
        owner=membership(bob, acme),
        critical=True,
        automation="could",
        automation_tool="Phone app",
        minutes_per_run=Decimal("45"),
        runs_per_month=Decimal("12"),
        hourly_cost=Decimal("60"),
    )
    services.sop_update(
        node=node, why="Clients decide here.", reviewed_on=timezone.localdate()
    )
    dial = services.checklist_item_add(node=node, text="Dial the client")
    services.checklist_item_add(node=node, text="Book the room")
    run = services.run_start(node=node, acting_user=bob, subject="For Jane Roe")
    services.run_tick(run=run, item=dial, acting_user=bob, ticked=True)
    services.run_finish(run=run)
    services.run_start(node=node, acting_user=alice, subject="For John Doe")
    services.flag_add(node=node, acting_user=bob, text="The line drops")
    return Node.objects.get(pk=node.pk)


def details(node_pk: int) -> dict:
    """Everything stored on and under one step, whether it is deleted or not."""
    return {
        "step": Node.all_objects.filter(pk=node_pk)
        .values(
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
        .get(),
        "items": list(
            ChecklistItem.objects.filter(node_id=node_pk)
            .order_by("pk")
            .values("pk", "position", "text")
        ),
        "runs": list(
            ChecklistRun.objects.filter(node_id=node_pk)
            .order_by("pk")
            .values("pk", "subject", "started_by_id", "finished_at", "ticked_count")
        ),
        "ticks": list(
            RunTick.objects.filter(run__node_id=node_pk)
            .order_by("pk")
            .values("pk", "item_id", "item_text", "ticked_by_id")
        ),
        "flags": list(
            StepFlag.objects.filter(node_id=node_pk)
            .order_by("pk")
            .values("pk", "text", "resolved_at")
        ),
    }


def save(system_map, graph, user, note=""):
    system_map.refresh_from_db()
    return services.map_save_graph(
        system_map=system_map,
        graph=graph,
        acting_user=user,
        expected_version=system_map.version,
        note=note,
    )


def pages(system_map) -> list[str]:
    """Every page and file of the map and of its business that names steps."""
    slug = system_map.business.slug
    on_map = {"slug": slug, "pk": system_map.pk}
    return [
        reverse("systemmaps:map-detail", kwargs=on_map),
        reverse("systemmaps:map-edit", kwargs=on_map),
        reverse("systemmaps:map-outline", kwargs=on_map),
        reverse("systemmaps:map-walk", kwargs=on_map)
        + "?path=start,nurture,booked,call",
        reverse("systemmaps:map-gaps", kwargs=on_map),
        reverse("systemmaps:map-graph", kwargs=on_map),
        reverse("systemmaps:map-export", kwargs={**on_map, "fmt": "json"}),
        reverse("systemmaps:map-export", kwargs={**on_map, "fmt": "mmd"}),
        reverse("systemmaps:map-export", kwargs={**on_map, "fmt": "svg"}),
        reverse("systemmaps:my-steps", kwargs={"slug": slug}),
        reverse("systemmaps:gaps", kwargs={"slug": slug}),
        reverse("hourglass:team", kwargs={"slug": slug}),
        reverse("metrics:metric-create", kwargs={"slug": slug}),
    ]


def words_shown(client, urls) -> dict[str, set[str]]:
    shown = {}
    for url in urls:
        # A walk along a path that is no more starts again from the start; a
        # drawing (the map page, an SVG) as the worker draws it.
        response = get_drawn(client, url, follow=True)
        assert response.status_code == 200, url
        text = response.content.decode()
        shown[url] = {word for word in WORDS if word in text}
    return shown


def archive_rows(business) -> str:
    """The systemmaps part of the business archive, as one text."""
    return "\n".join(
        body.decode("utf-8") for body in portability.export_part(business).values()
    )


# ---------------------------------------------------------------------------
# Deleted by a save: gone from every page, kept underneath
# ---------------------------------------------------------------------------


def test_a_save_without_a_step_hides_it_from_every_page_and_file(
    client_for, alice, bob, webinar_map, call
):
    urls = pages(webinar_map)
    before = words_shown(client_for(alice), urls)
    assert all(before.values()), before
    # bob owns the step: his page lists it, its checklist and its open run.
    assert "Consultation call" in before[urls[0]]
    assert {"Consultation call", "Dial the client"} <= words_shown(
        client_for(bob), [urls[9]]
    )[urls[9]]

    save(webinar_map, without_steps(webinar_graph(), "call"), alice)

    assert words_shown(client_for(alice), urls) == {url: set() for url in urls}
    assert words_shown(client_for(bob), [urls[9]]) == {urls[9]: set()}
    assert client_for(alice).get(step_url(call)).status_code == 404
    run = ChecklistRun.objects.get(node=call, finished_at__isnull=True)
    run_url = reverse(
        "systemmaps:run-detail",
        kwargs={"slug": webinar_map.business.slug, "run": run.pk},
    )
    assert client_for(alice).get(run_url).status_code == 404
    assert not any(word in archive_rows(webinar_map.business) for word in WORDS)


def test_a_save_without_a_step_keeps_its_row_and_details(alice, webinar_map, call):
    kept = details(call.pk)
    assert annual_cost_of(webinar_map) == Decimal("6480.00")

    save(webinar_map, without_steps(webinar_graph(), "call"), alice)

    # Its cost counts no more.
    assert annual_cost_of(webinar_map) == 0
    assert selectors.cost_totals(webinar_map.business).business.amount == 0
    assert not Node.objects.filter(pk=call.pk).exists()
    assert Node.all_objects.get(pk=call.pk).deleted_at is not None
    assert details(call.pk) == kept


# ---------------------------------------------------------------------------
# Brought back by a later save
# ---------------------------------------------------------------------------


def test_restoring_the_old_revision_brings_back_every_detail(
    client_for, alice, bob, webinar_map, call
):
    kept = details(call.pk)
    save(webinar_map, without_steps(webinar_graph(), "call"), alice)
    old = Revision.objects.get(map=webinar_map, version=1)

    services.revision_restore(system_map=webinar_map, revision=old, acting_user=alice)

    back = Node.objects.get(map=webinar_map, client_id="call")
    assert back.pk == call.pk
    assert details(back.pk) == kept
    response = client_for(bob).get(step_url(back))
    assert response.status_code == 200
    text = response.content.decode()
    assert all(word in text for word in WORDS)
    assert annual_cost_of(webinar_map) == Decimal("6480.00")


def annual_cost_of(system_map) -> Decimal:
    return selectors.map_cost_total(system_map).amount


def test_an_undo_in_the_editor_brings_them_back(alice_client, alice, webinar_map, call):
    kept = details(call.pk)
    url = reverse(
        "systemmaps:map-graph",
        kwargs={"slug": webinar_map.business.slug, "pk": webinar_map.pk},
    )

    def put(graph, version):
        return alice_client.put(
            url,
            json.dumps(graph),
            content_type="application/json",
            headers={"If-Match": f'"{version}"'},
        )

    assert put(without_steps(webinar_graph(), "call"), 1).status_code == 200
    assert put(webinar_graph(), 2).status_code == 200

    assert Node.objects.get(map=webinar_map, client_id="call").pk == call.pk
    assert details(call.pk) == kept
    assert Node.all_objects.filter(map=webinar_map).count() == len(
        webinar_graph()["nodes"]
    )


def test_a_step_deleted_twice_comes_back_twice(alice, webinar_map, call):
    kept = details(call.pk)
    for _ in range(2):
        save(webinar_map, without_steps(webinar_graph(), "call"), alice)
        save(webinar_map, webinar_graph(), alice)

    assert details(call.pk) == kept
    assert not Node.all_objects.filter(deleted_at__isnull=False).exists()


def test_a_returning_step_takes_the_drawing_of_the_save(alice, webinar_map, call):
    save(webinar_map, without_steps(webinar_graph(), "call"), alice)
    graph = webinar_graph()
    for node in graph["nodes"]:
        if node["id"] == "call":
            node.update(label="Discovery call", x=999.0, stage="try")

    save(webinar_map, graph, alice)

    back = Node.objects.get(pk=call.pk)
    assert (back.label, back.x, back.stage, back.critical) == (
        "Discovery call",
        999.0,
        "try",
        True,
    )


# ---------------------------------------------------------------------------
# Copies and exports carry only the steps in the map
# ---------------------------------------------------------------------------


def test_a_duplicate_and_the_files_carry_no_deleted_step(alice, webinar_map, call):
    save(webinar_map, without_steps(webinar_graph(), "call"), alice)

    copy = services.map_duplicate(system_map=webinar_map, acting_user=alice)

    assert not Node.all_objects.filter(map=copy, client_id="call").exists()
    assert not ChecklistItem.objects.filter(node__map=copy).exists()
    exported = portability.export_part(webinar_map.business)
    files = [name for name in exported if name.startswith("maps/")]
    assert files
    assert not any(word in archive_rows(webinar_map.business) for word in WORDS)


def test_an_archive_of_a_map_with_a_deleted_step_imports(
    alice, acme, webinar_map, call
):
    save(webinar_map, without_steps(webinar_graph(), "call"), alice)

    new, _warnings = archive.business_import(
        raw=archive.archive_export(acme), acting_user=alice
    )

    assert not Node.all_objects.filter(map__business=new, client_id="call").exists()
    assert Node.objects.filter(map__business=new, client_id="proposal").exists()


# ---------------------------------------------------------------------------
# The purge
# ---------------------------------------------------------------------------


def test_the_purge_deletes_steps_deleted_over_trash_days_ago(alice, webinar_map, call):
    save(webinar_map, without_steps(webinar_graph(), "call"), alice)
    nurture = step(webinar_map, "nurture")
    save(webinar_map, without_steps(webinar_graph(), "call", "nurture"), alice)
    Node.all_objects.filter(pk=call.pk).update(
        deleted_at=timezone.now() - timedelta(days=TRASH_DAYS, minutes=1)
    )

    services.maps_purge_deleted()

    assert not Node.all_objects.filter(pk=call.pk).exists()
    assert not ChecklistItem.objects.filter(node_id=call.pk).exists()
    assert not ChecklistRun.objects.filter(node_id=call.pk).exists()
    assert not StepFlag.objects.filter(node_id=call.pk).exists()
    # Deleted since less long: still there to come back.
    assert Node.all_objects.get(pk=nurture.pk).deleted_at is not None

    save(webinar_map, webinar_graph(), alice)
    new_call = Node.objects.get(map=webinar_map, client_id="call")
    assert new_call.pk != call.pk
    assert (new_call.owner_id, new_call.critical) == (None, False)
    assert Node.objects.get(map=webinar_map, client_id="nurture").pk == nurture.pk


# ---------------------------------------------------------------------------
# Query counts
# ---------------------------------------------------------------------------


def _chain_without(graph: dict, every: int) -> dict:
    graph = json.loads(json.dumps(graph))
    kept = [n for i, n in enumerate(graph["nodes"]) if i % every or n["kind"] != "task"]
    ids = [n["id"] for n in kept]
    graph["nodes"] = kept
    graph["edges"] = [
        {"id": f"e{i}", "source": a, "target": b, "label": None}
        for i, (a, b) in enumerate(zip(ids, ids[1:], strict=False))
    ]
    return graph


@pytest.mark.parametrize("back", [False, True])
def test_the_queries_of_a_save_stay_flat_from_5_to_150_steps(acme, alice, back):
    """A save that deletes a third of the steps, or brings them back, costs the
    same number of queries on a small map as on a large one (up to 150 steps:
    SQLite takes 999 parameters a query, so more arrows are two inserts)."""
    counts = []
    for size in (5, 150):
        graph = chain_graph(f"Chain {size}", size)
        system_map = make_map(acme, alice, f"Chain {size}", graph=graph)
        if back:
            save(system_map, _chain_without(graph, 3), alice)
            target = graph
        else:
            target = _chain_without(graph, 3)
        with CaptureQueriesContext(connection) as queries:
            save(system_map, target, alice)
        counts.append(len(queries))
        alive = Node.objects.filter(map=system_map).count()
        assert alive == len(target["nodes"])

    assert counts[0] == counts[1]


def test_the_map_page_queries_stay_flat_with_deleted_steps(
    client_for, acme, alice, django_assert_max_num_queries
):
    client = client_for(alice)
    small = make_map(acme, alice, "Small", graph=chain_graph("Small", 5))
    large_graph = chain_graph("Large", 200)
    large = make_map(acme, alice, "Large", graph=large_graph)
    save(large, _chain_without(large_graph, 2), alice)

    def url(system_map):
        return reverse(
            "systemmaps:map-detail",
            kwargs={"slug": acme.slug, "pk": system_map.pk},
        )

    client.get(url(small))  # the session settles
    with CaptureQueriesContext(connection) as few:
        client.get(url(small))
    with django_assert_max_num_queries(len(few)):
        response = client.get(url(large))

    assert response.status_code == 200
    assert "Task 1<" not in response.content.decode()
