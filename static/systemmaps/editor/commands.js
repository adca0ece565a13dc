// Editing commands: undo and redo, adding a step (in the middle, or "what happens
// next?"), deleting, copy and paste, nudging, connecting shapes through their
// ports, and the keyboard. Pure helpers (free spots on the canvas) first; the X6
// glue is in installCommands.

import { copyOf, edgeMeta, newId, nodeMeta, stepAttrs, subgraphOf } from "./document.js";
import { nodeLabel } from "./labels.js";
import { PORT_ITEMS, isDecision, kindOf, markupOf, shapeOf } from "./shapes.js";

export const CLIPBOARD_KEY = "hourglass:editor-clipboard";

// Whether two boxes ({x, y, width, height}) overlap; touching is not overlapping.
export function overlaps(a, b) {
  return !(
    b.x + b.width <= a.x ||
    b.y + b.height <= a.y ||
    b.x >= a.x + a.width ||
    b.y >= a.y + a.height
  );
}

// Whether a shape of `size` centred on (cx, cy), with `margin` all round, is clear
// of every box in `boxes`.
export function spotIsFree(boxes, cx, cy, size, margin) {
  const room = {
    x: cx - size.width / 2 - margin,
    y: cy - size.height / 2 - margin,
    width: size.width + 2 * margin,
    height: size.height + 2 * margin,
  };
  return !boxes.some((box) => overlaps(box, room));
}

// The first free centre from `start` on, `step` by `step`, after at most `tries`
// steps (the last one taken whether free or not). The same rule as
// systemmaps/document.py's free_spot, on the numbers of config.document.spacing;
// tests/js/free_spots.json holds cases both answer alike.
export function freeSpot(boxes, start, step, size, margin, tries) {
  let { x, y } = start;
  for (let i = 0; i < tries && !spotIsFree(boxes, x, y, size, margin); i += 1) {
    x += step.x;
    y += step.y;
  }
  return { x, y };
}

export function snap(value, grid) {
  return Math.round(value / grid) * grid;
}

// The way a selection moves for an arrow key: [dx, dy] in canvas pixels.
export function nudgeOf(key, grid, big) {
  const d = big ? 5 * grid : grid;
  return { up: [0, -d], down: [0, d], left: [-d, 0], right: [d, 0] }[key];
}

// Adds the commands (selectedCells, single, addAtCentre, nextStep, deleteSelection,
// undo, redo, changeKind, …) to `editor`, and binds the keyboard.
export function installCommands(editor) {
  const { X6, graph, selection, history, keyboard, canEdit, texts: T, ports } = editor;
  const { spacing } = editor.doc;

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

  // Ports (the dots to draw an arrow from) exist only on the shape under the
  // pointer and on selected shapes: four ports on every shape of a large map would
  // add thousands of elements to draw when the map opens.
  function showPorts(node) {
    if (!canEdit || editor.state.blocked === "forbidden" || !graph.hasCell(node)) return;
    if (!node.hasPorts()) node.addPorts(PORT_ITEMS);
  }

  function tidyPorts() {
    if (ports.pointerDown) return; // an arrow may be leaving one of them
    graph.getNodes().forEach((node) => {
      if (node.hasPorts() && node !== ports.hovered && !selection.isSelected(node)) {
        node.removePorts();
      }
    });
  }

  // (X6's node:mouseenter/leave do not fire for delegated SVG views; over/out do,
  // also when the pointer moves between the parts of one shape.)
  graph.on("node:mouseover", ({ node }) => {
    ports.hovered = node;
    showPorts(node);
  });
  graph.on("node:mouseout", ({ e, node, view }) => {
    const to = e && (e.relatedTarget || (e.originalEvent && e.originalEvent.relatedTarget));
    if (to && view && view.container.contains(to)) return;
    if (ports.hovered === node) ports.hovered = null;
    tidyPorts();
  });
  window.addEventListener("mousedown", () => (ports.pointerDown = true), true);
  window.addEventListener(
    "mouseup",
    () => {
      ports.pointerDown = false;
      window.setTimeout(tidyPorts, 0);
    },
    true,
  );

  function ensureVisible(cell) {
    const b = cell.getBBox();
    const box = new X6.Rectangle(b.x - 20, b.y - 20, b.width + 40, b.height + 40);
    if (!graph.getGraphArea().containsRect(box)) graph.centerCell(cell);
  }

  function boxes() {
    return graph.getNodes().map((n) => n.getBBox());
  }

  function addAtCentre(kind) {
    if (!canEdit) return;
    editor.commitEditor();
    const centre = graph.getGraphArea().getCenter();
    const start = { x: snap(centre.x, spacing.grid), y: snap(centre.y, spacing.grid) };
    const step = { x: 3 * spacing.grid, y: 3 * spacing.grid };
    const size = shapeOf(editor.doc, kind);
    const { x, y } = freeSpot(boxes(), start, step, size, spacing.freeSpotMargin, spacing.centreTries);
    const node = graph.addNode(
      nodeMeta(editor, { id: editor.newId("n"), kind, label: defaultLabel(kind), x, y }),
    );
    selection.reset(node);
    editor.openEditor(node, true, { after: null });
  }

  // "What happens next?": a task one column to the right of `from`, arrow
  // included, label editor open.
  function nextStep(from) {
    if (!canEdit || !from || !from.isNode() || !graph.hasCell(from)) return;
    editor.commitEditor();
    const centre = from.getBBox().getCenter();
    const start = { x: centre.x + spacing.column, y: centre.y };
    const step = { x: 0, y: spacing.freeSpotStep };
    const size = shapeOf(editor.doc, "task");
    const { x, y } = freeSpot(boxes(), start, step, size, spacing.freeSpotMargin, spacing.nextTries);
    const answer = editor.defaultAnswer(from, null);
    graph.startBatch("next-step");
    const node = graph.addNode(
      nodeMeta(editor, { id: editor.newId("n"), kind: "task", label: "", x, y }),
    );
    const edge = graph.addEdge(
      edgeMeta(editor, { id: editor.newId("e"), source: from.id, target: node.id, label: answer }),
    );
    graph.stopBatch("next-step");
    if (isDecision(from)) editor.showChooser(edge, true);
    selection.reset(node);
    ensureVisible(node);
    editor.openEditor(node, true, { after: from });
  }

  // One undo brings back the shapes with all their arrows: arrows go first, inside
  // one batch, so the undo re-adds the shapes before the arrows that hang on them.
  function deleteSelection() {
    if (!canEdit) return;
    const cells = selectedCells();
    if (!cells.length) return;
    editor.commitEditor();
    editor.hideChooser();
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

  function copySelection() {
    const nodes = selectedNodes();
    if (!nodes.length) return false;
    editor.clipboard.copied = subgraphOf(nodes, graph.getEdges());
    editor.clipboard.round = 0;
    try {
      localStorage.setItem(CLIPBOARD_KEY, JSON.stringify(editor.clipboard.copied));
    } catch (error) {
      // The copy still works inside this page.
    }
    return true;
  }

  function insertCopy(clip, offset) {
    if (!canEdit || !clip || !clip.nodes || !clip.nodes.length) return;
    editor.commitEditor();
    const issued = new Set();
    const copy = copyOf(clip, offset, (prefix) => {
      const id = newId(prefix, (taken) => graph.hasCell(taken) || issued.has(taken));
      issued.add(id);
      return id;
    });
    graph.startBatch("paste");
    const added = copy.nodes.map((n) => graph.addNode(nodeMeta(editor, n)));
    copy.edges.forEach((e) => graph.addEdge(edgeMeta(editor, e)));
    graph.stopBatch("paste");
    selection.reset(added);
  }

  function paste() {
    let clip = editor.clipboard.copied;
    if (!clip) {
      try {
        clip = JSON.parse(localStorage.getItem(CLIPBOARD_KEY) || "null");
      } catch (error) {
        clip = null;
      }
    }
    editor.clipboard.round += 1;
    insertCopy(clip, 2 * spacing.grid * editor.clipboard.round);
  }

  function duplicate() {
    const nodes = selectedNodes();
    if (nodes.length) insertCopy(subgraphOf(nodes, graph.getEdges()), 3 * spacing.grid);
  }

  function nudge([dx, dy]) {
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
    editor.commitEditor();
    editor.hideChooser();
    history.undo();
  }

  function redo() {
    editor.commitEditor();
    editor.hideChooser();
    history.redo();
  }

  function changeKind(node, kind) {
    const centre = node.getBBox().getCenter();
    const { width, height } = shapeOf(editor.doc, kind);
    node.setMarkup(markupOf(editor, kind, editor.stepDetails.get(node.id)));
    node.setAttrs(stepAttrs(editor, kind, nodeLabel(node)), { overwrite: true });
    node.resize(width, height);
    node.position(centre.x - width / 2, centre.y - height / 2);
    node.setData({ ...(node.getData() || {}), kind }, { overwrite: true });
  }

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
      const answer = editor.defaultAnswer(from, edge);
      if (answer) editor.setEdgeLabel(edge, answer);
      editor.showChooser(edge, true);
    }
  });

  Object.assign(editor, {
    selectedCells,
    selectedNodes,
    single,
    defaultLabel,
    showPorts,
    tidyPorts,
    addAtCentre,
    nextStep,
    deleteSelection,
    undo,
    redo,
    changeKind,
    ensureVisible,
  });

  function bind(keys, handler) {
    // Mousetrap: returning false prevents the browser default; true lets it through.
    keyboard.bindKey(keys, (event) => handler(event) === true);
  }
  const arrows = ["up", "down", "left", "right"];
  bind(["escape"], () => {
    selection.clean();
    editor.hideChooser();
  });
  // Tab and the arrow keys walk the shapes in flow order (flow.js); past either
  // end Tab moves the focus on as usual, so the canvas is no trap.
  bind(["tab"], () => !editor.selectInFlow(1));
  bind(["shift+tab"], () => !editor.selectInFlow(-1));
  arrows.forEach((key) =>
    bind([key], () => {
      editor.selectInFlow(key === "right" || key === "down" ? 1 : -1);
    }),
  );
  // Alt+arrows nudge the selection (or look around when there is none).
  arrows.forEach((key) => bind([`alt+${key}`], () => nudge(nudgeOf(key, spacing.grid, false))));
  bind(["ctrl+a", "meta+a"], () => selection.reset(graph.getNodes()));
  if (!canEdit) return;
  arrows.forEach((key) => bind([`shift+${key}`], () => nudge(nudgeOf(key, spacing.grid, true))));
  bind(["f6"], () => !editor.focusArrows());
  bind(["ctrl+enter", "meta+enter"], () => {
    const cell = single();
    if (cell && cell.isNode()) nextStep(cell);
  });
  bind(["enter", "f2"], () => {
    const cell = single();
    if (!cell) return true;
    editor.openEditor(cell);
  });
  bind(["backspace", "delete"], deleteSelection);
  bind(["ctrl+z", "meta+z"], undo);
  bind(["ctrl+shift+z", "meta+shift+z", "ctrl+y"], redo);
  bind(["ctrl+c", "meta+c"], () => (copySelection() ? false : true));
  bind(["ctrl+v", "meta+v"], paste);
  bind(["ctrl+d", "meta+d"], duplicate);
}
