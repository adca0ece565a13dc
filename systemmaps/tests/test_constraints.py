"""What the database itself guarantees about maps, whatever code writes the rows.

Run on the configured database: SQLite by default (triggers of migration 0002),
PostgreSQL when DATABASE_URL says so (composite foreign keys of the same migration).
"""

import pytest
from django.db import IntegrityError, transaction

from systemmaps.models import Edge, Node, Revision


def own_node(system_map, client_id: str = "start") -> Node:
    return Node.objects.get(map=system_map, client_id=client_id)


# ---------------------------------------------------------------------------
# Both ends of an arrow in the arrow's own map
# ---------------------------------------------------------------------------


def test_an_arrow_between_steps_of_its_own_map_is_accepted(webinar_map):
    edge = Edge.objects.create(
        map=webinar_map,
        client_id="e-new",
        source=own_node(webinar_map, "bucket"),
        target=own_node(webinar_map, "onboard"),
    )

    assert Edge.objects.filter(pk=edge.pk, map=webinar_map).exists()


@pytest.mark.parametrize("end", ["source", "target"])
def test_creating_an_arrow_to_a_step_of_another_map_is_refused(
    webinar_map, other_map, end
):
    ends = {"source": own_node(webinar_map), "target": own_node(webinar_map, "call")}
    ends[end] = own_node(other_map, "nurture")
    count = Edge.objects.count()

    with pytest.raises(IntegrityError), transaction.atomic():
        Edge.objects.create(map=webinar_map, client_id="e-foreign", **ends)

    assert Edge.objects.count() == count


@pytest.mark.parametrize("end", ["source", "target"])
def test_pointing_an_existing_arrow_at_a_step_of_another_map_is_refused(
    webinar_map, other_map, end
):
    edge = Edge.objects.get(map=webinar_map, client_id="e1")
    before = (edge.source_id, edge.target_id)

    with pytest.raises(IntegrityError), transaction.atomic():
        Edge.objects.filter(pk=edge.pk).update(**{end: own_node(other_map)})

    edge.refresh_from_db()
    assert (edge.source_id, edge.target_id) == before


def test_moving_an_arrow_to_another_map_without_its_steps_is_refused(
    webinar_map, other_map
):
    edge = Edge.objects.get(map=webinar_map, client_id="e1")

    with pytest.raises(IntegrityError), transaction.atomic():
        Edge.objects.filter(pk=edge.pk).update(map=other_map)

    edge.refresh_from_db()
    assert edge.map_id == webinar_map.pk


def test_saving_an_arrow_instance_with_a_foreign_end_is_refused(webinar_map, other_map):
    edge = Edge.objects.get(map=webinar_map, client_id="e2")
    edge.target = own_node(other_map, "booked")

    with pytest.raises(IntegrityError), transaction.atomic():
        edge.save()

    assert Edge.objects.get(pk=edge.pk).target.map_id == webinar_map.pk


# ---------------------------------------------------------------------------
# Client ids unique per map, not across maps
# ---------------------------------------------------------------------------


def test_a_step_id_is_unique_within_its_map(webinar_map):
    with pytest.raises(IntegrityError), transaction.atomic():
        Node.objects.create(map=webinar_map, client_id="start", kind="task")

    assert Node.objects.filter(map=webinar_map, client_id="start").count() == 1


def test_an_arrow_id_is_unique_within_its_map(webinar_map):
    with pytest.raises(IntegrityError), transaction.atomic():
        Edge.objects.create(
            map=webinar_map,
            client_id="e1",
            source=own_node(webinar_map, "bucket"),
            target=own_node(webinar_map, "onboard"),
        )

    assert Edge.objects.filter(map=webinar_map, client_id="e1").count() == 1


def test_the_same_step_and_arrow_ids_are_fine_in_two_maps(webinar_map, other_map):
    # Both maps were made from the same drawing: same ids, different maps.
    assert Node.objects.filter(client_id="start").count() == 2
    assert Edge.objects.filter(client_id="e1").count() == 2

    node = Node.objects.create(map=other_map, client_id="only-here", kind="task")
    twin = Node.objects.create(map=webinar_map, client_id="only-here", kind="task")
    edge = Edge.objects.create(
        map=other_map, client_id="e-twin", source=own_node(other_map), target=node
    )
    twin_edge = Edge.objects.create(
        map=webinar_map, client_id="e-twin", source=own_node(webinar_map), target=twin
    )

    assert {node.map_id, twin.map_id} == {other_map.pk, webinar_map.pk}
    assert {edge.map_id, twin_edge.map_id} == {other_map.pk, webinar_map.pk}


# ---------------------------------------------------------------------------
# One revision per version of a map
# ---------------------------------------------------------------------------


def test_a_version_of_a_map_has_one_revision(webinar_map, other_map):
    with pytest.raises(IntegrityError), transaction.atomic():
        Revision.objects.create(map=webinar_map, version=1, graph={})

    assert Revision.objects.filter(map=webinar_map, version=1).count() == 1
    # Version 1 of another map is another revision.
    assert Revision.objects.filter(version=1).count() == 2
