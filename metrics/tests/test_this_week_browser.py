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


SERVER_ERROR_PAGE = (
    "<!DOCTYPE html><html><head><title>Server Error</title></head>"
    "<body><h1>Server Error (500)</h1></body></html>"
)


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_keeps_the_page_and_the_typed_number(
    bob_phone_page: Page, live_server, bob_metric, status
):
    page = bob_phone_page
    page.goto(f"{live_server.url}/b/acme/numbers/")
    page.evaluate("window.__stillHere = true")
    # Every save answers a server error page, as one that met a broken
    # database would.
    page.route(
        "**/weeks/**",
        lambda route: route.fulfill(
            status=status, content_type="text/html", body=SERVER_ERROR_PAGE
        ),
    )

    field = page.locator(f"#value-{bob_metric.pk}")
    field.fill("12")
    field.press("Tab")

    status_line = page.locator(f"#entry-{bob_metric.pk}-status")
    expect(status_line).to_have_text(
        "✕ Not saved: the server had a problem; try again."
    )
    expect(field).to_have_value("12")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("heading", name="This week's numbers")).to_be_visible()
    expect(page.get_by_text("Server Error (500)")).to_have_count(0)
    # Said next to the field, not at the top of the page.
    expect(page.get_by_test_id("htmx-error")).to_have_count(0)
    assert page.evaluate("window.__stillHere") is True
    assert not Entry.objects.exists()

    # Once the server answers again, the next change saves.
    page.unroute("**/weeks/**")
    field.fill("13")
    field.press("Tab")
    expect(status_line).to_contain_text("Saved at")
    expect(page.locator(f"#value-{bob_metric.pk}")).not_to_have_attribute(
        "aria-invalid", "true"
    )
    assert Entry.objects.get().value == 13


def test_a_save_that_cannot_reach_the_server_says_so_next_to_the_field(
    bob_phone_page: Page, live_server, bob_metric
):
    page = bob_phone_page
    page.goto(f"{live_server.url}/b/acme/numbers/")
    page.route("**/weeks/**", lambda route: route.abort("internetdisconnected"))

    field = page.locator(f"#value-{bob_metric.pk}")
    field.fill("7")
    field.press("Tab")

    expect(page.locator(f"#entry-{bob_metric.pk}-status")).to_have_text(
        "✕ Not saved: could not reach Hourglass; try again."
    )
    expect(field).to_have_value("7")
    expect(page.get_by_test_id("htmx-error")).to_have_count(0)
    assert not Entry.objects.exists()


def test_a_screen_reader_hears_the_answer_in_the_same_live_region(
    bob_phone_page: Page, live_server, bob_metric
):
    """The status line is announced because it stays in the page while htmx
    swaps the field: the same element, filled by the answer out of band."""
    page = bob_phone_page
    page.goto(f"{live_server.url}/b/acme/numbers/")
    field = page.get_by_role("textbox", name="Consultations booked")
    expect(field).to_be_visible()
    label = page.locator(f"label[for='value-{bob_metric.pk}']")
    expect(label).to_be_visible()
    expect(label).to_contain_text("Number for the week of")
    status = page.locator(f"#entry-{bob_metric.pk}-status")
    expect(status).to_have_attribute("role", "status")
    status.evaluate("el => { el.dataset.before = 'yes'; }")

    field.fill("abc")
    field.press("Tab")
    expect(status).to_contain_text("is not a number")
    field = page.locator(f"#value-{bob_metric.pk}")
    field.fill("12")
    field.press("Tab")
    expect(status).to_contain_text("Saved at")

    assert status.evaluate("el => el.dataset.before") == "yes"
    assert page.locator(f"#entry-{bob_metric.pk} [role=status]").count() == 0
    assert page.locator("[hx-swap-oob]").count() == 0
    assert page.locator(f"[id='entry-{bob_metric.pk}-status']").count() == 1
