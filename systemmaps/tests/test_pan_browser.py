"""Panning and zooming the editor in real Chromium (static/systemmaps/editor/pan.js):
a gesture moves composited layers once a frame and is committed to X6 when it
settles; the coordinates afterwards are the ones on screen."""

import re

import pytest
from playwright.sync_api import Page, expect

from hourglass.tests.utils import login_browser, wait_for_js
from systemmaps.tests.factories import make_map, webinar_graph

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SETTLED = "window.hourglassEditor.viewCounts.commits >= {}"


def open_map(page: Page, live_server, acme, alice, graph: dict) -> None:
    system_map = make_map(acme, alice, name="Pan", graph=graph)
    page.set_viewport_size({"width": 1400, "height": 900})
    login_browser(page.context, live_server, alice)
    page.goto(f"{live_server.url}/b/{acme.slug}/maps/{system_map.pk}/edit/")
    expect(page.locator('#editor[data-ready="true"]')).to_have_count(1)


def commits(page: Page) -> int:
    return page.evaluate("window.hourglassEditor.viewCounts.commits")


def box_of(page: Page, node: str) -> dict:
    box = page.locator(f'#editor-canvas [data-node-id="{node}"]').bounding_box()
    assert box is not None
    return box


def model_position(page: Page, node: str) -> tuple[float, float]:
    doc = page.evaluate("window.hourglassEditor.toJSON()")
    [found] = [n for n in doc["nodes"] if n["id"] == node]
    return found["x"], found["y"]


def chain_graph(count: int) -> dict:
    """`count` tasks in rows of ten, start to stop: enough for the overview map."""
    kinds = ["terminus"] + ["task"] * (count - 2) + ["terminus"]
    return {
        "schema_version": 1,
        "name": "Chain",
        "nodes": [
            {
                "id": f"n{i}",
                "kind": kind,
                "label": f"Step {i}",
                "x": 220.0 * (i % 10),
                "y": 140.0 * (i // 10),
                "stage": None,
                "notes": None,
            }
            for i, kind in enumerate(kinds)
        ],
        "edges": [
            {"id": f"e{i}", "source": f"n{i}", "target": f"n{i + 1}", "label": None}
            for i in range(count - 1)
        ],
    }


def test_after_a_wheel_pan_and_a_drag_pan_a_shape_drags_to_where_the_mouse_is(
    page: Page, live_server, acme, alice
):
    open_map(page, live_server, acme, alice, webinar_graph())
    page.get_by_test_id("toolbar-fit").click()
    canvas = page.get_by_test_id("canvas").bounding_box()
    blank_x, blank_y = canvas["x"] + 30, canvas["y"] + 30
    before = box_of(page, "call")

    # The wheel pans (the map follows the wheel on screen) ...
    page.mouse.move(blank_x, blank_y)
    page.mouse.wheel(-60, -40)
    wait_for_js(page, SETTLED.format(1))
    wheeled = box_of(page, "call")
    assert wheeled["x"] == pytest.approx(before["x"] + 60, abs=1)
    assert wheeled["y"] == pytest.approx(before["y"] + 40, abs=1)

    # ... and so does a drag on the background.
    page.mouse.move(blank_x, blank_y)
    page.mouse.down()
    page.mouse.move(blank_x + 50, blank_y + 30, steps=6)
    page.mouse.up()
    wait_for_js(page, SETTLED.format(2))
    dragged_view = box_of(page, "call")
    assert dragged_view["x"] == pytest.approx(wheeled["x"] + 50, abs=1)
    assert dragged_view["y"] == pytest.approx(wheeled["y"] + 30, abs=1)

    # A shape dragged now lands under the mouse, and moves by the screen distance
    # over the zoom in the document (up to the snapping grid).
    zoom, grid = page.evaluate(
        "(() => { const g = window.hourglassEditor.graph;"
        " return [g.zoom(), g.options.grid.size]; })()"
    )
    x0, y0 = model_position(page, "call")
    grab_x = dragged_view["x"] + dragged_view["width"] / 2
    grab_y = dragged_view["y"] + dragged_view["height"] / 2
    page.mouse.move(grab_x, grab_y)
    page.mouse.down()
    page.mouse.move(grab_x + 90, grab_y + 60, steps=8)
    page.mouse.up()
    moved = box_of(page, "call")
    snap = grid * zoom
    assert moved["x"] + moved["width"] / 2 == pytest.approx(grab_x + 90, abs=snap)
    assert moved["y"] + moved["height"] / 2 == pytest.approx(grab_y + 60, abs=snap)
    x1, y1 = model_position(page, "call")
    assert x1 - x0 == pytest.approx(90 / zoom, abs=grid)
    assert y1 - y0 == pytest.approx(60 / zoom, abs=grid)


def test_ctrl_wheel_zooms_around_the_pointer_within_the_limits(
    page: Page, live_server, acme, alice
):
    open_map(page, live_server, acme, alice, webinar_graph())
    outline = page.locator('#editor-canvas [data-node-id="nurture"] rect').first
    box = outline.bounding_box()
    x, y = box["x"] + 7, box["y"] + 5  # a point of the map under the pointer
    under = "([x, y]) => window.hourglassEditor.graph.clientToLocal(x, y).toJSON()"
    point = page.evaluate(under, [x, y])
    zoom = page.evaluate("window.hourglassEditor.graph.zoom()")

    page.mouse.move(x, y)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -100)
    page.keyboard.up("Control")
    wait_for_js(page, SETTLED.format(1))
    assert page.evaluate("window.hourglassEditor.graph.zoom()") > zoom
    after = page.evaluate(under, [x, y])
    assert after["x"] == pytest.approx(point["x"], abs=0.5)
    assert after["y"] == pytest.approx(point["y"], abs=0.5)
    # On screen too: the shape grew around the pointer (its outline, not the
    # ports that hovering shows).
    grown = outline.bounding_box()
    assert grown["width"] > box["width"]
    across = (x - grown["x"]) / grown["width"]
    down = (y - grown["y"]) / grown["height"]
    assert across == pytest.approx(7 / box["width"], abs=0.01)
    assert down == pytest.approx(5 / box["height"], abs=0.01)

    page.keyboard.down("Control")
    for _ in range(40):
        page.mouse.wheel(0, -100)
    page.keyboard.up("Control")
    wait_for_js(page, "window.hourglassEditor.graph.zoom() === 3")


def test_many_wheel_events_in_one_frame_make_one_transform_and_one_commit(
    page: Page, live_server, acme, alice
):
    open_map(page, live_server, acme, alice, chain_graph(60))
    expect(page.get_by_test_id("minimap")).to_be_visible()
    # Ten wheel events in one task, then two frames; every change of the map's
    # layer, of X6's own transform and of the overview map's frame is recorded.
    seen = page.evaluate(
        """() => new Promise((done) => {
          const counts = { layer: 0, x6: 0, minimap: 0 };
          const watch = (element, attribute, key) => new MutationObserver(
            (records) => { counts[key] += records.length; }
          ).observe(element, { attributes: true, attributeFilter: [attribute] });
          watch(document.querySelector("#editor-canvas .hg-pan-layer"),
                "style", "layer");
          watch(document.querySelector("#editor-canvas .x6-graph-svg-viewport"),
                "transform", "x6");
          watch(document.querySelector("#editor-minimap .x6-widget-minimap-viewport"),
                "style", "minimap");
          const canvas = document.getElementById("editor-canvas");
          const box = canvas.getBoundingClientRect();
          for (let i = 0; i < 10; i += 1) {
            canvas.dispatchEvent(new WheelEvent("wheel", {
              deltaX: 7, deltaY: 11, clientX: box.left + 50, clientY: box.top + 50,
              bubbles: true, cancelable: true,
            }));
          }
          const frames = { ...window.hourglassEditor.viewCounts };
          requestAnimationFrame(() => requestAnimationFrame(() => {
            const inFrames = { ...counts, ...window.hourglassEditor.viewCounts };
            setTimeout(() => done({ frames, inFrames, settled: { ...counts } }), 400);
          }));
        })"""
    )
    # Before any frame, nothing has moved.
    assert seen["frames"] == {"frames": 0, "previews": 0, "commits": 0}
    # In the frames: one CSS transform on the map's layer and on the overview's
    # frame; X6's transform untouched.
    assert seen["inFrames"]["previews"] == 1
    assert seen["inFrames"]["layer"] == 1
    assert seen["inFrames"]["minimap"] == 1
    assert seen["inFrames"]["x6"] == 0
    assert seen["inFrames"]["commits"] == 0
    # Settled: X6's transform set once, the layer's CSS transform dropped.
    assert seen["settled"]["x6"] == 1
    assert seen["settled"]["layer"] == 2
    view = page.evaluate(
        "(() => { const g = window.hourglassEditor.graph;"
        " return {...g.translate(), layer: document.querySelector("
        "'#editor-canvas .hg-pan-layer').style.transform}; })()"
    )
    assert view["layer"] == ""


def test_a_click_right_after_a_wheel_pan_selects_the_shape_shown_there(
    page: Page, live_server, acme, alice
):
    open_map(page, live_server, acme, alice, webinar_graph())
    page.get_by_test_id("toolbar-fit").click()
    canvas = page.get_by_test_id("canvas").bounding_box()
    page.mouse.move(canvas["x"] + 30, canvas["y"] + 30)
    page.mouse.wheel(-45, -25)
    # Where the moving map shows the shape now, before the pan has settled.
    box = box_of(page, "proposal")
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    shape = page.locator('#editor-canvas [data-node-id="proposal"]')
    expect(shape).to_have_class(re.compile("hg-selected"))
    assert page.evaluate("window.hourglassEditor.viewCounts.commits") == 1
