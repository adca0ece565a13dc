"""Every kind of page passes axe-core (WCAG 2.0, 2.1 and 2.2, levels A and AA)
in real Chromium, at desktop (1280 px) and phone (375 px) width, for the owner,
a plain member and a visitor.

The pages are the GET pages of the route table (tests/utils.py `ROUTES`, filled
with the ids of a populated business) that each role may open, and the pages
outside a business: landing, login, sign-up, password reset and change, the
profile, the business list's neighbours (create, import and an import's job
page), invitations, 403 and 404. axe is the npm package `axe-core`, served by
the app itself as a static file (hourglass/settings.py) and injected with
`page.add_script_tag` under the app's real Content Security Policy. Any
violation of any impact fails, with its rule, the element, the page, the width
and the role.
"""

import pytest
from django.conf import settings
from django.templatetags.static import static
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser

from hourglass import services
from hourglass.tests.utils import get_drawn, login_browser, wait_for_js
from tests.factories import World, populate
from tests.utils import EDITOR, MEMBER, OWNER, ROUTES, WORKER, upload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = (1280, 375)
RANK = {MEMBER: 1, WORKER: 1, EDITOR: 2, OWNER: 3}

# Once the page has loaded: no htmx request in flight (content that arrives
# after the first paint is in), and the editor has drawn its map.
SETTLED = """() =>
  document.readyState === "complete"
  && !document.querySelector(".htmx-request")
  && !document.querySelector('#editor:not([data-ready="true"])')"""

RUN_AXE = """tags => axe.run(document, {
  runOnly: {type: "tag", values: tags},
  resultTypes: ["violations"],
}).then(result => result.violations.map(v => ({
  id: v.id,
  impact: v.impact,
  help: v.help,
  targets: v.nodes.map(n => n.target.join(" ")),
})))"""


def html_pages(client: Client, urls: list[str]) -> list[str]:
    """The URLs among `urls` that answer this client with a whole HTML page
    (not a download, a redirect or a fragment)."""
    found = []
    for url in urls:
        response = client.get(url)
        if (
            response.status_code in (200, 202, 403, 404)
            and response["Content-Type"].startswith("text/html")
            and response.content.lstrip().lower().startswith(b"<!doctype html")
        ):
            found.append(url)
    return found


def business_urls(world: World, rank: int) -> list[str]:
    return [
        reverse(name, kwargs=world.kwargs(route))
        for name, route in ROUTES.items()
        if route.read is not None and RANK[route.read] <= rank
    ]


def check(browser: Browser, live_server, user, urls: list[str], role: str) -> list:
    """axe's violations on every page of `urls`, at each width, as `user`
    (None: a visitor), one browser context per width."""
    axe = live_server.url + static("vendor/axe/axe.min.js")
    found = []
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 800})
        if user is not None:
            login_browser(context, live_server, user)
        page = context.new_page()
        for url in urls:
            page.goto(live_server.url + url)
            wait_for_js(page, SETTLED, timeout=10_000)
            page.add_script_tag(url=axe)
            for v in page.evaluate(RUN_AXE, TAGS):
                found += [
                    f"{role} {width}px {url}: {v['id']} ({v['impact']}) at "
                    f"{target} — {v['help']}"
                    for target in v["targets"]
                ]
        context.close()
    return found


@pytest.fixture
def world(acme, alice, bob, erin) -> World:
    return populate(acme, owner=alice, member=bob, step_owner=erin)


def test_every_page_passes_axe_at_both_widths_for_every_role(
    browser: Browser, live_server, world, alice, bob, dave, client_for
):
    assert (settings.BASE_DIR / "node_modules/axe-core/axe.min.js").is_file(), (
        "axe-core is missing: run `npm ci` (make install)"
    )
    owner, member = client_for(alice), client_for(bob)
    acme = world.business
    on_map = {"slug": acme.slug, "pk": world.ids["map"]}
    # The map pages show the drawing the worker made.
    get_drawn(owner, reverse("systemmaps:map-detail", kwargs=on_map))
    get_drawn(
        owner,
        reverse("systemmaps:revision-detail", kwargs=on_map | {"version": 2}),
    )
    # A finished import's job page (the owner's own upload of Acme's archive).
    job = upload(
        owner, owner.get(reverse("hourglass:export", args=[acme.slug])).content
    )
    invitation = services.invitation_create(
        business=acme,
        email=dave.email,
        role="editor",
        acting_user=alice,
        base_url="http://testserver/",
    )
    invite = services.invitation_url(invitation)
    everyone = [
        reverse("profile"),
        reverse("password_change"),
        reverse("password_change_done"),
        reverse("business-create"),
        reverse("business-import"),
        # Someone else's invitation; a link that is no good.
        invite,
        reverse("invitation-accept", args=["no-such-token"]),
        "/no-such-page/",
    ]
    owner_pages = html_pages(owner, business_urls(world, RANK[OWNER]) + everyone)
    owner_pages.append(job.request["PATH_INFO"])
    # A member's 403: the page of a business URL above his role, once.
    above = reverse("systemmaps:map-new", args=[acme.slug])
    member_pages = html_pages(
        member, business_urls(world, RANK[MEMBER]) + everyone + [above]
    )
    visitor_pages = [
        reverse("home"),
        reverse("login"),
        reverse("signup"),
        reverse("password_reset"),
        reverse("password_reset_done"),
        reverse("password_reset_complete"),
        invite,
        "/no-such-page/",
    ]
    assert len(owner_pages) > 40 and len(member_pages) > 30

    found = (
        check(browser, live_server, alice, owner_pages, "owner")
        + check(browser, live_server, bob, member_pages, "member")
        + check(browser, live_server, None, visitor_pages, "visitor")
    )

    checked = (len(owner_pages) + len(member_pages) + len(visitor_pages)) * 2
    assert not found, f"{len(found)} axe violations on {checked} pages:\n" + "\n".join(
        found
    )
