"""The map page's drawing in real Chromium: at its natural size (labels as in
the editor) in a named box that scrolls, by keyboard too; "Fit" shrinks it to
the box; on a phone, a pointer to the outline, which reads the map as text."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from hourglass.tests.utils import wait_for_js

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_drawing(page: Page, live_server, system_map):
    page.goto(live_server.url + system_map.get_absolute_url())
    drawing = page.get_by_test_id("map-svg")
    drawing.locator("svg").wait_for()
    return drawing


def smallest_label_px(drawing) -> float:
    """The smallest text of the drawing as drawn on screen, in CSS pixels (to a
    tenth: the layout rounds the drawing's width to 1/64 px)."""
    size = drawing.evaluate(
        """box => Math.min(...[...box.querySelectorAll('text')].map(t =>
            parseFloat(t.getAttribute('font-size')) * t.getScreenCTM().a))"""
    )
    return round(size, 1)


def test_the_drawing_shows_at_natural_size_in_a_box_the_keyboard_scrolls(
    alice_page: Page, live_server, map_worker, webinar_map
):
    page = alice_page
    page.set_viewport_size({"width": 1280, "height": 800})
    drawing = open_drawing(page, live_server, webinar_map)

    # One Graphviz point a pixel: the labels are as large as in the editor.
    assert smallest_label_px(drawing) >= 11
    assert drawing.evaluate(
        "b => Math.abs(b.querySelector('svg').getBoundingClientRect().width"
        " - b.querySelector('svg').viewBox.baseVal.width) < 0.1"
    )
    # Wider than its box: it scrolls there, not the page.
    assert drawing.evaluate("el => el.scrollWidth > el.clientWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    # A named region in the tab order, which the arrow keys scroll.
    assert drawing.get_attribute("role") == "region"
    assert drawing.get_attribute("aria-label")
    drawing.focus()
    assert drawing.evaluate("el => el === document.activeElement")
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    wait_for_js(page, "document.activeElement.scrollLeft > 0")
    # No pointer to the outline on a large screen.
    expect(page.get_by_test_id("outline-pointer")).to_be_hidden()


def test_fit_shrinks_the_drawing_to_its_box_and_back(
    alice_page: Page, live_server, map_worker, webinar_map
):
    page = alice_page
    page.set_viewport_size({"width": 1280, "height": 800})
    drawing = open_drawing(page, live_server, webinar_map)
    natural = drawing.evaluate("b => b.scrollWidth")

    page.get_by_label("Fit the drawing to the box").check()
    assert drawing.evaluate("el => el.scrollWidth <= el.clientWidth")

    page.get_by_label("Fit the drawing to the box").uncheck()
    assert drawing.evaluate("b => b.scrollWidth") == natural


def test_map_page_fits_a_phone_and_points_to_the_outline(
    alice_phone_page: Page, live_server, map_worker, webinar_map
):
    page = alice_phone_page
    drawing = open_drawing(page, live_server, webinar_map)

    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # The drawing keeps its readable size and scrolls sideways in its own box.
    assert smallest_label_px(drawing) >= 11
    assert drawing.evaluate("el => el.scrollWidth > el.clientWidth")
    pointer = page.get_by_test_id("outline-pointer")
    expect(pointer).to_be_visible()
    pointer.get_by_role("link", name="the outline").click()
    outline = reverse(
        "systemmaps:map-outline",
        kwargs={"slug": webinar_map.business.slug, "pk": webinar_map.pk},
    )
    expect(page).to_have_url(live_server.url + outline)
