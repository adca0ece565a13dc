import assert from "node:assert/strict";
import { test } from "node:test";

import {
  edgeLabelOf,
  editorBox,
  labelAttrs,
  labelRoom,
  otherAnswer,
  wrapLabel,
} from "../../../static/systemmaps/editor/labels.js";
import { DOC, drawing, fixedMeasure } from "./helpers.mjs";

// 64 pixels of room less the 4 kept back: six 10-pixel characters a line.
const SIX = { width: 64, lines: 3 };

test("words wrap at the last space that fits the room", () => {
  assert.equal(wrapLabel("one two three", SIX, fixedMeasure()), "one\ntwo\nthree");
  assert.equal(wrapLabel("ab cd efg", SIX, fixedMeasure()), "ab cd\nefg");
  // Exactly six characters still fit.
  assert.equal(wrapLabel("abc de", SIX, fixedMeasure()), "abc de");
});

test("runs of spaces count as one and newlines in the label are kept", () => {
  assert.equal(wrapLabel("  ab   cd  ", SIX, fixedMeasure()), "ab cd");
  assert.equal(wrapLabel("ab\ncd", SIX, fixedMeasure()), "ab\ncd");
});

test("a word longer than a line is cut where the line is full", () => {
  assert.equal(wrapLabel("abcdefghijklmno", SIX, fixedMeasure()), "abcdef\nghijkl\nmno");
  assert.equal(wrapLabel("ab abcdefghij", SIX, fixedMeasure()), "ab\nabcdef\nghij");
});

test("past the last line the label ends in an ellipsis that fits", () => {
  const two = { width: 64, lines: 2 };
  assert.equal(wrapLabel("one two three", two, fixedMeasure()), "one\ntwo…");
  // "abcdef…" would be seven characters: the line gives one up.
  assert.equal(wrapLabel("abcdef ghijkl mnop", two, fixedMeasure()), "abcdef\nghijk…");
});

test("an empty label is one empty line", () => {
  assert.equal(wrapLabel("", SIX, fixedMeasure()), "");
});

test("the room of a shape is its label width and lines in config.document", () => {
  assert.deepEqual(labelRoom(DOC, "decision"), { width: 84, lines: 3 });
  assert.deepEqual(labelRoom(DOC, "no-such-kind"), { width: 104, lines: 2 });
});

test("a step's label attrs keep the text and carry it wrapped to its kind", () => {
  // A decision has 84 - 4 pixels: eight characters a line.
  const attrs = labelAttrs(drawing(), "decision", "Booked a consultation?");
  assert.deepEqual(attrs, {
    text: "Booked a consultation?",
    textWrap: { text: "Booked a\nconsulta\ntion?" },
  });
});

test("an arrow's label box is the bold text's width plus padding", () => {
  const weights = [];
  const label = edgeLabelOf("yes", fixedMeasure(weights));
  assert.deepEqual(weights, [600]);
  assert.deepEqual(label.attrs.label, { text: "yes" });
  assert.deepEqual(label.attrs.body, { x: -20, y: -9, width: 40, height: 18 });
});

test("a decision's next arrow answers the other way round", () => {
  assert.equal(otherAnswer(["Yes"], "Yes", "No"), "No");
  assert.equal(otherAnswer([" no ", null], "Yes", "No"), "Yes");
  assert.equal(otherAnswer([], "Yes", "No"), null);
  assert.equal(otherAnswer(["yes", "NO"], "Yes", "No"), null);
  assert.equal(otherAnswer(["maybe"], "Yes", "No"), null);
});

test("the label editor covers the shape, never smaller than an arrow label needs", () => {
  const box = editorBox({ x: 100, y: 50, width: 200, height: 60 }, 1);
  assert.deepEqual(box, { left: "100px", top: "50px", width: "200px", height: "60px", fontSize: "13px" });
  const small = editorBox({ x: 100, y: 50, width: 40, height: 10 }, 4);
  assert.deepEqual(small, { left: "50px", top: "37px", width: "140px", height: "36px", fontSize: "22px" });
});

test("the measure keeps 4 pixels back, as canvas and SVG measure a little differently", () => {
  assert.equal(wrapLabel("abc def", { width: 70, lines: 2 }, fixedMeasure()), "abc\ndef");
  assert.equal(wrapLabel("abc def", { width: 74, lines: 2 }, fixedMeasure()), "abc def");
});
