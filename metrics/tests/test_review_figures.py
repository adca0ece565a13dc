"""The weekly review's figures: drawn once per rollup and served from the cache
until anything they show changes; the same numbers as the rollup rows, formatted
as the README says; the scorecard from each metric's first tracked week."""

import re
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from html import unescape

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.formats import number_format
from hypothesis import given, settings
from hypothesis import strategies as st

from hourglass.models import Membership, User
from metrics import rollup, weeks
from metrics.models import Metric, MetricWeek
from metrics.templatetags.review import Numbers, format_value
from metrics.tests.factories import EntryFactory, MetricFactory
from metrics.tests.utils import cached_figures, unescaped_text_of
from systemmaps.models import Node, SystemMap

REVIEW_PARTS = ("metrics/_review_figures.html", "metrics/_scorecard.html")


def review_url(business, week) -> str:
    return reverse("metrics:review-week", args=[business.slug, week.isoformat()])


def score_row(html: str, metric_pk: int) -> str:
    match = re.search(
        rf'<tr data-testid="score-row" data-metric="{metric_pk}".*?</tr>', html, re.S
    )
    assert match, f"no scorecard row for metric {metric_pk}"
    return match.group(0)


def get(client, url, **extra):
    """The page, the templates rendered for it and the SQL it ran."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    assert response.status_code == 200
    templates = [t.name for t in response.templates]
    return response.content.decode(), templates, [q["sql"] for q in queries]


def roll(business, *weeks_):
    for week in weeks_:
        rollup.rollup_business_week(business.pk, week)


@pytest.fixture
def tracked(acme, alice_membership, bob_membership, last_week):
    """Two count metrics of acme with five weeks of numbers, rolled up."""
    first = last_week - weeks.WEEK * 4
    attendees = MetricFactory(
        business=acme,
        name="Webinar attendees",
        goal=40,
        owner=alice_membership,
        stage="try",
        first_week=first,
    )
    booked = MetricFactory(
        business=acme,
        name="Consultations booked",
        goal=10,
        owner=bob_membership,
        stage="try",
        first_week=first,
    )
    for back in range(5):
        week = last_week - weeks.WEEK * back
        EntryFactory(metric=attendees, week=week, value=1200 + back)
        EntryFactory(metric=booked, week=week, value=8 - back)
    roll(acme, *weeks.weeks_back(last_week, 5))
    return {"attendees": attendees, "booked": booked}


# ---------------------------------------------------------------------------
# Cached until a rollup finishes
# ---------------------------------------------------------------------------


def test_a_cached_review_is_served_without_drawing_it_again(
    alice_client, acme, tracked, last_week
):
    url = review_url(acme, last_week)
    first, templates, queries = get(alice_client, url)
    assert all(name in templates for name in REVIEW_PARTS)
    assert any("metrics_metricweek" in sql for sql in queries)

    again, templates, cached_queries = get(alice_client, url)
    # No template of the figures rendered, no rollup row read: from the cache.
    assert not set(REVIEW_PARTS) & set(templates)
    assert not any("metrics_metricweek" in sql for sql in cached_queries)
    assert len(cached_queries) < len(queries)
    assert score_row(again, tracked["attendees"].pk) == score_row(
        first, tracked["attendees"].pk
    )
    assert again.count('data-testid="score-row"') == 2


def test_the_meeting_and_its_print_page_share_their_cached_scorecard(
    alice_client, acme, tracked, last_week
):
    meeting = reverse("metrics:meeting", args=[acme.slug, last_week.isoformat()])
    printed = reverse("metrics:meeting-print", args=[acme.slug, last_week.isoformat()])
    html, templates, _ = get(alice_client, meeting)
    assert "metrics/_meeting_scorecard.html" in templates
    assert "scorecard-compact" in html
    html, templates, queries = get(alice_client, printed)
    assert "metrics/_meeting_scorecard.html" not in templates
    assert not any("metrics_metricweek" in sql for sql in queries)
    assert score_row(html, tracked["booked"].pk)


def test_a_finished_rollup_changes_what_is_served_at_once(
    alice_client, acme, tracked, last_week
):
    url = review_url(acme, last_week)
    attendees = tracked["attendees"]
    assert "1,200 ✓ on track" in unescaped_text_of(
        score_row(get(alice_client, url)[0], attendees.pk)
    )

    entry = attendees.entries.get(week=last_week)
    entry.value = 17
    entry.save()
    rollup.mark_stale(business_id=acme.pk, week=last_week)
    html = get(alice_client, url)[0]
    # Stale: the page says so, and shows the figures of the last rollup.
    assert "Numbers changed since the last rollup." in html
    assert "1,200 ✓ on track" in unescaped_text_of(score_row(html, attendees.pk))

    roll(acme, last_week)
    html, templates, _ = get(alice_client, url)
    assert "metrics/_review_figures.html" in templates
    assert "17 ✕ off track" in unescaped_text_of(score_row(html, attendees.pk))
    assert "Numbers changed since the last rollup." not in html


def test_a_rollup_of_an_earlier_week_on_the_scorecard_changes_it_too(
    alice_client, acme, tracked, last_week
):
    url = review_url(acme, last_week)
    booked = tracked["booked"]
    three_back = last_week - weeks.WEEK * 3
    get(alice_client, url)
    # Only that week is recomputed (the week reviewed keeps its rollup time).
    booked.entries.filter(week=three_back).update(value=99)
    roll(acme, three_back)
    row = unescaped_text_of(score_row(get(alice_client, url)[0], booked.pk))
    assert "99 ✓ on track" in row


@pytest.mark.parametrize(
    "rename",
    [
        lambda m: Metric.objects.filter(pk=m.pk).update(name="Webinar seats"),
        lambda m: User.objects.filter(memberships__metrics=m).update(
            name="Alicia Archer"
        ),
        lambda m: Metric.objects.filter(pk=m.pk).update(position=10_000),
    ],
    ids=["metric renamed", "owner renamed", "metric moved last"],
)
def test_todays_names_show_at_once_without_a_rollup(
    rename, alice_client, acme, tracked, last_week
):
    url = review_url(acme, last_week)
    before = get(alice_client, url)[0]
    rename(tracked["attendees"])
    after, templates, _ = get(alice_client, url)
    assert "metrics/_review_figures.html" in templates
    assert after != before
    names = [
        Metric.objects.get(pk=pk).name
        for pk in re.findall(r'data-testid="score-row" data-metric="(\d+)"', after)
    ]
    assert names == list(
        acme.metrics.order_by("position", "name").values_list("name", flat=True)
    )
    owner = Membership.objects.get(pk=tracked["attendees"].owner_id).user.name
    assert owner in unescaped_text_of(score_row(after, tracked["attendees"].pk))


def test_a_renamed_map_and_step_metric_show_at_once(
    alice_client, acme, webinar_map, last_week
):
    steps = {n.client_id: n for n in Node.objects.filter(map=webinar_map)}
    for client_id, name, value in (
        ("start", "Registrations", 100),
        ("call", "Calls", 20),
    ):
        metric = MetricFactory(
            business=acme,
            name=name,
            step=steps[client_id],
            stage="try",
            first_week=last_week,
        )
        EntryFactory(metric=metric, week=last_week, value=value)
    roll(acme, last_week)
    url = review_url(acme, last_week)
    assert "Webinar to client" in get(alice_client, url)[0]
    SystemMap.objects.filter(pk=webinar_map.pk).update(name="Webinar funnel")
    Metric.objects.filter(name="Calls").update(name="Calls held")
    html, templates, _ = get(alice_client, url)
    assert "metrics/_review_figures.html" in templates
    part = unescaped_text_of(html[html.index('<div class="conv-map"') :])
    assert part.startswith("Webinar funnel ⬇ Biggest drop-off")
    assert "(Calls held)" in part


# ---------------------------------------------------------------------------
# What a cached rendering may hold, and who shares it
# ---------------------------------------------------------------------------


@override_settings(LANGUAGES=[("en", "English"), ("fr", "Français")])
def test_two_languages_do_not_share_a_rendering(alice_client, acme, tracked, last_week):
    url = review_url(acme, last_week)
    french = get(alice_client, url, HTTP_ACCEPT_LANGUAGE="fr")[0]
    english, templates, _ = get(alice_client, url, HTTP_ACCEPT_LANGUAGE="en")
    assert "metrics/_review_figures.html" in templates
    attendees = tracked["attendees"].pk
    assert "1\xa0200" in unescape(score_row(french, attendees))
    assert "1,200" in score_row(english, attendees)
    assert "1,200" not in score_row(french, attendees)
    # Each is cached on its own: asked again, each comes back in its language.
    again, templates, _ = get(alice_client, url, HTTP_ACCEPT_LANGUAGE="fr")
    assert "metrics/_review_figures.html" not in templates
    assert "1\xa0200" in unescape(score_row(again, attendees))


def test_a_member_and_an_editor_do_not_share_a_rendering(
    client_for, alice, bob, acme, tracked, last_week
):
    """The figures an editor sees link the missing numbers to everybody's form;
    a member's link to their own."""
    MetricFactory(business=acme, name="Unfilled", goal=1, first_week=last_week)
    roll(acme, last_week)
    url = review_url(acme, last_week)
    owner, member = client_for(alice), client_for(bob)
    assert "who=all" in get(owner, url)[0]
    page, templates, _ = get(member, url)
    assert "metrics/_review_figures.html" in templates
    assert "who=all" not in page
    assert 'data-testid="enter-missing"' in page
    assert "who=all" in get(owner, url)[0]


def test_the_cached_rendering_holds_nothing_of_the_viewer(
    alice_client, erin_client, acme, alice_membership, tracked, last_week
):
    """Erin (an editor who owns no metric) shares the figures alice's visit
    cached; her page has her own name and CSRF token, the rendering neither."""
    url = review_url(acme, last_week)
    get(alice_client, url)
    erin_page, templates, _ = get(erin_client, url)
    assert "metrics/_review_figures.html" not in templates

    stored = cached_figures(acme, alice_membership, last_week)
    html = b"".join(stored.values()).decode()
    token = re.search(r'"X-CSRFToken": "([^"]+)"', erin_page).group(1)
    assert "Erin Edwards" in erin_page and token in erin_page
    for personal in ("Erin Edwards", "erin@example.com", token, "csrfmiddlewaretoken"):
        assert personal not in html
    assert 'data-testid="freshness"' not in html
    assert 'class="messages"' not in html


def test_a_message_shows_on_the_page_not_in_the_cached_rendering(
    bob_client, acme, bob_membership, tracked, last_week, dead_broker
):
    url = review_url(acme, last_week)
    rollup.mark_stale(business_id=acme.pk, week=last_week)
    bob_client.post(
        reverse("metrics:review-recompute", args=[acme.slug, last_week.isoformat()]),
        HTTP_HX_REQUEST="true",
    )
    page = get(bob_client, url)[0]
    assert "The task queue could not be reached" in page
    stored = b"".join(cached_figures(acme, bob_membership, last_week).values())
    assert b"task queue" not in stored
    assert "The task queue could not be reached" not in get(bob_client, url)[0]


# ---------------------------------------------------------------------------
# The numbers shown are the rollup's
# ---------------------------------------------------------------------------


def independent_format(value: Decimal | None, unit: str) -> str:
    """The README's display rules, written here apart from the app's code: counts
    with up to two decimals, percent and hours with one, money in euros with
    cents unless whole; thousands grouped with commas, trailing zeros dropped."""
    if value is None:
        return "—"

    def grouped(number: Decimal, places: int) -> str:
        number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        text = f"{number:,.{places}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text

    if unit == "money":
        cents = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        whole = cents == cents.to_integral_value()
        return f"€{cents:,.0f}" if whole else f"€{cents:,.2f}"
    if unit == "percent":
        return f"{grouped(value, 1)}\xa0%"
    if unit == "duration":
        return f"{grouped(value, 1)}\xa0h"
    return grouped(value, 2)


def test_every_number_shown_is_its_rollup_row_formatted_as_the_readme_says(
    alice_client, acme, alice_membership, last_week
):
    values = [
        Decimal("1234.5"),
        Decimal("0.05"),
        Decimal("999999.99"),
        Decimal("12"),
        Decimal("1000000"),
        Decimal("7.25"),
    ]
    metrics = [
        MetricFactory(
            business=acme,
            name=f"A {unit} metric",
            unit=unit,
            goal=Decimal("500.5"),
            owner=alice_membership,
            first_week=last_week - weeks.WEEK * 5,
        )
        for unit in ("count", "money", "percent", "duration")
    ]
    for shift, metric in enumerate(metrics):
        for back in range(6):
            value = values[(back + shift) % len(values)]
            if metric.unit == "percent":
                value = value % 100
            EntryFactory(metric=metric, week=last_week - weeks.WEEK * back, value=value)
    roll(acme, *weeks.weeks_back(last_week, 6))

    html = get(alice_client, review_url(acme, last_week))[0]
    for metric in metrics:
        row = unescape(score_row(html, metric.pk))
        cells = re.findall(
            r'<td data-label="[^"]*" class="num cell cell-\w+">([^<]*) <span', row
        )
        rows = list(MetricWeek.objects.filter(metric=metric).order_by("week"))
        assert cells == [independent_format(r.value, metric.unit) for r in rows]
        this_week = re.search(r'data-testid="this-week">([^<]*) <span', row)
        assert this_week.group(1) == independent_format(rows[-1].value, metric.unit)
        goal, average = re.findall(
            r'<td class="num sc-(?:goal|avg)" data-label="[^"]*">([^<]*)</td>', row
        )
        assert goal == independent_format(rows[-1].goal, metric.unit)
        assert average == independent_format(rows[-1].avg_4, metric.unit)


@settings(max_examples=300, deadline=None)
@given(
    value=st.decimals(min_value=-(10**14), max_value=10**14, places=4, allow_nan=False),
    places=st.integers(min_value=0, max_value=3),
    language=st.sampled_from(["en", "fr", "de", "hi", "ja", "pt-br"]),
)
def test_numbers_are_written_as_number_format_writes_them(value, places, language):
    with translation.override(language):
        assert Numbers().grouped(value, places) == number_format(
            value, decimal_pos=places, force_grouping=True
        )


def test_format_value_by_unit():
    with translation.override("en"):
        assert format_value(Decimal("1250"), "money", "EUR") == "€1,250"
        assert format_value(Decimal("1250.5"), "money", "EUR") == "€1,250.50"
        assert format_value(Decimal("4999999.5"), "money", "KRW") == "₩5,000,000"
        assert format_value(Decimal("12.25"), "percent", "EUR") == "12.3\xa0%"
        assert format_value(Decimal("3.5"), "duration", "EUR") == "3.5\xa0h"
        assert format_value(Decimal("1234.50"), "count", "EUR") == "1,234.5"
        assert format_value(None, "count", "EUR") == "—"
    with translation.override("de"):
        assert format_value(Decimal("1234.5"), "count", "EUR") == "1.234,5"


# ---------------------------------------------------------------------------
# From each metric's first tracked week
# ---------------------------------------------------------------------------


def week_columns(html: str) -> list[str]:
    return re.findall(
        r'<th scope="col" class="num sc-week[^"]*"><a href="[^"]*/'
        r'(\d{4}-\d\d-\d\d)/"',
        html,
    )


def test_the_columns_start_at_the_earliest_tracked_week(
    alice_client, acme, tracked, last_week
):
    html = get(alice_client, review_url(acme, last_week))[0]
    shown = [w.isoformat() for w in weeks.weeks_back(last_week, 5)]
    assert week_columns(html) == shown
    assert "5 weeks" in unescaped_text_of(html)
    row = score_row(html, tracked["attendees"].pk)
    assert row.count('class="num cell cell-') == 1 + 5  # this week, and 5 weeks
    assert "cell-before" not in row


def test_weeks_before_a_metrics_first_week_read_not_tracked_yet(
    alice_client, acme, tracked, last_week
):
    newer = MetricFactory(
        business=acme, name="Trials", goal=3, stage="try", first_week=last_week
    )
    EntryFactory(metric=newer, week=last_week, value=4)
    roll(acme, last_week)
    html = get(alice_client, review_url(acme, last_week))[0]
    assert len(week_columns(html)) == 5
    row = score_row(html, newer.pk)
    before = re.findall(
        r'<td data-label="[^"]*" class="num cell cell-before">(.*?)</td>', row
    )
    assert len(before) == 4
    assert all(
        unescaped_text_of(cell) == "· not tracked yet"
        and '<span class="visually-hidden">not tracked yet</span>' in cell
        and 'aria-hidden="true">·' in cell
        for cell in before
    )
    # Its real week is the last column, where this week's number is.
    assert row.endswith("on track</span></td></tr>")
    assert "4 ✓ on track" in unescaped_text_of(row)


def test_a_metric_that_starts_after_the_week_is_listed_as_not_tracked_yet(
    alice_client, acme, tracked, last_week, this_week
):
    later = MetricFactory(
        business=acme, name="Referrals", goal=2, stage="refer", first_week=this_week
    )
    html = get(alice_client, review_url(acme, last_week))[0]
    row = score_row(html, later.pk)
    assert 'data-status="none"' in row
    this_week_cell = re.search(r'data-testid="this-week">(.*?)</td>', row).group(1)
    assert unescaped_text_of(this_week_cell) == "not tracked yet"
    assert row.count("cell-before") == 6  # this week's cell and the 5 columns
    # Not counted in the week: the summary counts the two tracked metrics.
    summary = re.search(r'data-testid="scorecard-summary">(.*?)</p>', html, re.S)
    assert unescaped_text_of(summary.group(1)).startswith("2 metrics")


def test_a_week_before_any_tracking_says_so_and_links_to_the_first_tracked_week(
    alice_client, acme, last_week, this_week
):
    MetricFactory(business=acme, name="Leads", first_week=this_week)
    html = get(alice_client, review_url(acme, last_week))[0]
    assert 'data-testid="review-not-tracked-yet"' in html
    assert 'data-testid="scorecard"' not in html
    text = unescaped_text_of(html)
    first = this_week.strftime("%-d %b %Y")
    assert f"the first numbers are for the week of {first}" in text
    link = re.search(r'href="([^"]+)" data-testid="first-tracked-week"', html)
    assert link.group(1) == review_url(acme, this_week)

    meeting = alice_client.get(
        reverse("metrics:meeting", args=[acme.slug, last_week.isoformat()])
    ).content.decode()
    assert 'data-testid="not-tracked-yet"' in meeting


def test_an_archived_metric_before_the_window_is_not_listed(
    alice_client, acme, tracked, last_week
):
    old = MetricFactory(
        business=acme,
        name="Flyers handed out",
        first_week=last_week - weeks.WEEK * 30,
        archived_on=last_week - weeks.WEEK * 20 + timedelta(days=1),
    )
    html = get(alice_client, review_url(acme, last_week))[0]
    assert f'data-metric="{old.pk}"' not in html
