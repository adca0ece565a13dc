"""End to end in real Chromium: the demo login reaches the hourglass, and the
htmx inline edits work in a browser."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from hourglass import demo
from hourglass.models import Membership, Role, StagePlan, Tactic

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_business(settings):
    # Browser tests log in through the real form, so use the real hasher speed-up
    # from conftest but the real demo data.
    call_command("seed_demo", verbosity=0)
    return demo.DEMO_SLUG


def _log_in(page: Page, live_server) -> None:
    page.goto(live_server.url + "/")
    page.get_by_test_id("landing-login").click()
    page.get_by_label("Email address").fill(demo.DEMO_EMAIL)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()


def test_demo_user_logs_in_and_sees_the_hourglass(
    page: Page, live_server, demo_business
):
    _log_in(page, live_server)

    expect(page).to_have_url(re.compile(rf"/b/{demo_business}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Brightside Bookkeeping"
    )
    hourglass = page.get_by_test_id("hourglass")
    expect(hourglass).to_be_visible()
    expect(hourglass.locator("a.hg-band")).to_have_count(7)
    stages = page.locator("article.stage-card").evaluate_all(
        "cards => cards.map(c => c.dataset.stage)"
    )
    assert stages == ["know", "like", "trust", "try", "buy", "repeat", "refer"]
    expect(page.locator("[data-half=marketing] h2")).to_have_text(
        re.compile("Marketing system")
    )
    expect(page.locator("[data-half=operations] h2")).to_have_text(
        re.compile("Operations system")
    )


def test_goal_and_tactic_edits_happen_in_place(page: Page, live_server, demo_business):
    _log_in(page, live_server)
    url_before = page.url

    page.get_by_test_id("edit-stage-trust").click()
    goal = page.locator("#stage-plan-trust").get_by_label("Goal")
    goal.fill("Five client stories a quarter")
    page.locator("#stage-plan-trust").get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("goal-trust")).to_have_text(
        "Five client stories a quarter"
    )
    assert page.url == url_before  # saved through htmx, no page load
    plan = StagePlan.objects.get(business__slug=demo_business, stage="trust")
    assert plan.goal == "Five client stories a quarter"

    page.get_by_test_id("add-tactic-buy").click()
    form = page.locator("#tactics-buy form")
    form.get_by_label("Tactic").fill("")
    form.get_by_role("button", name="Add tactic").click()
    expect(form.locator(".errorlist")).to_contain_text("This field is required")
    form.get_by_label("Tactic").fill("Onboarding welcome pack")
    form.get_by_label("PEP bucket").select_option("person")
    form.get_by_role("button", name="Add tactic").click()
    expect(page.locator("#tactics-buy .tactic-name")).to_contain_text(
        ["Fixed-fee monthly packages", "Onboarding welcome pack"]
    )
    assert Tactic.objects.filter(
        business__slug=demo_business, name="Onboarding welcome pack"
    ).exists()


def test_overview_fits_a_phone(page: Page, live_server, demo_business):
    page.set_viewport_size({"width": 375, "height": 800})
    _log_in(page, live_server)
    expect(page.get_by_test_id("hourglass")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


def test_a_refused_inline_edit_says_why(page: Page, live_server, demo_business):
    _log_in(page, live_server)
    # The owner is demoted in another tab while this page is open.
    Membership.objects.filter(business__slug=demo_business, role=Role.EDITOR).update(
        role=Role.OWNER
    )
    Membership.objects.filter(
        business__slug=demo_business, user__email=demo.DEMO_EMAIL
    ).update(role=Role.MEMBER)

    page.get_by_test_id("edit-stage-know").click()

    expect(page.get_by_test_id("htmx-error")).to_contain_text(
        "Your role does not allow this change."
    )
    expect(page.locator("#stage-plan-know form")).to_have_count(0)
