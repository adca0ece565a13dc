import assert from "node:assert/strict";
import { test } from "node:test";

import {
  applyBadges,
  attrsOf,
  badgeParts,
  badgeSpots,
  badgesMarkup,
  markupOf,
  outlinePoint,
} from "../../../static/systemmaps/editor/shapes.js";
import { DOC, StandInNode, TEXTS, drawing } from "./helpers.mjs";
import { nodeMeta } from "../../../static/systemmaps/editor/document.js";

const EVERYTHING = { critical: true, automation: "could", ownerInitials: "AO", ownerName: "Ada Owner" };

test("a task's badges sit on its corners, a decision's inset on its sides, from config sizes", () => {
  assert.deepEqual(badgeSpots(DOC, "task"), { critical: [0, 0], owner: [160, 0], automation: [160, 50] });
  assert.deepEqual(badgeSpots(DOC, "decision"), {
    critical: [25, 14],
    owner: [95, 14],
    automation: [95, 76],
  });
  assert.equal(badgeSpots(DOC, "terminus"), null);
});

test("badges say critical, automation and owner, in words; termini and manual steps show none", () => {
  assert.deepEqual(badgeParts(DOC, "task", EVERYTHING, TEXTS), [
    ["critical", "Critical step"],
    ["automation", "Could be automated", "could"],
    ["owner", "Owner: Ada Owner", "AO"],
  ]);
  assert.deepEqual(badgeParts(DOC, "decision", { automation: "automated", ownerInitials: "AO" }, TEXTS), [
    ["automation", "Automated", "automated"],
    ["owner", "Owner: AO", "AO"],
  ]);
  assert.deepEqual(badgeParts(DOC, "terminus", EVERYTHING, TEXTS), []);
  assert.deepEqual(badgeParts(DOC, "task", { automation: "manual" }, TEXTS), []);
  assert.deepEqual(badgeParts(DOC, "task", null, TEXTS), []);
});

test("each badge is a circle at its spot and a named glyph, under one tooltip", () => {
  const group = badgesMarkup(drawing(), "task", EVERYTHING);
  assert.equal(group.selector, "badges");
  assert.equal(group.children[0].textContent, "Critical step · Could be automated · Owner: Ada Owner");
  const circles = group.children.filter((child) => child.tagName === "circle");
  assert.deepEqual(
    circles.map((c) => [c.attrs.cx, c.attrs.cy, c.attrs["stroke-width"]]),
    [
      [0, 0, 1.75],
      [160, 50, 1.75],
      [160, 0, 1.75],
    ],
  );
  const glyphs = group.children.filter((child) => child.tagName === "text");
  assert.deepEqual(
    glyphs.map((g) => [g.attrs["data-badge"], g.attrs["aria-label"], g.textContent]),
    [
      // The signs of config.document.signs (helpers' stand-ins), not copies.
      ["critical", "Critical step", DOC.signs.critical],
      ["automation", "Could be automated", DOC.signs.could],
      ["owner", "Owner: Ada Owner", "AO"],
    ],
  );
  assert.equal(badgesMarkup(drawing(), "task", {}), null);
});

test("a decision is a diamond, the others rectangles; badges come after the label", () => {
  assert.deepEqual(
    markupOf(drawing(), "decision").map((m) => m.tagName),
    ["polygon", "text"],
  );
  assert.deepEqual(
    markupOf(drawing(), "task", EVERYTHING).map((m) => m.tagName),
    ["rect", "text", "g"],
  );
});

test("a shape's body and label are drawn as config.document says", () => {
  const terminus = attrsOf(DOC, "terminus", "Webinar", "Webinar");
  assert.deepEqual(terminus.body, {
    refWidth: "100%",
    refHeight: "100%",
    rx: 20,
    ry: 20,
    fill: "#t-fill",
    stroke: "#t-line",
    strokeWidth: 1.75,
  });
  assert.equal(terminus.label.fill, "#ink");
  assert.equal(terminus.label.fontSize, 13);
  assert.deepEqual(terminus.label.textWrap, { text: "Webinar", width: -20, height: 100, ellipsis: true });
  const decision = attrsOf(DOC, "decision", "Go on?", "Go\non?");
  assert.equal(decision.body.refPoints, "0,10 10,0 20,10 10,20");
  assert.equal(decision.body.rx, undefined);
  assert.equal(decision.label.textWrap.width, -36);
});

test("an arrow meets a box on its side and a diamond on its slanted edge", () => {
  const box = { x: 0, y: 0, width: 100, height: 40 };
  assert.deepEqual(outlinePoint(box, { x: 300, y: 20 }, false), { x: 100, y: 20 });
  assert.deepEqual(outlinePoint(box, { x: 50, y: -100 }, false), { x: 50, y: 0 });
  // From the upper right at 45°: the point is on the diamond's edge, |dx|/50 + |dy|/20 = 1.
  const point = outlinePoint(box, { x: 150, y: -80 }, true);
  const dx = Math.abs(point.x - 50);
  const dy = Math.abs(point.y - 20);
  assert.ok(Math.abs(dx / 50 + dy / 20 - 1) < 1e-9);
  assert.ok(Math.abs(dx - dy) < 1e-9);
  assert.equal(outlinePoint(box, { x: 50, y: 20 }, false), null);
  assert.equal(outlinePoint({ x: 0, y: 0, width: 0, height: 10 }, { x: 5, y: 5 }, false), null);
});

test("a shape's badges are redrawn only when what they say changes", () => {
  const editor = drawing();
  const node = new StandInNode(nodeMeta(editor, { id: "n1", kind: "task", label: "Call", x: 0, y: 0 }));
  applyBadges(editor, node);
  assert.equal(node.redrawn, 0);
  editor.stepDetails.set("n1", { critical: true });
  applyBadges(editor, node);
  applyBadges(editor, node);
  assert.equal(node.redrawn, 1);
  assert.equal(node.getMarkup().at(-1).selector, "badges");
  editor.stepDetails.delete("n1");
  applyBadges(editor, node);
  assert.equal(node.redrawn, 2);
  assert.equal(node.getMarkup().length, 2);
});
