import assert from "node:assert/strict";
import { test } from "node:test";

import {
  copyOf,
  documentOf,
  edgeDoc,
  edgeMeta,
  inSlices,
  keyOf,
  newId,
  nodeDoc,
  nodeMeta,
  stepAttrs,
  subgraphOf,
} from "../../../static/systemmaps/editor/document.js";
import { DOC, StandInEdge, StandInNode, drawing } from "./helpers.mjs";

const MAP = {
  schema_version: 1,
  name: "Webinar to client",
  nodes: [
    { id: "n1", kind: "terminus", label: "Webinar", x: 0, y: 0, stage: "know", notes: null },
    { id: "n2", kind: "task", label: "Email nurture campaign", x: 250, y: 0, stage: null, notes: "Weekly" },
    { id: "n3", kind: "decision", label: "Booked a consultation?", x: 500, y: 12.5, stage: null, notes: null },
    { id: "n4", kind: "terminus", label: "", x: 750, y: -130, stage: null, notes: null },
  ],
  edges: [
    { id: "e1", source: "n1", target: "n2", label: null },
    { id: "e2", source: "n2", target: "n3", label: null },
    { id: "e3", source: "n3", target: "n4", label: "No" },
  ],
};

// The document drawn on stand-in cells, as the canvas holds it.
function drawn(map, editor = drawing()) {
  return {
    nodes: map.nodes.map((n) => new StandInNode(nodeMeta(editor, n))),
    edges: map.edges.map((e) => new StandInEdge(edgeMeta(editor, e))),
  };
}

test("a document drawn as cells reads back as the same document", () => {
  const { nodes, edges } = drawn(MAP);
  assert.deepEqual(documentOf(DOC, MAP.name, nodes, edges), MAP);
});

test("cells read as a document draw the same cells again", () => {
  const editor = drawing();
  const { nodes, edges } = drawn(MAP, editor);
  const again = drawn(documentOf(DOC, MAP.name, nodes, edges), editor);
  assert.deepEqual(
    again.nodes.map((n) => [n.id, n.position, n.size, n.data, n.attrs]),
    nodes.map((n) => [n.id, n.position, n.size, n.data, n.attrs]),
  );
  assert.deepEqual(again.edges, edges);
});

test("a shape is its kind's size in config.document, its corner half of it from the centre", () => {
  const meta = nodeMeta(drawing(), { id: "n9", kind: "decision", label: "Go?", x: 100, y: 200 });
  assert.deepEqual([meta.x, meta.y, meta.width, meta.height], [40, 155, 120, 90]);
  assert.equal(meta.shape, "hg-step");
  assert.deepEqual(meta.data, { kind: "decision", stage: null, notes: null });
  assert.ok(meta.zIndex > edgeMeta(drawing(), MAP.edges[0]).zIndex, "shapes above arrows");
});

test("an unknown kind is drawn and saved as a task", () => {
  const meta = nodeMeta(drawing(), { id: "n9", kind: "cloud", label: "?", x: 0, y: 0 });
  assert.deepEqual([meta.width, meta.height, meta.data.kind], [160, 50, "task"]);
  assert.equal(nodeDoc(new StandInNode(meta)).kind, "task");
});

test("a moved shape's centre is saved to the hundredth", () => {
  const node = new StandInNode(nodeMeta(drawing(), MAP.nodes[1]));
  node.position = { x: 10.123, y: -3.3333 };
  const saved = nodeDoc(node);
  assert.deepEqual([saved.x, saved.y], [90.12, 21.67]);
});

test("the label is wrapped to the shape and drawn in config.document's colours", () => {
  const attrs = stepAttrs(drawing(), "task", "Email nurture campaign");
  // 104 - 4 pixels of room: ten 10-pixel characters a line.
  assert.equal(attrs.label.textWrap.text, "Email\nnurture…");
  assert.equal(attrs.label.text, "Email nurture campaign");
  assert.deepEqual([attrs.body.fill, attrs.body.stroke, attrs.label.fill], ["#k-fill", "#k-line", "#ink"]);
});

test("an arrow that hangs on a point is not part of the document yet", () => {
  const { nodes, edges } = drawn(MAP);
  const loose = new StandInEdge({ id: "e9", source: { cell: "n4" }, target: {} });
  const doc = documentOf(DOC, "x", nodes, [...edges, loose]);
  assert.deepEqual(doc.edges.map((e) => e.id), ["e1", "e2", "e3"]);
  assert.equal(edgeDoc(loose).target, null);
});

test("the key of a map does not depend on the order of its cells", () => {
  const shuffled = { ...MAP, nodes: [...MAP.nodes].reverse(), edges: [MAP.edges[2], MAP.edges[0], MAP.edges[1]] };
  assert.equal(keyOf(shuffled), keyOf(MAP));
  const renamed = { ...MAP, nodes: MAP.nodes.map((n) => (n.id === "n2" ? { ...n, label: "Call" } : n)) };
  assert.notEqual(keyOf(renamed), keyOf(MAP));
});

test("a copied selection keeps only the arrows between its shapes", () => {
  const { nodes, edges } = drawn(MAP);
  const clip = subgraphOf([nodes[1], nodes[2]], edges);
  assert.deepEqual(clip.nodes.map((n) => n.id), ["n2", "n3"]);
  assert.deepEqual(clip.edges, [{ id: "e2", source: "n2", target: "n3", label: null }]);
});

test("a pasted copy gets new ids, moves by the offset and drops arrows leaving it", () => {
  const clip = {
    nodes: [MAP.nodes[1], MAP.nodes[2]],
    edges: [MAP.edges[1], MAP.edges[2]],
  };
  let count = 0;
  const copy = copyOf(clip, 16, (prefix) => {
    count += 1;
    return `${prefix}-new${count}`;
  });
  assert.deepEqual(
    copy.nodes.map((n) => [n.id, n.x, n.y, n.label]),
    [
      ["n-new1", 266, 16, "Email nurture campaign"],
      ["n-new2", 516, 28.5, "Booked a consultation?"],
    ],
  );
  assert.deepEqual(copy.edges, [{ id: "e-new3", source: "n-new1", target: "n-new2", label: null }]);
});

test("a new id has its prefix and is none of the ids taken", () => {
  const seen = [];
  const id = newId("n", (candidate) => {
    seen.push(candidate);
    return seen.length < 4;
  });
  assert.equal(seen.length, 4);
  assert.equal(id, seen[3]);
  assert.match(id, /^n[0-9a-z]{5,9}$/);
  assert.equal(new Set(seen).size, 4);
});

// A clock that moves only when an item is added (each costs `cost[i]` ms) and a
// pause that notes where each slice ended.
function sliced(costs, budget) {
  let time = 0;
  const added = [];
  const pauses = [];
  const run = inSlices(
    costs.map((cost, index) => ({ cost, index })),
    (item) => {
      added.push(item.index);
      time += item.cost;
    },
    { budget, now: () => time, pause: async () => pauses.push(added.length) },
  );
  return run.then((slices) => ({ slices, added, pauses }));
}

test("inSlices adds every item once, in order, pausing when a slice used its budget", async () => {
  const { slices, added, pauses } = await sliced([10, 10, 10, 10, 10, 10, 10], 25);
  assert.deepEqual(added, [0, 1, 2, 3, 4, 5, 6]);
  // 10 + 10 < 25, the third makes 30: a slice ends once its time reaches the budget.
  assert.deepEqual(pauses, [3, 6]);
  assert.equal(slices, 3);
});

test("inSlices never splits an item: a slice ends with the item that used its budget up", async () => {
  const { pauses } = await sliced([5, 90, 5, 5], 40);
  assert.deepEqual(pauses, [2]);
  const alone = await sliced([90, 90], 40);
  assert.deepEqual(alone.pauses, [1]);
});

test("inSlices with nothing to add neither adds nor pauses", async () => {
  const { slices, added, pauses } = await sliced([], 40);
  assert.deepEqual([slices, added, pauses], [0, [], []]);
});
