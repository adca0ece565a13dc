// The graph document (docs/graph-api.md) ⇄ X6 cells. A cell's id IS the id in the
// graph document; a shape's x and y in the document are its centre, on the canvas
// its top left corner. Pure: cells are read through X6's getters only, and a cell
// is made from plain data (X6 builds it), so this imports without a DOM.
//
// `editor` is the editor's context (main.js); nodeMeta reads its doc, texts,
// stepDetails and measure.

import { edgeLabel, edgeLabelOf, labelRoom, nodeLabel, wrapLabel } from "./labels.js";
import { attrsOf, kindOf, knownKind, markupOf, shapeOf } from "./shapes.js";

// Shapes above arrows, so a click on a shape is never taken by a line.
const NODE_Z = 2;
const EDGE_Z = 1;

// A new id with `prefix` for which taken(id) is false.
export function newId(prefix, taken) {
  let id;
  do {
    id = prefix + Date.now().toString(36).slice(-4) + Math.random().toString(36).slice(2, 7);
  } while (taken(id));
  return id;
}

// How long one slice of the opening build may run, in ms: under the 50 ms of a
// long task, so a click or a key is answered between two slices.
export const SLICE_MS = 40;

// Calls add(item) for every item, in slices of at most `budget` ms (by now()),
// awaiting pause() between two slices; resolves with the number of slices. An item
// is never split: one that alone takes longer makes a slice of its own.
export async function inSlices(items, add, { budget = SLICE_MS, now, pause }) {
  let slices = 0;
  let index = 0;
  while (index < items.length) {
    if (slices) await pause();
    slices += 1;
    const start = now();
    do {
      add(items[index]);
      index += 1;
    } while (index < items.length && now() - start < budget);
  }
  return slices;
}

export function round2(value) {
  return Math.round(value * 100) / 100;
}

// The attrs of a step of `kind` labelled `label`, its label wrapped to the shape.
export function stepAttrs(editor, kind, label) {
  const wrapped = wrapLabel(label, labelRoom(editor.doc, kind), editor.measure);
  return attrsOf(editor.doc, kind, label, wrapped);
}

// The X6 metadata of a document node.
export function nodeMeta(editor, n) {
  const kind = knownKind(editor.doc, n.kind);
  const { width, height } = shapeOf(editor.doc, kind);
  return {
    id: n.id,
    shape: "hg-step",
    x: Number(n.x) - width / 2,
    y: Number(n.y) - height / 2,
    width,
    height,
    markup: markupOf(editor, kind, editor.stepDetails.get(n.id)),
    attrs: stepAttrs(editor, kind, n.label ?? ""),
    data: { kind, stage: n.stage ?? null, notes: n.notes ?? null },
    zIndex: NODE_Z,
  };
}

// The X6 metadata of a document edge.
export function edgeMeta(editor, e) {
  return {
    id: e.id,
    shape: "hg-edge",
    source: { cell: e.source },
    target: { cell: e.target },
    labels: e.label ? [edgeLabelOf(e.label, editor.measure)] : [],
    zIndex: EDGE_Z,
  };
}

export function newEdgeMeta(id) {
  return { shape: "hg-edge", id, zIndex: EDGE_Z };
}

export function nodeDoc(node) {
  const { x, y } = node.getPosition();
  const { width, height } = node.getSize();
  const data = node.getData() || {};
  return {
    id: node.id,
    kind: kindOf(node),
    label: nodeLabel(node),
    x: round2(x + width / 2),
    y: round2(y + height / 2),
    stage: data.stage ?? null,
    notes: data.notes ?? null,
  };
}

export function edgeDoc(edge) {
  return {
    id: edge.id,
    source: edge.getSourceCellId(),
    target: edge.getTargetCellId(),
    label: edgeLabel(edge),
  };
}

// The graph document of these X6 nodes and edges.
export function documentOf(doc, name, nodes, edges) {
  return {
    schema_version: doc.schemaVersion,
    name,
    nodes: nodes.map(nodeDoc),
    // An arrow being drawn hangs on a point, not a shape: not part of the map yet.
    edges: edges.filter((e) => e.getSourceCellId() && e.getTargetCellId()).map(edgeDoc),
  };
}

const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

// The same map is the same key whatever order undo and redo left the cells in, so
// undoing back to the saved state needs no save. (The body keeps the drawing order:
// tidy-up lays shapes out in the order they were drawn.)
export function keyOf(doc) {
  return JSON.stringify({
    ...doc,
    nodes: [...doc.nodes].sort(byId),
    edges: [...doc.edges].sort(byId),
  });
}

// The shapes `nodes` with the arrows among them, as document parts.
export function subgraphOf(nodes, edges) {
  const ids = new Set(nodes.map((n) => n.id));
  return {
    nodes: nodes.map(nodeDoc),
    edges: edges
      .filter((e) => ids.has(e.getSourceCellId()) && ids.has(e.getTargetCellId()))
      .map(edgeDoc),
  };
}

// A copy of `clip` (a subgraph) moved by `offset` both ways, with new ids from
// makeId(prefix); arrows to shapes outside the copy are left out.
export function copyOf(clip, offset, makeId) {
  const ids = {};
  clip.nodes.forEach((n) => {
    ids[n.id] = makeId("n");
  });
  const nodes = clip.nodes.map((n) => ({ ...n, id: ids[n.id], x: n.x + offset, y: n.y + offset }));
  const edges = (clip.edges || [])
    .filter((e) => ids[e.source] && ids[e.target])
    .map((e) => ({ ...e, id: makeId("e"), source: ids[e.source], target: ids[e.target] }));
  return { nodes, edges };
}
