"""How far back numbers go (weeks.FIRST_WEEK, and ten years before a metric
was created), on every way a number comes in: the entry URL, the This week
form and a CSV import; and the rollup jobs going on past a business whose
figures cannot be computed (a week from nowhere saved before the bound)."""

import logging
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from metrics import recompute, rollup, tasks, weeks
from metrics.models import Entry, MetricWeek, RollupWeek
from metrics.tests.factories import EntryFactory, MetricFactory
from metrics.weeks import WEEK

HTMX = {"HTTP_HX_REQUEST": "true"}
IMPORT = reverse("metrics:entries-import", kwargs={"slug": "acme"})


def upload(text: str) -> dict:
    raw = text.encode("utf-8")
    return {"file": SimpleUploadedFile("numbers.csv", raw, content_type="text/csv")}


def save_url(metric, week) -> str:
    return reverse(
        "metrics:entry-save",
        kwargs={"slug": metric.business.slug, "pk": metric.pk, "week": str(week)},
    )


def created_week(metric) -> date:
    return weeks.week_at(metric.created_at, metric.business.timezone)


def test_weeks_before_1970_are_refused_with_their_date():
    for text in ("0001-01-01", "1969-12-31", "1970-01-04"):
        with pytest.raises(weeks.BadWeek) as refused:
            weeks.parse_week(text, tz_name="Europe/Paris")
        assert "too far back" in str(refused.value)
    assert weeks.parse_week("1970-01-05", tz_name="Europe/Paris") == weeks.FIRST_WEEK


def test_the_earliest_week_is_ten_years_before_the_metric_was_created(metric):
    earliest = weeks.earliest_week(metric.created_at, metric.business.timezone)
    assert earliest == created_week(metric) - WEEK * 522
    assert earliest.weekday() == 0
    # About ten years: 522 weeks are 3,654 days.
    assert (
        timedelta(days=3650) <= created_week(metric) - earliest <= timedelta(days=3660)
    )


@pytest.mark.parametrize("week", ["0001-01-01", "1900-06-04"])
def test_the_entry_url_refuses_a_week_from_nowhere(alice_client, metric, week):
    response = alice_client.post(save_url(metric, week), {"value": "12"}, **HTMX)
    assert response.status_code == 422
    assert "too far back" in response.content.decode()
    assert not Entry.objects.filter(metric=metric).exists()
    assert not RollupWeek.objects.filter(week__lt=weeks.FIRST_WEEK).exists()


def test_numbers_go_back_ten_years_before_the_metric_was_created(alice_client, metric):
    earliest = weeks.earliest_week(metric.created_at, metric.business.timezone)
    too_far = earliest - WEEK

    refused = alice_client.post(save_url(metric, too_far), {"value": "12"}, **HTMX)
    assert refused.status_code == 422
    text = refused.content.decode()
    assert too_far.isoformat() in text and earliest.isoformat() in text
    assert not Entry.objects.filter(metric=metric).exists()

    kept = alice_client.post(save_url(metric, earliest), {"value": "12"}, **HTMX)
    assert kept.status_code == 200
    assert Entry.objects.get(metric=metric).week == earliest


def test_the_this_week_form_offers_no_field_before_the_bound(alice_client, metric):
    url = reverse("metrics:this-week", kwargs={"slug": "acme"})
    earliest = weeks.earliest_week(metric.created_at, metric.business.timezone)

    def field(response) -> str:
        html = response.content.decode()
        start = html.rindex("<input", 0, html.index(f'name="value-{metric.pk}"'))
        return html[start : html.index(">", start)]

    before = alice_client.get(url, {"week": (earliest - WEEK).isoformat()})
    assert before.status_code == 200
    assert "disabled" in field(before)
    at = alice_client.get(url, {"week": earliest.isoformat()})
    assert "disabled" not in field(at)

    # A week from nowhere: the page says why, as for any week it cannot show.
    nowhere = alice_client.get(url, {"week": "0001-01-01"})
    assert nowhere.status_code == 422
    assert "too far back" in nowhere.content.decode()


def test_a_csv_line_before_the_bound_is_named_and_nothing_is_written(
    alice_client, metric
):
    earliest = weeks.earliest_week(metric.created_at, metric.business.timezone)
    text = (
        "metric,week,value\n"
        f"Webinar attendees,{earliest},3\n"
        "Webinar attendees,0001-01-01,4\n"
        f"Webinar attendees,{earliest - WEEK},5\n"
    )
    response = alice_client.post(IMPORT, upload(text))
    html = response.content.decode()
    # Lines 3 and 4 are refused, naming the column; line 2 (the bound) is not.
    assert "line 3" in html.lower() and "line 4" in html.lower()
    assert html.count("column “week”: The week of") == 2
    assert html.count("too far back") == 2
    assert f"from the week of {earliest.isoformat()} on" in html
    assert not Entry.objects.filter(metric=metric).exists()


def test_a_business_that_cannot_be_rolled_up_never_stops_the_catch_up(
    acme, other_co, caplog
):
    """A week from nowhere saved before the bound existed (written here as the
    old code did): its rollup fails (dates overflow). The nightly catch-up logs
    it, leaves it stale, and rolls up everything else: the same business's
    other weeks and the other businesses'."""
    last = weeks.last_week(acme.timezone)
    broken = MetricFactory(business=acme, first_week=last, goal=5)
    fine = MetricFactory(business=other_co, first_week=last, goal=5)
    EntryFactory(metric=broken, week=last, value=7)
    EntryFactory(metric=fine, week=last, value=3)
    nowhere = date(1, 1, 1)
    EntryFactory(metric=broken, week=nowhere, value=1)
    RollupWeek.objects.create(business=acme, week=nowhere, stale_since=timezone.now())
    rollup.mark_stale(business_id=acme.id, week=last)
    rollup.mark_stale(business_id=other_co.id, week=last)
    with pytest.raises(OverflowError):
        rollup.rollup_business_week(acme.id, nowhere)

    with caplog.at_level(logging.ERROR, logger="metrics.recompute"):
        done = tasks.rollup_catch_up()

    stale = rollup.stale_business_weeks()
    assert stale == [(acme.id, nowhere)]
    assert done >= 2
    assert MetricWeek.objects.get(metric=broken, week=last).status == "on"
    assert MetricWeek.objects.get(metric=fine, week=last).status == "off"
    failures = [r for r in caplog.records if r.name == "metrics.recompute"]
    assert len(failures) == 1
    assert str(acme.id) in failures[0].getMessage()
    assert failures[0].exc_info[0] is OverflowError


def test_a_chunk_goes_on_business_by_business_after_a_failure(acme, other_co):
    last = weeks.last_week(acme.timezone)
    for business in (acme, other_co):
        EntryFactory(
            metric=MetricFactory(business=business, first_week=last), week=last
        )
    # The week from nowhere fails for both; the good week for both.
    assert recompute.roll_up([acme.id, other_co.id], date(1, 1, 1)) == 0
    assert recompute.roll_up([acme.id, other_co.id], last) == 2
