"""The This week form end to end in real Chromium at phone width: a member
types a number, it saves itself through htmx (no page load), a bad one is
answered next to its field and keeps what was typed."""

import pytest
from playwright.sync_api import Page, expect

from hourglass.tests.utils import login_browser
from metrics.models import Entry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bob_phone_page(page, live_server, bob):
    login_browser(page, live_server, bob)
    page.set_viewport_size({"width": 375, "height": 800})
    return page


def test_a_member_enters_this_weeks_numbers(
    bob_phone_page: Page, live_server, bob_metric, this_week
):
    page = bob_phone_page
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{live_server.url}/b/acme/numbers/")
    expect(page.get_by_role("heading", name="This week's numbers")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.evaluate("window.__stillHere = true")

    field = page.locator(f"#value-{bob_metric.pk}")
    field.fill("abc")
    field.press("Tab")
    status = page.locator(f"#entry-{bob_metric.pk}-status")
    expect(status).to_contain_text("“abc” is not a number.")
    expect(page.locator(f"#value-{bob_metric.pk}")).to_have_attribute(
        "aria-invalid", "true"
    )
    expect(page.locator(f"#value-{bob_metric.pk}")).to_have_value("abc")
    assert not Entry.objects.exists()

    field = page.locator(f"#value-{bob_metric.pk}")
    field.fill("12")
    field.press("Tab")
    expect(status).to_contain_text("Saved at")
    expect(page.locator(f"#value-{bob_metric.pk}")).not_to_have_attribute(
        "aria-invalid", "true"
    )
    entry = Entry.objects.get()
    assert (entry.metric, entry.week, entry.value) == (bob_metric, this_week, 12)
    assert page.evaluate("window.__stillHere") is True
    assert problems == []
