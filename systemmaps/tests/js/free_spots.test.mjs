// The editor's "next free spot" is systemmaps/document.py's free_spot: the same
// answers on the cases test_document.py writes from the Python rule.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { freeSpot } from "../../../static/systemmaps/editor/commands.js";

const CASES = JSON.parse(readFileSync(new URL("./free_spots.json", import.meta.url), "utf8"));

test("the table holds cases", () => {
  assert.ok(CASES.length >= 50);
});

test("freeSpot answers every case as document.free_spot does", () => {
  for (const [number, c] of CASES.entries()) {
    const start = { x: c.start[0], y: c.start[1] };
    const step = { x: c.step[0], y: c.step[1] };
    const { x, y } = freeSpot(c.boxes, start, step, c.size, c.margin, c.tries);
    assert.deepEqual([x, y], c.expected, `case ${number}`);
  }
});
