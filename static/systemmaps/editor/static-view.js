// The edit page's entry point (served bundled, npm run build): the map the server drew (systemmaps/canvas_svg.py)
// made live at once, without X6 — pan and zoom (one CSS transform per animation
// frame on a composited layer), hover, click or Tab to select a step and open its
// side panel — while X6 and the editor (main.js) load in idle time or on the first
// editing gesture. main.js then takes the view, the selection, a drag and the keys
// typed meanwhile over (handOver) and the server's drawing goes.
//
// Pure helpers first (tested with node --test); the DOM glue is in start().

import { describeStep, flowOrder, roleOf, stepFrom } from "./flow.js";
import { zoomedAt } from "./pan.js";
import { panelUrl } from "./panel.js";
import { CANVAS } from "./shapes.js";
import { FIT_PADDING, SCALE, panToStart, readableScale } from "./toolbar.js";

const WHEEL_ZOOM = 1.1;
// Keys the static view answers itself; any other key waits for the editor.
const NAVIGATION = new Set(["Tab", "ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Escape"]);
// How long the editor waits for an idle moment before it loads anyway.
const IDLE_TIMEOUT = 200;
// How far the grid reaches round the map, in canvas pixels.
const GRID_REACH = 3000;

// The view ({s, tx, ty}: screen = s × canvas + t) that fits `box` (the shapes, in
// canvas pixels) in `view` ({width, height}) with `padding`, centred, the zoom
// kept within [min, max] — X6's zoomToFit as the editor asks for it.
export function fitTransform(box, view, padding = FIT_PADDING, min = SCALE.minScale, max = 1) {
  if (!box.width || !box.height) return { s: 1, tx: 0, ty: 0 };
  const s = Math.max(
    min,
    Math.min(max, (view.width - 2 * padding) / box.width, (view.height - 2 * padding) / box.height),
  );
  return {
    s,
    tx: view.width / 2 - (box.x + box.width / 2) * s,
    ty: view.height / 2 - (box.y + box.height / 2) * s,
  };
}

// The view zoomed by `factor` about `point` (screen pixels), within [min, max]:
// the editor's own rule (pan.js).
export function zoomAbout(t, factor, point, min = SCALE.minScale, max = SCALE.maxScale) {
  return zoomedAt(t, t.s * factor, point.x, point.y, { minScale: min, maxScale: max });
}

// The CSS transform that puts the drawing (whose viewBox starts at `origin`) at `t`.
export function cssTransform(t, origin) {
  return `translate(${t.tx + t.s * origin.x}px, ${t.ty + t.s * origin.y}px) scale(${t.s})`;
}

// A drag of `dx, dy` screen pixels at zoom `s`, in canvas pixels on the grid.
export function dragOnGrid(dx, dy, s, grid) {
  return { dx: Math.round(dx / s / grid) * grid, dy: Math.round(dy / s / grid) * grid };
}

// The shapes' box of a graph document: a node's x and y are its centre.
export function shapesBox(nodes, shapes) {
  if (!nodes.length) return { x: 0, y: 0, width: 0, height: 0 };
  const sizes = nodes.map((n) => ({ n, look: shapes[n.kind] || shapes.task }));
  const left = Math.min(...sizes.map(({ n, look }) => n.x - look.width / 2));
  const top = Math.min(...sizes.map(({ n, look }) => n.y - look.height / 2));
  const right = Math.max(...sizes.map(({ n, look }) => n.x + look.width / 2));
  const bottom = Math.max(...sizes.map(({ n, look }) => n.y + look.height / 2));
  return { x: left, y: top, width: right - left, height: bottom - top };
}

// ---------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------

function start() {
  const layer = document.getElementById("static-view");
  const config = JSON.parse(document.getElementById("editor-config").textContent);
  if (!layer) return;
  const container = document.getElementById("editor-canvas");
  const pan = document.getElementById("static-pan");
  const svg = layer.querySelector("svg");
  const [ox, oy] = svg.getAttribute("viewBox").split(" ").map(Number);
  const nodes = (config.graph && config.graph.nodes) || [];
  const edges = (config.graph && config.graph.edges) || [];
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const groups = new Map([...svg.querySelectorAll("[data-static-node]")].map((g) => [g.dataset.staticNode, g]));
  const order = flowOrder(nodes, edges);
  const grid = config.document.spacing.grid;

  const state = {
    view: { s: 1, tx: 0, ty: 0 },
    selected: null,
    // Steps dragged here, in canvas pixels, applied by the editor on hand-over.
    moves: new Map(),
    // Keys pressed for the editor before it was there: replayed on hand-over.
    keys: [],
    // The panel request made for the selection (panel.js keeps its answer).
    panelRequest: null,
    panelFor: null,
    dragging: null,
    frame: 0,
  };

  function draw() {
    state.frame = 0;
    pan.style.transform = cssTransform(state.view, { x: ox, y: oy });
  }

  // The editor's dot grid (X6's "dot": a dot of 1 × zoom at each grid point), so
  // nothing appears when X6 takes over: a wide sheet under the drawing, in the
  // layer that moves, so a pan repaints nothing.
  function addGrid() {
    const sheet = document.createElement("div");
    sheet.className = "static-grid";
    const left = Math.floor((ox - GRID_REACH) / grid) * grid - ox;
    const top = Math.floor((oy - GRID_REACH) / grid) * grid - oy;
    Object.assign(sheet.style, {
      left: `${left}px`,
      top: `${top}px`,
      width: `${svg.width.baseVal.value - 2 * left}px`,
      height: `${svg.height.baseVal.value - 2 * top}px`,
      backgroundImage: `radial-gradient(circle at 0.5px 0.5px, ${CANVAS.grid} 0.5px, transparent 0.5px)`,
      backgroundSize: `${grid}px ${grid}px`,
    });
    pan.prepend(sheet);
  }
  function redraw() {
    if (!state.frame) state.frame = requestAnimationFrame(draw);
  }

  // The view a map opens at, as the editor's openView (toolbar.js): the whole map
  // when it fits at a readable size, else that size with the start of the flow at
  // the left, in the part of the canvas on screen.
  function openView() {
    const { width, height, top } = container.getBoundingClientRect();
    const { shapes, fontSize } = config.document;
    state.view = fitTransform(shapesBox(nodes, shapes), { width, height });
    const floor = readableScale(fontSize);
    if (nodes.length && state.view.s < floor) {
      const first = byId.get(order[0]);
      const look = shapes[first.kind] || shapes.task;
      const box = { x: first.x - look.width / 2, y: first.y - look.height / 2, ...look };
      const onScreen = Math.min(height, Math.max(160, window.innerHeight - top));
      state.view = { s: floor, ...panToStart(box, floor, { width, height: onScreen }, FIT_PADDING) };
    }
    // Written in the next frame: htmx, which runs next and reads the layout as it
    // starts, finds it clean instead of laying the page out again.
    requestAnimationFrame(() => {
      layer.classList.add("is-live");
      addGrid();
      draw();
    });
  }

  // What a screen reader hears of the step selected, as flow.js says it.
  const texts = document.getElementById("editor-texts").dataset;
  const listFormat = new Intl.ListFormat(document.documentElement.lang || "en", {
    style: "long",
    type: "conjunction",
  });
  function describe(node) {
    const end = (edge, far) => ({
      label: byId.get(far).label,
      answer: byId.get(edge.source).kind === "decision" ? edge.label : null,
    });
    const known = edges.filter((e) => byId.has(e.source) && byId.has(e.target));
    const to = known.filter((e) => e.source === node.id).map((e) => end(e, e.target));
    const from = known.filter((e) => e.target === node.id).map((e) => end(e, e.source));
    const details = (config.steps || {})[node.id];
    const step = {
      role: roleOf(node.kind, from.length > 0, to.length > 0),
      label: node.label,
      owner: details && details.ownerName,
      to,
      from,
    };
    return describeStep(step, texts, config.roleWords || {}, (names) => listFormat.format(names));
  }

  function select(id) {
    if (state.selected === id) return;
    if (state.selected) groups.get(state.selected)?.classList.remove("hg-selected");
    state.selected = id;
    const announce = document.getElementById("editor-announce");
    if (!id) {
      announce.textContent = "";
      return;
    }
    groups.get(id)?.classList.add("hg-selected");
    const node = byId.get(id);
    if (node) announce.textContent = describe(node);
    if (config.panelUrl && window.htmx && node) {
      state.panelRequest = panelUrl(config.panelUrl, node);
      state.panelFor = id;
      window.htmx.ajax("GET", state.panelRequest, { target: "#side-panel" });
    }
  }

  // The shape `id` in view, moved to the middle when it is not (ensureVisible).
  function ensureVisible(id) {
    const node = byId.get(id);
    const { width, height } = container.getBoundingClientRect();
    const { s, tx, ty } = state.view;
    const x = node.x * s + tx;
    const y = node.y * s + ty;
    if (x < 60 || y < 40 || x > width - 60 || y > height - 40) {
      state.view = { s, tx: width / 2 - node.x * s, ty: height / 2 - node.y * s };
      redraw();
    }
  }

  let loading = null;
  function loadEditor() {
    if (loading) return loading;
    const sources = layer.dataset;
    const script = (src) =>
      new Promise((resolve, reject) => {
        const element = document.createElement("script");
        element.src = src;
        element.onload = resolve;
        element.onerror = reject;
        document.head.append(element);
      });
    // The editor's modules are fetched and compiled while X6 loads (main.js needs
    // X6 only when it runs), all at once rather than one level of imports after
    // another.
    for (const href of [sources.editorSrc, ...sources.modules.split(" ")]) {
      const link = document.createElement("link");
      link.rel = "modulepreload";
      link.href = href;
      document.head.append(link);
    }
    loading = script(sources.guardSrc)
      .then(() => script(sources.x6Src))
      .then(() => import(sources.editorSrc))
      .catch(() => {
        // The map stays readable; editing it needs a reload.
        const messages = document.getElementById("editor-messages");
        const line = document.createElement("p");
        line.textContent = texts.loadFailed;
        messages.replaceChildren(line);
        messages.hidden = false;
        document.getElementById("save-status").textContent = texts.notSaved;
      });
    return loading;
  }

  const point = (event) => {
    const r = container.getBoundingClientRect();
    return { x: event.clientX - r.left, y: event.clientY - r.top };
  };

  layer.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    const group = event.target.closest("[data-static-node]");
    const id = group ? group.dataset.staticNode : null;
    state.dragging = { id, start: point(event), view: state.view, moved: false, group };
    layer.setPointerCapture(event.pointerId);
    container.focus({ preventScroll: true });
    if (id && config.canEdit) loadEditor(); // the first editing gesture
  });
  layer.addEventListener("pointermove", (event) => {
    const drag = state.dragging;
    if (!drag) return;
    const now = point(event);
    const dx = now.x - drag.start.x;
    const dy = now.y - drag.start.y;
    if (!drag.moved && Math.hypot(dx, dy) < 3) return;
    drag.moved = true;
    if (drag.id && config.canEdit) {
      const move = dragOnGrid(dx, dy, state.view.s, grid);
      const before = state.moves.get(drag.id) || { dx: 0, dy: 0 };
      drag.move = move;
      drag.group.style.translate = `${before.dx + move.dx}px ${before.dy + move.dy}px`;
    } else {
      // The background, or a shape a member cannot move: the view moves.
      state.view = { ...drag.view, tx: drag.view.tx + dx, ty: drag.view.ty + dy };
      redraw();
    }
  });
  const finish = () => {
    const drag = state.dragging;
    state.dragging = null;
    if (!drag) return;
    if (drag.moved && drag.id && drag.move) {
      const before = state.moves.get(drag.id) || { dx: 0, dy: 0 };
      state.moves.set(drag.id, { dx: before.dx + drag.move.dx, dy: before.dy + drag.move.dy });
    }
    // A click on the background clears the selection; a shape clicked or dragged
    // is selected, as in the editor.
    if (!drag.moved || (drag.id && config.canEdit)) select(drag.id);
    state.released?.();
  };
  layer.addEventListener("pointerup", finish);
  layer.addEventListener("pointercancel", finish);

  layer.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      if (event.ctrlKey || event.metaKey) {
        const factor = event.deltaY < 0 ? WHEEL_ZOOM : 1 / WHEEL_ZOOM;
        state.view = zoomAbout(state.view, factor, point(event));
      } else {
        const { s, tx, ty } = state.view;
        state.view = { s, tx: tx - event.deltaX, ty: ty - event.deltaY };
      }
      redraw();
    },
    { passive: false },
  );

  function onKey(event) {
    if (event.target !== container) return;
    if (NAVIGATION.has(event.key) && !event.ctrlKey && !event.metaKey && !event.altKey) {
      if (event.key === "Escape") {
        select(null);
        return;
      }
      const back = event.key === "ArrowUp" || event.key === "ArrowLeft" || (event.key === "Tab" && event.shiftKey);
      const id = stepFrom(order, state.selected, back ? -1 : 1);
      if (!id) return; // past either end, Tab leaves the canvas
      event.preventDefault();
      select(id);
      ensureVisible(id);
      return;
    }
    if (!config.canEdit || ["Shift", "Control", "Alt", "Meta"].includes(event.key)) return;
    // Anything else is for the editor: kept, and the editor asked for at once.
    event.preventDefault();
    state.keys.push({
      key: event.key,
      code: event.code,
      keyCode: event.keyCode,
      ctrlKey: event.ctrlKey,
      shiftKey: event.shiftKey,
      altKey: event.altKey,
      metaKey: event.metaKey,
    });
    loadEditor();
  }
  container.addEventListener("keydown", onKey);

  // Called by main.js once its graph is built: the same view and selection, the
  // drags applied, then the keys; the drawing goes in the same task, so no frame
  // shows neither or both.
  async function handOver(editor) {
    if (state.dragging) await new Promise((resolve) => (state.released = resolve));
    if (state.frame) cancelAnimationFrame(state.frame);
    container.removeEventListener("keydown", onKey);
    const { graph, selection } = editor;
    graph.zoomTo(state.view.s);
    graph.translate(state.view.tx, state.view.ty);
    if (state.moves.size) {
      graph.startBatch("static-drag");
      state.moves.forEach(({ dx, dy }, id) => {
        const cell = graph.getCellById(id);
        if (cell) cell.translate(dx, dy);
      });
      graph.stopBatch("static-drag");
    }
    const cell = state.selected && graph.getCellById(state.selected);
    if (cell) {
      // The panel the static view asked for is the editor's: not asked for again.
      if (state.panelRequest && state.panelFor === state.selected) {
        editor.panel.shownFor = state.selected;
        editor.panel.request = state.panelRequest;
      }
      selection.reset(cell);
    }
    layer.remove();
    state.keys.forEach(replay);
  }

  // A key pressed before the editor was there, pressed again: to the label editor
  // if it is open by now (an Enter earlier opened it), else to the canvas.
  function replay(key) {
    const target = document.activeElement;
    if (target && target.tagName === "TEXTAREA" && key.key.length === 1 && !key.ctrlKey && !key.metaKey) {
      target.setRangeText(key.key, target.selectionStart, target.selectionEnd, "end");
      target.dispatchEvent(new Event("input", { bubbles: true }));
      return;
    }
    const event = new KeyboardEvent("keydown", { ...key, bubbles: true, cancelable: true });
    // Mousetrap (X6's keyboard) reads the legacy key codes, which a made-up event
    // does not carry.
    Object.defineProperty(event, "keyCode", { value: key.keyCode });
    Object.defineProperty(event, "which", { value: key.keyCode });
    (target && target !== document.body ? target : container).dispatchEvent(event);
  }

  window.hourglassStatic = { handOver, state, loadEditor };
  openView();
  if (window.requestIdleCallback) window.requestIdleCallback(loadEditor, { timeout: IDLE_TIMEOUT });
  else setTimeout(loadEditor, IDLE_TIMEOUT);
}

// The page runs it bundled (npm run build) as its first deferred script, once the
// page is parsed and before htmx (there by the time a step is clicked; select()
// does without it until then).
if (typeof document !== "undefined") {
  if (document.readyState === "loading") {
    document.addEventListener("readystatechange", start, { once: true });
  } else {
    start();
  }
}
