"""The This week form: whose metrics, which week, htmx fields and the plain POST."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.formats import date_format

from hourglass.tests.utils import elements
from metrics import weeks
from metrics.models import Entry

from .factories import EntryFactory, MetricFactory


def url(query: str = "") -> str:
    return reverse("metrics:this-week", kwargs={"slug": "acme"}) + query


def test_a_member_sees_their_own_metrics_of_this_week(bob_client, metric, bob_metric):
    response = bob_client.get(url())

    html = response.content.decode()
    assert response.status_code == 200
    assert "This week's numbers" in html
    assert "Consultations booked" in html and "Webinar attendees" not in html
    assert f'hx-post="/b/acme/metrics/{bob_metric.pk}/weeks/' in html


def test_each_field_posts_itself_through_htmx(bob_client, bob_metric, this_week):
    html = bob_client.get(url()).content.decode()

    assert f'hx-post="/b/acme/metrics/{bob_metric.pk}/weeks/{this_week}/"' in html
    assert 'hx-trigger="change"' in html
    assert f'hx-target="#entry-{bob_metric.pk}"' in html


def test_each_field_has_a_visible_label_and_a_live_status_outside_the_swap(
    bob_client, bob_metric, this_week
):
    html = bob_client.get(url()).content.decode()

    found = {attrs.get("id"): (attrs, ancestors) for attrs, ancestors in elements(html)}
    label, _ancestors = found[f"value-{bob_metric.pk}-label"]
    assert label["for"] == f"value-{bob_metric.pk}"
    assert "visually-hidden" not in label.get("class", "")
    week = date_format(this_week, "DATE_FORMAT")
    assert f"Number for the week of {week}</label>" in html
    field, _ancestors = found[f"value-{bob_metric.pk}"]
    # Named by the metric's heading and the visible label (which it contains).
    assert field["aria-labelledby"] == (
        f"entry-name-{bob_metric.pk} value-{bob_metric.pk}-label"
    )
    assert f"entry-name-{bob_metric.pk}" in found
    status, ancestors = found[f"entry-{bob_metric.pk}-status"]
    assert (status["role"], status["aria-live"]) == ("status", "polite")
    # htmx replaces #entry-<pk>; the live region is not inside it.
    assert f"entry-{bob_metric.pk}" not in [a.get("id") for a in ancestors]
    assert "hx-swap-oob" not in status


def test_last_four_weeks_are_shown(bob_client, bob_metric, this_week):
    EntryFactory(metric=bob_metric, week=this_week - weeks.WEEK * 2, value=11)

    html = bob_client.get(url()).content.decode()

    assert ">11<" in html
    assert html.count('class="wv ') == 4


def test_an_editor_picks_everybody_or_one_member(
    client_for, erin, metric, bob_metric, bob_membership
):
    client = client_for(erin)
    everybody = client.get(url("?who=all")).content.decode()
    bobs = client.get(url(f"?who={bob_membership.pk}")).content.decode()

    assert "Webinar attendees" in everybody and "Consultations booked" in everybody
    assert "Consultations booked" in bobs and "Webinar attendees" not in bobs


def test_a_member_may_not_look_at_everybodys_form(bob_client, alice_membership):
    assert bob_client.get(url("?who=all")).status_code == 403
    assert bob_client.get(url(f"?who={alice_membership.pk}")).status_code == 403


def test_a_member_of_another_business_is_404_as_who(alice_client, other_co):
    from hourglass.models import Membership

    foreign = Membership.objects.get(business=other_co)
    assert alice_client.get(url(f"?who={foreign.pk}")).status_code == 404


def test_week_navigation_stops_at_this_week(alice_client, metric, this_week):
    html = alice_client.get(url()).content.decode()
    assert "Next week" not in html
    assert f"?week={this_week - weeks.WEEK}" in html

    earlier = alice_client.get(url(f"?week={this_week - weeks.WEEK}")).content.decode()
    assert "Next week" in earlier and "Last week's numbers" in earlier


def test_a_future_week_is_422_with_the_message(alice_client, metric, this_week):
    future = this_week + weeks.WEEK
    response = alice_client.get(url(f"?week={future}"))

    assert response.status_code == 422
    assert f"The week of {future} has not started yet." in response.content.decode()


def test_a_member_sees_older_weeks_read_only(bob_client, bob_metric, this_week):
    html = bob_client.get(url(f"?week={this_week - weeks.WEEK * 3}")).content.decode()

    assert "disabled" in html and "hx-post" not in html
    assert "Only editors and owners can fill in earlier weeks." in html


def test_plain_post_saves_every_field(client_for, erin, metric, bob_metric, this_week):
    client = client_for(erin)
    response = client.post(
        url(),
        {
            "week": str(this_week),
            "who": "all",
            f"value-{metric.pk}": "40",
            f"value-{bob_metric.pk}": "8",
        },
    )

    assert response.status_code == 302
    assert "who=all" in response["Location"]
    assert dict(Entry.objects.values_list("metric_id", "value")) == {
        metric.pk: 40,
        bob_metric.pk: 8,
    }


def test_plain_post_with_a_bad_field_saves_nothing(
    client_for, erin, metric, bob_metric, this_week
):
    response = client_for(erin).post(
        url(),
        {
            "week": str(this_week),
            "who": "all",
            f"value-{metric.pk}": "40",
            f"value-{bob_metric.pk}": "-2",
        },
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert "A number cannot be negative." in html
    assert 'value="-2"' in html and 'value="40"' in html
    assert "Nothing was saved" in html
    assert not Entry.objects.exists()


def test_plain_post_ignores_metrics_a_member_may_not_enter(
    bob_client, metric, bob_metric, this_week
):
    response = bob_client.post(
        url(), {f"value-{metric.pk}": "99", f"value-{bob_metric.pk}": "3"}
    )

    assert response.status_code == 302
    assert list(Entry.objects.values_list("metric_id", "value")) == [(bob_metric.pk, 3)]


def test_the_outsider_gets_404(charlie_client, metric):
    assert charlie_client.get(url()).status_code == 404
    assert charlie_client.post(url(), {f"value-{metric.pk}": "1"}).status_code == 404
    assert not Entry.objects.exists()


def test_queries_do_not_grow_with_metrics(
    client_for, erin, acme, this_week, django_assert_max_num_queries
):
    client = client_for(erin)

    def fill(count):
        for _ in range(count):
            m = MetricFactory(business=acme)
            for n in range(5):
                EntryFactory(metric=m, week=this_week - weeks.WEEK * n)

    fill(3)
    client.get(url("?who=all"))
    with CaptureQueriesContext(connection) as small:
        client.get(url("?who=all"))
    fill(80)

    with django_assert_max_num_queries(len(small)):
        response = client.get(url("?who=all"))
    assert response.content.decode().count('data-testid="entry-row"') == 83
