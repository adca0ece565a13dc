// The editor's label wrap is systemmaps/document.py's wrap_label (which the edit
// page's first drawing uses): the same lines on the cases test_canvas_svg.py
// writes from the Python rule, with the same stand-in measure.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { wrapLabel } from "../../../static/systemmaps/editor/labels.js";

const CASES = JSON.parse(readFileSync(new URL("./label_wraps.json", import.meta.url), "utf8"));

// Each character is as wide as the table says (7 when not in it): a measure both
// languages can compute, not one where every character is alike.
function tableMeasure(widths) {
  return (text) => [...text].reduce((sum, ch) => sum + (widths[ch] ?? 7), 0);
}

test("the table holds cases", () => {
  assert.ok(CASES.cases.length >= 40);
});

test("wrapLabel breaks every label as document.wrap_label does", () => {
  const measure = tableMeasure(CASES.widths);
  for (const [number, c] of CASES.cases.entries()) {
    const wrapped = wrapLabel(c.label, { width: c.width, lines: c.lines }, measure);
    assert.equal(wrapped, c.expected.join("\n"), `case ${number}: ${c.label}`);
  }
});
