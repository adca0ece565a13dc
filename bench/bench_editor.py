"""Benchmark opening the map editor on a 500-step map (700 arrows) in Chromium, beside
the floor: the same browser showing the same map's static SVG export.

Editor: from navigation until every shape is on the canvas (500 `[data-node-id]`
elements in the canvas) and the editor is ready, and until a click on a shape has
selected it. Floor: from navigation until `export.svg?inline=1` has loaded and
been drawn, with the SVG Graphviz drew for this map answered from memory, so the
floor is the browser's own work. How long the server takes to draw that SVG with
Graphviz is printed beside, for scale (measured once: it is slow). Each browser
figure is the best of three fresh page loads after one warm-up, timed in the
browser from its navigation start.

Runs against the database of DATABASE_URL (SQLite under var/ by default; `make bench`
points it at PostgreSQL), with the app served by Django's threaded development server
on a free port of 127.0.0.1 and Debian's Chromium (CHROMIUM, default
/usr/bin/chromium); it creates a throw-away business and deletes it afterwards.

    .venv/bin/python bench/bench_editor.py [--json PATH]

`--json PATH` writes both editor figures as rows in the shape of bench/_report.py.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hourglass.settings")
# Playwright's sync API runs an event loop in this thread; the ORM calls here are
# plain and single-threaded.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import StaticFilesHandler  # noqa: E402
from django.core.servers.basehttp import (  # noqa: E402
    ThreadedWSGIServer,
    WSGIRequestHandler,
)
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from bench._flowcharts import random_document, throwaway_map  # noqa: E402
from bench._report import row, write_json  # noqa: E402

NODES, EDGES, REPEAT, SEED = 500, 700, 3, 20241123
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

# Timed in the browser from the first script on, so the figures do not depend on
# how often Playwright polls: every animation frame counts the shapes; once all are
# there and the editor is ready, the next free moment of the main thread is when a
# click would be handled.
RENDER_PROBE = """
(() => {
  const wanted = WANTED;
  const tick = () => {
    const shapes = document.querySelectorAll("#editor-canvas [data-node-id]").length;
    if (shapes >= wanted && window.hourglassEditor && window.hourglassEditor.ready) {
      window.__rendered = performance.now();
      setTimeout(() => { window.__idle = performance.now(); }, 0);
    } else {
      requestAnimationFrame(tick);
    }
  };
  requestAnimationFrame(tick);
})();
""".replace("WANTED", str(NODES))

# From the mouse-down on a shape until the shape shows as selected.
CLICK_PROBE = """
(node) => {
  window.__down = window.__selected = undefined;
  const canvas = document.getElementById("editor-canvas");
  const down = () => { window.__down = performance.now(); };
  canvas.addEventListener("mousedown", down, {capture: true, once: true});
  new MutationObserver((changes, observer) => {
    if (node.classList.contains("hg-selected")) {
      window.__selected = performance.now();
      observer.disconnect();
    }
  }).observe(node, {attributes: true, attributeFilter: ["class"]});
}
"""


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def serve() -> tuple[ThreadedWSGIServer, str]:
    server = ThreadedWSGIServer(
        ("127.0.0.1", 0), QuietHandler, allow_reuse_address=True
    )
    server.set_app(StaticFilesHandler(get_wsgi_application()))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    return server, f"http://{host}:{port}"


def wait_until(page, expression: str, timeout: float = 30_000) -> None:
    """Polls `expression` through page.evaluate: Playwright's wait_for_function
    compiles its predicate with eval in the page, which the app's Content Security
    Policy refuses. (The figures are timed in the page, not by this polling.)"""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{expression} still false after {timeout} ms")
        page.wait_for_timeout(50)


def time_editor(context, url: str) -> tuple[float, float]:
    """(ms until every shape is rendered and the editor is ready, ms until it
    would have answered a click: the main thread free again, plus the time a click
    on a shape takes to select it), both from navigation start."""
    page = context.new_page()
    page.add_init_script(RENDER_PROBE)
    page.goto(url, wait_until="commit")
    wait_until(page, "window.__idle !== undefined", timeout=120_000)
    rendered, idle = page.evaluate("[window.__rendered, window.__idle]")
    node = page.locator('#editor-canvas [data-node-id="n0"]')
    node.evaluate(CLICK_PROBE)
    # The view is fitted to the whole map: the first shape is on the canvas.
    box = node.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_until(page, "window.__selected !== undefined")
    click = page.evaluate("window.__selected - window.__down")
    page.close()
    return rendered, idle + click


def time_svg(context, url: str, svg: bytes) -> float:
    """ms from navigation start until the SVG document has loaded and a frame with
    it has been drawn; the server is not asked (the response comes from memory)."""
    page = context.new_page()
    page.route(
        url,
        lambda route: route.fulfill(
            status=200, body=svg, headers={"Content-Type": "image/svg+xml"}
        ),
    )
    page.goto(url, wait_until="load", timeout=120_000)
    drawn = page.evaluate(
        "new Promise(done => requestAnimationFrame(() => done(performance.now())))"
    )
    page.close()
    return drawn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    rng = random.Random(SEED)

    server = None
    with throwaway_map(random_document(rng, nodes=NODES, edges=EDGES)) as (
        user,
        business,
        system_map,
    ):
        try:
            client = Client()
            client.force_login(user)
            session = client.cookies[settings.SESSION_COOKIE_NAME].value
            kwargs = {"slug": business.slug, "pk": system_map.pk}
            server, base = serve()
            editor_url = base + reverse("systemmaps:map-edit", kwargs=kwargs)
            svg_url = (
                base
                + reverse("systemmaps:map-export", kwargs={**kwargs, "fmt": "svg"})
                + "?inline=1"
            )

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM,
                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
                )
                context = browser.new_context(viewport={"width": 1600, "height": 1000})
                context.add_cookies(
                    [
                        {
                            "name": settings.SESSION_COOKIE_NAME,
                            "value": session,
                            "url": base,
                        }
                    ]
                )
                start = time.perf_counter()
                response = context.request.get(svg_url, timeout=300_000)
                graphviz = (time.perf_counter() - start) * 1000
                assert response.ok, response.status
                svg = response.body()
                # One warm-up each, so static files come from the browser's cache as
                # they do for anyone who has opened the app before.
                time_editor(context, editor_url)
                time_svg(context, svg_url, svg)
                editor_runs = [time_editor(context, editor_url) for _ in range(REPEAT)]
                svg_runs = [time_svg(context, svg_url, svg) for _ in range(REPEAT)]
                browser.close()
        finally:
            if server is not None:
                server.shutdown()
                server.server_close()

    rendered = min(r for r, _ in editor_runs)
    responded = min(c for _, c in editor_runs)
    floor = min(svg_runs)
    vendor = connection.vendor
    print(
        f"Opening a {NODES}-step, {EDGES}-arrow map in Chromium "
        f"({vendor}; best of {REPEAT}, ms from navigation start)"
    )
    rows = [
        ("editor: every shape rendered, ready", rendered),
        ("editor: a click on a shape selected it", responded),
        ("floor: the static SVG export drawn", floor),
    ]
    print(f"{'what':<44}{'ms':>9}{'ratio':>8}")
    for what, ms in rows:
        print(f"{what:<44}{ms:>9.0f}{ms / floor:>8.2f}")
    print(f"{'(server: Graphviz drawing that SVG, once)':<44}{graphviz:>9.0f}")
    if args.json:
        floor_what = "the same map's static SVG export drawn"
        extra = {
            "database": vendor,
            "nodes": NODES,
            "edges": EDGES,
            "repeat": REPEAT,
            "server_svg_export_ms": round(graphviz, 1),
        }
        write_json(
            args.json,
            [
                row(
                    "editor.rendered",
                    f"editor, {NODES} steps: all shapes drawn, ready, best of {REPEAT}",
                    rendered,
                    floor_what,
                    floor,
                    **extra,
                ),
                row(
                    "editor.click",
                    f"editor, {NODES} steps: a click selects a shape, best of {REPEAT}",
                    responded,
                    floor_what,
                    floor,
                    **extra,
                ),
            ],
        )


if __name__ == "__main__":
    main()
