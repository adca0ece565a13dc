"""In real Chromium: a person switches the app's language from the account
menu, with the keyboard, on a phone-sized screen, and the choice stays; a
visitor does it from the footer, and a new business takes the browser's zone."""

import re

import pytest
from playwright.sync_api import Page, expect

from hourglass.models import Business, User
from hourglass.tests.utils import login_browser

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_account_menu_switches_the_language_by_keyboard_on_a_phone(
    page: Page, live_server, alice, acme
):
    page.set_viewport_size({"width": 375, "height": 800})
    login_browser(page, live_server, alice)
    page.goto(f"{live_server.url}/b/{acme.slug}/team/")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    summary = page.locator("details.usermenu summary")
    summary.focus()
    page.keyboard.press("Enter")
    menu = page.locator("#language-menu")
    expect(menu).to_be_visible()
    menu.focus()
    menu.select_option("ko")
    page.keyboard.press("Tab")
    expect(page.locator("details.usermenu button", has_text="Change")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(rf"/b/{acme.slug}/team/$"))
    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.locator("nav.mainnav")).to_contain_text("팀")
    assert User.objects.get(pk=alice.pk).language == "ko"
    # Another page, later: still Korean.
    page.goto(f"{live_server.url}/b/{acme.slug}/")
    expect(page.locator("html")).to_have_attribute("lang", "ko")


def test_a_visitor_switches_the_language_in_the_footer(page: Page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")

    page.locator("#language-footer").select_option("pl")
    page.locator("footer button", has_text="Change").click()

    expect(page.locator("html")).to_have_attribute("lang", "pl")
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Log in")
    page.goto(f"{live_server.url}/accounts/signup/")
    expect(page.locator("html")).to_have_attribute("lang", "pl")


def test_a_new_business_takes_the_browser_time_zone_and_the_country_suggests(
    browser, live_server, alice
):
    context = browser.new_context(locale="pl-PL", timezone_id="America/Toronto")
    page = login_browser(context.new_page(), live_server, alice)
    page.goto(f"{live_server.url}/businesses/new/")

    # The browser's zone, put in by the page's script (the server proposed
    # Poland's own, from the browser's language).
    expect(page.locator("select[name=timezone]")).to_have_value("America/Toronto")
    expect(page.locator("select[name=country]")).to_have_value("PL")
    expect(page.locator("select[name=currency]")).to_have_value("PLN")
    page.locator("select[name=country]").select_option("KR")
    expect(page.locator("select[name=currency]")).to_have_value("KRW")
    expect(page.locator("select[name=timezone]")).to_have_value("Asia/Seoul")
    page.locator("input[name=name]").fill("서울 회계법인")
    page.locator("form.card button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/b/%EC%84%9C%EC%9A%B8-"))
    business = Business.objects.get(name="서울 회계법인")
    assert (business.country, business.currency, business.timezone) == (
        "KR",
        "KRW",
        "Asia/Seoul",
    )
    context.close()
