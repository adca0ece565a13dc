import assert from "node:assert/strict";
import { test } from "node:test";

import {
  DRIFT_PX,
  SETTLE_MS,
  createViewQueue,
  cssTransform,
  gridMargin,
  gridPreviewOf,
  minimapShift,
  needsCommit,
  previewOf,
  wheelScale,
  zoomedAt,
} from "../../../static/systemmaps/editor/pan.js";

const LIMITS = { minScale: 0.1, maxScale: 3 };

// Where a map point lands on screen for a view.
const onScreen = (view, p) => ({ x: view.tx + view.s * p.x, y: view.ty + view.s * p.y });

// A frame clock and timers a test runs by hand.
function fakeEnv() {
  let nextId = 1;
  const frames = new Map();
  const timers = new Map();
  return {
    env: {
      requestFrame: (fn) => {
        const id = nextId++;
        frames.set(id, fn);
        return id;
      },
      cancelFrame: (id) => frames.delete(id),
      setTimeout: (fn, ms) => {
        const id = nextId++;
        timers.set(id, { fn, ms });
        return id;
      },
      clearTimeout: (id) => timers.delete(id),
    },
    pendingFrames: () => frames.size,
    pendingTimers: () => [...timers.values()],
    runFrame() {
      const due = [...frames.values()];
      frames.clear();
      due.forEach((fn) => fn());
    },
    runTimers() {
      const due = [...timers.values()];
      timers.clear();
      due.forEach(({ fn }) => fn());
    },
  };
}

function queueOver(view, { direct = () => false } = {}) {
  const clock = fakeEnv();
  const x6 = { view: { ...view } };
  const log = [];
  const queue = createViewQueue({
    read: () => ({ ...x6.view }),
    commit: (v) => {
      log.push(["commit", v]);
      x6.view = { ...v };
    },
    preview: (base, v) => log.push(base ? ["preview", cssTransform(previewOf(base, v))] : ["clear"]),
    direct,
    env: clock.env,
    limits: LIMITS,
  });
  return { queue, clock, x6, log };
}

test("zooming at a point keeps that point where it is on screen, within the limits", () => {
  const view = { tx: 40, ty: -25, s: 0.8 };
  const point = { x: 310, y: 120 }; // a map point under the pointer
  const pointer = onScreen(view, point);
  const zoomed = zoomedAt(view, 1.6, pointer.x, pointer.y, LIMITS);
  assert.equal(zoomed.s, 1.6);
  const after = onScreen(zoomed, point);
  assert.ok(Math.abs(after.x - pointer.x) < 1e-9 && Math.abs(after.y - pointer.y) < 1e-9);
  assert.equal(zoomedAt(view, 9, 0, 0, LIMITS).s, 3);
  assert.equal(zoomedAt(view, 0.01, 0, 0, LIMITS).s, 0.1);
});

test("a wheel notch zooms in X6's steps: 5 % rounding, 1 % below 15 %, never past the limits", () => {
  assert.equal(wheelScale(1, -100, 1.1, LIMITS), 1.1);
  assert.equal(wheelScale(1, 100, 1.1, LIMITS), 0.9);
  assert.equal(wheelScale(0.12, -3, 1.1, LIMITS), 0.13);
  assert.ok(Math.abs(wheelScale(0.12, 3, 1.1, LIMITS) - 0.11) < 1e-9);
  assert.equal(wheelScale(3, -100, 1.1, LIMITS), 3);
  assert.equal(wheelScale(0.1, 100, 1.1, LIMITS), 0.1);
});

test("the preview transform shows the painted map exactly where the view puts it", () => {
  const base = { tx: 100, ty: 50, s: 0.5 };
  const view = { tx: -30, ty: 80, s: 1.25 };
  const { k, dx, dy } = previewOf(base, view);
  const p = { x: 700, y: -40 };
  const painted = onScreen(base, p);
  const wanted = onScreen(view, p);
  assert.ok(Math.abs(k * painted.x + dx - wanted.x) < 1e-9);
  assert.ok(Math.abs(k * painted.y + dy - wanted.y) < 1e-9);
  assert.equal(cssTransform({ k: 1, dx: -3, dy: 4.5 }), "translate(-3px, 4.5px) scale(1)");
});

test("the grid moves by less than one period, in step with the map modulo its pattern", () => {
  const base = { tx: 0, ty: 0, s: 1 };
  const view = { tx: 1003, ty: -47, s: 1 };
  const { dx, dy, k } = gridPreviewOf(base, view, 10);
  assert.equal(k, 1);
  assert.ok(Math.abs(dx) <= 5 && Math.abs(dy) <= 5);
  assert.equal((((view.tx - dx) % 10) + 10) % 10, 0);
  assert.equal((((view.ty - dy) % 10) + 10) % 10, 0);
  // The layer starts a whole number of pixels out, its pattern shifted back in
  // phase: a dot at the canvas's origin stays there.
  const inPhase = (offset, period) => Math.abs(offset / period - Math.round(offset / period)) < 1e-9;
  const { margin, shift } = gridMargin(7.5);
  assert.equal(margin, 30);
  assert.ok(inPhase(-margin + shift, 7.5));
  const odd = gridMargin(9.1);
  assert.equal(odd.margin, 37);
  assert.ok(inPhase(-odd.margin + odd.shift, 9.1));
});

test("a preview is committed mid-gesture once it drifts past what was painted", () => {
  const base = { tx: 0, ty: 0, s: 1 };
  assert.equal(needsCommit(base, { tx: DRIFT_PX - 1, ty: 0, s: 1 }), false);
  assert.equal(needsCommit(base, { tx: 0, ty: -DRIFT_PX - 1, s: 1 }), true);
  assert.equal(needsCommit(base, { tx: 0, ty: 0, s: 1.9 }), false);
  assert.equal(needsCommit(base, { tx: 0, ty: 0, s: 2.1 }), true);
  assert.equal(needsCommit(base, { tx: 0, ty: 0, s: 0.45 }), true);
});

test("the overview map's frame follows the view: moved by the pan, sized by the zoom", () => {
  const base = { tx: 0, ty: 0, s: 1 };
  assert.deepEqual(minimapShift(base, { tx: -200, ty: 100, s: 1 }, 0.1), { k: 1, dx: 20, dy: -10 });
  assert.equal(minimapShift(base, { tx: 0, ty: 0, s: 2 }, 0.1).k, 0.5);
});

test("many wheel events in one frame make one preview transform and one frame request", () => {
  const { queue, clock, x6, log } = queueOver({ tx: 10, ty: 20, s: 1 });
  for (let i = 0; i < 7; i += 1) queue.panBy(-5, -3);
  assert.equal(clock.pendingFrames(), 1);
  assert.deepEqual(x6.view, { tx: 10, ty: 20, s: 1 }); // X6 not touched yet
  clock.runFrame();
  assert.deepEqual(log, [["preview", "translate(-35px, -21px) scale(1)"]]);
  assert.deepEqual(queue.counts, { frames: 1, previews: 1, commits: 0 });
  clock.runFrame(); // nothing new: no transform
  assert.equal(log.length, 1);
});

test("the gesture is committed to X6 once it settles, in one step with the preview dropped", () => {
  const { queue, clock, x6, log } = queueOver({ tx: 10, ty: 20, s: 1 });
  queue.panBy(-5, 0);
  clock.runFrame();
  queue.wheelZoom(-100, 100, 50);
  clock.runFrame();
  assert.deepEqual(
    clock.pendingTimers().map((t) => t.ms),
    [SETTLE_MS],
  );
  clock.runTimers();
  const committed = log.slice(-2);
  assert.deepEqual(committed[0], ["clear"]);
  assert.equal(committed[1][0], "commit");
  const wanted = zoomedAt({ tx: 5, ty: 20, s: 1 }, 1.1, 100, 50, LIMITS);
  assert.deepEqual(x6.view, wanted);
  assert.equal(queue.pending(), false);
  assert.deepEqual(queue.counts, { frames: 2, previews: 2, commits: 1 });
});

test("a read during a gesture (a click, Fit, a test) commits it first, and the frame does nothing", () => {
  const { queue, clock, x6, log } = queueOver({ tx: 0, ty: 0, s: 1 });
  queue.panBy(30, 40);
  assert.deepEqual(queue.current(), { tx: 30, ty: 40, s: 1 });
  queue.flush();
  assert.deepEqual(x6.view, { tx: 30, ty: 40, s: 1 });
  assert.equal(clock.pendingFrames(), 0);
  assert.equal(clock.pendingTimers().length, 0);
  clock.runFrame();
  assert.deepEqual(log.map((entry) => entry[0]), ["clear", "commit"]);
});

test("a gesture that ends where it began commits nothing", () => {
  const { queue, clock, log } = queueOver({ tx: 0, ty: 0, s: 1 });
  queue.panBy(30, 0);
  queue.panBy(-30, 0);
  clock.runFrame();
  clock.runTimers();
  assert.deepEqual(log.map((entry) => entry[0]), ["preview", "clear"]);
});

test("while an overlay needs X6's transform, each frame commits (still one per frame)", () => {
  const { queue, clock, x6, log } = queueOver({ tx: 0, ty: 0, s: 1 }, { direct: () => true });
  queue.panBy(10, 0);
  queue.panBy(10, 0);
  clock.runFrame();
  assert.deepEqual(x6.view, { tx: 20, ty: 0, s: 1 });
  queue.panBy(5, 0);
  clock.runFrame();
  assert.deepEqual(x6.view, { tx: 25, ty: 0, s: 1 });
  clock.runTimers();
  assert.equal(log.filter((entry) => entry[0] === "commit").length, 2);
});

test("a pan past the painted margin commits in that frame and previews from there", () => {
  const { queue, clock, x6 } = queueOver({ tx: 0, ty: 0, s: 1 });
  queue.panBy(-(DRIFT_PX + 10), 0);
  clock.runFrame();
  assert.deepEqual(x6.view, { tx: -(DRIFT_PX + 10), ty: 0, s: 1 });
  queue.panBy(-10, 0);
  clock.runFrame();
  assert.deepEqual(queue.counts, { frames: 2, previews: 1, commits: 1 });
});
