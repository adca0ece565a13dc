"""Concurrency and faults in the graph save.

Two people saving one map from the same version: exactly one save wins, the other
gets 412 with the winner's graph, and the stored graph is the winner's. The race
is made real, not hoped for: a third connection holds the map's row lock until the
database shows every save waiting on it, then lets go.

A save that fails halfway (a bad row after some rows are written) leaves nothing:
the graph, its version and its revisions are as before.

The races need PostgreSQL (row locks, one connection per thread); CI runs the suite
on it through DATABASE_URL. On SQLite they are skipped.
"""

import threading
import time

import pytest
from django.db import DataError, IntegrityError, connection, connections, transaction
from django.test import Client
from django.urls import reverse

from systemmaps import selectors, services
from systemmaps.models import Revision, SystemMap
from systemmaps.schema import validate_graph
from systemmaps.tests.factories import webinar_graph
from systemmaps.tests.utils import maps_snapshot

pytestmark = pytest.mark.django_db(transaction=True)

LOCK_WAIT_TIMEOUT = 20.0


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks across connections); set DATABASE_URL")


@pytest.fixture
def webinar(acme, alice):
    return services.map_create(
        business=acme,
        acting_user=alice,
        name="Webinar to client",
        half="marketing",
        stages=["try"],
        graph=webinar_graph(),
    )


def graph_url(system_map: SystemMap) -> str:
    return reverse(
        "systemmaps:map-graph",
        kwargs={"slug": system_map.business.slug, "pk": system_map.pk},
    )


def edited(label: str, *, drop: str | None = None) -> dict:
    """The webinar graph with its first step renamed (and one step dropped)."""
    document = webinar_graph()
    document["nodes"][0]["label"] = label
    if drop:
        document["nodes"] = [n for n in document["nodes"] if n["id"] != drop]
        document["edges"] = [
            e for e in document["edges"] if drop not in (e["source"], e["target"])
        ]
    return document


def stored_graph(system_map: SystemMap) -> dict:
    graph = selectors.graph_of(SystemMap.objects.get(pk=system_map.pk))
    return {"nodes": graph["nodes"], "edges": graph["edges"]}


def as_stored(document: dict) -> dict:
    clean = validate_graph(document)
    return {"nodes": clean["nodes"], "edges": clean["edges"]}


def waiting_on_locks() -> int:
    """Connections of this test database blocked on a lock right now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


class RowLockHolder(threading.Thread):
    """Holds `SELECT … FOR UPDATE` on a map in its own connection until released."""

    def __init__(self, system_map: SystemMap):
        super().__init__(daemon=True)
        self.pk = system_map.pk
        self.locked = threading.Event()
        self.release = threading.Event()

    def run(self) -> None:
        try:
            with transaction.atomic():
                SystemMap.objects.select_for_update().get(pk=self.pk)
                self.locked.set()
                self.release.wait(LOCK_WAIT_TIMEOUT * 2)
        finally:
            connections.close_all()


def concurrent_puts(system_map: SystemMap, clients_and_documents, version: int):
    """PUT every document at once from the same version; the responses in order."""
    holder = RowLockHolder(system_map)
    holder.start()
    assert holder.locked.wait(LOCK_WAIT_TIMEOUT)
    responses = [None] * len(clients_and_documents)

    def put(index: int, client: Client, document: dict) -> None:
        try:
            responses[index] = client.put(
                graph_url(system_map),
                document,
                content_type="application/json",
                headers={"If-Match": f'"{version}"'},
            )
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=put, args=(i, client, document), daemon=True)
        for i, (client, document) in enumerate(clients_and_documents)
    ]
    for thread in threads:
        thread.start()
    # Every save has passed its checks and waits for the row: a real race.
    deadline = time.monotonic() + LOCK_WAIT_TIMEOUT
    while waiting_on_locks() < len(threads):
        assert time.monotonic() < deadline, "the saves never met at the row lock"
        time.sleep(0.02)
    holder.release.set()
    for thread in [holder, *threads]:
        thread.join(LOCK_WAIT_TIMEOUT)
        assert not thread.is_alive()
    return responses


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_two_saves_of_the_same_version_one_wins_the_other_gets_412(
    postgres, webinar, alice, erin
):
    mine, theirs = edited("Webinar (Alice)"), edited("Webinar (Erin)", drop="bucket")

    responses = concurrent_puts(
        webinar, [(logged_in(alice), mine), (logged_in(erin), theirs)], version=1
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 412]
    winner = next(i for i, r in enumerate(responses) if r.status_code == 200)
    loser = responses[1 - winner]
    won_with = [mine, theirs][winner]
    assert stored_graph(webinar) == as_stored(won_with)
    assert SystemMap.objects.get(pk=webinar.pk).version == 2
    assert list(
        Revision.objects.filter(map=webinar)
        .order_by("version")
        .values_list("version", flat=True)
    ) == [1, 2]
    # The loser is told who won and gets the winner's graph to merge with.
    conflict = loser.json()
    assert conflict["error"] == "conflict"
    assert conflict["version"] == 2
    assert conflict["saved_by"] == ["Alice Archer", "Erin Edwards"][winner]
    assert {
        "nodes": conflict["graph"]["nodes"],
        "edges": conflict["graph"]["edges"],
    } == as_stored(won_with)
    assert loser["ETag"] == '"2"'


def test_of_four_saves_at_once_exactly_one_wins(postgres, webinar, alice, erin):
    documents = [edited(f"Webinar take {i}") for i in range(4)]
    clients = [logged_in(alice), logged_in(erin), logged_in(alice), logged_in(erin)]

    responses = concurrent_puts(
        webinar, list(zip(clients, documents, strict=True)), version=1
    )

    statuses = [r.status_code for r in responses]
    assert sorted(statuses) == [200, 412, 412, 412]
    winner = statuses.index(200)
    assert stored_graph(webinar) == as_stored(documents[winner])
    assert SystemMap.objects.get(pk=webinar.pk).version == 2
    assert Revision.objects.filter(map=webinar).count() == 2


def test_saves_from_successive_versions_all_land_in_order(webinar, alice):
    """The lock serialises; it does not refuse saves made on the latest version."""
    client = logged_in(alice)
    for version in range(1, 6):
        response = client.put(
            graph_url(webinar),
            edited(f"Webinar v{version + 1}"),
            content_type="application/json",
            headers={"If-Match": f'"{version}"'},
        )
        assert response.status_code == 200
    assert SystemMap.objects.get(pk=webinar.pk).version == 6
    assert stored_graph(webinar) == as_stored(edited("Webinar v6"))


# ---------------------------------------------------------------------------
# A save that fails halfway
# ---------------------------------------------------------------------------
# The service trusts its input (the API validates first), so a bad row handed to
# it directly reaches the database after other rows of the same save are written.


def save(system_map: SystemMap, document: dict, user) -> None:
    services.map_save_graph(
        system_map=SystemMap.objects.get(pk=system_map.pk),
        graph=document,
        acting_user=user,
        expected_version=SystemMap.objects.get(pk=system_map.pk).version,
    )


def test_a_save_failing_at_its_last_arrow_writes_nothing(webinar, alice):
    """Steps renamed, added and removed, old arrows deleted, then the arrows'
    insert fails on a duplicate id: all of it is undone."""
    before = maps_snapshot()
    document = edited("Webinar renamed", drop="bucket")
    document["nodes"].append(
        {"id": "new", "kind": "task", "label": "New step", "x": 9, "y": 9}
    )
    document["edges"].append({**document["edges"][-1], "id": "e1"})

    with pytest.raises(IntegrityError):
        save(webinar, document, alice)

    assert maps_snapshot() == before
    assert stored_graph(webinar) == as_stored(webinar_graph())


def test_a_save_failing_at_a_new_step_writes_nothing(postgres, webinar, alice):
    """Existing steps updated and a stale one deleted, then a new step's row is
    refused by the database (a label longer than its column)."""
    before = maps_snapshot()
    document = edited("Webinar renamed", drop="bucket")
    document["nodes"].append(
        {"id": "new", "kind": "task", "label": "x" * 500, "x": 9, "y": 9}
    )

    with pytest.raises(DataError):
        save(webinar, document, alice)

    assert maps_snapshot() == before
    assert SystemMap.objects.get(pk=webinar.pk).version == 1


def test_a_save_failing_at_an_arrow_label_writes_nothing(postgres, webinar, alice):
    before = maps_snapshot()
    document = edited("Webinar renamed")
    document["edges"][-1]["label"] = "y" * 61

    with pytest.raises(DataError):
        save(webinar, document, alice)

    assert maps_snapshot() == before


def test_after_a_failed_save_the_next_save_from_the_same_version_works(webinar, alice):
    broken = edited("Broken")
    broken["edges"].append({**broken["edges"][0]})
    with pytest.raises(IntegrityError):
        save(webinar, broken, alice)

    response = logged_in(alice).put(
        graph_url(webinar),
        edited("Fixed"),
        content_type="application/json",
        headers={"If-Match": '"1"'},
    )

    assert response.status_code == 200
    assert stored_graph(webinar) == as_stored(edited("Fixed"))
