"""A phone (320 and 375 px wide) in real Chromium: every destination of the main
menu is on screen in every language, by keyboard too; and the pages a team
member opens on a phone show what they came for on the first screen, with the
main actions at least 44 px tall. Screenshots of each go under the test's
temporary folder (its path is printed)."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Page, expect

from hourglass import demo
from hourglass.context_processors import NAV_ITEMS
from hourglass.models import User
from hourglass.tests.utils import login_browser
from systemmaps.models import SystemMap

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 667}
# WCAG 2.5.5: what a team member taps most (the --tap token of hourglass.css).
TAP = 44


def in_view(page: Page, locator) -> bool:
    """Whether all of `locator`'s box is inside the viewport, as it stands."""
    box = locator.bounding_box()
    size = page.viewport_size
    return (
        box is not None
        and box["width"] > 0
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= size["width"] + 0.5
        and box["y"] + box["height"] <= size["height"] + 0.5
    )


def no_sideways_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def assert_menu_in_view(page: Page) -> None:
    links = page.locator(".mainnav a")
    expect(links).to_have_count(len(NAV_ITEMS))
    for i in range(len(NAV_ITEMS)):
        expect(links.nth(i)).to_be_visible()
        assert in_view(page, links.nth(i)), links.nth(i).inner_text()


def assert_tap_size(locator) -> None:
    """Every element of `locator` is at least TAP px tall (and there is one)."""
    heights = locator.evaluate_all(
        "els => els.map(el => el.getBoundingClientRect().height)"
    )
    assert heights, "nothing to tap"
    assert min(heights) >= TAP - 0.5, heights


@pytest.mark.parametrize("width", [320, 375])
@pytest.mark.parametrize("language", ["en", "fr", "ko", "pl", "ro"])
def test_every_menu_destination_is_on_a_phone_screen(
    page: Page, live_server, acme, alice, language, width
):
    alice.language = language
    alice.save(update_fields=["language"])
    # A long name, as real businesses have: the top bar must still fit.
    acme.name = "Brightside Bookkeeping and Tax Advisers"
    acme.save(update_fields=["name"])
    login_browser(page, live_server, alice)
    page.set_viewport_size({"width": width, "height": 667})
    page.goto(live_server.url + reverse("metrics:review", args=[acme.slug]))

    assert_menu_in_view(page)
    assert no_sideways_scroll(page)
    # The top bar too: home, the business switcher and the account menu; the
    # brand on one line (the switcher's name shortens instead).
    for control in (".brand", ".switcher summary", ".usermenu summary"):
        assert in_view(page, page.locator(control)), control
    assert page.locator(".brand span").evaluate(
        "el => el.offsetHeight < 1.5 * parseFloat(getComputedStyle(el).lineHeight)"
    )
    # By keyboard: Tab reaches each destination in turn, on screen when focused.
    hrefs = page.locator(".mainnav a").evaluate_all("els => els.map(a => a.href)")
    reached = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.locator(":focus")
        if focused.evaluate("el => !!el.closest('.mainnav')"):
            assert in_view(page, focused)
            reached.append(focused.evaluate("el => el.href"))
            if len(reached) == len(hrefs):
                break
    assert reached == hrefs
    # The last one (Team) is followed from the keyboard.
    page.keyboard.press("Enter")
    expect(page).to_have_url(live_server.url + reverse("hourglass:team", args=["acme"]))
    assert_menu_in_view(page)


@pytest.fixture
def demo_people(db):
    call_command("seed_demo", verbosity=0)
    return {
        "owner": User.objects.get(email=demo.DEMO_EMAIL),
        "member": User.objects.get(email="priya@example.com"),
    }


def test_a_team_members_phone_screens(page: Page, live_server, demo_people, tmp_path):
    """Overview, My steps, Numbers, the review and a checklist run as a member;
    the map editor as its owner. Each screen: the whole menu, no sideways
    scroll, and what the page is for in view without scrolling."""
    slug = demo.DEMO_SLUG
    page.set_viewport_size(PHONE)
    login_browser(page, live_server, demo_people["member"])
    shots = []

    def shoot(name: str) -> None:
        assert_menu_in_view(page)
        assert no_sideways_scroll(page), name
        shots.append(tmp_path / f"{name}.png")
        page.screenshot(path=shots[-1])

    def screen(name: str, url: str) -> None:
        page.goto(live_server.url + url)
        shoot(name)

    screen("overview", reverse("hourglass:overview", args=[slug]))
    expect(page.get_by_test_id("hourglass")).to_be_visible()

    screen("review", reverse("metrics:review", args=[slug]))
    first = page.get_by_test_id("score-row").first.get_by_test_id("this-week")
    expect(first).to_contain_text("track")
    assert in_view(page, first)

    screen("numbers", reverse("metrics:this-week", args=[slug]))
    field = page.get_by_test_id("entry-field").first.locator("input")
    assert in_view(page, field)
    assert_tap_size(page.locator(".entry-field input"))
    assert_tap_size(page.locator(".entry-form button[type=submit]"))

    screen("my-steps", reverse("systemmaps:my-steps", args=[slug]))
    step = page.get_by_test_id("my-step").first
    expect(step).to_be_visible()
    assert_tap_size(page.locator(".run-start input[type=text], .run-start button"))
    assert_tap_size(page.locator(".my-checklist summary"))
    # The member starts a run of their first step and ticks its first item.
    step.locator(".run-start input[type=text]").fill("Northwind Ltd")
    step.locator(".run-start button").click()
    expect(page.get_by_test_id("run-checklist")).to_be_visible()
    shoot("run")
    ticks = page.locator(".run-tick-form label")
    assert in_view(page, ticks.first)
    assert_tap_size(ticks)
    assert_tap_size(page.locator(".run-notes button"))
    ticks.first.click()
    expect(page.get_by_test_id("run-tally")).to_contain_text("1 of")

    login_browser(page, live_server, demo_people["owner"])
    webinar = SystemMap.objects.get(business__slug=slug, name="Webinar to client")
    page.goto(live_server.url + reverse("systemmaps:map-edit", args=[slug, webinar.pk]))
    expect(page.locator('#editor[data-ready="true"]')).to_have_count(1)
    canvas = page.get_by_test_id("canvas")
    expect(canvas).to_be_visible()
    # The map itself starts on the first screen, with room to see some of it.
    shoot("editor")
    # The map itself, from its start, is on the first screen.
    shapes_in_view = page.evaluate(
        """() => [...document.querySelectorAll('#editor-canvas .x6-node')]
            .map((el) => el.getBoundingClientRect())
            .filter((r) => r.top >= 0 && r.bottom <= innerHeight && r.left >= 0
                           && r.left < innerWidth).length"""
    )
    assert shapes_in_view >= 1

    print("phone screenshots:", *shots, sep="\n  ")
    assert all(shot.stat().st_size > 0 for shot in shots)
