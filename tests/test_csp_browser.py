"""The app's own Content Security Policy (settings.CONTENT_SECURITY_POLICY, sent by
django-csp) in real Chromium: the main pages load, work, and cause no violation.

Violations are caught two ways: the page's `securitypolicyviolation` events (a
listener installed before any page script runs) and Chromium's console errors
that name the policy. Nothing here loosens or replaces the policy.
"""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Page, expect

from hourglass import demo
from systemmaps.models import SystemMap

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    `${e.effectiveDirective} ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`
  );
});
"""


@pytest.fixture
def watched_page(page: Page):
    """The page, with every CSP violation it reports collected."""
    console: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            console.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.csp_console = console
    return page


def violations(page: Page) -> list[str]:
    return [f"{page.url}: {v}" for v in page.evaluate("window.__cspViolations")]


def visit(page: Page, url: str) -> list[str]:
    response = page.goto(url)
    assert response.status == 200, url
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    page.wait_for_load_state("networkidle")
    return violations(page)


def test_main_pages_work_under_the_content_security_policy(
    watched_page: Page, live_server
):
    page = watched_page
    call_command("seed_demo", verbosity=0)
    business = demo.DEMO_SLUG
    system_map = SystemMap.objects.filter(business__slug=business).first()
    found = []

    # Login page, then the real login form.
    found += visit(page, live_server.url + reverse("login"))
    page.get_by_label("Email address").fill(demo.DEMO_EMAIL)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(rf"/b/{business}/$"))
    found += violations(page)

    # The overview and an htmx fragment swapped into it.
    found += visit(page, live_server.url + f"/b/{business}/")
    page.get_by_test_id("edit-stage-trust").click()
    expect(page.locator("#stage-plan-trust").get_by_label("Goal")).to_be_visible()
    found += violations(page)

    on_map = {"slug": business, "pk": system_map.pk}
    pages = [
        reverse("systemmaps:map-list", kwargs={"slug": business}),
        system_map.get_absolute_url(),
        reverse("systemmaps:map-outline", kwargs=on_map),
        reverse("hourglass:team", kwargs={"slug": business}),
    ]
    for url in pages:
        found += visit(page, live_server.url + url)

    # The editor draws the map (X6 under script-src/style-src 'self').
    found += visit(
        page, live_server.url + reverse("systemmaps:map-edit", kwargs=on_map)
    )
    expect(page.locator('#editor[data-ready="true"]')).to_have_count(1)
    expect(page.locator("#editor-canvas [data-node-id]").first).to_be_visible()
    found += violations(page)

    assert found == []
    assert page.csp_console == []


def test_an_injected_inline_script_is_refused(watched_page: Page, live_server):
    """The policy is really enforced: a script that is not a file of ours does not
    run, and the browser reports it."""
    page = watched_page
    page.goto(live_server.url + reverse("login"))
    page.evaluate(
        """() => {
          const s = document.createElement("script");
          s.textContent = "window.__injected = true";
          document.body.appendChild(s);
        }"""
    )

    assert page.evaluate("window.__injected === undefined")
    assert any(v.startswith(f"{page.url}: script-src") for v in violations(page))
