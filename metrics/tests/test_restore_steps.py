"""The metrics and meeting issues of a step that a save leaves out and a later
save brings back (issue 14): while the step is deleted the metric measures no
step and the issue names none, the weeks that closed keep their figures, and
the return links both again. The step's own details:
systemmaps/tests/test_restore_details.py."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from hourglass import archive
from metrics import rollup, services, weeks
from metrics.models import (
    MeetingIssue,
    Metric,
    MetricWeek,
    OwnerWeek,
    StageWeek,
    StepConversion,
)
from metrics.tests.factories import EntryFactory, MetricFactory
from metrics.tests.utils import unescaped_text_of
from systemmaps import services as map_services
from systemmaps.models import TRASH_DAYS, Node, Revision
from systemmaps.tests.factories import webinar_graph, without_steps

CALL = "Webinar to client: Consultation call"


def without_call() -> dict:
    return without_steps(webinar_graph(), "call")


def save(system_map, graph, user):
    system_map.refresh_from_db()
    return map_services.map_save_graph(
        system_map=system_map,
        graph=graph,
        acting_user=user,
        expected_version=system_map.version,
    )


@pytest.fixture
def measured(acme, alice, alice_membership, last_week, this_week):
    """The webinar map as it was before last week closed, counts at three of its
    steps for last week and this one, and an issue about the call."""
    system_map = map_services.map_create(
        business=acme,
        acting_user=alice,
        name="Webinar to client",
        half="marketing",
        stages=["try", "buy"],
        graph=webinar_graph(),
    )
    Revision.objects.filter(map=system_map).update(
        created_at=weeks.close_of(last_week, acme.timezone) - timedelta(days=3)
    )
    nodes = {n.client_id: n for n in Node.objects.filter(map=system_map)}
    metrics = {}
    for key, value in (("start", 100), ("booked", 40), ("call", 30)):
        metrics[key] = MetricFactory(
            business=acme,
            name=f"At {key}",
            step=nodes[key],
            owner=alice_membership,
            goal=Decimal(20),
            first_week=last_week - weeks.WEEK,
            stage="try",
        )
        for week in (last_week - weeks.WEEK, last_week, this_week):
            EntryFactory(metric=metrics[key], week=week, value=value)
    issue = services.issue_raise(
        business=acme,
        week=last_week,
        title="Calls run long",
        step=nodes["call"],
        acting_user=alice,
    )
    rollup.rollup_business_week(acme.id, last_week)
    return {
        "map": system_map,
        "call": nodes["call"],
        "metrics": metrics,
        "issue": issue,
    }


def closed_week_rows(week) -> dict:
    """The rollup's rows of one week, without ids and times."""
    rows = {}
    for model in (MetricWeek, StageWeek, OwnerWeek, StepConversion):
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if f.attname not in ("id", "computed_at")
        ]
        rows[model.__name__] = sorted(
            model.objects.filter(week=week).values_list(*fields), key=repr
        )
    return rows


def review_text(client, business, week) -> str:
    cache.clear()
    url = reverse("metrics:review-week", args=[business.slug, week.isoformat()])
    return unescaped_text_of(client.get(url).content.decode())


def meeting_text(client, business, week) -> str:
    url = reverse("metrics:meeting", args=[business.slug, week.isoformat()])
    return unescaped_text_of(client.get(url).content.decode())


def metric_page(client, metric) -> str:
    url = reverse("metrics:metric-detail", args=[metric.business.slug, metric.pk])
    return unescaped_text_of(client.get(url).content.decode())


def test_a_deleted_step_leaves_its_metric_and_issue_without_it(
    alice_client, acme, alice, measured, last_week, this_week
):
    call_metric = measured["metrics"]["call"]
    assert "Consultation call" in metric_page(alice_client, call_metric)
    assert CALL in meeting_text(alice_client, acme, this_week)
    figures = closed_week_rows(last_week)
    review = review_text(alice_client, acme, last_week)

    save(measured["map"], without_call(), alice)

    call_metric.refresh_from_db()
    assert (call_metric.step_id, call_metric.step_map_id, call_metric.step_key) == (
        None,
        measured["map"].pk,
        "call",
    )
    assert "Consultation call" not in metric_page(alice_client, call_metric)
    meeting = meeting_text(alice_client, acme, this_week)
    assert "Calls run long" in meeting
    assert "Consultation call" not in meeting
    # The week that closed is judged by the map as it was, call included.
    rollup.rollup_business_week(acme.id, last_week)
    assert closed_week_rows(last_week) == figures
    assert ("booked", "call") in {
        (c.from_key, c.to_key) for c in StepConversion.objects.filter(week=last_week)
    }
    assert review_text(alice_client, acme, last_week) == review


def test_restoring_the_old_revision_links_the_metric_and_the_issue_again(
    alice_client, acme, alice, measured, last_week, this_week
):
    figures = closed_week_rows(last_week)
    save(measured["map"], without_call(), alice)
    old = Revision.objects.get(map=measured["map"], version=1)

    map_services.revision_restore(
        system_map=measured["map"], revision=old, acting_user=alice
    )

    call_metric = Metric.objects.get(pk=measured["metrics"]["call"].pk)
    assert call_metric.step_id == measured["call"].pk
    assert "Consultation call" in metric_page(alice_client, call_metric)
    assert CALL in meeting_text(alice_client, acme, this_week)
    assert MeetingIssue.objects.get().step_id == measured["call"].pk
    rollup.rollup_business_week(acme.id, last_week)
    assert closed_week_rows(last_week) == figures
    # The open week measures the call again.
    rollup.rollup_business_week(acme.id, this_week)
    assert ("booked", "call") in {
        (c.from_key, c.to_key) for c in StepConversion.objects.filter(week=this_week)
    }


def test_an_undo_in_the_editor_links_the_metric_again(alice_client, acme, measured):
    url = reverse("systemmaps:map-graph", args=[acme.slug, measured["map"].pk])

    def put(graph, version):
        return alice_client.put(
            url,
            json.dumps(graph),
            content_type="application/json",
            headers={"If-Match": f'"{version}"'},
        )

    assert put(without_call(), 1).status_code == 200
    assert Metric.objects.get(pk=measured["metrics"]["call"].pk).step_id is None
    assert put(webinar_graph(), 2).status_code == 200

    assert (
        Metric.objects.get(pk=measured["metrics"]["call"].pk).step_id
        == measured["call"].pk
    )


def change_step(metric, step):
    """The metric form saved with another step (None: no step)."""
    metric = Metric.objects.get(pk=metric.pk)
    services.metric_update(
        metric=metric,
        name=metric.name,
        unit=metric.unit,
        direction=metric.direction,
        goal=metric.goal,
        owner=metric.owner,
        step=step,
        stage=metric.stage,
        in_funnel=metric.in_funnel,
    )


def test_a_metric_moved_meanwhile_stays_where_it_was_put(acme, alice, measured):
    moved = measured["metrics"]["call"]
    cleared = MetricFactory(business=acme, step=measured["call"], stage="try")
    save(measured["map"], without_call(), alice)
    proposal = Node.objects.get(map=measured["map"], client_id="proposal")
    change_step(moved, proposal)
    # Saved with no step: measures no step from now on, its key cleared.
    change_step(cleared, None)

    save(measured["map"], webinar_graph(), alice)

    assert Metric.objects.get(pk=moved.pk).step_id == proposal.pk
    assert Metric.objects.get(pk=cleared.pk).step_id is None


def test_after_the_purge_the_step_is_gone_for_good(acme, alice, measured):
    save(measured["map"], without_call(), alice)
    Node.all_objects.filter(pk=measured["call"].pk).update(
        deleted_at=timezone.now() - timedelta(days=TRASH_DAYS + 1)
    )

    map_services.maps_purge_deleted()

    assert MeetingIssue.objects.get().step_id is None
    call_metric = Metric.objects.get(pk=measured["metrics"]["call"].pk)
    assert (call_metric.step_id, call_metric.step_key) == (None, "call")
    save(measured["map"], webinar_graph(), alice)
    # A new step of the same id is not the one the metric measured.
    assert Metric.objects.get(pk=call_metric.pk).step_id is None


def test_an_imported_metric_keeps_its_steps_key(acme, alice, measured):
    business, _warnings = archive.business_import(
        raw=archive.archive_export(acme), acting_user=alice
    )

    imported = Metric.objects.get(business=business, name="At call")
    assert (imported.step_map_id, imported.step_key) == (
        imported.step.map_id,
        "call",
    )
