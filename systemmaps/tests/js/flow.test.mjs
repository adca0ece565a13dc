import assert from "node:assert/strict";
import { test } from "node:test";

import { describeStep, fill, flowOrder, roleOf, spoken, stepFrom } from "../../../static/systemmaps/editor/flow.js";
import { undoesShape } from "../../../static/systemmaps/editor/labels.js";
import { appliesForm } from "../../../static/systemmaps/editor/panel.js";
import { panToStart, readableScale } from "../../../static/systemmaps/editor/toolbar.js";

const node = (id, kind, x, y) => ({ id, kind, x, y });
const edge = (source, target) => ({ source, target });

// The webinar system, drawn out of order: the flow order does not follow the
// order of the document.
const WEBINAR = [
  node("signed", "decision", 880, 200),
  node("downsell", "task", 440, 0),
  node("start", "terminus", 0, 100),
  node("bucket", "terminus", 660, 0),
  node("nurture", "task", 220, 100),
  node("booked", "decision", 330, 100),
  node("call", "task", 440, 200),
  node("proposal", "task", 660, 200),
  node("onboard", "terminus", 1100, 200),
];
const WEBINAR_ARROWS = [
  edge("start", "nurture"),
  edge("nurture", "booked"),
  edge("booked", "call"),
  edge("booked", "downsell"),
  edge("downsell", "bucket"),
  edge("call", "proposal"),
  edge("proposal", "signed"),
  edge("signed", "onboard"),
  edge("signed", "nurture"),
];

test("the flow starts at the start and follows the arrows, the upper branch to its end first", () => {
  assert.deepEqual(flowOrder(WEBINAR, WEBINAR_ARROWS), [
    "start",
    "nurture",
    "booked",
    "downsell",
    "bucket",
    "call",
    "proposal",
    "signed",
    "onboard",
  ]);
});

test("a start is found by its arrows, not by being first or leftmost", () => {
  const nodes = [node("stop", "terminus", -500, 0), node("task", "task", 0, 0), node("go", "terminus", 300, 0)];
  assert.deepEqual(flowOrder(nodes, [edge("go", "task"), edge("task", "stop")]), ["go", "task", "stop"]);
});

test("steps no arrow reaches come after the flow, in reading order, each followed on", () => {
  const nodes = [
    node("b", "task", 400, 50),
    node("start", "terminus", 0, 0),
    node("a", "task", 400, 0),
    node("lone", "task", 100, 300),
    node("after-a", "task", 600, 0),
    node("end", "terminus", 200, 0),
  ];
  const edges = [edge("start", "end"), edge("a", "after-a")];
  assert.deepEqual(flowOrder(nodes, edges), ["start", "end", "lone", "a", "after-a", "b"]);
});

test("arrows to shapes that are gone are ignored and a loop is walked once", () => {
  const nodes = [node("s", "terminus", 0, 0), node("t", "task", 100, 0)];
  const edges = [edge("s", "t"), edge("t", "s"), edge("t", "ghost"), edge("ghost", "s")];
  assert.deepEqual(flowOrder(nodes, edges), ["s", "t"]);
  assert.deepEqual(flowOrder([], []), []);
});

test("moving through the order stops at either end and starts from an end", () => {
  const order = ["a", "b", "c"];
  assert.equal(stepFrom(order, "a", 1), "b");
  assert.equal(stepFrom(order, "b", -1), "a");
  assert.equal(stepFrom(order, "c", 1), null);
  assert.equal(stepFrom(order, "a", -1), null);
  assert.equal(stepFrom(order, null, 1), "a");
  assert.equal(stepFrom(order, "gone", -1), "c");
  assert.equal(stepFrom([], null, 1), null);
});

test("a terminus is a start or a stop by its arrows, as the server says", () => {
  assert.equal(roleOf("terminus", false, true), "start");
  assert.equal(roleOf("terminus", true, false), "stop");
  assert.equal(roleOf("terminus", true, true), "start-or-stop");
  assert.equal(roleOf("terminus", false, false), "start-or-stop");
  assert.equal(roleOf("decision", false, true), "decision");
});

const TEXTS = {
  unnamed: "(no label)",
  describeStep: "{kind}: {label}.",
  describeOwner: "Owner: {name}.",
  describeTo: "Arrows to: {steps}.",
  describeFrom: "Arrows from: {steps}.",
  describeNoArrows: "No arrows yet.",
  withAnswer: "{step} ({answer})",
};
const WORDS = { task: "Task", decision: "Decision", start: "Start" };
const list = (names) => names.join(" and ");

test("a step is described with its kind, label, owner and arrows both ways", () => {
  const text = describeStep(
    {
      role: "task",
      label: "Bake the cake",
      owner: "Ana",
      to: [{ label: "Deliver" }],
      from: [{ label: "Order\nreceived" }, { label: "" }],
    },
    TEXTS,
    WORDS,
    list,
  );
  assert.equal(
    text,
    "Task: Bake the cake. Owner: Ana. Arrows to: Deliver. Arrows from: Order received and (no label).",
  );
});

test("a decision's arrows say their answers; a lone step says it has none", () => {
  const decision = describeStep(
    { role: "decision", label: "Paid?", owner: "", to: [{ label: "Ship", answer: "yes" }], from: [] },
    TEXTS,
    WORDS,
    list,
  );
  assert.equal(decision, "Decision: Paid?. Arrows to: Ship (yes).");
  const lone = describeStep({ role: "start", label: " ", to: [], from: [] }, TEXTS, WORDS, list);
  assert.equal(lone, "Start: (no label). No arrows yet.");
  assert.equal(spoken("  Bake and decorate\n(day before) ", "?"), "Bake and decorate (day before)");
});

test("Ctrl+Z in a fresh, untouched label undoes the shape; anything else is the text box's", () => {
  const key = (k, mods = {}) => ({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });
  const fresh = { fresh: { after: null }, value: "Task" };
  assert.equal(undoesShape(key("z", { ctrlKey: true }), fresh, "Task"), true);
  assert.equal(undoesShape(key("Z", { metaKey: true }), fresh, "Task"), true);
  assert.equal(undoesShape(key("z", { ctrlKey: true }), fresh, "Tasks"), false);
  assert.equal(undoesShape(key("z", { ctrlKey: true, shiftKey: true }), fresh, "Task"), false);
  assert.equal(undoesShape(key("z"), fresh, "Task"), false);
  assert.equal(undoesShape(key("z", { ctrlKey: true }), { fresh: null, value: "Task" }, "Task"), false);
  assert.equal(undoesShape(key("z", { ctrlKey: true }), null, ""), false);
});

test("Ctrl+Enter applies the side panel's form; Enter alone breaks the line", () => {
  assert.equal(appliesForm({ key: "Enter", ctrlKey: true }), true);
  assert.equal(appliesForm({ key: "Enter", metaKey: true }), true);
  assert.equal(appliesForm({ key: "Enter" }), false);
  assert.equal(appliesForm({ key: "Enter", ctrlKey: true, isComposing: true }), false);
  assert.equal(appliesForm({ key: "a", ctrlKey: true }), false);
});

test("a map opens no smaller than labels of 11 px, the start at the left", () => {
  assert.equal(readableScale(12), 11 / 12);
  assert.equal(readableScale(10), 1); // never bigger than life
  const { tx, ty } = panToStart({ x: -70, y: -22, width: 140, height: 44 }, 0.5, { width: 375, height: 400 }, 40);
  assert.equal(tx, 40 + 35); // the shape's left edge 40 px in
  assert.equal(ty, 200); // its centre halfway down
});

test("a text's placeholders are filled once: a label that looks like one stays", () => {
  assert.equal(fill("{step} ({answer})", { step: "Pay {answer}", answer: "yes" }), "Pay {answer} (yes)");
  assert.equal(fill("{kind}: {label}.", { kind: "Task" }), "Task: {label}.");
});
