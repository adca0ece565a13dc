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
from django.contrib.auth.tokens import default_token_generator
from django.templatetags.static import static
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Browser, Page

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

# On the whole page, or on the header's menu number `menu` alone.
RUN_AXE = """([menu, tags]) => axe.run(
  menu === null ? document : document.querySelectorAll("header details")[menu], {
  runOnly: {type: "tag", values: tags},
  resultTypes: ["violations"],
}).then(result => result.violations.map(v => ({
  id: v.id,
  impact: v.impact,
  help: v.help,
  targets: v.nodes.map(n => n.target.join(" ")),
})))"""


# Every <details> of the page's content opened first, so what is folded away
# is checked too (the header's menus are checked one at a time: open together
# they would cover each other).
OPEN_DISCLOSURES = """() => document.querySelectorAll("main details:not([open])")
  .forEach(d => { d.open = true; })"""
OPEN_MENU = (
    """([n, open]) => { document.querySelectorAll("header details")[n].open = open; }"""
)

# Two rules axe leaves to people, measured in the page (and template source
# shown as text), each found element reported as axe reports its own:
# - every field has a label one can see (WCAG 3.3.2; not only a name for
#   screen readers: a visually hidden label or an aria-label is not one);
# - every control is at least 24 by 24 px (WCAG 2.5.8 asks that or room
#   around it; axe checks the room), but for links in running text, which the
#   line's height bounds. A checkbox or radio button in its label is as big as
#   the label, which clicks it too.
MEASURE = """() => {
  const shown = el => {
    const r = el.getBoundingClientRect();
    return el.checkVisibility({visibilityProperty: true})
      && r.width > 1 && r.height > 1;
  };
  const where = el => el.id ? `#${el.id}`
    : el.name ? `${el.localName}[name=${el.name}]`
    : `${el.localName}.${[...el.classList].join(".")} `
      + `"${el.textContent.trim().slice(0, 30)}"`;
  const found = [];
  for (const field of document.querySelectorAll("input, select, textarea")) {
    if (["hidden", "submit", "button", "reset", "image"].includes(field.type)) continue;
    if (!shown(field)) continue;
    const named = (field.getAttribute("aria-labelledby") || "").split(/\\s+/)
      .map(id => id && document.getElementById(id)).filter(Boolean);
    const seen = [...field.labels, ...named].some(l => shown(l) && l.innerText.trim());
    if (!seen) found.push({id: "visible-label", impact: "serious",
      help: "Every field has a visible label", targets: [where(field)]});
  }
  const controls = "a[href], button, input:not([type=hidden]), select, textarea, "
    + "summary, [tabindex='0']";
  for (const el of document.querySelectorAll(controls)) {
    if (!shown(el) || el.closest("svg")) continue;
    let box = el.getBoundingClientRect();
    if (["checkbox", "radio"].includes(el.type) && el.closest("label")) {
      box = el.closest("label").getBoundingClientRect();
    }
    if (box.width >= 24 && box.height >= 24) continue;
    if (el.localName === "a" && getComputedStyle(el).display === "inline") continue;
    found.push({id: "target-size-24", impact: "serious",
      help: "Controls are at least 24 by 24 px (this one "
        + `${Math.round(box.width)}×${Math.round(box.height)})`,
      targets: [where(el)]});
  }
  // Template source that leaked into the page (a {# #} comment over two
  // lines is text to Django) is something every reader sees.
  const leaked = document.body.innerText.match(/\\{[#%{][^\\n]{0,40}/);
  if (leaked) found.push({id: "template-source", impact: "serious",
    help: "The page shows template source", targets: [leaked[0]]});
  return found;
}"""


# The page's main form sent as it is, past the browser's own checks: the page
# then shows the server's problems beside the fields.
SUBMIT_EMPTY = """() => {
  const form = document.querySelector("main form[method=post]:not(.inline-form)");
  form.noValidate = true;
  form.requestSubmit();
}"""


def submit_empty(page: Page) -> None:
    with page.expect_navigation():
        page.evaluate(SUBMIT_EMPTY)


def wrong_password(page: Page) -> None:
    page.get_by_label("Email address").fill("alice@example.com")
    page.get_by_label("Password").fill("not-the-password")
    with page.expect_navigation():
        page.get_by_test_id("login-submit").click()


def edit_a_stage(page: Page) -> None:
    page.get_by_test_id("edit-stage-trust").click()
    page.locator("form#stage-plan-trust").wait_for()


# The side panel shows the step: its label in a field (an editor) or as text.
STEP_SHOWN = """label => {
  const panel = document.querySelector("[data-testid=side-panel]");
  const fields = [...panel.querySelectorAll("input, textarea")].map(f => f.value);
  return [panel.innerText, ...fields].some(text => text.includes(label));
}"""


def select_a_step(page: Page) -> None:
    """The editor with a step selected: its side panel, loaded by htmx."""
    step = page.locator('#editor-canvas [data-node-id="nurture"]')
    box = step.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_for_js(page, STEP_SHOWN, "Email twice a week")


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


def run_axe(page, where: str, menu: int | None = None) -> list[str]:
    """axe's violations and ours on the page as it is (or on the header's
    menu number `menu`), one line per element."""
    found = page.evaluate(RUN_AXE, [menu, TAGS])
    if menu is None:
        found += page.evaluate(MEASURE)
    return [
        f"{where}: {v['id']} ({v['impact']}) at {target} — {v['help']}"
        for v in found
        for target in v["targets"]
    ]


def check(
    browser: Browser,
    live_server,
    user,
    urls: list,
    role: str,
    widths: tuple[int, ...] = WIDTHS,
    locale: str = "en-GB",
) -> list:
    """axe's violations on every page of `urls` (a URL, or a URL and what to do
    there first), at each width, as `user` (None: a visitor) whose browser
    asks for `locale`, one browser context per width."""
    axe = live_server.url + static("vendor/axe/axe.min.js")
    found = []
    if locale != "en-GB":
        role = f"{role} {locale}"
    for width in widths:
        context = browser.new_context(
            viewport={"width": width, "height": 800}, locale=locale
        )
        if user is not None:
            login_browser(context, live_server, user)
        page = context.new_page()
        for entry in urls:
            url, act = entry if isinstance(entry, tuple) else (entry, None)
            page.goto(live_server.url + url)
            wait_for_js(page, SETTLED, timeout=10_000)
            if act is not None:
                act(page)
                wait_for_js(page, SETTLED, timeout=10_000)
                url = f"{url} ({act.__name__})"
            assert page.evaluate("document.documentElement.lang") == locale[:2]
            page.evaluate(OPEN_DISCLOSURES)
            page.add_script_tag(url=axe)
            found += run_axe(page, f"{role} {width}px {url}")
            if entry == urls[0]:
                # Each menu of the header open, alone; what it covers of the
                # page is not a target while it is open.
                menus = page.locator("header details").count()
                for n in range(menus):
                    page.evaluate(OPEN_MENU, [n, True])
                    found += run_axe(page, f"{role} {width}px {url} (menu {n})", n)
                    page.evaluate(OPEN_MENU, [n, False])
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
    # A download the worker has not drawn yet: the page that waits for it.
    preparing = reverse("systemmaps:map-export", kwargs=on_map | {"fmt": "pdf"})
    owner_pages = html_pages(
        owner, business_urls(world, RANK[OWNER]) + everyone + [preparing]
    )
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
    uid = urlsafe_base64_encode(force_bytes(bob.pk))
    visitor_pages += [
        # A good reset link: the form for the new password.
        reverse(
            "password_reset_confirm",
            args=[uid, default_token_generator.make_token(bob)],
        ),
        (reverse("login"), wrong_password),
        (reverse("signup"), submit_empty),
    ]
    edit = reverse("systemmaps:map-edit", kwargs=on_map)
    owner_pages += [
        (reverse("hourglass:overview", args=[acme.slug]), edit_a_stage),
        (edit, select_a_step),
        (reverse("metrics:metric-create", args=[acme.slug]), submit_empty),
        (reverse("business-create"), submit_empty),
    ]
    member_pages += [(edit, select_a_step), (reverse("profile"), submit_empty)]
    assert len(owner_pages) > 40 and len(member_pages) > 30

    found = (
        check(browser, live_server, alice, owner_pages, "owner")
        + check(browser, live_server, bob, member_pages, "member")
        + check(browser, live_server, None, visitor_pages, "visitor")
    )

    # The other languages, whose longer or other words must fit too: the main
    # pages of each at phone width.
    week = world.ids["week"]
    main_pages = [
        reverse("hourglass:overview", args=[acme.slug]),
        reverse("systemmaps:map-outline", kwargs=on_map),
        reverse("metrics:this-week", args=[acme.slug]),
        reverse("metrics:review-week", args=[acme.slug, week]),
        reverse("hourglass:team", args=[acme.slug]),
    ]
    for locale in ("fr-FR", "ko-KR", "pl-PL", "ro-RO"):
        found += check(browser, live_server, alice, main_pages, "owner", (375,), locale)

    checked = (len(owner_pages) + len(member_pages) + len(visitor_pages)) * 2 + len(
        main_pages
    ) * 4
    assert not found, f"{len(found)} axe violations on {checked} pages:\n" + "\n".join(
        found
    )


def test_the_checks_find_what_they_look_for(browser: Browser, live_server):
    """axe runs in the page under its policy, and it and the page's own
    measures report what is wrong: a picture without words, a field named only
    for screen readers, a 12 px button."""
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.goto(live_server.url + reverse("login"))
    wait_for_js(page, SETTLED)
    page.evaluate(
        """() => {
          const main = document.querySelector("main");
          const img = document.createElement("img");
          img.src = "/static/hourglass/favicon.svg";
          img.id = "bad-img";
          const field = document.createElement("input");
          field.id = "bad-field";
          field.setAttribute("aria-label", "Hidden name");
          const button = document.createElement("button");
          button.id = "bad-button";
          button.textContent = "x";
          button.style.cssText = "all: unset; font-size: 8px";
          main.append(img, field, button);
        }"""
    )
    page.add_script_tag(url=live_server.url + static("vendor/axe/axe.min.js"))

    found = run_axe(page, "login")
    context.close()

    assert any("image-alt" in line and "#bad-img" in line for line in found), found
    assert any("visible-label" in line and "#bad-field" in line for line in found)
    assert any("target-size-24" in line and "#bad-button" in line for line in found)
