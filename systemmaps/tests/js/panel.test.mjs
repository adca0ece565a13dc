import assert from "node:assert/strict";
import { test } from "node:test";

import {
  badgeDetails,
  changedValues,
  findingTargets,
  panelUrl,
  problemText,
} from "../../../static/systemmaps/editor/panel.js";
import { toolbarDisabled, tidyMoves } from "../../../static/systemmaps/editor/toolbar.js";

test("a problem names the step and field it is about", () => {
  assert.equal(problemText({ id: "n3", field: "label", message: "Too long" }), "n3 · label: Too long");
  assert.equal(problemText({ id: "n3", message: "Unknown kind" }), "n3: Unknown kind");
  assert.equal(problemText({ message: "Not a graph" }), "Not a graph");
});

test("a stepChanged event takes its values from the applied form, for its own step only", () => {
  const values = { id: "call", label: "통화", kind: "task", stage: null, notes: "x".repeat(5000) };
  const form = { dataset: { changed: JSON.stringify(values) } };
  assert.deepEqual(changedValues({ id: "call" }, form), values);
  assert.deepEqual(changedValues({ id: "other" }, form), {});
  assert.deepEqual(changedValues({ id: "call" }, { dataset: {} }), {});
  assert.deepEqual(changedValues({ id: "call" }, null), {});
  assert.deepEqual(changedValues(null, form), {});
});

test("the side panel is asked for with the canvas's unsaved values", () => {
  const url = panelUrl("/b/acme/maps/7/steps/NODE/panel/", {
    id: "n 1/x",
    label: "Call & ask?",
    kind: "task",
    stage: null,
    notes: null,
  });
  const [path, query] = url.split("?");
  assert.equal(path, "/b/acme/maps/7/steps/n%201%2Fx/panel/");
  assert.deepEqual(Object.fromEntries(new URLSearchParams(query)), {
    label: "Call & ask?",
    kind: "task",
    stage: "",
    notes: "",
  });
});

test("the badges of a saved step default to nobody, not critical, manual", () => {
  assert.deepEqual(badgeDetails({ id: "n1" }), {
    ownerInitials: "",
    ownerName: "",
    critical: false,
    automation: "manual",
  });
  assert.deepEqual(badgeDetails({ ownerInitials: "AO", critical: 1, automation: "could" }), {
    ownerInitials: "AO",
    ownerName: "",
    critical: true,
    automation: "could",
  });
});

test("a lint finding shows its steps, or its arrows when it names no step", () => {
  assert.deepEqual(findingTargets({ nodes: ["n1"], edges: ["e1"] }), ["n1"]);
  assert.deepEqual(findingTargets({ nodes: [], edges: ["e1"] }), ["e1"]);
  assert.deepEqual(findingTargets({}), []);
});

test("toolbar buttons are disabled when there is nothing for them to do", () => {
  const node = { isNode: () => true };
  const edge = { isNode: () => false };
  const idle = { canUndo: false, canRedo: false, single: null, selected: 0, nodes: 0, tidying: false };
  assert.deepEqual(toolbarDisabled(idle), { undo: true, redo: true, next: true, delete: true, tidy: true });
  assert.deepEqual(
    toolbarDisabled({ ...idle, canUndo: true, single: node, selected: 1, nodes: 3 }),
    { undo: false, redo: true, next: false, delete: false, tidy: false },
  );
  assert.equal(toolbarDisabled({ ...idle, single: edge, selected: 1 }).next, true);
  assert.equal(toolbarDisabled({ ...idle, nodes: 3, tidying: true }).tidy, true);
});

test("tidy-up puts each shape's centre where the layout says, leaving shapes it did not know", () => {
  const moves = tidyMoves({ n1: { x: 100, y: 50 }, n9: { x: 0, y: 0 } }, [
    { id: "n1", width: 160, height: 50 },
    { id: "n2", width: 120, height: 90 },
  ]);
  assert.deepEqual(moves, [{ id: "n1", x: 20, y: 25 }]);
});
