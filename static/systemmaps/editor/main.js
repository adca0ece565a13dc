// The map editor: an @antv/x6 canvas over the graph JSON API (docs/graph-api.md).
//
// Imported by static-view.js (the page's entry point) once the classic x6 bundle
// has run (window.X6), in idle time or on the first editing gesture. No inline script, no eval, no inline event handlers, so the page
// works under a strict Content Security Policy. It reads the page's config, builds
// the graph, and hands every module one context, `editor`: the X6 objects, the
// page's elements and words, and all the mutable state, so no module keeps any of
// its own. Each install… function adds its functions to `editor`; modules call one
// another through it, never by importing each other's DOM glue.
//
// Imports form a tree, never a cycle: ManifestStaticFilesStorage names each file
// by a hash of its content with its imports' hashed names in it.

import {
  createSaveQueue,
  csrfToken,
  installAutosave,
  isPending,
  newSaveState,
  parseEtag,
} from "./autosave.js";
import { installCommands } from "./commands.js";
import { documentOf, newEdgeMeta, newId } from "./document.js";
import { installFlow } from "./flow.js";
import { canvasMeasure, installLabels } from "./labels.js";
import { installPan } from "./pan.js";
import { installPanel } from "./panel.js";
import { CANVAS, isDecision, registerShapes } from "./shapes.js";
import { MINIMAP_FROM, SCALE, installToolbar } from "./toolbar.js";

const X6 = window.X6;
const { Graph, History, Selection, Snapline, Keyboard } = X6;
// X6's core rules are in editor.css: an injected <style> would not pass a strict CSP.
X6.Config.autoInsertCSS = false;

const root = document.getElementById("editor");
const config = JSON.parse(document.getElementById("editor-config").textContent);
const doc = config.document;
const canEdit = Boolean(config.canEdit);
const byId = (id) => document.getElementById(id);

const editor = {
  X6,
  config,
  doc,
  canEdit,
  root,
  texts: byId("editor-texts").dataset,
  elements: {
    container: byId("editor-canvas"),
    status: byId("save-status"),
    messages: byId("editor-messages"),
    lint: byId("lint-panel"),
    sidePanel: byId("side-panel"),
    labelEditor: byId("label-editor"),
    chooser: byId("quick-labels"),
    minimap: byId("editor-minimap"),
    conflictDialog: byId("conflict-dialog"),
    announce: byId("editor-announce"),
    arrowsCard: byId("step-arrows"),
  },
  measure: canvasMeasure(doc.fontSize, doc.font),
  // Owner, critical flag and automation of the saved steps, by id: drawn as badges
  // on the shapes, never part of the graph document (the side panel saves them).
  stepDetails: new Map(Object.entries(config.steps || {})),
  // The saving machinery (autosave.js).
  state: newSaveState(),
  timers: { save: null, retry: null, change: null },
  env: {
    setTimeout: (fn, ms) => window.setTimeout(fn, ms),
    clearTimeout: (id) => window.clearTimeout(id),
    fetch: (url, options) => window.fetch(url, options),
    storage: () => window.localStorage,
    now: () => new Date(),
    // A monotonic clock in ms, and a pause that lets the browser answer input, draw
    // a frame and run what else waits (the opening build's slices,
    // autosave.loadDocumentInSlices): a task at the back of the queue, unclamped
    // (scheduler.yield would go ahead of a panel's answer or a timer).
    clock: () => performance.now(),
    pause: () =>
      new Promise((resolve) => {
        const channel = new MessageChannel();
        channel.port1.onmessage = () => resolve();
        channel.port2.postMessage(null);
      }),
    csrfToken,
  },
  // The shape under the pointer, and whether a button is down (commands.js).
  ports: { hovered: null, pointerDown: false },
  // The open label editor and the quick labels' arrow (labels.js).
  labelling: { editing: null, chooserEdge: null, chooserSticky: false },
  // What Ctrl+C copied, and how many times it was pasted (commands.js).
  clipboard: { copied: null, round: 0 },
  // Tidy-up under way, the overview map once made (toolbar.js).
  layout: { tidying: false, minimap: null },
  // The step the side panel shows or is loading (panel.js).
  panel: { shownFor: null, request: null },
};
editor.MiniNodeView = registerShapes(X6, editor);

// ---------------------------------------------------------------------------
// The canvas
// ---------------------------------------------------------------------------

const container = editor.elements.container;
const locked = {
  nodeMovable: false,
  magnetConnectable: false,
  edgeMovable: false,
  edgeLabelMovable: false,
  arrowheadMovable: false,
  vertexMovable: false,
  vertexAddable: false,
  vertexDeletable: false,
};

const graph = new Graph({
  container,
  autoResize: true,
  async: false,
  grid: {
    size: doc.spacing.grid,
    visible: true,
    type: "dot",
    args: { color: CANVAS.grid, thickness: 1 },
  },
  background: { color: CANVAS.background },
  // Drag the background (or space+drag) to pan; Shift+drag draws a selection box.
  // The wheel pans and Ctrl/Cmd+wheel zooms through pan.js, one frame at a time.
  panning: { enabled: true, eventTypes: ["leftMouseDown"] },
  mousewheel: { enabled: false },
  scaling: { min: SCALE.minScale, max: SCALE.maxScale },
  interacting: canEdit ? { ...locked, nodeMovable: true, magnetConnectable: true } : locked,
  connecting: {
    router: "normal",
    connector: { name: "rounded" },
    anchor: "center",
    connectionPoint: "hg-outline",
    allowBlank: false,
    allowLoop: false,
    allowNode: true,
    allowEdge: false,
    allowPort: true,
    allowMulti: true,
    highlight: true,
    snap: { radius: 24 },
    createEdge() {
      return this.createEdge(newEdgeMeta(editor.newId("e")));
    },
    validateMagnet() {
      return canEdit && editor.state.blocked !== "forbidden";
    },
    validateConnection({ sourceCell, targetCell }) {
      return Boolean(targetCell && targetCell.isNode() && targetCell !== sourceCell);
    },
  },
  highlighting: {
    magnetAdsorbed: {
      name: "stroke",
      args: { padding: 4, attrs: { stroke: CANVAS.accent, "stroke-width": 3 } },
    },
  },
});

// Hovering (ports come and go), selecting and stacking are not edits, nor are
// badges redrawn (shapes.applyBadges).
const NOT_EDITS = new Set(["zIndex", "tools", "ports"]);
const history = new History({
  enabled: canEdit,
  beforeAddCommand(event, args) {
    return !(args && (NOT_EDITS.has(args.key) || (args.options && args.options.hgBadges)));
  },
});
const selection = new Selection({
  enabled: true,
  multiple: true,
  rubberband: true,
  modifiers: "shift",
  multipleSelectionModifiers: ["shift", "ctrl", "meta"],
  movable: canEdit,
  showNodeSelectionBox: false,
  showEdgeSelectionBox: false,
  pointerEvents: "none",
});
const keyboard = new Keyboard({ enabled: true, global: false });
graph.use(history);
graph.use(selection);
graph.use(keyboard);
if (canEdit) graph.use(new Snapline({ enabled: true, sharp: true }));
container.tabIndex = 0; // keyboard users reach the canvas with Tab

Object.assign(editor, {
  graph,
  history,
  selection,
  keyboard,
  newId: (prefix) => newId(prefix, (id) => graph.hasCell(id)),
  toJSON: () => documentOf(doc, editor.state.name, graph.getNodes(), graph.getEdges()),
});

// Stable hooks: exactly one element per shape carries data-node-id, one per arrow
// data-edge-id, on the root <g> of the cell's view.
graph.on("view:mounted", ({ view }) => {
  const cell = view.cell;
  view.container.setAttribute(cell.isNode() ? "data-node-id" : "data-edge-id", cell.id);
  view.container.classList.toggle("hg-selected", selection.isSelected(cell));
});

// ---------------------------------------------------------------------------
// The modules, wired through `editor`
// ---------------------------------------------------------------------------

installPan(editor);
installCommands(editor);
createSaveQueue(editor);
installAutosave(editor);
installLabels(editor);
installPanel(editor);
installToolbar(editor);
installFlow(editor);

graph.on("selection:changed", ({ added, removed }) => {
  added.forEach((cell) => {
    const view = graph.findViewByCell(cell);
    if (view) view.container.classList.add("hg-selected");
    if (cell.isNode()) editor.showPorts(cell);
  });
  removed.forEach((cell) => {
    const view = graph.findViewByCell(cell);
    if (view) view.container.classList.remove("hg-selected");
  });
  const cell = editor.single();
  const { editing } = editor.labelling;
  if (editing && !(cell && editing.cell === cell)) editor.commitEditor();
  if (cell && cell.isEdge() && isDecision(cell.getSourceCell())) editor.showChooser(cell, false);
  else if (!editor.chooserKeeps(cell)) editor.hideChooser();
  editor.updateToolbar();
  editor.refreshSidePanel();
  editor.tidyPorts();
});

graph.on("blank:click", () => {
  editor.commitEditor();
  editor.hideChooser();
});
graph.on("node:dblclick", ({ node }) => {
  selection.reset(node);
  editor.openEditor(node);
});
graph.on("edge:dblclick", ({ edge }) => {
  selection.reset(edge);
  editor.openEditor(edge);
});

["cell:added", "cell:removed", "cell:changed"].forEach((name) => graph.on(name, editor.noteChange));
graph.model.on("batch:stop", editor.noteChange);

// ---------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------

async function fetchGraph() {
  const response = await fetch(config.graphUrl, {
    credentials: "same-origin",
    cache: "no-store",
    headers: { Accept: "application/json" },
  });
  if (!response.ok) throw new Error(String(response.status));
  const graphDoc = await response.json();
  return { doc: graphDoc, version: parseEtag(response.headers.get("ETag")) ?? config.version };
}

async function start() {
  const { state } = editor;
  // When the page brings the graph along (config.graph), no request is needed.
  let loaded = config.graph ? { doc: config.graph, version: config.version } : null;
  if (!loaded) {
    try {
      loaded = await fetchGraph();
    } catch (error) {
      editor.showMessage(editor.texts.loadFailed);
      editor.setStatus("notSaved");
      return;
    }
  }
  await editor.loadDocumentInSlices(loaded.doc, loaded.version);
  editor.renderLint(Array.isArray(config.lint) ? config.lint : null);
  if (canEdit) editor.restoreLocal();
  // The overview map (a second X6 graph) is built once the editor answers input,
  // unless the Overview button has been used meanwhile.
  if (graph.getNodes().length > MINIMAP_FROM) {
    const show = () => editor.layout.minimap || editor.setMinimap(true);
    if (window.requestIdleCallback) window.requestIdleCallback(show, { timeout: 500 });
    else window.setTimeout(show, 0);
  }
  // The server's drawing (static-view.js) hands over its view, selection, drags
  // and keys; without it (no drawing), the editor's own opening view.
  if (window.hourglassStatic) await window.hourglassStatic.handOver(editor);
  else editor.openView();
  if (!canEdit) editor.setStatus("readOnly");
  else if (!state.blocked && !state.inFlight && state.current === state.acked) {
    editor.setStatus("saved");
  }
  editor.updateToolbar();
  window.hourglassEditor.ready = true;
  root.dataset.ready = "true";
}

// What the browser tests read (and bench/bench_editor.py waits for).
window.hourglassEditor = {
  graph,
  toJSON: editor.toJSON,
  save: editor.save,
  ready: false,
  get version() {
    return editor.state.version;
  },
  // Frames, previews and commits of pan and zoom gestures (pan.js).
  viewCounts: editor.viewQueue.counts,
  // True while a change is not yet acknowledged by the server (or still being noticed).
  get pending() {
    return isPending(editor);
  },
};

start();
