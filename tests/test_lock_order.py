"""The one lock order of hourglass/locks.py, kept by every write path of a
business (entries, the This week form, the CSV import, metrics, maps, the
rollup, removing a member, deleting a business, purging the trash): its first
statement takes the business's lock (`FOR NO KEY UPDATE` of
the hourglass_business row on PostgreSQL; on SQLite the same SELECT inside a
BEGIN IMMEDIATE transaction), and the rollup of several businesses takes them
in id order. On PostgreSQL, a writer really waits for another one holding
the lock."""

import re
import threading
import time
from datetime import date, timedelta

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hourglass import locks
from hourglass import services as core_services
from hourglass.models import Membership
from hourglass.tests.factories import BusinessFactory
from metrics import rollup
from metrics import services as metric_services
from metrics.models import Entry
from metrics.services import ImportRow
from metrics.tests.factories import MetricFactory
from metrics.weeks import WEEK
from systemmaps import services as map_services
from systemmaps.models import TRASH_DAYS, Revision, SystemMap
from systemmaps.tests.factories import webinar_graph

W = date(2025, 3, 3)
BUSINESS_TABLE = '"hourglass_business"'


def _entry(metric, alice):
    return metric_services.entry_record(
        metric=metric, week=W, value=3, acting_user=alice
    )


def _map(metric, alice):
    return map_services.map_create(
        business=metric.business,
        acting_user=alice,
        name="Webinar",
        half="marketing",
        stages=["try"],
        graph=webinar_graph(),
    )


WRITES = {
    "entry_record": _entry,
    "week_numbers_record": lambda metric, alice: metric_services.week_numbers_record(
        week=W, changes=[(metric, 4)], acting_user=alice
    ),
    "entries_import": lambda metric, alice: metric_services.entries_import(
        business=metric.business,
        rows=[ImportRow(line=2, metric=metric, week=W, value=5)],
        acting_user=alice,
    ),
    "metric_create": lambda metric, alice: metric_services.metric_create(
        business=metric.business,
        acting_user=alice,
        name="Leads",
        unit="count",
        direction="higher",
        goal=None,
        owner=None,
        step=None,
        stage="know",
        in_funnel=True,
    ),
    "metric_update": lambda metric, alice: metric_services.metric_update(
        metric=metric,
        name="Renamed",
        unit=metric.unit,
        direction=metric.direction,
        goal=12,
        owner=None,
        step=None,
        stage="know",
        in_funnel=True,
    ),
    "metric_archive": lambda metric, alice: metric_services.metric_archive(
        metric=metric, acting_user=alice
    ),
    "metric_restore": lambda metric, alice: metric_services.metric_restore(
        metric=metric, acting_user=alice
    ),
    "mark_stale": lambda metric, alice: rollup.mark_stale(
        business_id=metric.business_id, week=W
    ),
    "map_create": _map,
    "business_delete": lambda metric, alice: core_services.business_delete(
        business=metric.business
    ),
}


MAP_WRITES = {
    "map_save_graph": lambda system_map, revision, alice: map_services.map_save_graph(
        system_map=system_map,
        graph=webinar_graph("Renamed"),
        acting_user=alice,
        expected_version=system_map.version,
    ),
    "map_update": lambda system_map, revision, alice: map_services.map_update(
        system_map=system_map,
        acting_user=alice,
        name="Renamed",
        description="",
        half="marketing",
        stages=["try"],
        product="",
        status="draft",
    ),
    "map_duplicate": lambda system_map, revision, alice: map_services.map_duplicate(
        system_map=system_map, acting_user=alice
    ),
    "revision_restore": lambda system_map, revision, alice: (
        map_services.revision_restore(
            system_map=system_map,
            revision=revision,
            acting_user=alice,
        )
    ),
    "map_delete": lambda system_map, revision, alice: map_services.map_delete(
        system_map=system_map, acting_user=alice
    ),
    "map_restore": lambda system_map, revision, alice: map_services.map_restore(
        system_map=system_map
    ),
}


def statements(captured: CaptureQueriesContext) -> list[str]:
    """What the service ran, without the transaction's own statements."""
    skip = ("BEGIN", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
    return [
        q["sql"] for q in captured.captured_queries if not q["sql"].startswith(skip)
    ]


def assert_locks_business_first(sql: list[str], business_id: int) -> None:
    first = sql[0]
    assert first.startswith("SELECT") and f"FROM {BUSINESS_TABLE}" in first, sql[:3]
    assert str(business_id) in first
    if connection.vendor == "postgresql":
        assert first.endswith("FOR NO KEY UPDATE"), first


@pytest.fixture
def metric(acme):
    return MetricFactory(business=acme, first_week=W - WEEK * 4)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(WRITES))
def test_a_business_write_takes_the_business_lock_first(name, metric, alice):
    with CaptureQueriesContext(connection) as captured:
        WRITES[name](metric, alice)

    assert_locks_business_first(statements(captured), metric.business_id)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(MAP_WRITES))
def test_a_map_write_takes_the_business_lock_first(name, metric, alice):
    system_map = _map(metric, alice)
    revision = Revision.objects.get(map=system_map)

    with CaptureQueriesContext(connection) as captured:
        MAP_WRITES[name](system_map, revision, alice)

    assert_locks_business_first(statements(captured), system_map.business_id)


@pytest.mark.django_db
def test_the_rollup_locks_its_businesses_first_in_id_order():
    businesses = sorted(BusinessFactory.create_batch(3), key=lambda b: -b.pk)
    ids = [b.pk for b in businesses]

    with CaptureQueriesContext(connection) as captured:
        rollup.rollup_businesses_week(ids, W)

    first = statements(captured)[0]
    assert f"FROM {BUSINESS_TABLE}" in first
    # Ordered by id (the first and only column).
    assert re.search(r" ORDER BY 1 ASC( FOR NO KEY UPDATE)?$", first), first


@pytest.mark.django_db(transaction=True)
def test_an_entry_save_waits_while_another_writer_holds_the_business(metric, alice):
    if connection.vendor != "postgresql":
        pytest.skip("row locks across connections need PostgreSQL")
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                locks.lock_business(metric.business_id)
                locked.set()
                release.wait(20)
        finally:
            connections.close_all()

    def save() -> None:
        try:
            _entry(metric, alice)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert locked.wait(20)
    saver = threading.Thread(target=save, daemon=True)
    saver.start()
    deadline = time.monotonic() + 20
    while not _waiting_for_the_business_lock():
        assert time.monotonic() < deadline, "the save never waited for the lock"
        time.sleep(0.02)
    assert not Entry.objects.exists()

    release.set()
    for thread in (holder, saver):
        thread.join(20)
        assert not thread.is_alive()
    assert Entry.objects.get().value == 3


def _waiting_for_the_business_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query LIKE %s",
            [f"%FROM {BUSINESS_TABLE}%FOR NO KEY UPDATE"],
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db
def test_removing_a_member_takes_the_business_lock_first(acme, bob):
    membership = Membership.objects.get(business=acme, user=bob)

    with CaptureQueriesContext(connection) as captured:
        core_services.membership_remove(membership=membership)

    assert_locks_business_first(statements(captured), acme.pk)


@pytest.mark.django_db
def test_purging_the_trash_locks_the_maps_businesses_before_deleting(metric, alice):
    system_map = _map(metric, alice)
    SystemMap.objects.filter(pk=system_map.pk).update(
        deleted_at=timezone.now() - timedelta(days=TRASH_DAYS + 1)
    )

    with CaptureQueriesContext(connection) as captured:
        assert map_services.maps_purge_deleted() == 1

    # Which businesses (a plain read), then their locks, then the deletes.
    sql = statements(captured)
    assert 'FROM "systemmaps_systemmap"' in sql[0] and " FOR " not in sql[0]
    assert_locks_business_first(sql[1:], metric.business_id)
