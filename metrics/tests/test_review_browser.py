"""The review end to end in real Chromium: a member enters this week's number in
the This week form, recomputes the dashboard, and sees it; and the scorecard at
phone width scrolls inside its card, not the page."""

import pytest
from django.urls import reverse
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


def test_scorecard_scrolls_inside_its_card_at_phone_width(
    page: Page, live_server, acme, alice, alice_membership, last_week
):
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
    for back in range(12, -1, -1):
        rollup.rollup_business_week(acme.pk, last_week - weeks.WEEK * back)

    login_browser(page, live_server, alice)
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(
        live_server.url
        + reverse("metrics:review-week", args=[acme.slug, last_week.isoformat()])
    )
    expect(page.get_by_test_id("score-row")).to_have_count(6)
    assert fits_the_phone(page)
    wrap = page.locator(".scorecard-wrap")
    assert wrap.evaluate("el => el.scrollWidth > el.clientWidth")

    # Scrolled to the last week, the metric's name is still in view (sticky).
    name = page.get_by_test_id("score-row").first.locator("th.sc-name")
    wrap.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    box, frame = name.bounding_box(), wrap.bounding_box()
    assert box["x"] >= frame["x"] - 1
    assert box["x"] + box["width"] <= frame["x"] + frame["width"]
    assert fits_the_phone(page)

    page.goto(
        live_server.url
        + reverse("metrics:meeting", args=[acme.slug, last_week.isoformat()])
    )
    expect(page.get_by_test_id("score-row")).to_have_count(6)
    assert fits_the_phone(page)
