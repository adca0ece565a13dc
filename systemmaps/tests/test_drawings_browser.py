"""The map page in a browser while the worker draws the map: the "Drawing the
map…" placeholder, then the drawing swapped in by htmx without a reload."""

import pytest
from playwright.sync_api import Page, expect

from systemmaps import tasks

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_worker_draws_the_map_and_the_page_swaps_it_in(
    alice_page: Page, live_server, map_worker, webinar_map
):
    page = alice_page
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    response = page.goto(live_server.url + webinar_map.get_absolute_url())

    # The page itself never waits for Graphviz: it comes with the placeholder.
    assert "Drawing the map…" in response.text()
    drawing = page.get_by_test_id("map-svg")
    drawing.locator("svg").wait_for()
    expect(drawing).to_contain_text("Onboard new client")
    expect(page.get_by_test_id("drawing-placeholder")).to_have_count(0)
    assert errors == []


def test_the_placeholder_waits_for_the_drawing_then_shows_it(
    alice_page: Page, live_server, webinar_map
):
    """No worker runs until the page has shown the placeholder a while; then the
    real task draws the map and the polling placeholder picks it up."""
    page = alice_page
    page.goto(live_server.url + webinar_map.get_absolute_url())
    placeholder = page.get_by_test_id("drawing-placeholder")
    expect(placeholder).to_have_attribute("role", "status")
    expect(placeholder).to_contain_text("Drawing the map…")
    page.wait_for_timeout(1500)  # it asked, and is still there
    expect(placeholder).to_be_visible()

    assert tasks.map_draw(webinar_map.pk, webinar_map.version, "svg", True) == "ready"

    page.get_by_test_id("map-svg").locator("svg").wait_for()
    expect(placeholder).to_have_count(0)


def test_the_download_page_waits_for_the_file_then_the_download_starts(
    alice_page: Page, live_server, webinar_map
):
    """The waiting page asks (htmx, no page refresh) until the worker drew the
    file; then the browser fetches it, and the page stays."""
    page = alice_page
    export = webinar_map.get_absolute_url() + "export.png"
    page.goto(live_server.url + export)
    expect(page.get_by_test_id("download-preparing")).to_contain_text("is being drawn")
    page.evaluate("window.stillHere = true")

    with page.expect_download(timeout=10_000) as download:
        assert tasks.map_draw(webinar_map.pk, webinar_map.version, "png", True) == (
            "ready"
        )

    assert download.value.suggested_filename.endswith(".png")
    assert page.evaluate("window.stillHere") is True
