"""The review end to end in real Chromium: a member enters this week's number in
the This week form, recomputes the dashboard, and sees it; and the scorecard is
one card per metric at phone width (its weeks behind a disclosure), a table on a
desktop."""

import pytest
from django.urls import reverse
from django.utils.formats import date_format
from playwright.sync_api import Page, expect

from hourglass.tests.utils import login_browser
from metrics import rollup, weeks
from metrics.models import Entry
from metrics.tests.factories import EntryFactory, MetricFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_the_phone(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_member_enters_a_number_and_the_dashboard_shows_it(
    page: Page,
    live_server,
    acme,
    bob,
    bob_metric,
    this_week,
    dead_broker,
):
    """The broker is down here (no worker runs in tests): the entry is saved, and
    *Recompute now* falls back to computing the rollup in the request, then
    htmx reloads the page."""
    login_browser(page, live_server, bob)
    page.goto(live_server.url + reverse("metrics:this-week", args=[acme.slug]))
    field = page.locator(f"#value-{bob_metric.pk}")
    field.fill("12")
    field.press("Tab")
    expect(page.locator(f"#entry-{bob_metric.pk}-status")).to_contain_text("Saved at")
    assert Entry.objects.get(metric=bob_metric, week=this_week).value == 12

    page.goto(
        live_server.url
        + reverse("metrics:review-week", args=[acme.slug, this_week.isoformat()])
    )
    expect(page.get_by_test_id("freshness")).to_contain_text("Not rolled up yet")
    page.evaluate("window.reviewMarker = 'before'")
    page.get_by_test_id("recompute").click()
    # HX-Refresh reloads the whole page: the marker is gone, the numbers are in.
    row = page.locator(f'[data-testid="score-row"][data-metric="{bob_metric.pk}"]')
    expect(row).to_be_visible()
    assert page.evaluate("window.reviewMarker") is None
    expect(row.get_by_test_id("this-week")).to_contain_text("12")
    expect(row.get_by_test_id("this-week")).to_contain_text("on track")
    expect(page.get_by_test_id("freshness")).to_contain_text("Rolled up")
    expect(page.get_by_text("The task queue could not be reached")).to_be_visible()


def label_shown(locator) -> str:
    """The words a phone card shows before a cell (its column's name)."""
    return locator.evaluate(
        "el => getComputedStyle(el, '::before').content.replace(/^\"|\"$/g, '')"
    )


def inside_the_viewport(page: Page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return (
        box is not None
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= size["width"]
        and box["y"] + box["height"] <= size["height"]
    )


def open_review(page: Page, live_server, user, week, width: int, height: int):
    login_browser(page, live_server, user)
    page.set_viewport_size({"width": width, "height": height})
    path = reverse("metrics:review-week", args=["acme", week.isoformat()])
    page.goto(live_server.url + path)


@pytest.fixture
def six_metrics(acme, alice_membership, last_week):
    metrics = []
    for i in range(6):
        metric = MetricFactory(
            business=acme,
            name=f"A rather long metric name number {i}",
            goal=10,
            owner=alice_membership,
            stage=["know", "try", "buy"][i % 3],
            first_week=last_week - weeks.WEEK * 12,
        )
        for back in range(13):
            EntryFactory(
                metric=metric, week=last_week - weeks.WEEK * back, value=1000 + back
            )
        metrics.append(metric)
    for back in range(12, -1, -1):
        rollup.rollup_business_week(acme.pk, last_week - weeks.WEEK * back)
    return metrics


def test_scorecard_is_one_card_per_metric_at_phone_width(
    page: Page, live_server, acme, alice, six_metrics, last_week
):
    open_review(page, live_server, alice, last_week, 375, 667)
    rows = page.get_by_test_id("score-row")
    expect(rows).to_have_count(6)
    assert fits_the_phone(page)
    # No sideways scrolling: each card fits the scorecard's width.
    wrap = page.locator(".scorecard-wrap")
    assert wrap.evaluate("el => el.scrollWidth <= el.clientWidth")

    # The first screen shows the first metric's number with its status word.
    card = rows.first
    this_week = card.get_by_test_id("this-week")
    expect(this_week).to_have_text("1,000 ✓on track")
    assert label_shown(this_week) == "This week"
    assert inside_the_viewport(page, this_week)
    for label, text in [("Goal", "10"), ("4-wk avg", "1,001.5"), ("Trend", "▶ steady")]:
        cell = card.locator(f'td[data-label="{label}"]')
        expect(cell).to_be_visible()
        expect(cell).to_have_text(text)
        assert label_shown(cell) == label
    expect(card.locator("svg.spark")).to_be_visible()
    # The table's headings are gone; each card says what its numbers are.
    expect(page.locator(".scorecard thead")).to_be_hidden()

    # The 13 weeks open from the card's disclosure, by keyboard too.
    weeks_cells = card.locator("td.sc-more ~ td")
    expect(weeks_cells).to_have_count(13)
    for i in range(13):
        expect(weeks_cells.nth(i)).to_be_hidden()
    toggle = card.get_by_role("group").get_by_text("13 weeks")
    toggle.focus()
    page.keyboard.press("Enter")
    for i in range(13):
        expect(weeks_cells.nth(i)).to_be_visible()
    # Oldest first, each with its day; the last is this week's number.
    first_day = weeks_cells.first.get_attribute("data-label")
    assert label_shown(weeks_cells.first) == first_day
    assert first_day == date_format(last_week - weeks.WEEK * 12, "MONTH_DAY_FORMAT")
    expect(weeks_cells.first).to_contain_text("1,012")
    expect(weeks_cells.last).to_contain_text("1,000")
    for i in range(13):
        box = weeks_cells.nth(i).bounding_box()
        frame = card.bounding_box()
        assert frame["x"] <= box["x"] and box["x"] + box["width"] <= (
            frame["x"] + frame["width"]
        )
    # The other cards stay closed.
    expect(rows.nth(1).locator("td.sc-more ~ td").first).to_be_hidden()
    assert fits_the_phone(page)
    # At 320 px nothing in the open card spills out of its cell.
    page.set_viewport_size({"width": 320, "height": 667})
    assert fits_the_phone(page)
    assert card.evaluate(
        "row => [...row.cells].every(td => td.scrollWidth <= td.clientWidth)"
    )
    page.keyboard.press("Enter")
    expect(weeks_cells.first).to_be_hidden()

    page.goto(
        live_server.url
        + reverse("metrics:meeting", args=[acme.slug, last_week.isoformat()])
    )
    expect(page.get_by_test_id("score-row")).to_have_count(6)
    expect(page.get_by_test_id("this-week").first).to_be_visible()
    assert fits_the_phone(page)


def test_scorecard_stays_a_table_on_a_desktop(
    page: Page, live_server, acme, alice, six_metrics, last_week
):
    open_review(page, live_server, alice, last_week, 1280, 800)
    expect(page.locator(".scorecard thead")).to_be_visible()
    assert (
        page.locator(".scorecard").evaluate("el => getComputedStyle(el).display")
        == "table"
    )
    row = page.get_by_test_id("score-row").first
    assert row.evaluate("el => getComputedStyle(el).display") == "table-row"
    # Every week is a column under its heading; the phone's disclosure is not.
    expect(row.locator("td.sc-more")).to_be_hidden()
    heads = page.locator(".scorecard thead th.sc-week")
    expect(heads).to_have_count(13)
    cells = row.locator("td.sc-more ~ td")
    for i in (0, 12):
        head, cell = heads.nth(i).bounding_box(), cells.nth(i).bounding_box()
        assert abs(head["x"] - cell["x"]) < 1 and abs(head["width"] - cell["width"]) < 1
    expect(row.get_by_test_id("this-week")).to_have_text("1,000 ✓on track")
    assert label_shown(row.get_by_test_id("this-week")) == "none"
