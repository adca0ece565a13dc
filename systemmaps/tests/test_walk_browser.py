"""The walkthrough end to end in real Chromium, at phone width: both branches of
the webinar system from its start to a stop, and a problem flagged on the way."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from systemmaps.models import StepFlag

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def walk_url(live_server, system_map) -> str:
    return live_server.url + reverse(
        "systemmaps:map-walk",
        kwargs={"slug": system_map.business.slug, "pk": system_map.pk},
    )


def expect_step(page: Page, step_id: str) -> None:
    card = page.locator("#walk article")
    expect(card).to_have_attribute("data-step-id", step_id)


def choose(page: Page, target: str) -> None:
    """Pick the branch leading to `target` at a decision."""
    page.get_by_test_id("walk-choice").filter(has_text=target).click()


def fits_the_phone(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_walk_both_branches_of_the_webinar_system(
    alice_phone_page: Page, live_server, webinar_map
):
    page = alice_phone_page
    page.goto(walk_url(live_server, webinar_map))
    expect_step(page, "start")
    expect(page.get_by_role("heading", level=2)).to_contain_text("Webinar")
    assert fits_the_phone(page)
    # A marker that a full page load would wipe: every step below is an htmx swap.
    page.evaluate("window.walkMarker = 'same page'")

    page.get_by_test_id("walk-next").click()
    expect_step(page, "nurture")
    expect(page).to_have_url(re.compile(r"\?path=start,nurture$"))
    # The new step's heading takes the focus, so a screen reader reads it out.
    expect(page.locator("#walk-step-title")).to_be_focused()
    page.get_by_test_id("walk-next").click()
    expect_step(page, "booked")
    expect(page.get_by_test_id("branch-progress")).to_have_text(
        "0 of 2 branches walked"
    )
    expect(page.get_by_test_id("walked")).to_have_count(0)
    assert fits_the_phone(page)

    # The "no" branch, to the bucket.
    choose(page, "Down-sell campaign")
    expect_step(page, "downsell")
    page.get_by_test_id("walk-next").click()
    end = page.get_by_test_id("walk-end")
    expect(end).to_contain_text("End of the system: Future email automation bucket")
    expect(page.get_by_test_id("walk-trail").locator("li")).to_have_count(5)
    assert fits_the_phone(page)

    # Back to the decision to take the other branch.
    page.get_by_test_id("walk-other-branch").click()
    expect_step(page, "booked")
    expect(page).to_have_url(re.compile(r"\?path=start,nurture,booked$"))
    expect(page.get_by_test_id("branch-progress")).to_have_text(
        "1 of 2 branches walked"
    )
    walked = page.get_by_test_id("walk-choice").filter(
        has=page.get_by_test_id("walked")
    )
    expect(walked).to_have_count(1)
    expect(walked).to_contain_text("Down-sell campaign")
    expect(walked).to_contain_text("walked")

    # The "yes" branch, through the proposal, to a signed client.
    choose(page, "Consultation call")
    expect_step(page, "call")
    page.get_by_test_id("walk-next").click()
    expect_step(page, "proposal")
    page.get_by_test_id("walk-next").click()
    expect_step(page, "signed")
    choose(page, "Onboard new client")
    expect(page.get_by_test_id("walk-end")).to_contain_text(
        "End of the system: Onboard new client"
    )
    expect(page.get_by_test_id("walk-trail").locator("li")).to_have_count(7)

    # “Signed?” still has its "no" branch: it leads back into the campaign.
    other = page.get_by_test_id("walk-other-branch")
    expect(other).to_contain_text("Signed?")
    other.click()
    expect_step(page, "signed")
    expect(page.get_by_test_id("branch-progress")).to_have_text(
        "1 of 2 branches walked"
    )
    choose(page, "Email nurture campaign")
    expect_step(page, "nurture")
    page.get_by_test_id("walk-next").click()
    expect_step(page, "booked")
    expect(page.get_by_test_id("branch-progress")).to_have_text(
        "2 of 2 branches walked"
    )
    expect(page.get_by_test_id("walked")).to_have_count(2)
    expect(page.get_by_test_id("map-progress")).to_contain_text(
        "4 of 4 decision branches walked"
    )
    assert page.evaluate("window.walkMarker") == "same page"

    # The browser's Back button is the previous step.
    page.go_back()
    expect_step(page, "nurture")


def test_flag_a_problem_at_a_step(alice_phone_page: Page, live_server, webinar_map):
    page = alice_phone_page
    page.goto(walk_url(live_server, webinar_map) + "?path=start,nurture,booked")
    expect_step(page, "booked")

    page.get_by_text("Flag a problem at this step").click()
    page.get_by_role("button", name="Flag the problem").click()
    expect(page.locator("#walk")).to_contain_text("Describe the problem.")
    assert not StepFlag.objects.exists()

    page.get_by_label("Flag a problem").fill("Nobody follows up on no-shows")
    page.get_by_role("button", name="Flag the problem").click()
    expect(page.get_by_test_id("walk-notice")).to_contain_text("Problem flagged")
    expect(page.get_by_test_id("walk-flag")).to_contain_text(
        "Nobody follows up on no-shows"
    )
    expect_step(page, "booked")
    expect(page).to_have_url(re.compile(r"\?path=start,nurture,booked$"))
    flag = StepFlag.objects.get()
    assert flag.node.client_id == "booked"
    assert flag.text == "Nobody follows up on no-shows"

    # It stays at the step for the next walker.
    page.goto(walk_url(live_server, webinar_map) + "?path=start,nurture,booked")
    expect(page.get_by_test_id("walk-flags")).to_contain_text("1 open problem")
