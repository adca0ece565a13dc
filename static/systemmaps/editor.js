// The map editor: an @antv/x6 canvas over the graph JSON API (docs/graph-api.md).
//
// An ES module loaded after the classic x6 bundle (window.X6). No inline script, no
// eval, no inline event handlers, so the page works under a strict Content Security
// Policy. Every change is autosaved (debounced PUT with If-Match); work the server has
// not acknowledged yet is kept in localStorage, and a 412 opens the conflict dialog:
// nothing is overwritten silently and no edit is lost.

const X6 = window.X6;
const { Graph, History, Selection, Snapline, Keyboard, MiniMap, Dnd, NodeView, Rectangle } = X6;
// X6's core rules are in editor.css: an injected <style> would not pass a strict CSP.
X6.Config.autoInsertCSS = false;

const root = document.getElementById("editor");
const config = JSON.parse(document.getElementById("editor-config").textContent);
const T = document.getElementById("editor-texts").dataset;
const canEdit = Boolean(config.canEdit);
// Owner, critical flag and automation of the saved steps, by id: drawn as badges on
// the shapes, never part of the graph document (the side panel saves them itself).
const stepDetails = new Map(Object.entries(config.steps || {}));

const SAVE_DELAY = 1000; // ms after the last change
const MAX_BACKOFF = 30000;
const GRID = 10;
const NEXT_DX = 220; // "what happens next?" goes this far to the right…
const NEXT_DY = 90; // …and this far down while the spot is taken
const NUDGE = GRID;
const NUDGE_BIG = 5 * GRID;
const MINIMAP_FROM = 40; // shapes
const SCALE = { minScale: 0.1, maxScale: 3 };
const CLIPBOARD_KEY = "hourglass:editor-clipboard";

// ---------------------------------------------------------------------------
// Shapes: the look of the server's SVG export
// ---------------------------------------------------------------------------

const SIZE = {
  terminus: { width: 140, height: 44 },
  task: { width: 140, height: 48 },
  decision: { width: 132, height: 80 },
};
const LOOK = {
  terminus: { fill: "#dff3e8", stroke: "#1c8a6e" },
  task: { fill: "#ffffff", stroke: "#3e4c59" },
  decision: { fill: "#fff1cc", stroke: "#b7791f" },
};
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
const SIDES = ["top", "right", "bottom", "left"];

function markupOf(kind, details = null) {
  const markup = [
    { tagName: kind === "decision" ? "polygon" : "rect", selector: "body" },
    { tagName: "text", selector: "label" },
  ];
  const badges = badgesMarkup(kind, details);
  if (badges) markup.push(badges);
  return markup;
}

// Badges: the owner's initials, a critical marker and the automation, each a glyph
// with a tooltip and an accessible name (never colour alone). Termini have none.
const BADGE_SPOTS = {
  task: { critical: [0, 0], owner: [140, 0], automation: [140, 48] },
  decision: { critical: [30, 16], owner: [102, 16], automation: [102, 64] },
};
const AUTOMATION_BADGES = {
  automated: { text: "⚙", fill: "#e3f4ea", stroke: "#1c8a6e", ink: "#14593f" },
  could: { text: "⚡", fill: "#fff1cc", stroke: "#b7791f", ink: "#7a4d0b" },
};

function badgeParts(kind, details) {
  if (!details || !BADGE_SPOTS[kind]) return [];
  const parts = [];
  if (details.critical) parts.push(["critical", T.badgeCritical]);
  if (AUTOMATION_BADGES[details.automation]) {
    const title = details.automation === "automated" ? T.badgeAutomated : T.badgeCould;
    parts.push(["automation", title, details.automation]);
  }
  if (details.ownerInitials) {
    const title = T.badgeOwner.replace("{name}", details.ownerName || details.ownerInitials);
    parts.push(["owner", title, details.ownerInitials]);
  }
  return parts;
}

// Two elements a badge (the shapes of a large map are many): a circle, and the
// glyph that carries the badge's name and words; one tooltip for them all.
function badge(name, kind, title, circle, text, ink, size) {
  const [x, y] = BADGE_SPOTS[kind][name];
  return [
    { tagName: "circle", attrs: { cx: x, cy: y, r: 9, "stroke-width": 1.5, ...circle } },
    {
      tagName: "text",
      textContent: text,
      className: `hg-badge hg-badge-${name}`,
      attrs: {
        "data-badge": name,
        role: "img",
        "aria-label": title,
        x,
        y,
        dy: "0.35em",
        fill: ink,
        "font-size": size,
        "font-weight": 700,
        "font-family": FONT,
        "text-anchor": "middle",
      },
    },
  ];
}

function badgesMarkup(kind, details) {
  const parts = badgeParts(kind, details);
  if (!parts.length) return null;
  const children = parts.flatMap(([name, title, value]) => {
    if (name === "critical") {
      return badge(name, kind, title, { fill: "#c53030", stroke: "#ffffff" }, "!", "#ffffff", 12);
    }
    if (name === "automation") {
      const look = AUTOMATION_BADGES[value];
      return badge(name, kind, title, { fill: look.fill, stroke: look.stroke }, look.text, look.ink, 11);
    }
    return badge(name, kind, title, { fill: "#2854c5", stroke: "#ffffff" }, value, "#ffffff", 8);
  });
  return {
    tagName: "g",
    selector: "badges",
    className: "hg-badges",
    // What the badges say, so a shape is only redrawn when that changes.
    attrs: { "data-badges": JSON.stringify(parts) },
    children: [{ tagName: "title", textContent: parts.map((part) => part[1]).join(" · ") }, ...children],
  };
}

function shownBadges(node) {
  const markup = node.getMarkup();
  const group = Array.isArray(markup) ? markup.find((item) => item.selector === "badges") : null;
  return group ? group.attrs["data-badges"] : "";
}

// Redraw a shape's badges when they are not what stepDetails says; not an edit of
// the map, so not in the undo history (see beforeAddCommand).
function applyBadges(node) {
  const kind = kindOf(node);
  const details = stepDetails.get(node.id);
  const parts = badgeParts(kind, details);
  const wanted = parts.length ? JSON.stringify(parts) : "";
  if (wanted === shownBadges(node)) return;
  node.setMarkup(markupOf(kind, details), { hgBadges: true });
}

// X6 wraps text by characters; wrap by words here and let X6 only place the lines.
const measureContext = document.createElement("canvas").getContext("2d");
const LABEL_ROOM = {
  terminus: { width: 124, lines: 2 },
  task: { width: 124, lines: 2 },
  decision: { width: 88, lines: 3 },
};

function textWidth(text, weight = 400) {
  measureContext.font = `${weight} 12px ${FONT}`;
  return measureContext.measureText(text).width;
}

function wrapLabel(label, kind) {
  const { width, lines: maxLines } = LABEL_ROOM[kind];
  const room = width - 4; // canvas and SVG measure a little differently
  const lines = [];
  String(label)
    .split("\n")
    .forEach((paragraph) => {
      let line = "";
      paragraph
        .split(/\s+/)
        .filter(Boolean)
        .forEach((word) => {
          let rest = word;
          while (textWidth(rest) > room) {
            // A word longer than the shape is cut where it must be.
            let cut = rest.length - 1;
            while (cut > 1 && textWidth(rest.slice(0, cut)) > room) cut -= 1;
            if (line) lines.push(line);
            lines.push(rest.slice(0, cut));
            line = "";
            rest = rest.slice(cut);
          }
          const candidate = line ? `${line} ${rest}` : rest;
          if (textWidth(candidate) <= room) {
            line = candidate;
          } else {
            lines.push(line);
            line = rest;
          }
        });
      lines.push(line);
    });
  if (lines.length > maxLines) {
    let last = lines[maxLines - 1];
    while (last && textWidth(`${last}…`) > room) last = last.slice(0, -1);
    lines.splice(maxLines - 1, lines.length, `${last.trimEnd()}…`);
  }
  return lines.join("\n");
}

function labelAttrs(kind, label) {
  return { text: label, textWrap: { text: wrapLabel(label, kind) } };
}

function setNodeLabel(node, label) {
  node.attr("label", labelAttrs(kindOf(node), label));
}

function attrsOf(kind, label) {
  const radius = kind === "terminus" ? SIZE.terminus.height / 2 : 2;
  const body =
    kind === "decision"
      ? { refPoints: "0,10 10,0 20,10 10,20" }
      : { refWidth: "100%", refHeight: "100%", rx: radius, ry: radius };
  return {
    body: { ...body, ...LOOK[kind], strokeWidth: 1.5 },
    label: {
      fill: "#1f2933",
      fontSize: 12,
      fontFamily: FONT,
      refX: 0.5,
      refY: 0.5,
      textAnchor: "middle",
      textVerticalAnchor: "middle",
      pointerEvents: "none",
      text: label,
      textWrap: {
        text: wrapLabel(label, kind),
        width: -(SIZE[kind].width - LABEL_ROOM[kind].width),
        height: 100, // the lines are counted in wrapLabel
        ellipsis: true,
      },
    },
  };
}

Graph.registerNode(
  "hg-step",
  {
    markup: markupOf("task"),
    ports: {
      groups: Object.fromEntries(
        SIDES.map((side) => [
          side,
          {
            position: side,
            attrs: {
              circle: { r: 5, magnet: true, fill: "#ffffff", stroke: "#2854c5", strokeWidth: 1.5 },
            },
          },
        ]),
      ),
    },
  },
  true,
);

Graph.registerEdge(
  "hg-edge",
  {
    inherit: "edge",
    markup: [
      {
        tagName: "path",
        selector: "wrap",
        groupSelector: "lines",
        className: "hg-edge-wrap",
        attrs: { fill: "none", cursor: "pointer", stroke: "transparent", strokeLinecap: "round" },
      },
      {
        tagName: "path",
        selector: "line",
        groupSelector: "lines",
        className: "hg-edge-line",
        attrs: { fill: "none", pointerEvents: "none" },
      },
    ],
    attrs: {
      lines: { connection: true, strokeLinejoin: "round" },
      wrap: { strokeWidth: 12 },
      line: {
        stroke: "#52606d",
        strokeWidth: 1.5,
        targetMarker: { name: "block", width: 10, height: 7 },
      },
    },
    defaultLabel: {
      markup: [
        { tagName: "rect", selector: "body" },
        { tagName: "text", selector: "label" },
      ],
      attrs: {
        label: {
          fill: "#1f2933",
          fontSize: 12,
          fontWeight: 600,
          fontFamily: FONT,
          textAnchor: "middle",
          textVerticalAnchor: "middle",
          pointerEvents: "none",
        },
        // Sized from the text in edgeLabelOf: measuring each label in the DOM
        // costs a layout per arrow.
        body: { fill: "#ffffff", stroke: "#b9c1cc", strokeWidth: 1, rx: 4, ry: 4 },
      },
      position: { distance: 0.5 },
    },
  },
  true,
);

// Where an arrow meets a shape, computed from the shape's geometry alone: X6's
// "boundary" asks the DOM for every end of every arrow, which doubles the time a
// large map takes to open. Diamonds are exact; the rounded ends of a terminus are
// met where the arrow usually meets them, at the middle of the side.
Graph.registerConnectionPoint(
  "hg-outline",
  (line, view) => {
    const cell = view.cell;
    const box = cell.getBBox();
    const c = box.getCenter();
    const ux = line.start.x - c.x;
    const uy = line.start.y - c.y;
    const hw = box.width / 2;
    const hh = box.height / 2;
    if ((ux === 0 && uy === 0) || !hw || !hh) return line.end;
    const reach = isDecision(cell)
      ? Math.abs(ux) / hw + Math.abs(uy) / hh
      : Math.max(Math.abs(ux) / hw, Math.abs(uy) / hh);
    const t = 1 / reach;
    return new X6.Point(c.x + ux * t, c.y + uy * t);
  },
  true,
);

// The overview map draws plain boxes: no text to measure, no arrows.
class MiniNodeView extends NodeView {
  renderMarkup() {
    return this.renderJSONMarkup({ tagName: "rect", selector: "body" });
  }

  update() {
    super.update({
      body: { refWidth: "100%", refHeight: "100%", fill: "#9fb3d9", stroke: "none" },
    });
  }
}

// ---------------------------------------------------------------------------
// Graph document ⇄ X6 cells. A cell's id IS the id in the graph document.
// ---------------------------------------------------------------------------

function newId(prefix) {
  let id;
  do {
    id = prefix + Date.now().toString(36).slice(-4) + Math.random().toString(36).slice(2, 7);
  } while (graph.hasCell(id));
  return id;
}

function round2(value) {
  return Math.round(value * 100) / 100;
}

function nodeMeta(n) {
  const kind = SIZE[n.kind] ? n.kind : "task";
  const { width, height } = SIZE[kind];
  const meta = {
    id: n.id,
    shape: "hg-step",
    x: Number(n.x) - width / 2,
    y: Number(n.y) - height / 2,
    width,
    height,
    markup: markupOf(kind, stepDetails.get(n.id)),
    attrs: attrsOf(kind, n.label ?? ""),
    data: { kind, stage: n.stage ?? null, notes: n.notes ?? null },
    zIndex: 2, // shapes above arrows, so a click on a shape is never taken by a line
  };
  return meta;
}

function edgeLabelOf(text) {
  const width = Math.ceil(textWidth(text, 600)) + 10;
  const height = 18;
  return {
    attrs: {
      label: { text },
      body: { x: -width / 2, y: -height / 2, width, height },
    },
  };
}

function edgeMeta(e) {
  return {
    id: e.id,
    shape: "hg-edge",
    source: { cell: e.source },
    target: { cell: e.target },
    labels: e.label ? [edgeLabelOf(e.label)] : [],
    zIndex: 1,
  };
}

function kindOf(node) {
  return (node.getData() || {}).kind || "task";
}

function isDecision(cell) {
  return Boolean(cell && cell.isNode() && kindOf(cell) === "decision");
}

function nodeLabel(node) {
  const text = node.attr("label/text");
  return text == null ? "" : String(text);
}

function edgeLabel(edge) {
  const label = edge.getLabels()[0];
  const text = label && label.attrs && label.attrs.label && label.attrs.label.text;
  return text ? String(text) : null;
}

function nodeDoc(node) {
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

function edgeDoc(edge) {
  return {
    id: edge.id,
    source: edge.getSourceCellId(),
    target: edge.getTargetCellId(),
    label: edgeLabel(edge),
  };
}

function toJSON() {
  return {
    schema_version: 1,
    name: state.name,
    nodes: graph.getNodes().map(nodeDoc),
    // An arrow being drawn hangs on a point, not a shape: not part of the map yet.
    edges: graph
      .getEdges()
      .filter((e) => e.getSourceCellId() && e.getTargetCellId())
      .map(edgeDoc),
  };
}

const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

// The same map is the same key whatever order undo and redo left the cells in, so
// undoing back to the saved state needs no save. (The body keeps the drawing order:
// tidy-up lays shapes out in the order they were drawn.)
function keyOf(doc) {
  return JSON.stringify({
    ...doc,
    nodes: [...doc.nodes].sort(byId),
    edges: [...doc.edges].sort(byId),
  });
}

// ---------------------------------------------------------------------------
// The canvas
// ---------------------------------------------------------------------------

const container = document.getElementById("editor-canvas");
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
  grid: { size: GRID, visible: true, type: "dot", args: { color: "#cfd6df", thickness: 1 } },
  background: { color: "#fbfcfd" },
  // Drag the background (or space+drag) to pan; Shift+drag draws a selection box.
  panning: { enabled: true, eventTypes: ["leftMouseDown", "mouseWheel"] },
  mousewheel: { enabled: true, modifiers: ["ctrl", "meta"], factor: 1.1, ...SCALE },
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
      return this.createEdge({ shape: "hg-edge", id: newId("e"), zIndex: 1 });
    },
    validateMagnet() {
      return canEdit && state.blocked !== "forbidden";
    },
    validateConnection({ sourceCell, targetCell }) {
      return Boolean(targetCell && targetCell.isNode() && targetCell !== sourceCell);
    },
  },
  highlighting: {
    magnetAdsorbed: {
      name: "stroke",
      args: { padding: 4, attrs: { stroke: "#2854c5", "stroke-width": 3 } },
    },
  },
});

// Hovering (ports come and go), selecting and stacking are not edits.
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

// Stable hooks: exactly one element per shape carries data-node-id, one per arrow
// data-edge-id, on the root <g> of the cell's view.
graph.on("view:mounted", ({ view }) => {
  const cell = view.cell;
  view.container.setAttribute(cell.isNode() ? "data-node-id" : "data-edge-id", cell.id);
  view.container.classList.toggle("hg-selected", selection.isSelected(cell));
});

// Ports (the dots to draw an arrow from) exist only on the shape under the pointer
// and on selected shapes: four ports on every shape of a large map would add
// thousands of elements to draw when the map opens.
const PORT_ITEMS = SIDES.map((side) => ({ id: side, group: side }));
let hovered = null;
let pointerDown = false;

function showPorts(node) {
  if (!canEdit || state.blocked === "forbidden" || !graph.hasCell(node)) return;
  if (!node.hasPorts()) node.addPorts(PORT_ITEMS);
}

function tidyPorts() {
  if (pointerDown) return; // an arrow may be leaving one of them
  graph.getNodes().forEach((node) => {
    if (node.hasPorts() && node !== hovered && !selection.isSelected(node)) {
      node.removePorts();
    }
  });
}

// (X6's node:mouseenter/leave do not fire for delegated SVG views; over/out do,
// also when the pointer moves between the parts of one shape.)
graph.on("node:mouseover", ({ node }) => {
  hovered = node;
  showPorts(node);
});
graph.on("node:mouseout", ({ e, node, view }) => {
  const to = e && (e.relatedTarget || (e.originalEvent && e.originalEvent.relatedTarget));
  if (to && view && view.container.contains(to)) return;
  if (hovered === node) hovered = null;
  tidyPorts();
});
window.addEventListener("mousedown", () => (pointerDown = true), true);
window.addEventListener(
  "mouseup",
  () => {
    pointerDown = false;
    window.setTimeout(tidyPorts, 0);
  },
  true,
);

// ---------------------------------------------------------------------------
// State of the saving machinery
// ---------------------------------------------------------------------------

const state = {
  name: "",
  version: null, // the version the canvas is based on (If-Match)
  current: "", // the key of the canvas (see keyOf)
  body: "", // the canvas as the JSON document to PUT
  acked: "", // the key the server has acknowledged
  ackedIds: new Set(),
  loading: true,
  inFlight: false,
  blocked: null, // "conflict" | "invalid" | "forbidden" | null
  conflict: null,
  backoff: 0,
};
let saveTimer = null;
let retryTimer = null;
let changeTimer = null;

const statusEl = document.getElementById("save-status");
const STATUS = {
  saving: ["saving", T.saving],
  saved: ["saved", T.saved],
  offline: ["offline", T.offline],
  conflict: ["conflict", T.conflict],
  notSaved: ["not-saved", T.notSaved],
  readOnly: ["read-only", T.readOnly],
};

function setStatus(key) {
  const [name, text] = STATUS[key];
  root.dataset.state = name;
  if (statusEl.textContent !== text) statusEl.textContent = text;
}

function markAcked(key) {
  state.acked = key;
  state.ackedIds = new Set(JSON.parse(key).nodes.map((n) => n.id));
}

// A step the server no longer has lost its owner and cost with it: a shape brought
// back by undo after that is a new step.
function forgetDeletedSteps() {
  [...stepDetails.keys()].forEach((id) => {
    if (!state.ackedIds.has(id)) stepDetails.delete(id);
  });
}

function takeSnapshot() {
  const doc = toJSON();
  state.current = keyOf(doc);
  state.body = JSON.stringify(doc);
}

function persistLocal() {
  if (!canEdit) return;
  try {
    if (state.current === state.acked) {
      localStorage.removeItem(config.storageKey);
    } else {
      localStorage.setItem(
        config.storageKey,
        JSON.stringify({
          base: state.version,
          graph: JSON.parse(state.body),
          savedAt: new Date().toISOString(),
        }),
      );
    }
  } catch (error) {
    // Storage full or switched off: the autosave still runs.
  }
}

// Model events arrive in bursts (a drag moves a node on every mouse move); look at
// the document once the burst, and any batch it belongs to, is over.
function noteChange() {
  if (!canEdit || state.loading || changeTimer != null) return;
  changeTimer = window.setTimeout(checkForChange, 30);
}

function checkForChange() {
  changeTimer = null;
  if (graph.model.hasActiveBatch()) return; // batch:stop notes the change again
  const before = state.current;
  takeSnapshot();
  if (state.current === before) return;
  persistLocal();
  updateToolbar();
  if (state.blocked === "invalid") {
    // The next change may be the fix: try again.
    state.blocked = null;
    hideMessages();
  }
  if (state.blocked) return;
  if (state.current === state.acked) {
    window.clearTimeout(saveTimer);
    if (!state.inFlight) setStatus("saved");
    return;
  }
  if (!retryTimer) setStatus("saving");
  scheduleSave();
}

function scheduleSave() {
  window.clearTimeout(saveTimer);
  saveTimer = window.setTimeout(save, SAVE_DELAY);
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  } catch (error) {
    return "";
  }
}

async function readJSON(response) {
  try {
    return await response.json();
  } catch (error) {
    return null;
  }
}

async function save() {
  window.clearTimeout(saveTimer);
  saveTimer = null;
  if (!canEdit || state.loading || state.blocked) return;
  if (state.inFlight) return; // saved again when the answer is in
  window.clearTimeout(retryTimer);
  retryTimer = null;
  const body = state.body;
  const sent = state.current;
  if (sent === state.acked) {
    setStatus("saved");
    return;
  }
  state.inFlight = true;
  setStatus("saving");
  let response;
  try {
    response = await fetch(config.graphUrl, {
      method: "PUT",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "If-Match": `"${state.version}"`,
        "X-CSRFToken": csrfToken(),
      },
      body,
    });
  } catch (error) {
    state.inFlight = false;
    retryLater();
    return;
  }
  const data = await readJSON(response);
  state.inFlight = false;

  if (response.ok && data && Number.isInteger(data.version)) {
    state.backoff = 0;
    state.version = data.version;
    markAcked(sent);
    forgetDeletedSteps();
    persistLocal();
    renderLint(data.lint || []);
    if (!root.querySelector("#editor-messages.is-info")) hideMessages();
    refreshSidePanel();
    if (state.current !== state.acked) {
      save(); // changes made while the request was out
    } else {
      setStatus("saved");
    }
    return;
  }
  if (response.status === 412 && data && data.graph) {
    openConflict(data);
    return;
  }
  const refused = [400, 403, 404, 413, 428].includes(response.status);
  if (!refused) {
    // A server error, a proxy page or an ended session: keep trying, keep the work.
    retryLater();
    return;
  }
  if (response.status === 403) {
    state.blocked = "forbidden";
    showMessage(T.forbidden);
  } else if (response.status === 400 && data) {
    state.blocked = "invalid";
    showProblems(data);
  } else if (response.status === 413) {
    state.blocked = "invalid";
    showMessage(T.tooLarge);
  } else if (response.status === 428) {
    state.blocked = "invalid";
    showMessage(T.precondition);
  } else {
    state.blocked = "invalid";
    showMessage(T.failed);
  }
  setStatus("notSaved");
}

function retryLater() {
  setStatus("offline");
  const delay = Math.min(1000 * 2 ** state.backoff, MAX_BACKOFF);
  state.backoff += 1;
  window.clearTimeout(retryTimer);
  retryTimer = window.setTimeout(() => {
    retryTimer = null;
    save();
  }, delay);
}

window.addEventListener("online", () => {
  if (retryTimer) {
    window.clearTimeout(retryTimer);
    retryTimer = null;
    save();
  }
});

window.addEventListener("beforeunload", (event) => {
  if (canEdit && !state.loading && (state.current !== state.acked || state.inFlight)) {
    event.preventDefault();
    event.returnValue = "";
  }
});

// ---------------------------------------------------------------------------
// Conflict: never overwrite silently
// ---------------------------------------------------------------------------

const conflictDialog = document.getElementById("conflict-dialog");

function openConflict(data) {
  state.blocked = "conflict";
  state.conflict = data;
  setStatus("conflict");
  const who = data.saved_by || data.saved_by_email || T.someone;
  const when = data.saved_at ? new Date(data.saved_at).toLocaleString() : "";
  document.getElementById("conflict-message").textContent = T.conflictMessage
    .replace("{who}", who)
    .replace("{when}", when);
  if (!conflictDialog.open) conflictDialog.showModal();
}

// A choice is needed: Esc does not close the dialog.
conflictDialog.addEventListener("cancel", (event) => event.preventDefault());

conflictDialog.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button || !state.conflict) return;
  const theirs = state.conflict;
  state.conflict = null;
  state.blocked = null;
  conflictDialog.close();
  if (button.dataset.action === "load-theirs") {
    try {
      localStorage.setItem(
        `${config.storageKey}:discarded`,
        JSON.stringify({
          base: state.version,
          graph: JSON.parse(state.body),
          discardedAt: new Date().toISOString(),
          replacedByVersion: theirs.version,
        }),
      );
    } catch (error) {
      // Nothing more we can do in this browser; the dialog said what happens.
    }
    loadDocument(theirs.graph, theirs.version);
    persistLocal();
    renderLint(null);
    hideMessages();
    setStatus("saved");
  } else {
    // Mine becomes the newest version; theirs stays in the revision history.
    state.version = theirs.version;
    persistLocal();
    save();
  }
});

// ---------------------------------------------------------------------------
// Messages, lint, problems
// ---------------------------------------------------------------------------

const messagesEl = document.getElementById("editor-messages");
const lintPanel = document.getElementById("lint-panel");

function element(tag, props = {}, children = []) {
  const el = document.createElement(tag);
  Object.entries(props).forEach(([key, value]) => {
    if (key === "text") el.textContent = value;
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value);
  });
  children.forEach((child) => el.append(child));
  return el;
}

function showMessage(text, kind = "error", extra = null) {
  messagesEl.replaceChildren(element("p", { text }));
  if (extra) messagesEl.append(extra);
  messagesEl.classList.toggle("is-info", kind === "info");
  messagesEl.hidden = false;
}

function hideMessages() {
  messagesEl.hidden = true;
  messagesEl.classList.remove("is-info");
  messagesEl.replaceChildren();
}

function showProblems(data) {
  const list = element("ul", { "data-testid": "save-problems" });
  (data.problems || []).forEach((problem) => {
    const where = [problem.id, problem.field].filter(Boolean).join(" · ");
    const text = where ? `${where}: ${problem.message}` : problem.message;
    const cell = problem.id ? graph.getCellById(problem.id) : null;
    if (cell) {
      const button = element("button", { type: "button", class: "linklike", text });
      button.addEventListener("click", () => focusCells([problem.id]));
      list.append(element("li", {}, [button]));
    } else {
      list.append(element("li", { text }));
    }
  });
  showMessage(`${T.invalid} ${data.message || ""}`.trim(), "error", list);
}

function renderLint(findings) {
  if (!Array.isArray(findings)) {
    lintPanel.replaceChildren(element("p", { class: "muted", text: T.lintPending }));
    return;
  }
  if (!findings.length) {
    lintPanel.replaceChildren(
      element("p", { class: "lint-clean", "data-testid": "lint-clean" }, [
        element("span", { "aria-hidden": "true", text: "✓ " }),
        T.lintClean,
      ]),
    );
    return;
  }
  const list = element("ul", { class: "lint-list" });
  findings.forEach((finding) => {
    const error = finding.severity === "error";
    const button = element(
      "button",
      {
        type: "button",
        class: `lint-item ${error ? "lint-error" : "lint-warning"}`,
        "data-testid": "lint-item",
        "data-rule": finding.rule,
        "data-severity": finding.severity,
      },
      [
        element("span", { class: "lint-icon", "aria-hidden": "true", text: error ? "✕" : "⚠" }),
        element("strong", { text: `${error ? T.errorWord : T.warningWord}: ` }),
        finding.message,
      ],
    );
    button.addEventListener("click", () => {
      const nodes = finding.nodes || [];
      focusCells(nodes.length ? nodes : finding.edges || []);
    });
    list.append(element("li", {}, [button]));
  });
  lintPanel.replaceChildren(list);
}

function focusCells(ids) {
  const cells = ids.map((id) => graph.getCellById(id)).filter(Boolean);
  if (!cells.length) return;
  selection.reset(cells);
  const box = graph.getCellsBBox(cells);
  if (box) {
    const centre = box.getCenter();
    graph.centerPoint(centre.x, centre.y);
  }
}

// ---------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------

function loadDocument(doc, version) {
  state.loading = true;
  closeEditor(false);
  hideChooser();
  selection.clean();
  graph.fromJSON({
    nodes: (doc.nodes || []).map(nodeMeta),
    edges: (doc.edges || []).map(edgeMeta),
  });
  history.clean();
  state.name = doc.name || "";
  state.version = version;
  takeSnapshot();
  markAcked(state.current);
  state.loading = false;
  updateToolbar();
}

// Unsaved work of an earlier visit goes back on the canvas and is saved; if its
// base version is old, that save gets a 412 and the conflict dialog.
function restoreLocal() {
  let stored = null;
  try {
    stored = JSON.parse(localStorage.getItem(config.storageKey) || "null");
  } catch (error) {
    stored = null;
  }
  if (!stored || !stored.graph || !Array.isArray(stored.graph.nodes)) return;
  const server = { acked: state.acked, version: state.version };
  loadDocument(stored.graph, Number.isInteger(stored.base) ? stored.base : server.version);
  if (state.current === server.acked) {
    state.version = server.version;
    persistLocal();
    return;
  }
  markAcked(server.acked); // what the server has, so the restored work counts as unsaved
  showMessage(T.restored, "info");
  save();
}

// ---------------------------------------------------------------------------
// Label editing, quick yes/no labels
// ---------------------------------------------------------------------------

const labelEditor = document.getElementById("label-editor");
const chooser = document.getElementById("quick-labels");
let editing = null;
let chooserEdge = null;
let chooserSticky = false;

function edgeMidpoint(edge) {
  const source = edge.getSourceCell();
  const target = edge.getTargetCell();
  if (!source || !target) return null;
  const a = source.getBBox().getCenter();
  const b = target.getBBox().getCenter();
  return graph.localToGraph({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 });
}

function positionEditor() {
  if (!editing) return;
  const cell = editing.cell;
  const scale = graph.scale().sx;
  let rect;
  if (cell.isNode()) {
    rect = graph.localToGraph(cell.getBBox());
  } else {
    const mid = edgeMidpoint(cell);
    if (!mid) return;
    rect = { x: mid.x - 70, y: mid.y - 18, width: 140, height: 36 };
  }
  const width = Math.max(rect.width, 140);
  const height = Math.max(rect.height, 36);
  Object.assign(labelEditor.style, {
    left: `${rect.x + rect.width / 2 - width / 2}px`,
    top: `${rect.y + rect.height / 2 - height / 2}px`,
    width: `${width}px`,
    height: `${height}px`,
    fontSize: `${Math.min(Math.max(13 * scale, 13), 22)}px`,
  });
}

function openEditor(cell, selectAll = true) {
  if (!canEdit || !cell || !graph.hasCell(cell) || state.blocked === "forbidden") return;
  if (editing) commitEditor();
  editing = { cell };
  labelEditor.maxLength = cell.isNode() ? 200 : 60;
  labelEditor.value = cell.isNode() ? nodeLabel(cell) : edgeLabel(cell) || "";
  positionEditor();
  labelEditor.hidden = false;
  labelEditor.focus({ preventScroll: true });
  if (selectAll) labelEditor.select();
}

function setEdgeLabel(edge, text) {
  const value = text ? text.trim().slice(0, 60) : "";
  if ((edgeLabel(edge) || "") === value) return;
  edge.setLabels(value ? [edgeLabelOf(value)] : []);
}

function commitEditor() {
  closeEditor(true);
}

function closeEditor(keep) {
  if (!editing) return;
  const { cell } = editing;
  editing = null;
  labelEditor.hidden = true;
  if (!keep || !graph.hasCell(cell)) return;
  const value = labelEditor.value.trim();
  if (cell.isNode()) {
    if (value !== nodeLabel(cell)) setNodeLabel(cell, value);
  } else {
    setEdgeLabel(cell, value);
  }
}

labelEditor.addEventListener("keydown", (event) => {
  event.stopPropagation();
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    commitEditor();
    container.focus({ preventScroll: true });
  } else if (event.key === "Escape") {
    event.preventDefault();
    closeEditor(false);
    container.focus({ preventScroll: true });
  } else if (event.key === "Tab") {
    // Whimsical-style chaining: keep this label and go on to the next step.
    event.preventDefault();
    const cell = editing && editing.cell;
    commitEditor();
    container.focus({ preventScroll: true });
    if (cell && cell.isNode() && !event.shiftKey && graph.hasCell(cell)) nextStep(cell);
  }
});
labelEditor.addEventListener("blur", () => commitEditor());

function positionChooser() {
  if (!chooserEdge) return;
  const mid = edgeMidpoint(chooserEdge);
  if (!mid) return hideChooser();
  chooser.style.left = `${mid.x}px`;
  chooser.style.top = `${mid.y}px`; // drawn above the middle of the arrow (CSS)
  const current = (edgeLabel(chooserEdge) || "").toLowerCase();
  chooser.querySelectorAll("button").forEach((button) => {
    const answer = button.dataset.answer === "yes" ? T.answerYes : T.answerNo;
    button.setAttribute("aria-pressed", String(current === answer.toLowerCase()));
  });
}

function showChooser(edge, sticky) {
  if (!canEdit) return;
  chooserEdge = edge;
  chooserSticky = sticky;
  positionChooser();
  chooser.hidden = false;
}

// A chooser offered for a new arrow stays while the selection is about that arrow
// (nothing, or one of its two shapes), so the answer can be picked after typing.
function chooserKeeps(cell) {
  if (!chooserSticky || !chooserEdge || !graph.hasCell(chooserEdge)) return false;
  if (!cell) return selectedCells().length === 0;
  return [chooserEdge.id, chooserEdge.getSourceCellId(), chooserEdge.getTargetCellId()].includes(
    cell.id,
  );
}

function hideChooser() {
  chooserEdge = null;
  chooserSticky = false;
  chooser.hidden = true;
}

// Keep the label editor's focus while an answer is picked.
chooser.addEventListener("mousedown", (event) => event.preventDefault());
chooser.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-answer]");
  if (!button || !chooserEdge || !graph.hasCell(chooserEdge)) return;
  setEdgeLabel(chooserEdge, button.dataset.answer === "yes" ? T.answerYes : T.answerNo);
  hideChooser();
  if (!editing) container.focus({ preventScroll: true });
});

// A second arrow out of a decision answers the other way round.
function defaultAnswer(decision, except) {
  if (!isDecision(decision)) return null;
  const others = (graph.getOutgoingEdges(decision) || [])
    .filter((e) => e !== except)
    .map((e) => (edgeLabel(e) || "").trim().toLowerCase());
  const yes = T.answerYes.toLowerCase();
  const no = T.answerNo.toLowerCase();
  if (others.includes(yes) && !others.includes(no)) return T.answerNo;
  if (others.includes(no) && !others.includes(yes)) return T.answerYes;
  return null;
}

function repositionOverlays() {
  positionEditor();
  positionChooser();
}
graph.on("scale", repositionOverlays);
graph.on("translate", repositionOverlays);
graph.on("resize", repositionOverlays);
graph.on("node:change:position", () => {
  if (editing || chooserEdge) repositionOverlays();
});
graph.on("cell:removed", ({ cell }) => {
  if (editing && editing.cell === cell) closeEditor(false);
  if (chooserEdge === cell) hideChooser();
});

// ---------------------------------------------------------------------------
// Editing commands
// ---------------------------------------------------------------------------

function selectedCells() {
  return selection.getSelectedCells().filter((cell) => graph.hasCell(cell));
}

function selectedNodes() {
  return selectedCells().filter((cell) => cell.isNode());
}

function single() {
  const cells = selectedCells();
  return cells.length === 1 ? cells[0] : null;
}

function defaultLabel(kind) {
  return { terminus: T.newTerminus, task: T.newTask, decision: T.newDecision }[kind];
}

function ensureVisible(cell) {
  const b = cell.getBBox();
  const box = new Rectangle(b.x - 20, b.y - 20, b.width + 40, b.height + 40);
  if (!graph.getGraphArea().containsRect(box)) graph.centerCell(cell);
}

function spotIsFree(cx, cy, size) {
  const pad = 16;
  const rect = new Rectangle(
    cx - size.width / 2 - pad,
    cy - size.height / 2 - pad,
    size.width + 2 * pad,
    size.height + 2 * pad,
  );
  return !graph.getNodes().some((n) => n.getBBox().isIntersectWithRect(rect));
}

function addAtCentre(kind) {
  if (!canEdit) return;
  commitEditor();
  const centre = graph.getGraphArea().getCenter();
  let x = Math.round(centre.x / GRID) * GRID;
  let y = Math.round(centre.y / GRID) * GRID;
  for (let i = 0; i < 40 && !spotIsFree(x, y, SIZE[kind]); i += 1) {
    x += 3 * GRID;
    y += 3 * GRID;
  }
  const node = graph.addNode(nodeMeta({ id: newId("n"), kind, label: defaultLabel(kind), x, y }));
  selection.reset(node);
  openEditor(node);
}

// "What happens next?": a task to the right of `from`, arrow included, label editor open.
function nextStep(from) {
  if (!canEdit || !from || !from.isNode() || !graph.hasCell(from)) return;
  commitEditor();
  const centre = from.getBBox().getCenter();
  const x = centre.x + NEXT_DX;
  let y = centre.y;
  for (let i = 0; i < 60 && !spotIsFree(x, y, SIZE.task); i += 1) y += NEXT_DY;
  const answer = defaultAnswer(from, null);
  graph.startBatch("next-step");
  const node = graph.addNode(nodeMeta({ id: newId("n"), kind: "task", label: "", x, y }));
  const edge = graph.addEdge(
    edgeMeta({ id: newId("e"), source: from.id, target: node.id, label: answer }),
  );
  graph.stopBatch("next-step");
  if (isDecision(from)) showChooser(edge, true);
  selection.reset(node);
  ensureVisible(node);
  openEditor(node, true);
}

// One undo brings back the shapes with all their arrows: arrows go first, inside
// one batch, so the undo re-adds the shapes before the arrows that hang on them.
function deleteSelection() {
  if (!canEdit) return;
  const cells = selectedCells();
  if (!cells.length) return;
  commitEditor();
  hideChooser();
  const edges = new Set();
  const nodes = [];
  cells.forEach((cell) => {
    if (cell.isEdge()) edges.add(cell);
    else {
      nodes.push(cell);
      (graph.getConnectedEdges(cell) || []).forEach((e) => edges.add(e));
    }
  });
  selection.clean();
  graph.startBatch("delete");
  edges.forEach((e) => e.remove());
  nodes.forEach((n) => n.remove());
  graph.stopBatch("delete");
}

function subgraphOf(nodes) {
  const ids = new Set(nodes.map((n) => n.id));
  return {
    nodes: nodes.map(nodeDoc),
    edges: graph
      .getEdges()
      .filter((e) => ids.has(e.getSourceCellId()) && ids.has(e.getTargetCellId()))
      .map(edgeDoc),
  };
}

let clipboard = null;
let pasteRound = 0;

function copySelection() {
  const nodes = selectedNodes();
  if (!nodes.length) return false;
  clipboard = subgraphOf(nodes);
  pasteRound = 0;
  try {
    localStorage.setItem(CLIPBOARD_KEY, JSON.stringify(clipboard));
  } catch (error) {
    // The copy still works inside this page.
  }
  return true;
}

function insertCopy(clip, offset) {
  if (!canEdit || !clip || !clip.nodes || !clip.nodes.length) return;
  commitEditor();
  const ids = {};
  clip.nodes.forEach((n) => {
    ids[n.id] = newId("n");
  });
  graph.startBatch("paste");
  const added = clip.nodes.map((n) =>
    graph.addNode(nodeMeta({ ...n, id: ids[n.id], x: n.x + offset, y: n.y + offset })),
  );
  (clip.edges || []).forEach((e) => {
    if (ids[e.source] && ids[e.target]) {
      graph.addEdge(
        edgeMeta({ ...e, id: newId("e"), source: ids[e.source], target: ids[e.target] }),
      );
    }
  });
  graph.stopBatch("paste");
  selection.reset(added);
}

function paste() {
  let clip = clipboard;
  if (!clip) {
    try {
      clip = JSON.parse(localStorage.getItem(CLIPBOARD_KEY) || "null");
    } catch (error) {
      clip = null;
    }
  }
  pasteRound += 1;
  insertCopy(clip, 2 * GRID * pasteRound);
}

function duplicate() {
  const nodes = selectedNodes();
  if (nodes.length) insertCopy(subgraphOf(nodes), 3 * GRID);
}

function nudge(dx, dy) {
  const nodes = selectedNodes();
  if (!nodes.length || !canEdit) {
    graph.translateBy(-dx * 4, -dy * 4); // nothing to move: look around instead
    return;
  }
  graph.startBatch("nudge");
  nodes.forEach((n) => n.translate(dx, dy));
  graph.stopBatch("nudge");
}

function undo() {
  commitEditor();
  hideChooser();
  history.undo();
}

function redo() {
  commitEditor();
  hideChooser();
  history.redo();
}

function changeKind(node, kind) {
  const centre = node.getBBox().getCenter();
  const { width, height } = SIZE[kind];
  node.setMarkup(markupOf(kind, stepDetails.get(node.id)));
  node.setAttrs(attrsOf(kind, nodeLabel(node)), { overwrite: true });
  node.resize(width, height);
  node.position(centre.x - width / 2, centre.y - height / 2);
  node.setData({ ...(node.getData() || {}), kind }, { overwrite: true });
}

// The side panel (another part of the page) says a step changed: apply it as one
// undoable change.
document.body.addEventListener("stepChanged", (event) => {
  const detail = event.detail || {};
  const node = detail.id ? graph.getCellById(detail.id) : null;
  if (!node || !node.isNode()) return;
  graph.startBatch("step-changed");
  if (detail.kind && SIZE[detail.kind] && detail.kind !== kindOf(node)) {
    changeKind(node, detail.kind);
  }
  if (typeof detail.label === "string" && detail.label !== nodeLabel(node)) {
    setNodeLabel(node, detail.label);
  }
  const data = { ...(node.getData() || {}) };
  if ("stage" in detail) data.stage = detail.stage || null;
  if ("notes" in detail) data.notes = detail.notes || null;
  node.setData(data, { overwrite: true });
  graph.stopBatch("step-changed");
});

// The side panel saved a step's owner, critical flag or automation: show the badges.
document.body.addEventListener("stepDetailsChanged", (event) => {
  const detail = event.detail || {};
  if (!detail.id) return;
  stepDetails.set(detail.id, {
    ownerInitials: detail.ownerInitials || "",
    ownerName: detail.ownerName || "",
    critical: Boolean(detail.critical),
    automation: detail.automation || "manual",
  });
  const node = graph.getCellById(detail.id);
  if (node && node.isNode()) applyBadges(node);
});

// Undo and redo bring back shapes as they were drawn then, badges included: show
// the badges of now.
function refreshBadges() {
  graph.getNodes().forEach(applyBadges);
}
history.on("undo", refreshBadges);
history.on("redo", refreshBadges);

// ---------------------------------------------------------------------------
// Tidy up, zoom, overview map
// ---------------------------------------------------------------------------

let tidying = false;

async function tidy() {
  if (!canEdit || tidying) return;
  commitEditor();
  const doc = toJSON();
  if (!doc.nodes.length) return;
  tidying = true;
  updateToolbar();
  try {
    const response = await fetch(config.layoutUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: JSON.stringify(doc),
    });
    const data = await readJSON(response);
    if (!response.ok || !data || !data.positions) {
      showMessage((data && data.message) || T.layoutFailed);
      return;
    }
    graph.startBatch("tidy");
    graph.getNodes().forEach((node) => {
      const p = data.positions[node.id];
      if (!p) return; // added while the layout was computed
      const { width, height } = node.getSize();
      node.position(p.x - width / 2, p.y - height / 2);
    });
    graph.stopBatch("tidy");
    fitView();
  } catch (error) {
    showMessage(T.layoutFailed);
  } finally {
    tidying = false;
    updateToolbar();
  }
}

function fitView() {
  if (graph.getNodes().length) {
    graph.zoomToFit({ padding: 40, maxScale: 1, minScale: SCALE.minScale });
  } else {
    graph.zoomTo(1);
    graph.translate(0, 0);
  }
}

const minimapEl = document.getElementById("editor-minimap");
let minimap = null;

function setMinimap(show) {
  const button = root.querySelector('[data-action="minimap"]');
  if (button) button.setAttribute("aria-pressed", String(show));
  minimapEl.hidden = !show;
  if (show && !minimap) {
    minimap = new MiniMap({
      container: minimapEl,
      width: 200,
      height: 140,
      padding: 10,
      scalable: false,
      graphOptions: {
        createCellView(cell) {
          return cell.isEdge() ? null : MiniNodeView;
        },
      },
    });
    graph.use(minimap);
  }
}

// ---------------------------------------------------------------------------
// Palette (drag with X6 Dnd, or click to add in the middle)
// ---------------------------------------------------------------------------

const palette = root.querySelector(".editor-palette");
if (palette && canEdit) {
  const dnd = new Dnd({
    target: graph,
    scaled: true,
    getDragNode: (node) => node.clone(),
    getDropNode: (node) => {
      const kind = kindOf(node);
      const dropped = graph.createNode(
        nodeMeta({ id: newId("n"), kind, label: defaultLabel(kind), x: 0, y: 0 }),
      );
      return dropped.position(0, 0); // Dnd places it by its size from here
    },
  });
  palette.addEventListener("mousedown", (event) => {
    const item = event.target.closest(".palette-item");
    if (!item || event.button !== 0) return;
    const kind = item.dataset.kind;
    const label = defaultLabel(kind);
    const preview = nodeMeta({ id: "palette-preview", kind, label, x: 0, y: 0 });
    dnd.start(graph.createNode(preview), event);
  });
  palette.addEventListener("click", (event) => {
    const item = event.target.closest(".palette-item");
    if (item) addAtCentre(item.dataset.kind);
  });
  graph.on("node:added", ({ node, options }) => {
    if (!options || !options.stencil) return;
    // Dropped from the palette: select it and type its label straight away.
    window.setTimeout(() => {
      if (!graph.hasCell(node)) return;
      selection.reset(node);
      openEditor(node);
    }, 0);
  });
}

// ---------------------------------------------------------------------------
// Toolbar, selection, keyboard, side panel
// ---------------------------------------------------------------------------

const ACTIONS = {
  undo,
  redo,
  next: () => {
    const cell = single();
    if (cell && cell.isNode()) nextStep(cell);
  },
  delete: deleteSelection,
  tidy,
  "zoom-in": () => graph.zoomTo(graph.zoom() * 1.25, SCALE),
  "zoom-out": () => graph.zoomTo(graph.zoom() / 1.25, SCALE),
  fit: fitView,
  minimap: () => setMinimap(minimapEl.hidden),
};

root.querySelector(".editor-toolbar").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (button && ACTIONS[button.dataset.action]) ACTIONS[button.dataset.action]();
});

function setDisabled(action, disabled) {
  const button = root.querySelector(`.editor-toolbar [data-action="${action}"]`);
  if (button) button.disabled = disabled;
}

function updateToolbar() {
  if (!canEdit) return;
  const cell = single();
  setDisabled("undo", !history.canUndo());
  setDisabled("redo", !history.canRedo());
  setDisabled("next", !(cell && cell.isNode()));
  setDisabled("delete", selectedCells().length === 0);
  setDisabled("tidy", tidying || graph.getNodes().length === 0);
}
history.on("change", updateToolbar);

const sidePanel = document.getElementById("side-panel");
let panelFor = null;
let panelRequest = null;

// Only the panel of the step selected last may land: an answer for a step selected
// before (a quick click, then Tab) is dropped.
document.body.addEventListener("htmx:beforeSwap", (event) => {
  const detail = event.detail || {};
  if (detail.target !== sidePanel || !detail.requestConfig) return;
  const { verb, path } = detail.requestConfig;
  if (String(verb).toLowerCase() === "get" && path !== panelRequest) {
    detail.shouldSwap = false;
  }
});

function refreshSidePanel() {
  const cell = single();
  const node = cell && cell.isNode() ? cell : null;
  const id = node ? node.id : null;
  if (!config.panelUrl || id === panelFor) return;
  if (!id) {
    panelFor = null;
    panelRequest = null;
    sidePanel.replaceChildren(element("p", { class: "muted", text: T.panelEmpty }));
    return;
  }
  if (!state.ackedIds.has(id)) {
    panelFor = null; // load it once the step is saved
    panelRequest = null;
    sidePanel.replaceChildren(element("p", { class: "muted", text: T.panelWait }));
    return;
  }
  panelFor = id;
  if (window.htmx) {
    // The panel shows the canvas's values, which may not be saved yet.
    const doc = nodeDoc(node);
    const query = new URLSearchParams({
      label: doc.label,
      kind: doc.kind,
      stage: doc.stage || "",
      notes: doc.notes || "",
    });
    const url = `${config.panelUrl.replace("NODE", encodeURIComponent(id))}?${query}`;
    panelRequest = url;
    window.htmx.ajax("GET", url, { target: "#side-panel" });
  }
}

graph.on("selection:changed", ({ added, removed }) => {
  added.forEach((cell) => {
    const view = graph.findViewByCell(cell);
    if (view) view.container.classList.add("hg-selected");
    if (cell.isNode()) showPorts(cell);
  });
  removed.forEach((cell) => {
    const view = graph.findViewByCell(cell);
    if (view) view.container.classList.remove("hg-selected");
  });
  const cell = single();
  if (editing && !(cell && editing.cell === cell)) commitEditor();
  if (cell && cell.isEdge() && isDecision(cell.getSourceCell())) showChooser(cell, false);
  else if (!chooserKeeps(cell)) hideChooser();
  updateToolbar();
  refreshSidePanel();
  tidyPorts();
});

graph.on("blank:click", () => {
  commitEditor();
  hideChooser();
});
graph.on("node:dblclick", ({ node }) => {
  selection.reset(node);
  openEditor(node);
});
graph.on("edge:dblclick", ({ edge }) => {
  selection.reset(edge);
  openEditor(edge);
});

// An arrow drawn from a port is attached to the shapes, not to the dot it started
// from: the graph document has no ports, and tidy-up moves shapes around.
graph.on("edge:connected", ({ edge, isNew }) => {
  const source = edge.getSourceCellId();
  const target = edge.getTargetCellId();
  if (!source || !target) return;
  edge.setSource({ cell: source });
  edge.setTarget({ cell: target });
  const from = edge.getSourceCell();
  if (isNew && isDecision(from)) {
    const answer = defaultAnswer(from, edge);
    if (answer) setEdgeLabel(edge, answer);
    showChooser(edge, true);
  }
});

["cell:added", "cell:removed", "cell:changed"].forEach((name) => graph.on(name, noteChange));
graph.model.on("batch:stop", noteChange);

function bind(keys, handler) {
  // Mousetrap: returning false prevents the browser default; true lets it through.
  keyboard.bindKey(keys, (event) => handler(event) === true);
}

bind(["escape"], () => {
  selection.clean();
  hideChooser();
});
bind(["up"], () => nudge(0, -NUDGE));
bind(["down"], () => nudge(0, NUDGE));
bind(["left"], () => nudge(-NUDGE, 0));
bind(["right"], () => nudge(NUDGE, 0));
bind(["ctrl+a", "meta+a"], () => selection.reset(graph.getNodes()));
if (canEdit) {
  bind(["shift+up"], () => nudge(0, -NUDGE_BIG));
  bind(["shift+down"], () => nudge(0, NUDGE_BIG));
  bind(["shift+left"], () => nudge(-NUDGE_BIG, 0));
  bind(["shift+right"], () => nudge(NUDGE_BIG, 0));
  bind(["tab"], () => {
    const cell = single();
    if (!cell || !cell.isNode()) return true; // move the focus on as usual
    nextStep(cell);
  });
  bind(["enter", "f2"], () => {
    const cell = single();
    if (!cell) return true;
    openEditor(cell);
  });
  bind(["backspace", "delete"], deleteSelection);
  bind(["ctrl+z", "meta+z"], undo);
  bind(["ctrl+shift+z", "meta+shift+z", "ctrl+y"], redo);
  bind(["ctrl+c", "meta+c"], () => (copySelection() ? false : true));
  bind(["ctrl+v", "meta+v"], paste);
  bind(["ctrl+d", "meta+d"], duplicate);
}

// ---------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------

function parseEtag(etag) {
  const match = /"(\d+)"/.exec(etag || "");
  return match ? Number(match[1]) : null;
}

async function fetchGraph() {
  const response = await fetch(config.graphUrl, {
    credentials: "same-origin",
    cache: "no-store",
    headers: { Accept: "application/json" },
  });
  if (!response.ok) throw new Error(String(response.status));
  const doc = await response.json();
  return { doc, version: parseEtag(response.headers.get("ETag")) ?? config.version };
}

async function start() {
  // When the page brings the graph along (config.graph), no request is needed.
  let loaded = config.graph ? { doc: config.graph, version: config.version } : null;
  if (!loaded) {
    try {
      loaded = await fetchGraph();
    } catch (error) {
      showMessage(T.loadFailed);
      setStatus("notSaved");
      return;
    }
  }
  const { doc, version } = loaded;
  loadDocument(doc, version);
  renderLint(Array.isArray(config.lint) ? config.lint : null);
  if (canEdit) restoreLocal();
  if (graph.getNodes().length > MINIMAP_FROM) setMinimap(true);
  fitView();
  if (!canEdit) setStatus("readOnly");
  else if (!state.blocked && !state.inFlight && state.current === state.acked) setStatus("saved");
  updateToolbar();
  window.hourglassEditor.ready = true;
  root.dataset.ready = "true";
}

window.hourglassEditor = {
  graph,
  toJSON,
  save,
  ready: false,
  get version() {
    return state.version;
  },
  // True while a change is not yet acknowledged by the server (or still being noticed).
  get pending() {
    return Boolean(
      changeTimer || saveTimer || retryTimer || state.inFlight || state.current !== state.acked,
    );
  },
};

start();
