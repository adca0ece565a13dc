import assert from "node:assert/strict";
import { test } from "node:test";

import {
  freeSpot,
  nudgeOf,
  overlaps,
  snap,
  spotIsFree,
} from "../../../static/systemmaps/editor/commands.js";
import { DOC } from "./helpers.mjs";

const TASK = { width: DOC.shapes.task.width, height: DOC.shapes.task.height };
const { column, freeSpotStep: STEP, freeSpotMargin: MARGIN } = DOC.spacing;

// A shape's box from its centre, as the canvas holds it.
const boxAt = (cx, cy, size = TASK) => ({
  x: cx - size.width / 2,
  y: cy - size.height / 2,
  width: size.width,
  height: size.height,
});

// Worked out apart from the code under test: two boxes share area when both their
// x ranges and their y ranges share a stretch of positive length.
function clearOf(boxes, cx, cy, size, margin) {
  const left = cx - size.width / 2 - margin;
  const right = cx + size.width / 2 + margin;
  const top = cy - size.height / 2 - margin;
  const bottom = cy + size.height / 2 + margin;
  return boxes.every(
    (b) =>
      Math.min(right, b.x + b.width) - Math.max(left, b.x) <= 0 ||
      Math.min(bottom, b.y + b.height) - Math.max(top, b.y) <= 0,
  );
}

test("boxes that only touch do not overlap", () => {
  const a = { x: 0, y: 0, width: 10, height: 10 };
  assert.ok(overlaps(a, { x: 5, y: 5, width: 10, height: 10 }));
  assert.ok(!overlaps(a, { x: 10, y: 0, width: 10, height: 10 }));
  assert.ok(!overlaps(a, { x: 0, y: -10, width: 10, height: 10 }));
  assert.ok(overlaps(a, { x: 2, y: 2, width: 2, height: 2 }), "one inside the other");
});

test("a spot is free only with the margin clear all round", () => {
  const boxes = [boxAt(0, 0)];
  // Side by side, the gap between the shapes is what counts.
  const gap = (g) => TASK.width + g;
  assert.ok(spotIsFree(boxes, gap(MARGIN), 0, TASK, MARGIN));
  assert.ok(!spotIsFree(boxes, gap(MARGIN - 1), 0, TASK, MARGIN));
  assert.ok(spotIsFree(boxes, gap(0), 0, TASK, 0));
});

test("the next step goes one column right, then down past every shape in the way", () => {
  const from = { x: 0, y: 0 };
  const start = { x: from.x + column, y: from.y };
  // A column of shapes right of `from`, one a step apart, then a gap, then more.
  const boxes = [boxAt(0, 0), ...[0, 1, 2, 5].map((i) => boxAt(column, i * STEP))];
  const spot = freeSpot(boxes, start, { x: 0, y: STEP }, TASK, MARGIN, 60);
  let expected = null;
  for (let i = 0; expected === null; i += 1) {
    if (clearOf(boxes, start.x, i * STEP, TASK, MARGIN)) expected = { x: start.x, y: i * STEP };
  }
  assert.deepEqual(spot, expected);
  assert.deepEqual(spot, { x: column, y: 3 * STEP });
});

test("a shape close below counts too, a shape far off does not", () => {
  const start = { x: column, y: 0 };
  // Its top is a pixel inside the margin of the spot asked for, and of the next.
  const near = [boxAt(column, TASK.height + MARGIN - 1)];
  assert.ok(!clearOf(near, column, 0, TASK, MARGIN) && !clearOf(near, column, STEP, TASK, MARGIN));
  assert.deepEqual(freeSpot(near, start, { x: 0, y: STEP }, TASK, MARGIN, 60), { x: column, y: 2 * STEP });
  const far = [boxAt(column + TASK.width + MARGIN, 0)];
  assert.deepEqual(freeSpot(far, start, { x: 0, y: STEP }, TASK, MARGIN, 60), start);
});

test("after its tries a new step takes the last spot it looked at", () => {
  const wall = Array.from({ length: 10 }, (_, i) => boxAt(0, i * 10, { width: 400, height: 400 }));
  assert.deepEqual(freeSpot(wall, { x: 0, y: 0 }, { x: 24, y: 24 }, TASK, MARGIN, 3), { x: 72, y: 72 });
});

test("positions snap to the grid and arrows nudge by it, five times with Shift", () => {
  assert.equal(snap(13, 8), 16);
  assert.equal(snap(-11, 8), -8);
  assert.deepEqual(nudgeOf("up", 8, false), [0, -8]);
  assert.deepEqual(nudgeOf("right", 8, true), [40, 0]);
  assert.deepEqual(nudgeOf("down", 10, true), [0, 50]);
  assert.deepEqual(nudgeOf("left", 10, false), [-10, 0]);
});
