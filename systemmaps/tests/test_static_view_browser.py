"""The edit page's first paint in real Chromium: the map the server drew is there
and live before X6 has loaded (static-view.js), and what is done on it meanwhile —
a selection, a drag, keys typed — is the editor's once X6 takes over."""

import re

import pytest
from playwright.sync_api import Page, Route, expect

from hourglass.tests.utils import login_browser, wait_for_js
from systemmaps.models import Node

from .factories import chain_graph, make_map

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

X6 = "**/vendor/x6/x6*.js"
SHOWN = """label => {
  const panel = document.querySelector("[data-testid=side-panel]");
  const fields = [...panel.querySelectorAll("input, textarea")].map(f => f.value);
  return [panel.innerText, ...fields].some(text => text.includes(label));
}"""

# The lines of each shape's label, by step.
LINES = """selector => Object.fromEntries([...document.querySelectorAll(selector)].map(
  g => [g.dataset.staticNode || g.dataset.nodeId,
        [...g.querySelector("text").querySelectorAll("tspan")].map(
          span => span.textContent.replace(/\\u00a0/g, " "))]))"""


def edit_url(live_server, system_map) -> str:
    return f"{live_server.url}/b/{system_map.business.slug}/maps/{system_map.pk}/edit/"


def static_shape(page: Page, node_id: str):
    return page.locator(f'#static-view [data-static-node="{node_id}"]')


def settled(page: Page, read, check, *, timeout_ms: int = 5000):
    """What `read()` gives once `check` holds of it: the view moves on the
    next animation frames, which a busy machine delays (never a fixed sleep)."""
    waited = 0
    while True:
        value = read()
        if check(value) or waited >= timeout_ms:
            return value
        page.wait_for_timeout(25)
        waited += 25


def centre(locator) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def hold_x6(page: Page) -> list[Route]:
    """Requests for X6 wait in the returned list until the test lets them on."""
    held: list[Route] = []
    page.route(X6, lambda route: held.append(route))
    return held


def let_x6_on(page: Page, held: list[Route]) -> None:
    """X6's requests held so far go on, and any later one at once."""
    page.route(X6, lambda route: route.continue_())
    for route in held:
        route.continue_()


def let_x6_load(page: Page, held: list[Route]) -> None:
    wait_for_js(page, "document.querySelector('script[src*=\"x6\"]') !== null")
    # The request reaches the route handler (Playwright runs it while it waits).
    assert settled(page, lambda: len(held), bool), "the page never asked for X6"
    for route in held:
        route.continue_()
    expect(page.locator('#editor[data-ready="true"]')).to_have_count(1)


def open_static(page: Page, live_server, user, system_map, *, width=1400) -> list:
    page.set_viewport_size({"width": width, "height": 900})
    login_browser(page.context, live_server, user)
    held = hold_x6(page)
    page.goto(edit_url(live_server, system_map), wait_until="domcontentloaded")
    expect(page.get_by_test_id("static-map")).to_be_visible()
    expect(page.locator("#static-view.is-live")).to_have_count(1)
    return held


def test_the_map_is_drawn_and_live_without_x6(
    page: Page, live_server, alice, webinar_map
):
    page.set_viewport_size({"width": 1400, "height": 900})
    login_browser(page.context, live_server, alice)
    page.route(X6, lambda route: route.abort())
    page.goto(edit_url(live_server, webinar_map))
    expect(page.locator("#static-view.is-live")).to_have_count(1)
    # The editor could not load: the page says so (above the map, which it moves
    # down: measured after it); the map stays live.
    expect(page.get_by_test_id("editor-messages")).to_have_text(
        "The map could not be loaded. Check your connection and reload the page."
    )

    # Every step is on the page, at the stored positions (200 apart, one row).
    expect(page.locator("#static-view [data-static-node]")).to_have_count(9)
    start_x, start_y = centre(static_shape(page, "start"))
    nurture_x, nurture_y = centre(static_shape(page, "nurture"))
    assert nurture_y == pytest.approx(start_y, abs=1)
    assert nurture_x > start_x
    assert page.evaluate("window.X6 === undefined")

    # Dragging the background pans the drawing.
    canvas = page.get_by_test_id("canvas").bounding_box()
    page.mouse.move(canvas["x"] + canvas["width"] / 2, canvas["y"] + 30)
    page.mouse.down()
    page.mouse.move(canvas["x"] + canvas["width"] / 2 - 120, canvas["y"] + 70, steps=4)
    page.mouse.up()
    moved_x, moved_y = settled(
        page,
        lambda: centre(static_shape(page, "nurture")),
        lambda xy: abs(xy[0] - (nurture_x - 120)) <= 2,
    )
    assert (moved_x, moved_y) == (
        pytest.approx(nurture_x - 120, abs=2),
        pytest.approx(nurture_y + 40, abs=2),
    )

    # Ctrl+wheel zooms about the pointer.
    before = static_shape(page, "nurture").bounding_box()["width"]
    page.mouse.move(moved_x, moved_y)
    page.keyboard.down("Control")
    page.mouse.wheel(0, 100)
    page.keyboard.up("Control")
    width = settled(
        page,
        lambda: static_shape(page, "nurture").bounding_box()["width"],
        lambda w: w < before,
    )
    assert width < before

    # A click selects the step and its side panel loads.
    page.mouse.click(*centre(static_shape(page, "nurture")))
    expect(static_shape(page, "nurture")).to_have_class("static-node hg-selected")
    wait_for_js(page, SHOWN, "Email nurture campaign")

    # The keyboard walks the flow: Tab goes on to the decision after it.
    page.keyboard.press("Tab")
    expect(static_shape(page, "booked")).to_have_class("static-node hg-selected")
    expect(static_shape(page, "nurture")).to_have_class("static-node")
    expect(page.get_by_test_id("canvas")).to_be_focused()
    # A screen reader hears the step, as in the editor.
    expect(page.get_by_test_id("editor-announce")).to_have_text(
        "Decision: Booked a consultation?. Arrows to: Down-sell campaign (no) and"
        " Consultation call (yes). Arrows from: Email nurture campaign."
    )


def test_a_step_selected_before_x6_is_selected_in_the_editor(
    page: Page, live_server, alice, webinar_map
):
    held = open_static(page, live_server, alice, webinar_map)
    page.mouse.click(*centre(static_shape(page, "nurture")))
    wait_for_js(page, SHOWN, "Email nurture campaign")
    static_box = static_shape(page, "nurture").locator("rect").first.bounding_box()
    static_lines = page.evaluate(LINES, "#static-view [data-static-node]")

    let_x6_load(page, held)

    expect(page.locator("#editor-canvas .hg-selected")).to_have_count(1)
    expect(page.locator('#editor-canvas [data-node-id="nurture"]')).to_have_class(
        re.compile("hg-selected")
    )
    expect(page.get_by_test_id("static-view")).to_have_count(0)
    # The shape's outline at the same place on the screen: no jump.
    live = page.locator('#editor-canvas [data-node-id="nurture"] rect').first
    live_box = live.bounding_box()
    assert live_box["x"] == pytest.approx(static_box["x"], abs=2)
    assert live_box["y"] == pytest.approx(static_box["y"], abs=2)
    assert live_box["width"] == pytest.approx(static_box["width"], abs=2)
    wait_for_js(page, SHOWN, "Email nurture campaign")
    # Every label broken into the same lines (the server estimates the widths
    # of this Chromium's system-ui, which the editor measures).
    assert page.evaluate(LINES, "#editor-canvas [data-node-id]") == static_lines
    # Selected in the editor's sense: Ctrl+Enter adds the next step after it.
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("label-editor")).to_be_focused()
    doc = page.evaluate("window.hourglassEditor.toJSON()")
    (new,) = {n["id"] for n in doc["nodes"]} - {
        n.client_id for n in Node.objects.filter(map=webinar_map)
    }
    assert {"source": "nurture", "target": new} in [
        {"source": e["source"], "target": e["target"]} for e in doc["edges"]
    ]


def test_a_drag_and_keys_typed_before_x6_are_applied_and_saved(
    page: Page, live_server, alice, webinar_map
):
    held = open_static(page, live_server, alice, webinar_map)
    zoom = page.evaluate("window.hourglassStatic.state.view.s")
    x, y = centre(static_shape(page, "downsell"))
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 30, y + 60 * zoom, steps=5)
    page.mouse.move(x, y + 100 * zoom, steps=5)
    page.mouse.up()
    # Then Enter (change the label) and a new label, all before X6 is there.
    page.keyboard.press("Enter")
    page.keyboard.type("Win back")

    let_x6_load(page, held)

    editor = page.get_by_test_id("label-editor")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("Win back")
    page.keyboard.press("Enter")
    expect(editor).to_be_hidden()
    wait_for_js(page, "!window.hourglassEditor.pending", timeout=15_000)
    step = Node.objects.get(map=webinar_map, client_id="downsell")
    assert step.label == "Win back"
    assert (step.x, step.y) == (600.0, 100.0)
    # One undo takes the label back, the next the move.
    page.get_by_test_id("canvas").focus()
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    doc = page.evaluate("window.hourglassEditor.toJSON()")
    (downsell,) = [n for n in doc["nodes"] if n["id"] == "downsell"]
    assert (downsell["label"], downsell["x"], downsell["y"]) == (
        "Down-sell campaign",
        600.0,
        0.0,
    )


def test_a_step_clicked_and_keys_typed_while_x6_builds_a_large_map_are_applied(
    page: Page, live_server, acme, alice
):
    # 900 steps: X6 adds the cells in slices, under the server's drawing, and the
    # page answers between them; a click and keys made then are the editor's.
    system_map = make_map(acme, alice, name="Long", graph=chain_graph("Long", 898))
    held = open_static(page, live_server, alice, system_map)
    page.evaluate(
        """() => {
          const canvas = document.getElementById("editor-canvas");
          const seen = window.__build = { frames: 0, downWhileBuilding: null };
          const building = () => canvas.classList.contains("hg-building");
          const tick = () => {
            if (building()) seen.frames += 1;
            requestAnimationFrame(tick);
          };
          requestAnimationFrame(tick);
          canvas.addEventListener("pointerdown", () => {
            seen.downWhileBuilding = building();
          }, { capture: true, once: true });
        }"""
    )
    target = centre(static_shape(page, "t3"))
    let_x6_on(page, held)
    wait_for_js(
        page,
        "document.getElementById('editor-canvas').classList.contains('hg-building')",
    )
    page.mouse.click(*target)
    page.keyboard.press("Enter")
    page.keyboard.type("Call back")

    expect(page.locator('#editor[data-ready="true"]')).to_have_count(1)
    build = page.evaluate("window.__build")
    assert build["downWhileBuilding"] is True
    # Frames were drawn while it was being built: no single task built it all.
    assert build["frames"] >= 2
    editor = page.get_by_test_id("label-editor")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("Call back")
    page.keyboard.press("Enter")
    wait_for_js(page, "!window.hourglassEditor.pending", timeout=15_000)
    assert Node.objects.get(map=system_map, client_id="t3").label == "Call back"
    expect(page.locator("#editor-canvas [data-node-id]")).to_have_count(900)


def test_a_member_selects_on_the_drawing_but_cannot_drag_it(
    page: Page, live_server, bob, webinar_map
):
    held = open_static(page, live_server, bob, webinar_map)
    before = centre(static_shape(page, "booked"))
    page.mouse.move(*before)
    page.mouse.down()
    page.mouse.move(before[0] + 80, before[1] + 80, steps=5)
    page.mouse.up()

    # The drag panned the view; the step did not move against its neighbours.
    after = centre(static_shape(page, "booked"))
    proposal = centre(static_shape(page, "downsell"))
    assert after[0] - before[0] == pytest.approx(80, abs=2)
    assert proposal[1] == pytest.approx(after[1], abs=1)

    let_x6_load(page, held)
    doc = page.evaluate("window.hourglassEditor.toJSON()")
    (booked,) = [n for n in doc["nodes"] if n["id"] == "booked"]
    assert (booked["x"], booked["y"]) == (400.0, 0.0)
