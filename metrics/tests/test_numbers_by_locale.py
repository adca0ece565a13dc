"""Numbers, money and dates in each of the app's languages (issue 15, point 3):
what a person types in the This week form, a metric's goal, and what the
numbers and review pages show. Expected texts are written by hand from each
language's rules (CLDR), not computed with the code under test."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from hourglass.tests.utils import as_said
from metrics import rollup, weeks
from metrics.models import Entry, Metric
from metrics.tests.factories import EntryFactory, MetricFactory, metric_form_data

NBSP = "\u00a0"

# A money metric: 1250.5 needs its cents.
TYPED_1250_5 = [
    ("fr", "1 250,5"),
    ("fr", "1\u202f250,5"),  # the narrow no-break space a French keyboard gives
    ("fr", "1\u00a0250,50"),
    ("fr", "1250,5"),
    ("pl", "1 250,5"),
    ("pl", "1.250,5"),
    ("ro", "1.250,5"),
    ("ro", "1250,5"),
    ("en", "1,250.5"),
    ("en", "1250.50"),
    ("ko", "1,250.5"),
    # Both marks can only be read one way, whichever language is spoken.
    ("fr", "1,250.5"),
    ("en", "1.250,5"),
]

# "1.250": a thousand where "." groups (Romanian); anywhere else it could be
# 1250 or 1.25, and the person is asked which, in their own forms.
AMBIGUOUS = [
    ("fr", "1.250", "“1.250” could be 1 250 or 1,25"),
    ("pl", "1.250", "“1.250” could be 1 250 or 1,25"),
    ("ko", "1.250", "“1.250” could be 1,250 or 1.25"),
    ("en", "1.250", "“1.250” could be 1,250 or 1.25"),
    ("ro", "1,250", "“1,250” could be 1.250 or 1,25"),
    ("fr", "1,250", "“1,250” could be 1 250 or 1,25"),
]

FR_MONTHS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()  # noqa: E501
PL_MONTHS = "stycznia lutego marca kwietnia maja czerwca lipca sierpnia września października listopada grudnia".split()  # noqa: E501
RO_MONTHS = "ianuarie februarie martie aprilie mai iunie iulie august septembrie octombrie noiembrie decembrie".split()  # noqa: E501
EN_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def long_date(language: str, day) -> str:
    """The week's date as each language writes it in full."""
    if language == "fr":
        return f"{day.day} {FR_MONTHS[day.month - 1]} {day.year}"
    if language == "pl":
        return f"{day.day} {PL_MONTHS[day.month - 1]} {day.year}"
    if language == "ro":
        return f"{day.day} {RO_MONTHS[day.month - 1]} {day.year}"
    if language == "ko":
        return f"{day.year}년 {day.month}월 {day.day}일"
    return f"{day.day} {EN_MONTHS[day.month - 1]} {day.year}"


def speaks(user, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


def save_url(metric, week) -> str:
    return reverse(
        "metrics:entry-save",
        kwargs={"slug": metric.business.slug, "pk": metric.pk, "week": str(week)},
    )


@pytest.fixture
def sales(acme, alice, alice_membership):
    """Sales in euros, owned by alice."""
    return MetricFactory(
        business=acme,
        name="Sales",
        unit="money",
        goal=1000,
        owner=alice_membership,
        stage="buy",
        first_week=weeks.current_week(acme.timezone) - weeks.WEEK * 8,
        created_by=alice,
    )


# ---------------------------------------------------------------------------
# Typing a number: the entry field (htmx), the whole form, the goal
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "typed"), TYPED_1250_5)
def test_a_number_typed_the_local_way_is_stored_as_meant(
    alice_client, alice, sales, this_week, language, typed
):
    speaks(alice, language)

    response = alice_client.post(
        save_url(sales, this_week),
        {f"value-{sales.pk}": typed},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200, response.content.decode()
    assert Entry.objects.get(metric=sales).value == Decimal("1250.50")


@pytest.mark.parametrize(
    ("language", "shown"),
    [("fr", "1250,5"), ("pl", "1250,5"), ("ro", "1250,5"), ("ko", "1250.5")],
)
def test_the_saved_number_comes_back_typed_the_local_way(
    alice_client, alice, sales, this_week, language, shown
):
    speaks(alice, language)
    EntryFactory(metric=sales, week=this_week, value=Decimal("1250.50"))

    html = alice_client.get(
        reverse("metrics:this-week", args=["acme"]), {"week": str(this_week)}
    ).content.decode()

    assert f'name="value-{sales.pk}" id="value-{sales.pk}" value="{shown}"' in html
    # Posting the page back as it is changes nothing.
    response = alice_client.post(
        reverse("metrics:this-week", args=["acme"]) + f"?week={this_week}",
        {"week": str(this_week), f"value-{sales.pk}": shown},
    )
    assert response.status_code == 302
    assert Entry.objects.get(metric=sales).value == Decimal("1250.50")


@pytest.mark.parametrize(("language", "typed", "message"), AMBIGUOUS)
def test_a_number_that_could_be_a_thousand_is_asked_about_never_stored(
    alice_client, alice, sales, this_week, language, typed, message
):
    speaks(alice, language)

    response = alice_client.post(
        save_url(sales, this_week),
        {f"value-{sales.pk}": typed},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert as_said(language, f"Sales: {message}") in html
    assert not Entry.objects.exists()


def test_a_dot_groups_thousands_in_romanian(alice_client, alice, sales, this_week):
    speaks(alice, "ro")

    response = alice_client.post(
        save_url(sales, this_week),
        {f"value-{sales.pk}": "1.250"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    assert Entry.objects.get(metric=sales).value == Decimal("1250")


@pytest.mark.parametrize("language", ["fr", "ro", "pl", "ko"])
def test_a_thousand_of_won_typed_with_a_dot_is_never_one_won_and_a_quarter(
    alice_client, alice, acme, sales, this_week, language
):
    acme.currency = "KRW"
    acme.save()
    speaks(alice, language)

    alice_client.post(
        save_url(sales, this_week),
        {f"value-{sales.pk}": "1.250"},
        HTTP_HX_REQUEST="true",
    )

    assert list(Entry.objects.values_list("value", flat=True)) in ([], [1250])


def test_the_whole_form_names_the_metric_and_keeps_what_was_typed(
    alice_client, alice, sales, metric, this_week
):
    speaks(alice, "pl")

    response = alice_client.post(
        reverse("metrics:this-week", args=["acme"]) + f"?week={this_week}",
        {
            "week": str(this_week),
            f"value-{sales.pk}": "1.250",
            f"value-{metric.pk}": "12",
        },
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert as_said("pl", "Sales: “1.250” could be 1 250 or 1,25") in html
    assert 'value="1.250"' in html
    assert not Entry.objects.exists()


def test_a_problem_after_reading_says_how_the_number_was_read(
    alice_client, alice, metric, this_week
):
    speaks(alice, "fr")

    response = alice_client.post(
        save_url(metric, this_week),
        {f"value-{metric.pk}": "1 250,5"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 422
    # A count is whole: the message shows 1 250,5 was read, and names the metric.
    assert as_said("fr", "Webinar attendees: read as 1 250,5:") in (
        response.content.decode()
    )
    assert not Entry.objects.exists()


def test_something_that_is_not_a_number_is_shown_how_to_type_one(
    alice_client, alice, sales, this_week
):
    speaks(alice, "ro")

    response = alice_client.post(
        save_url(sales, this_week),
        {f"value-{sales.pk}": "12.5"},  # "." groups thousands in Romanian
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 422
    assert "1.250,5" in response.content.decode()
    assert not Entry.objects.exists()


@pytest.mark.parametrize(
    ("language", "typed", "stored"),
    [
        ("fr", "1 250", 1250),
        ("pl", "1.250.000", 1250000),
        ("ro", "1.250", 1250),
        ("en", "1,250", 1250),
        ("ko", "12,500", 12500),
    ],
)
def test_a_goal_typed_the_local_way_is_stored_as_meant(
    alice_client, alice, language, typed, stored
):
    speaks(alice, language)

    response = alice_client.post(
        reverse("metrics:metric-create", args=["acme"]),
        metric_form_data(goal=typed),
    )

    assert response.status_code == 302, response.content.decode()
    assert Metric.objects.get().goal == stored


@pytest.mark.parametrize(("language", "typed", "message"), AMBIGUOUS[:3])
def test_an_ambiguous_goal_is_refused_naming_the_field(
    alice_client, alice, language, typed, message
):
    from django.utils import translation

    from metrics.forms import MetricForm

    speaks(alice, language)
    with translation.override(language):
        label = str(MetricForm.base_fields["goal"].label)

    response = alice_client.post(
        reverse("metrics:metric-create", args=["acme"]),
        metric_form_data(goal=typed),
    )

    assert response.status_code == 422
    assert as_said(language, f"{label}: {message}") in response.content.decode()
    assert not Metric.objects.exists()


# ---------------------------------------------------------------------------
# Money and dates on the review and numbers pages
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "currency", "value", "shown"),
    [
        ("en", "EUR", "1650", "€1,650"),
        ("en", "PLN", "1650.5", f"PLN{NBSP}1,650.50"),
        ("fr", "EUR", "1650", f"1{NBSP}650{NBSP}€"),
        ("pl", "PLN", "1650.5", f"1{NBSP}650,50{NBSP}zł"),
        ("ro", "RON", "1650", f"1.650{NBSP}RON"),
        ("ko", "KRW", "1650", "₩1,650"),
    ],
)
def test_money_on_the_review_is_written_the_local_way(
    client, alice, acme, sales, last_week, language, currency, value, shown
):
    acme.currency = currency
    acme.save()
    EntryFactory(metric=sales, week=last_week, value=Decimal(value))
    rollup.rollup_business_week(acme.pk, last_week)
    client.force_login(alice)
    speaks(alice, language)

    html = client.get(
        reverse("metrics:review-week", args=["acme", last_week.isoformat()])
    ).content.decode()

    row = re.search(
        rf'<tr data-testid="score-row" data-metric="{sales.pk}".*?</tr>', html, re.S
    )
    assert row and shown in row.group(0)


@pytest.mark.parametrize(
    ("accept", "percent"),
    [("fr-FR", f"12,5{NBSP}%"), ("en-GB", f"12.5{NBSP}%"), ("pl", f"12,5{NBSP}%")],
)
def test_a_percent_follows_the_browser_language(
    client, alice, acme, last_week, accept, percent
):
    conversion = MetricFactory(
        business=acme,
        name="Conversion",
        unit="percent",
        stage="buy",
        first_week=last_week - weeks.WEEK * 8,
    )
    EntryFactory(metric=conversion, week=last_week, value=Decimal("12.5"))
    rollup.rollup_business_week(acme.pk, last_week)
    client.force_login(alice)  # alice has no saved language: the browser's

    html = client.get(
        reverse("metrics:review-week", args=["acme", last_week.isoformat()]),
        HTTP_ACCEPT_LANGUAGE=accept,
    ).content.decode()

    assert percent in html


@pytest.mark.parametrize("language", ["en", "fr", "pl", "ro", "ko"])
def test_the_review_writes_its_dates_in_one_local_style(
    alice_client, alice, acme, metric, last_week, language
):
    speaks(alice, language)

    html = alice_client.get(
        reverse("metrics:review-week", args=["acme", last_week.isoformat()])
    ).content.decode()

    # Django's Romanian catalogue capitalises month names ("30 Noiembrie
    # 2026"), where Romanian writes them in lower case: the order is checked.
    if language == "ro":
        assert long_date(language, last_week).lower() in html.lower()
    else:
        assert long_date(language, last_week) in html
    # Neither Django's American English style nor a bare ISO date in the text.
    assert not re.search(r"\b[A-Z][a-z]{2}\. \d{1,2}, \d{4}", html)
    assert not re.search(r"\b(a|p)\.m\.", html)


@pytest.mark.parametrize("language", ["en", "fr", "pl", "ro"])
def test_saved_at_is_a_24_hour_time(alice_client, alice, sales, this_week, language):
    speaks(alice, language)

    html = alice_client.post(
        save_url(sales, this_week), {f"value-{sales.pk}": "5"}, HTTP_HX_REQUEST="true"
    ).content.decode()

    status = re.search(r'class="entry-saved">(.*?)</span>(?=</|\s*<)', html, re.S)
    assert status, html
    assert re.search(r"\b([01]\d|2[0-3]):[0-5]\d\b", html)
    assert "a.m." not in html and "p.m." not in html


def test_the_numbers_page_heading_dates_are_local(
    alice_client, alice, metric, this_week
):
    speaks(alice, "fr")

    html = alice_client.get(
        reverse("metrics:this-week", args=["acme"]), {"week": str(this_week)}
    ).content.decode()

    assert long_date("fr", this_week) in html
