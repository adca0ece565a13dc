"""Entry services and the entry-save endpoint (one field of the This week form)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from hourglass.tests.utils import elements
from metrics import services, weeks
from metrics.models import Entry, EntryRevision, Metric, RollupWeek
from metrics.numbers import parse_value


def save_url(metric, week) -> str:
    return reverse(
        "metrics:entry-save",
        kwargs={"slug": metric.business.slug, "pk": metric.pk, "week": str(week)},
    )


# ---------------------------------------------------------------------------
# entry_record
# ---------------------------------------------------------------------------


def test_record_creates_an_entry_with_who_and_when(metric, alice, this_week):
    result = services.entry_record(
        metric=metric, week=this_week, value=Decimal(42), acting_user=alice
    )

    entry = Entry.objects.get()
    assert result.changed and result.entry == entry
    assert (entry.value, entry.week, entry.entered_by) == (42, this_week, alice)
    assert entry.business_id == metric.business_id
    assert not EntryRevision.objects.exists()


def test_an_edit_keeps_the_previous_value_in_the_audit_trail(
    metric, alice, erin, this_week
):
    first = services.entry_record(
        metric=metric, week=this_week, value=40, acting_user=alice
    )
    services.entry_record(
        metric=metric, week=this_week, value=Decimal(45), acting_user=erin
    )

    entry = Entry.objects.get()
    revision = EntryRevision.objects.get()
    assert (entry.value, entry.entered_by) == (45, erin)
    assert (revision.value, revision.entered_by, revision.replaced_by) == (
        40,
        alice,
        erin,
    )
    assert revision.entered_at == first.entry.entered_at


def test_the_same_value_again_changes_nothing_and_queues_nothing(
    metric, alice, erin, this_week, django_capture_on_commit_callbacks
):
    services.entry_record(metric=metric, week=this_week, value=40, acting_user=alice)
    with django_capture_on_commit_callbacks() as callbacks:
        result = services.entry_record(
            metric=metric, week=this_week, value=Decimal("40.00"), acting_user=erin
        )

    assert not result.changed and result.queued is None
    assert callbacks == []
    assert Entry.objects.get().entered_by == alice
    assert not EntryRevision.objects.exists()


def test_clearing_keeps_the_entry_empty_with_a_revision(metric, alice, this_week):
    services.entry_record(metric=metric, week=this_week, value=40, acting_user=alice)
    result = services.entry_record(
        metric=metric, week=this_week, value=None, acting_user=alice
    )

    assert result.changed
    assert Entry.objects.get().value is None
    assert EntryRevision.objects.get().value == 40


def test_clearing_a_week_without_a_number_writes_nothing(metric, alice, this_week):
    result = services.entry_record(
        metric=metric, week=this_week, value=None, acting_user=alice
    )

    assert (result.entry, result.changed) == (None, False)
    assert not Entry.objects.exists()


def test_backfilling_an_earlier_week_lowers_the_first_week(metric, alice):
    early = metric.first_week - weeks.WEEK * 3
    services.entry_record(metric=metric, week=early, value=5, acting_user=alice)

    metric.refresh_from_db()
    assert metric.first_week == early


def test_a_write_marks_the_week_stale_and_queues_the_rollup_on_commit(
    metric, alice, this_week, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(
        "metrics.tasks.rollup_enqueue",
        lambda business_id, week: queued.append((business_id, week)) or True,
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = services.entry_record(
            metric=metric, week=this_week, value=3, acting_user=alice
        )

    assert RollupWeek.objects.get(week=this_week).stale_since is not None
    assert queued == [(metric.business_id, this_week)]
    assert result.queued is True


def test_an_unreachable_broker_still_saves_and_says_queued_false(
    metric, alice, this_week, django_capture_on_commit_callbacks, dead_broker
):
    # A broker nobody listens on: the real enqueue fails fast and reports it.
    with django_capture_on_commit_callbacks(execute=True):
        result = services.entry_record(
            metric=metric, week=this_week, value=3, acting_user=alice
        )

    assert result.queued is False
    assert Entry.objects.get().value == 3


# ---------------------------------------------------------------------------
# Value validation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "unit", "message"),
    [
        ("abc", "count", "“abc” is not a number."),
        ("-3", "count", "A number cannot be negative."),
        ("2.5", "count", "A count must be a whole number, like 12."),
        # Three decimals would read as a thousand too ("1.234"): see
        # hourglass/tests/test_numbers_by_locale.py.
        ("1.2345", "money", "Use at most 2 decimals for EUR."),
        ("12.55", "percent", "Use at most one decimal, like 12.5."),
        ("3.25", "duration", "Use at most one decimal, like 12.5."),
        ("1" * 13, "money", "This number is too large"),
        ("NaN", "count", "“NaN” is not a number."),
    ],
)
def test_bad_values_are_named(text, unit, message):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        parse_value(text, unit=unit, currency="EUR")
    assert message in error.value.messages[0]


@pytest.mark.parametrize("currency", ["KRW", "JPY", "HUF"])
def test_money_without_minor_units_takes_no_decimals(currency):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        parse_value("4999999.50", unit="money", currency=currency)
    assert error.value.messages == [
        f"read as 4,999,999.5: Amounts in {currency} have no decimals, like 5000."
    ]
    assert parse_value("5000000", unit="money", currency=currency) == 5000000


def test_good_values_parse():
    assert parse_value(" 12 ", unit="count", currency="EUR") == Decimal(12)
    assert parse_value("12.5", unit="percent", currency="EUR") == Decimal("12.50")
    assert parse_value("19.99", unit="money", currency="EUR") == Decimal("19.99")
    assert parse_value("", unit="count", currency="EUR") is None


# ---------------------------------------------------------------------------
# The entry-save endpoint
# ---------------------------------------------------------------------------


def test_htmx_save_answers_the_field_saved(bob_client, bob_metric, this_week):
    response = bob_client.post(
        save_url(bob_metric, this_week),
        {f"value-{bob_metric.pk}": "7"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Saved at" in html and f'id="entry-{bob_metric.pk}"' in html
    assert Entry.objects.get().value == 7


@pytest.mark.parametrize(
    ("typed", "said"), [("7", "Saved at"), ("abc", "not a number")]
)
def test_htmx_answer_fills_the_pages_status_line_out_of_band(
    bob_client, bob_metric, this_week, typed, said
):
    """The status line is the page's live region, outside the field htmx swaps:
    the answer fills its content in place (innerHTML) rather than sending a new
    one inside the field, which a screen reader would not announce."""
    response = bob_client.post(
        save_url(bob_metric, this_week),
        {f"value-{bob_metric.pk}": typed},
        HTTP_HX_REQUEST="true",
    )

    found = {a.get("id"): (a, up) for a, up in elements(response.content.decode())}
    status, ancestors = found[f"entry-{bob_metric.pk}-status"]
    assert status["hx-swap-oob"] == "innerHTML"
    assert "role" not in status
    assert f"entry-{bob_metric.pk}" not in [a.get("id") for a in ancestors]
    assert said in response.content.decode()
    assert f"value-{bob_metric.pk}" in found


def test_plain_post_saves_and_redirects_to_the_week(bob_client, bob_metric, this_week):
    response = bob_client.post(
        save_url(bob_metric, this_week), {f"value-{bob_metric.pk}": "7"}
    )

    assert response.status_code == 302
    assert f"week={this_week}" in response["Location"]
    assert Entry.objects.get().value == 7


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "“abc” is not a number."),
        ("-1", "cannot be negative"),
        ("1.5", "whole number"),
        ("99999999999999", "too large"),
    ],
)
def test_a_bad_value_comes_back_next_to_its_field(
    bob_client, bob_metric, this_week, text, message
):
    response = bob_client.post(
        save_url(bob_metric, this_week),
        {f"value-{bob_metric.pk}": text},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert message in html
    assert 'aria-invalid="true"' in html
    assert f'value="{text}"' in html
    assert not Entry.objects.exists()


def test_a_future_week_is_refused_with_the_week_message(
    alice_client, metric, this_week
):
    future = this_week + weeks.WEEK
    response = alice_client.post(
        save_url(metric, future), {"value": "3"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 422
    assert f"The week of {future} has not started yet." in response.content.decode()
    assert not Entry.objects.exists()


def test_a_bad_week_in_a_plain_post_is_422(alice_client, metric):
    response = alice_client.post(save_url(metric, "soon"), {"value": "3"})

    assert response.status_code == 422
    assert "is not a date" in response.content.decode()


def test_an_archived_metric_takes_no_number(alice_client, metric, alice, this_week):
    services.metric_archive(metric=metric, acting_user=alice)
    response = alice_client.post(
        save_url(metric, this_week), {"value": "3"}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 422
    assert "archived" in response.content.decode()
    assert not Entry.objects.exists()


def test_a_member_cannot_enter_someone_elses_metric(bob_client, metric, this_week):
    response = bob_client.post(save_url(metric, this_week), {"value": "3"})

    assert response.status_code == 403
    assert not Entry.objects.exists()


def test_a_member_may_enter_last_week_but_not_earlier(
    bob_client, bob_metric, last_week
):
    ok = bob_client.post(save_url(bob_metric, last_week), {"value": "3"})
    old = bob_client.post(save_url(bob_metric, last_week - weeks.WEEK), {"value": "4"})

    assert ok.status_code == 302
    assert old.status_code == 403
    assert list(Entry.objects.values_list("week", "value")) == [(last_week, 3)]


def test_an_editor_backfills_any_past_week(client_for, erin, bob_metric, this_week):
    early = this_week - weeks.WEEK * 30
    response = client_for(erin).post(save_url(bob_metric, early), {"value": "9"})

    assert response.status_code == 302
    assert Entry.objects.get().week == early


def test_an_outsider_gets_404(charlie_client, metric, this_week):
    response = charlie_client.post(save_url(metric, this_week), {"value": "3"})

    assert response.status_code == 404
    assert not Entry.objects.exists()


def test_a_metric_of_another_business_is_404(alice_client, other_metric, this_week):
    url = reverse(
        "metrics:entry-save",
        kwargs={"slug": "acme", "pk": other_metric.pk, "week": str(this_week)},
    )
    response = alice_client.post(url, {"value": "3"})

    assert response.status_code == 404
    assert not Entry.objects.filter(metric=other_metric).exists()


def test_get_is_not_allowed(alice_client, metric, this_week):
    assert alice_client.get(save_url(metric, this_week)).status_code == 405


def test_any_day_of_the_week_saves_to_its_monday(alice_client, metric, last_week):
    response = alice_client.post(
        save_url(metric, last_week + timedelta(days=3)), {"value": "3"}
    )

    assert response.status_code == 302
    assert Entry.objects.get().week == last_week


# Committed for real (as in production, where no outer transaction holds the
# request), so the enqueue runs on commit while the view still answers.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_broker_down_saves_the_number_says_so_and_the_catch_up_rolls_it_up(
    bob_client, bob_metric, this_week, dead_broker, htmx
):
    from metrics import tasks
    from metrics.models import MetricWeek

    headers = {"HX-Request": "true"} if htmx else {}
    response = bob_client.post(
        save_url(bob_metric, this_week),
        {f"value-{bob_metric.pk}": "7"},
        headers=headers,
        follow=not htmx,
    )

    assert response.status_code == 200
    assert "The dashboard will catch up within the night" in response.content.decode()
    assert Entry.objects.get(metric=bob_metric, week=this_week).value == 7
    assert RollupWeek.objects.get(week=this_week).stale_since is not None

    # That week, and every week the business expects numbers for since its
    # first metric's first week (none of them rolled up yet).
    first = min(Metric.objects.values_list("first_week", flat=True))
    assert tasks.rollup_catch_up() == (this_week - first).days // 7 + 1

    assert MetricWeek.objects.get(metric=bob_metric, week=this_week).value == 7
    assert RollupWeek.objects.get(week=this_week).stale_since is None
