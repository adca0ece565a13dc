import pytest
from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_map_page_fits_a_phone_and_the_drawing_scrolls_inside_it(
    alice_phone_page: Page, live_server, map_worker, webinar_map
):
    page = alice_phone_page
    page.goto(live_server.url + webinar_map.get_absolute_url())
    drawing = page.get_by_test_id("map-svg")
    drawing.locator("svg").wait_for()

    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # The drawing keeps a readable size and scrolls sideways in its own box.
    assert drawing.evaluate("el => el.scrollWidth > el.clientWidth")
