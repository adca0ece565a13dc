"""The metric list, the metric form, archive/restore and a metric's page."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.formats import date_format

from hourglass.models import Membership
from metrics import services, weeks
from metrics.models import Entry, Metric
from systemmaps.models import Node

from .factories import EntryFactory, MetricFactory, metric_form_data


def url(name: str, slug: str = "acme", **kwargs) -> str:
    return reverse(f"metrics:{name}", kwargs={"slug": slug, **kwargs})


def step_of(system_map, client_id: str) -> Node:
    return Node.objects.get(map=system_map, client_id=client_id)


# ---------------------------------------------------------------------------
# The list
# ---------------------------------------------------------------------------


def test_list_groups_metrics_by_stage_in_hourglass_order(alice_client, acme, metric):
    MetricFactory(business=acme, name="Newsletter readers", stage="know")
    MetricFactory(business=acme, name="Repeat orders", stage="repeat")

    html = alice_client.get(url("metric-list")).content.decode()

    assert html.index("Newsletter readers") < html.index("Webinar attendees")
    assert html.index("Webinar attendees") < html.index("Repeat orders")
    assert "New metric" in html


def test_list_shows_recent_values_with_status_words(
    alice_client, metric, this_week, last_week
):
    EntryFactory(metric=metric, week=last_week, value=45)
    EntryFactory(metric=metric, week=this_week, value=12)

    html = alice_client.get(url("metric-list")).content.decode()

    assert "On track" in html and "Off track" in html
    assert ">45<" in html and ">12<" in html


def test_archived_metrics_are_listed_apart(alice_client, metric, alice):
    services.metric_archive(metric=metric, acting_user=alice)

    html = alice_client.get(url("metric-list")).content.decode()

    assert 'data-testid="archived"' in html
    assert "1 archived metric" in html
    assert 'data-testid="metric"' not in html


def test_a_member_reads_the_list_without_edit_buttons(bob_client, metric):
    response = bob_client.get(url("metric-list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Webinar attendees" in html and "New metric" not in html
    assert "Archive" not in html


def test_the_outsider_gets_404_everywhere(charlie_client, metric):
    for name, kwargs in [
        ("metric-list", {}),
        ("metric-create", {}),
        ("metric-detail", {"pk": metric.pk}),
        ("metric-edit", {"pk": metric.pk}),
        ("entries-import", {}),
        ("entries-export", {}),
        ("this-week", {}),
    ]:
        assert charlie_client.get(url(name, **kwargs)).status_code == 404, name
    assert charlie_client.post(url("metric-archive", pk=metric.pk)).status_code == 404


def test_list_queries_do_not_grow_with_metrics(
    alice_client, acme, this_week, django_assert_max_num_queries
):
    def fill(count):
        for _ in range(count):
            m = MetricFactory(business=acme)
            EntryFactory(metric=m, week=this_week)

    fill(3)
    alice_client.get(url("metric-list"))
    with CaptureQueriesContext(connection) as small:
        alice_client.get(url("metric-list"))
    fill(60)

    with django_assert_max_num_queries(len(small)):
        response = alice_client.get(url("metric-list"))
    assert response.content.decode().count('data-testid="metric"') == 63


# ---------------------------------------------------------------------------
# Create and edit
# ---------------------------------------------------------------------------


def test_an_editor_creates_a_metric(client_for, erin, acme, bob_membership):
    response = client_for(erin).post(
        url("metric-create"), metric_form_data(owner=bob_membership.pk)
    )

    metric = Metric.objects.get()
    assert response.status_code == 302
    assert response["Location"] == metric.get_absolute_url()
    assert (metric.name, metric.goal, metric.owner, metric.stage) == (
        "Clients onboarded",
        Decimal(3),
        bob_membership,
        "buy",
    )
    assert metric.first_week == weeks.current_week(acme.timezone)


def test_the_stage_comes_from_the_step(alice_client, webinar_map):
    call = step_of(webinar_map, "call")
    alice_client.post(url("metric-create"), metric_form_data(step=call.pk, stage=""))

    metric = Metric.objects.get()
    assert (metric.step, metric.stage) == (call, "buy")


def test_a_step_without_stage_takes_its_maps_first_stage(alice_client, webinar_map):
    Node.objects.filter(map=webinar_map, client_id="call").update(stage="")
    call = step_of(webinar_map, "call")
    alice_client.post(url("metric-create"), metric_form_data(step=call.pk, stage=""))

    assert Metric.objects.get().stage == "like"


def test_step_preselected_from_the_query(alice_client, webinar_map):
    call = step_of(webinar_map, "call")
    html = alice_client.get(url("metric-create") + f"?step={call.pk}").content.decode()

    assert f'<option value="{call.pk}" selected>' in html
    assert "Webinar to client" in html  # steps grouped by map


@pytest.mark.parametrize(
    ("client_id", "ticked"),
    [
        ("booked", True),  # Try is entered here (from the nurture step, Like)
        ("downsell", False),  # after Booked?, still Try: the same people again
    ],
)
def test_counts_toward_the_stage_total_only_where_the_stage_is_entered(
    alice_client, webinar_map, client_id, ticked
):
    step = step_of(webinar_map, client_id)
    html = alice_client.get(url("metric-create") + f"?step={step.pk}").content.decode()
    box = re.search(r'<input[^>]*name="in_funnel"[^>]*>', html).group(0)
    assert ("checked" in box) is ticked
    assert "where customers enter the stage" in html


def test_a_foreign_step_in_the_query_is_404(alice_client, acme, other_map):
    foreign = step_of(other_map, "call")
    response = alice_client.get(url("metric-create") + f"?step={foreign.pk}")

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "x" * 121}, "at most 120 characters"),
        ({"goal": "-1"}, "greater than or equal to 0"),
        ({"goal": "1234567890123.5"}, "12 digits before the decimal point"),
        ({"stage": ""}, "Choose a stage, or a step it measures."),
        ({"unit": "bananas"}, "Select a valid choice"),
    ],
)
def test_bad_metric_input_is_422_and_writes_nothing(alice_client, overrides, message):
    response = alice_client.post(url("metric-create"), metric_form_data(**overrides))

    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Metric.objects.exists()


def test_names_are_unique_per_business_ignoring_case(alice_client, metric):
    response = alice_client.post(
        url("metric-create"), metric_form_data(name="WEBINAR attendees")
    )

    assert response.status_code == 422
    assert "A metric named “WEBINAR attendees” already exists." in (
        response.content.decode()
    )
    assert Metric.objects.count() == 1


def test_a_foreign_owner_or_step_is_refused(alice_client, other_co, other_map):
    foreign_owner = Membership.objects.get(business=other_co)
    foreign_step = step_of(other_map, "call")

    for data in (
        metric_form_data(owner=foreign_owner.pk),
        metric_form_data(step=foreign_step.pk),
    ):
        response = alice_client.post(url("metric-create"), data)
        assert response.status_code == 422
    assert not Metric.objects.filter(business__slug="acme").exists()


def test_a_member_may_not_create_or_edit(bob_client, metric):
    assert bob_client.get(url("metric-create")).status_code == 403
    assert bob_client.post(url("metric-create"), metric_form_data()).status_code == 403
    edit = url("metric-edit", pk=metric.pk)
    assert bob_client.post(edit, metric_form_data(name="Hacked")).status_code == 403
    assert Metric.objects.get().name == "Webinar attendees"


def test_an_editor_edits_a_metric(alice_client, metric):
    edit = url("metric-edit", pk=metric.pk)
    assert 'value="Webinar attendees"' in alice_client.get(edit).content.decode()

    response = alice_client.post(edit, metric_form_data(name="Webinar seats", goal=""))

    metric.refresh_from_db()
    assert response.status_code == 302
    assert (metric.name, metric.goal) == ("Webinar seats", None)


def test_editing_keeps_its_own_name_allowed(alice_client, metric):
    response = alice_client.post(
        url("metric-edit", pk=metric.pk), metric_form_data(name="Webinar Attendees")
    )
    assert response.status_code == 302


def test_archive_toggles_and_restore(alice_client, metric):
    alice_client.post(url("metric-archive", pk=metric.pk))
    metric.refresh_from_db()
    assert metric.archived_on == weeks.today_in("Europe/Paris")

    alice_client.post(url("metric-archive", pk=metric.pk))
    metric.refresh_from_db()
    assert metric.archived_on is None


def test_a_member_may_not_archive(bob_client, bob_metric):
    assert bob_client.post(url("metric-archive", pk=bob_metric.pk)).status_code == 403
    bob_metric.refresh_from_db()
    assert bob_metric.archived_on is None


# ---------------------------------------------------------------------------
# A metric's page
# ---------------------------------------------------------------------------


def test_detail_shows_history_with_missing_weeks_in_words(
    alice_client, metric, alice, this_week, last_week
):
    services.entry_record(metric=metric, week=last_week, value=30, acting_user=alice)
    services.entry_record(metric=metric, week=last_week, value=41, acting_user=alice)

    html = alice_client.get(url("metric-detail", pk=metric.pk)).content.decode()

    assert html.count('data-testid="history-week"') == 9  # first_week: 8 weeks ago
    assert "missing" in html
    assert "1 earlier value" in html
    assert "On track" in html
    newest = f"Week of {date_format(this_week, 'DATE_FORMAT')}"
    assert html.index(newest) < html.index("1 earlier value")


def test_an_editor_backfills_from_the_detail_page(alice_client, metric, this_week):
    early = this_week - weeks.WEEK * 20
    response = alice_client.post(
        url("metric-detail", pk=metric.pk), {"week": str(early), "value": "12"}
    )

    assert response.status_code == 302
    metric.refresh_from_db()
    assert metric.first_week == early
    assert Entry.objects.get().week == early


def test_backfill_errors_are_422_next_to_the_field(alice_client, metric, this_week):
    response = alice_client.post(
        url("metric-detail", pk=metric.pk),
        {"week": str(this_week + weeks.WEEK), "value": "x"},
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert "has not started yet" in html and "“x” is not a number." in html
    assert not Entry.objects.exists()


def test_a_member_backfills_only_their_own_recent_weeks(
    bob_client, metric, bob_metric, last_week
):
    detail = url("metric-detail", pk=bob_metric.pk)
    assert (
        bob_client.post(detail, {"week": str(last_week), "value": "2"}).status_code
        == 302
    )
    too_old = str(last_week - weeks.WEEK)
    assert bob_client.post(detail, {"week": too_old, "value": "2"}).status_code == 403
    other = url("metric-detail", pk=metric.pk)
    assert (
        bob_client.post(other, {"week": str(last_week), "value": "2"}).status_code
        == 403
    )
    assert Entry.objects.count() == 1
    assert 'data-testid="backfill-form"' not in bob_client.get(other).content.decode()


def test_detail_queries_do_not_grow_with_history(
    alice_client, acme, alice, this_week, django_assert_max_num_queries
):
    small = MetricFactory(business=acme, first_week=this_week - weeks.WEEK * 60)
    large = MetricFactory(business=acme, first_week=this_week - weeks.WEEK * 60)
    services.entry_record(metric=small, week=this_week, value=1, acting_user=alice)
    for n in range(52):
        week = this_week - weeks.WEEK * n
        services.entry_record(metric=large, week=week, value=1, acting_user=alice)
        services.entry_record(metric=large, week=week, value=2, acting_user=alice)
    alice_client.get(url("metric-detail", pk=small.pk))
    with CaptureQueriesContext(connection) as few:
        alice_client.get(url("metric-detail", pk=small.pk))

    with django_assert_max_num_queries(len(few)):
        response = alice_client.get(url("metric-detail", pk=large.pk))
    assert response.content.decode().count("1 earlier value") == 52


def test_detail_of_another_business_is_404(alice_client, other_metric):
    assert alice_client.get(url("metric-detail", pk=other_metric.pk)).status_code == 404


# ---------------------------------------------------------------------------
# Hooks into the pages of issue 5: step page, My steps, gap reports
# ---------------------------------------------------------------------------


def step_url(system_map, client_id: str) -> str:
    return reverse(
        "systemmaps:step-detail",
        kwargs={"slug": "acme", "pk": system_map.pk, "node": client_id},
    )


def test_step_page_lists_its_metrics_with_last_value_and_status(
    alice_client, acme, alice, webinar_map, last_week
):
    call = step_of(webinar_map, "call")
    booked = MetricFactory(business=acme, name="Calls held", step=call, goal=10)
    MetricFactory(business=acme, name="No numbers", step=call)
    services.entry_record(metric=booked, week=last_week, value=7, acting_user=alice)

    html = alice_client.get(step_url(webinar_map, "call")).content.decode()

    assert html.count('data-testid="step-metric"') == 2
    assert "Calls held" in html and "Off track" in html and "No number yet" in html
    assert f"/b/acme/metrics/new/?step={call.pk}" in html


def test_step_page_hides_the_add_link_from_members(bob_client, webinar_map):
    html = bob_client.get(step_url(webinar_map, "call")).content.decode()
    assert 'data-testid="step-metrics"' in html
    assert "Add a metric for this step" not in html


def test_step_page_queries_do_not_grow_with_metrics(
    client_for, alice, acme, webinar_map, this_week, django_assert_max_num_queries
):
    client = client_for(alice)
    call, proposal = step_of(webinar_map, "call"), step_of(webinar_map, "proposal")
    EntryFactory(metric=MetricFactory(business=acme, step=call), week=this_week)
    for _ in range(20):
        m = MetricFactory(business=acme, step=proposal, goal=3)
        EntryFactory(metric=m, week=this_week, value=4)
    client.get(step_url(webinar_map, "call"))
    with CaptureQueriesContext(connection) as small:
        client.get(step_url(webinar_map, "call"))

    with django_assert_max_num_queries(len(small)):
        response = client.get(step_url(webinar_map, "proposal"))
    assert response.content.decode().count("On track") == 20


def test_my_steps_lists_my_numbers_due_this_week(
    bob_client, acme, bob_metric, bob_membership, this_week, last_week
):
    done = MetricFactory(business=acme, name="Already in", owner=bob_membership)
    EntryFactory(metric=done, week=this_week, value=1)
    EntryFactory(metric=bob_metric, week=last_week, value=1)

    html = bob_client.get(reverse("systemmaps:my-steps", args=["acme"])).content
    html = html.decode()

    assert "1 of your metrics has no number for this week yet." in html
    assert "Consultations booked" in html and "Already in" not in html
    assert "/b/acme/numbers/" in html


def test_my_steps_says_nothing_when_all_numbers_are_in(
    bob_client, bob_metric, this_week
):
    EntryFactory(metric=bob_metric, week=this_week, value=1)
    html = bob_client.get(reverse("systemmaps:my-steps", args=["acme"])).content
    assert b'data-testid="my-numbers"' not in html


def test_my_steps_queries_do_not_grow_with_metrics(
    client_for, bob, acme, bob_membership, django_assert_max_num_queries
):
    client = client_for(bob)
    my_steps = reverse("systemmaps:my-steps", args=["acme"])
    MetricFactory(business=acme, owner=bob_membership)
    client.get(my_steps)
    with CaptureQueriesContext(connection) as small:
        client.get(my_steps)
    for _ in range(30):
        MetricFactory(business=acme, owner=bob_membership)

    with django_assert_max_num_queries(len(small)):
        response = client.get(my_steps)
    assert "31 of your metrics have no number" in response.content.decode()


def test_gap_reports_name_critical_steps_without_a_metric(
    alice_client, acme, alice, webinar_map
):
    from systemmaps.tests.factories import make_map

    make_map(acme, alice, "Second map")
    Node.objects.filter(client_id__in=["call", "proposal"]).update(critical=True)
    MetricFactory(business=acme, step=step_of(webinar_map, "call"))
    archived = MetricFactory(business=acme, step=step_of(webinar_map, "proposal"))
    services.metric_archive(metric=archived, acting_user=alice)

    map_report = alice_client.get(
        reverse("systemmaps:map-gaps", args=["acme", webinar_map.pk])
    ).content.decode()
    business_report = alice_client.get(
        reverse("systemmaps:gaps", args=["acme"])
    ).content.decode()

    assert "Nobody measures “Proposal sent”" in map_report
    assert "Nobody measures “Consultation call”" not in map_report
    # The same step id in another map is not measured by the first map's metric.
    assert business_report.count("Nobody measures “Consultation call”") == 1
    assert business_report.count("Nobody measures “Proposal sent”") == 2


@pytest.mark.parametrize(
    ("currency", "unit", "goal", "problem"),
    [
        ("KRW", "money", "4999999.50", "Amounts in KRW have no decimals"),
        ("EUR", "percent", "55.45", "Use at most one decimal"),
        ("EUR", "count", "2.5", "A count must be a whole number"),
    ],
)
def test_a_goal_takes_the_precision_it_is_shown_with(
    alice_client, acme, currency, unit, goal, problem
):
    acme.currency = currency
    acme.save()
    response = alice_client.post(
        url("metric-create"), metric_form_data(unit=unit, goal=goal)
    )
    assert response.status_code == 422
    assert problem in response.content.decode()
    assert not Metric.objects.exists()
    ok = alice_client.post(url("metric-create"), metric_form_data(unit=unit, goal="5"))
    assert ok.status_code == 302
