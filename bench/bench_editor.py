"""Benchmark opening the map editor in Chromium, cold, beside the floor: the same
browser drawing the same map's SVG as a static file.

Ready to take input (at 100 and 500 steps): from navigation until the map is
painted (the server's drawing made live, or X6's canvas) and the main thread is
free, plus the time a click on a shape then takes to select it. X6 ready (500
steps): until the editor (X6) has taken over. JS heap: used after the editor has
taken over and a garbage collection (CDP Runtime.getHeapUsage). Floor: the map
drawn as the edit page carries it (systemmaps/canvas_svg.py), as a standalone
.svg answered from memory, until a frame with it is drawn. Every open is cold —
a fresh browser context, so nothing is cached — and the runs are interleaved
(each size, editor then floor, REPEAT times); the figures are medians, timed in
the browser from its navigation start.

Runs against the database of DATABASE_URL (SQLite under var/ by default; `make bench`
points it at PostgreSQL), with the app served by Django's threaded development server
on a free port of 127.0.0.1 and Debian's Chromium (CHROMIUM, default
/usr/bin/chromium); it creates throw-away businesses and deletes them afterwards.
Static files are served as in production (DEBUG off, collected into a temporary
folder with hashed names and compressed copies, answered by whitenoise);
`--dev-static` serves them as the development server does.

    .venv/bin/python bench/bench_editor.py [--json PATH] [--dev-static]

Wheel panning (500 steps): on a fresh page with the editor (X6) ready, a scroll
gesture that Chromium itself generates (CDP Input.synthesizeScrollGesture, mouse
wheel, over the middle of the canvas) pans the map for about 2 s; the page counts
its animation frames meanwhile (requestAnimationFrame: the main thread's frames),
and times each wheel event until the frame that shows it has been produced (the
animation frame after the event, then a message posted from it, which runs once
that frame's style, layout and paint are done). The floor is the same page's frame
interval with no input. Medians of PAN_RUNS fresh contexts; each also reports the
longest frame in the 2 s after the gesture (when the pan settles).
`--pan-only` measures the wheel pan alone.

First editing gesture (500 steps): once the editor has loaded in idle time, the
first shape is clicked, then Ctrl+Enter adds the next step; timed from its keydown
to the frame that shows the new shape, beside the same page's keydown of a key
with no effect to the next frame. Medians of PAN_RUNS fresh contexts;
`--gesture-only` measures it alone.

`--json PATH` writes the figures as rows in the shape of bench/_report.py.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hourglass.settings")
# The app as it runs in production and under `make run`: static files collected with
# hashed names and compressed copies, answered by whitenoise from its index (DEBUG
# off); `--dev-static` serves them as `runserver` does in development instead.
DEV_STATIC = "--dev-static" in sys.argv
if not DEV_STATIC:
    _collected = tempfile.mkdtemp(prefix="bench-static-")
    for name, value in {
        "DEBUG": "0",
        "SECRET_KEY": "bench-only",
        "EMAIL_URL": "dummymail://",
        "STATIC_ROOT": _collected,
        "STATICFILES_BACKEND": "hourglass.storage.ManifestStaticFilesStorage",
        # Plain http on 127.0.0.1: the production defaults would ask for https.
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
    }.items():
        os.environ[name] = value
# Playwright's sync API runs an event loop in this thread; the ORM calls here are
# plain and single-threaded.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import StaticFilesHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
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
from systemmaps import selectors  # noqa: E402
from systemmaps.canvas_svg import canvas_svg  # noqa: E402

SIZES, REPEAT, SEED = (100, 500), int(os.environ.get("BENCH_REPEAT", 5)), 20241123
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
VIEWPORT = {"width": 1600, "height": 1000}
# The wheel pan: PAN_DISTANCE screen pixels (right and down) at PAN_SPEED px/s.
PAN_RUNS, PAN_DISTANCE, PAN_SPEED = 5, (1200, 900), 750

# Timed in the browser from the first script on, so the figures do not depend on
# how often Playwright polls: every animation frame looks for the map on screen
# (the server's drawing made live, or X6's shapes); once it is there, the next
# free moment of the main thread is when a click would be handled. The frame in
# which the editor reports ready is X6 ready.
PROBE = """
(() => {
  const painted = () =>
    document.querySelector("#static-view.is-live [data-static-node]") ||
    document.querySelector("#editor-canvas [data-node-id]");
  const tick = () => {
    if (window.__painted === undefined && painted()) {
      window.__painted = performance.now();
      setTimeout(() => { window.__idle = performance.now(); }, 0);
    }
    if (window.hourglassEditor && window.hourglassEditor.ready) {
      window.__x6 = performance.now();
    } else {
      requestAnimationFrame(tick);
    }
  };
  requestAnimationFrame(tick);
})();
"""

# From the mouse-down on the first shape, in whichever drawing is on screen, until
# it shows as selected.
CLICK_PROBE = """
() => {
  window.__down = window.__selected = undefined;
  const canvas = document.getElementById("editor-canvas");
  canvas.addEventListener("pointerdown", () => { window.__down = performance.now(); },
    {capture: true, once: true});
  new MutationObserver((changes, observer) => {
    if (document.querySelector(".hg-selected")) {
      window.__selected = performance.now();
      observer.disconnect();
    }
  }).observe(canvas, {attributes: true, subtree: true, attributeFilter: ["class"]});
}
"""
FIRST_SHAPE = '#static-view [data-static-node="n0"], #editor-canvas [data-node-id="n0"]'


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def serve() -> tuple[ThreadedWSGIServer, str]:
    server = ThreadedWSGIServer(
        ("127.0.0.1", 0), QuietHandler, allow_reuse_address=True
    )
    app = get_wsgi_application()
    server.set_app(StaticFilesHandler(app) if DEV_STATIC else app)
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
        page.wait_for_timeout(5)


# Counts animation frames while window.__pan.counting, and times every wheel event
# to the end of the main-thread work of the frame that follows it.
PAN_PROBE = """
(() => {
  const pan = window.__pan = {
    counting: false, frames: 0, start: 0, end: 0, events: 0, latencies: [],
    longest: 0, last: 0, watching: false,
  };
  const tick = (now) => {
    if (pan.counting) pan.frames += 1;
    if (pan.watching && pan.last) pan.longest = Math.max(pan.longest, now - pan.last);
    pan.last = now;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  window.addEventListener("wheel", (event) => {
    if (!pan.counting) return;
    pan.events += 1;
    const t0 = event.timeStamp;
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => pan.latencies.push(performance.now() - t0);
      channel.port2.postMessage(0);
    });
  }, { capture: true, passive: true });
})();
"""


def fresh_context(browser, base: str, session: str | None = None):
    context = browser.new_context(viewport=VIEWPORT)
    if session:
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": base}]
        )
    return context


def time_editor(browser, base: str, session: str, url: str) -> dict:
    """One cold open: ms to ready for input (painted, main thread free, a click
    answered), to X6 ready, and the JS heap after, in MB."""
    context = fresh_context(browser, base, session)
    page = context.new_page()
    page.add_init_script(PROBE)
    page.goto(url, wait_until="commit")
    wait_until(page, "window.__idle !== undefined", timeout=120_000)
    painted, idle = page.evaluate("[window.__painted, window.__idle]")
    page.evaluate(CLICK_PROBE)
    # Where the first shape is on screen, in whichever drawing shows it now (the
    # editor takes over at the same view, so the spot stays right).
    x, y = page.evaluate(
        """(selector) => {
          const r = document.querySelector(selector).getBoundingClientRect();
          return [r.x + r.width / 2, r.y + r.height / 2];
        }""",
        FIRST_SHAPE,
    )
    page.mouse.click(x, y)
    wait_until(page, "window.__selected !== undefined")
    click = page.evaluate("window.__selected - window.__down")
    wait_until(page, "window.__x6 !== undefined", timeout=120_000)
    x6 = page.evaluate("window.__x6")
    cdp = context.new_cdp_session(page)
    cdp.send("HeapProfiler.collectGarbage")
    heap = cdp.send("Runtime.getHeapUsage")["usedSize"] / 2**20
    context.close()
    return {"painted": painted, "input": idle + click, "x6": x6, "heap": heap}


def time_svg(browser, base: str, svg: bytes) -> float:
    """ms from navigation start until the SVG document has loaded and a frame with
    it has been drawn, cold; the server is not asked (the file is in memory)."""
    context = fresh_context(browser, base)
    page = context.new_page()
    url = f"{base}/floor.svg"
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
    context.close()
    return drawn


def time_wheel_pan(browser, base: str, session: str, url: str) -> dict:
    """One wheel pan in a fresh context: frames per second during the gesture, the
    idle frame interval (the floor), the median wheel-to-frame time and the
    longest frame once the gesture has stopped."""
    context = fresh_context(browser, base, session)
    page = context.new_page()
    page.add_init_script(PAN_PROBE)
    page.goto(url, wait_until="commit")
    wait_until(page, "window.hourglassEditor && window.hourglassEditor.ready", 120_000)
    page.wait_for_timeout(500)  # the opening work settles
    idle = page.evaluate(
        """() => new Promise(done => {
          const start = performance.now(); let frames = 0;
          const tick = (now) => {
            if (now - start >= 1000) return done((now - start) / frames);
            frames += 1; requestAnimationFrame(tick);
          };
          requestAnimationFrame(tick);
        })"""
    )
    box = page.locator("#editor-canvas").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    cdp = context.new_cdp_session(page)
    page.evaluate(
        "Object.assign(window.__pan, {counting: true, start: performance.now()})"
    )
    dx, dy = PAN_DISTANCE
    cdp.send(
        "Input.synthesizeScrollGesture",
        {
            "x": x,
            "y": y,
            "xDistance": -dx,
            "yDistance": -dy,
            "speed": PAN_SPEED,
            "gestureSourceType": "mouse",
            "preventFling": True,
        },
    )
    page.evaluate(
        "Object.assign(window.__pan, {counting: false, end: performance.now(),"
        " watching: true, longest: 0})"
    )
    page.wait_for_timeout(2000)
    pan = page.evaluate("window.__pan")
    context.close()
    seconds = (pan["end"] - pan["start"]) / 1000
    assert pan["events"] > 10, f"the gesture sent {pan['events']} wheel events"
    return {
        "fps": pan["frames"] / seconds,
        "frame_ms": seconds * 1000 / pan["frames"],
        "idle_frame_ms": idle,
        "latency_ms": median(pan["latencies"]),
        "settle_ms": pan["longest"],
        "seconds": seconds,
        "events": pan["events"],
    }


# From a key's keydown until the frame that shows its effect has been produced:
# `effect` is "shape" (a new shape on the canvas) or "none" (the floor: a key that
# changes nothing, timed to the frame after it).
GESTURE_PROBE = """
(effect) => { window.__gesture = new Promise((done) => {
  const canvas = document.getElementById("editor-canvas");
  const before = new Set([...canvas.querySelectorAll("[data-node-id]")]
    .map((el) => el.dataset.nodeId));
  let t0 = null;
  const framed = () => requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => done(performance.now() - t0);
    channel.port2.postMessage(0);
  });
  window.addEventListener("keydown", (event) => {
    t0 = event.timeStamp;
    if (effect === "none") framed();
  }, { capture: true, once: true });
  if (effect === "shape") {
    new MutationObserver((changes, observer) => {
      const added = [...canvas.querySelectorAll("[data-node-id]")]
        .some((el) => !before.has(el.dataset.nodeId));
      if (added && t0 !== null) { observer.disconnect(); framed(); }
    }).observe(canvas, { childList: true, subtree: true });
  }
}); }
"""


def time_gesture(browser, base: str, session: str, url: str) -> dict:
    """One first editing gesture once the editor has loaded in idle time: the first
    shape clicked (selected, its side panel loaded), then Ctrl+Enter (Next step),
    timed from its keydown to the frame with the new shape; the floor is the same
    page's keydown of Shift alone to the next frame."""
    context = fresh_context(browser, base, session)
    page = context.new_page()
    page.goto(url, wait_until="commit")
    wait_until(page, "window.hourglassEditor && window.hourglassEditor.ready", 120_000)
    page.wait_for_timeout(1000)  # the idle-time work (the overview map) is done
    page.locator('#editor-canvas [data-node-id="n0"]').click()
    page.wait_for_timeout(500)  # the side panel has loaded
    page.evaluate(GESTURE_PROBE, "none")
    page.keyboard.press("Shift")
    floor_ms = page.evaluate("window.__gesture")
    page.evaluate(GESTURE_PROBE, "shape")
    page.keyboard.press("Control+Enter")
    effect_ms = page.evaluate("window.__gesture")
    context.close()
    return {"gesture": effect_ms, "floor": floor_ms}


def gesture_figures(browser, base: str, session: str, url: str) -> dict:
    runs = [time_gesture(browser, base, session, url) for _ in range(PAN_RUNS)]
    return {key: median(run[key] for run in runs) for key in runs[0]}


def pan_figures(browser, base: str, session: str, url: str) -> dict:
    """Medians of time_wheel_pan over PAN_RUNS fresh contexts."""
    runs = [time_wheel_pan(browser, base, session, url) for _ in range(PAN_RUNS)]
    return {key: median(run[key] for run in runs) for key in runs[0]}


def print_pan(pan: dict) -> None:
    print(
        f"Wheel pan over {pan['seconds']:.1f} s ({pan['events']:.0f} wheel events), "
        f"median of {PAN_RUNS}: {pan['fps']:.1f} frames/s "
        f"({pan['frame_ms']:.1f} ms a frame; idle page {pan['idle_frame_ms']:.1f} ms); "
        f"wheel to frame {pan['latency_ms']:.1f} ms; "
        f"longest frame after it {pan['settle_ms']:.0f} ms"
    )


def pan_row(pan: dict, size: int, **extra) -> dict:
    return row(
        f"editor.wheel_pan.{size}",
        f"editor, {size} steps: wheel pan, ms per frame over a 2 s "
        f"browser-generated scroll gesture ({pan['fps']:.1f} frames/s), "
        f"median of {PAN_RUNS}",
        pan["frame_ms"],
        "the same page's frame interval with no input",
        pan["idle_frame_ms"],
        fps=round(pan["fps"], 1),
        wheel_to_frame_ms=round(pan["latency_ms"], 1),
        settle_frame_ms=round(pan["settle_ms"], 1),
        **extra,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument(
        "--pan-only", action="store_true", help="measure the wheel pan alone"
    )
    parser.add_argument(
        "--gesture-only",
        action="store_true",
        help="measure the first editing gesture alone",
    )
    parser.add_argument(
        "--dev-static",
        action="store_true",
        help="serve static files as runserver does (default: as in production)",
    )
    args = parser.parse_args()
    if not DEV_STATIC:
        call_command("collectstatic", interactive=False, verbosity=0)
    rng = random.Random(SEED)

    runs = {size: {"editor": [], "svg": []} for size in SIZES}
    server = None
    with ExitStack() as stack:
        maps = {}
        for size in SIZES:
            graph = random_document(rng, nodes=size, edges=size - 1)
            maps[size] = stack.enter_context(throwaway_map(graph))
        try:
            server, base = serve()
            targets = {}
            for size, (user, business, system_map) in maps.items():
                client = Client()
                client.force_login(user)
                session = client.cookies[settings.SESSION_COOKIE_NAME].value
                kwargs = {"slug": business.slug, "pk": system_map.pk}
                url = base + reverse("systemmaps:map-edit", kwargs=kwargs)
                drawing = canvas_svg(
                    selectors.graph_of(system_map), selectors.editor_badges(system_map)
                )
                svg = ('<?xml version="1.0" encoding="utf-8"?>' + drawing).encode()
                targets[size] = (session, url, svg)

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM,
                    args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
                )
                pan_target = targets[max(SIZES)]
                if args.pan_only:
                    print_pan(pan_figures(browser, base, *pan_target[:2]))
                    browser.close()
                    return
                if args.gesture_only:
                    print(gesture_figures(browser, base, *pan_target[:2]))
                    browser.close()
                    return
                # One warm-up of each (the server's first requests, Chromium's own
                # start-up), not counted.
                session, url, svg = targets[SIZES[0]]
                time_editor(browser, base, session, url)
                time_svg(browser, base, svg)
                for _ in range(REPEAT):
                    for size, (session, url, svg) in targets.items():
                        runs[size]["editor"].append(
                            time_editor(browser, base, session, url)
                        )
                        runs[size]["svg"].append(time_svg(browser, base, svg))
                pan = pan_figures(browser, base, *pan_target[:2])
                gesture = gesture_figures(browser, base, *pan_target[:2])
                browser.close()
        finally:
            if server is not None:
                server.shutdown()
                server.server_close()

    if not DEV_STATIC:
        shutil.rmtree(_collected, ignore_errors=True)
    vendor = connection.vendor
    serving = "development static files" if DEV_STATIC else "production static files"
    print(
        f"Opening the editor in Chromium, cold ({vendor}, {serving}; median of "
        f"{REPEAT} interleaved runs, ms from navigation start)"
    )
    print(f"{'what':<52}{'ms':>9}{'ratio':>8}")
    rows = []
    floor_what = "the same map's drawing as a static .svg drawn, cold"
    for size in SIZES:
        editor = runs[size]["editor"]
        floor = median(runs[size]["svg"])
        ready = median(r["input"] for r in editor)
        painted = median(r["painted"] for r in editor)
        x6 = median(r["x6"] for r in editor)
        heap = median(r["heap"] for r in editor)
        extra = {
            "database": vendor,
            "nodes": size,
            "edges": size - 1,
            "repeat": REPEAT,
            "static": "development" if DEV_STATIC else "production",
        }
        for what, ms in (
            ("map painted", painted),
            ("ready to take input", ready),
            ("X6 ready", x6),
            ("floor, the static .svg drawn", floor),
        ):
            print(f"{f'{size} steps: {what}':<52}{ms:>9.0f}{ms / floor:>8.2f}")
        print(f"{f'{size} steps: JS heap after open (MB)':<52}{heap:>9.1f}")
        rows.append(
            row(
                f"editor.input.{size}",
                f"editor, {size} steps: painted and a click selects, cold, "
                f"median of {REPEAT}",
                ready,
                floor_what,
                floor,
                **extra,
            )
        )
        if size == max(SIZES):
            rows.append(
                row(
                    f"editor.x6.{size}",
                    f"editor, {size} steps: X6 ready, cold, median of {REPEAT} "
                    f"(JS heap after: {heap:.1f} MB)",
                    x6,
                    floor_what,
                    floor,
                    js_heap_mb=round(heap, 1),
                    **extra,
                )
            )
    print_pan(pan)
    size = max(SIZES)
    rows.append(pan_row(pan, size, database=vendor, nodes=size, edges=size - 1))
    print(
        f"{f'{size} steps: first editing gesture to its effect':<52}"
        f"{gesture['gesture']:>9.0f}{gesture['gesture'] / gesture['floor']:>8.2f}"
    )
    print(f"{f'{size} steps: floor, a key with no effect':<52}{gesture['floor']:>9.0f}")
    rows.append(
        row(
            f"editor.gesture.{size}",
            f"editor, {size} steps: first editing gesture (Ctrl+Enter adds the next "
            f"step) to the frame that shows it, after the idle load, median of "
            f"{PAN_RUNS}",
            gesture["gesture"],
            "the same page: a key with no effect to the next frame",
            gesture["floor"],
            database=vendor,
            nodes=size,
            edges=size - 1,
        )
    )
    if args.json:
        write_json(args.json, rows)


if __name__ == "__main__":
    main()
