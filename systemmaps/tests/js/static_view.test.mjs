import assert from "node:assert/strict";
import { test } from "node:test";

import {
  cssTransform,
  dragOnGrid,
  fitTransform,
  shapesBox,
  zoomAbout,
} from "../../../static/systemmaps/editor/static-view.js";
import { DOC } from "./helpers.mjs";

test("the shapes' box runs from the first shape's corner to the last one's", () => {
  const nodes = [
    { id: "a", kind: "task", x: 0, y: 0 },
    { id: "b", kind: "decision", x: 400, y: 100 },
    { id: "c", kind: "blob", x: -100, y: 0 },
  ];
  // Task 160 × 50, decision 120 × 90 in helpers' DOC; an unknown kind is a task.
  assert.deepEqual(shapesBox(nodes, DOC.shapes), { x: -180, y: -25, width: 640, height: 170 });
  assert.deepEqual(shapesBox([], DOC.shapes), { x: 0, y: 0, width: 0, height: 0 });
});

test("a map that fits is shown whole at most at full size, centred", () => {
  const box = { x: 0, y: 0, width: 200, height: 100 };
  assert.deepEqual(fitTransform(box, { width: 1000, height: 600 }, 40), { s: 1, tx: 400, ty: 250 });
  // Too wide: shrunk to the width less the padding both sides.
  const wide = fitTransform({ x: 100, y: 0, width: 1840, height: 100 }, { width: 1000, height: 600 }, 40);
  assert.equal(wide.s, 0.5);
  assert.deepEqual([wide.tx, wide.ty], [500 - 1020 * 0.5, 300 - 25]);
  // Never below the smallest zoom.
  assert.equal(fitTransform({ x: 0, y: 0, width: 1e6, height: 10 }, { width: 100, height: 100 }, 0, 0.1).s, 0.1);
});

test("zooming keeps the point under the pointer still, within the zoom limits", () => {
  const view = { s: 1, tx: 10, ty: 20 };
  const zoomed = zoomAbout(view, 2, { x: 110, y: 220 });
  assert.deepEqual(zoomed, { s: 2, tx: -90, ty: -180 });
  // The canvas point under (110, 220) is (100, 200) before and after.
  assert.deepEqual([(110 - zoomed.tx) / zoomed.s, (220 - zoomed.ty) / zoomed.s], [100, 200]);
  assert.equal(zoomAbout({ s: 2.9, tx: 0, ty: 0 }, 2, { x: 0, y: 0 }, 0.1, 3).s, 3);
});

test("the drawing's transform puts its view box origin where the view says", () => {
  assert.equal(cssTransform({ s: 0.5, tx: 100, ty: 50 }, { x: -94, y: -48 }), "translate(53px, 26px) scale(0.5)");
});

test("a drag on the screen moves a step by whole grid steps of the canvas", () => {
  assert.deepEqual(dragOnGrid(52, -31, 0.5, 10), { dx: 100, dy: -60 });
  assert.deepEqual(dragOnGrid(4, 4, 1, 10), { dx: 0, dy: 0 });
});
