// The toolbar (undo, redo, next step, delete, tidy up, zoom, fit, overview), the
// palette (drag with X6's Dnd, or click to add in the middle) and the overview
// map. Pure helpers first; the DOM and X6 glue is in installToolbar.

import { csrfToken, readJSON } from "./autosave.js";
import { nodeMeta } from "./document.js";
import { kindOf } from "./shapes.js";

export const SCALE = { minScale: 0.1, maxScale: 3 };
export const ZOOM_STEP = 1.25;
// A map with more shapes than this opens with the overview map shown.
export const MINIMAP_FROM = 40;
export const FIT_PADDING = 40;

// Labels are drawn at least this big when a map opens (in screen pixels).
export const READABLE_PX = 11;

// The smallest zoom at which a label of `fontSize` canvas pixels is readable.
export function readableScale(fontSize) {
  return Math.min(1, READABLE_PX / fontSize);
}

// The translation that puts `box` (a shape, in canvas pixels) `padding` from the
// left of a `view` ({width, height}) at `scale`, centred top to bottom.
export function panToStart(box, scale, view, padding) {
  return {
    tx: padding - box.x * scale,
    ty: view.height / 2 - (box.y + box.height / 2) * scale,
  };
}

// Which toolbar buttons are disabled, given what the canvas has and what is selected.
export function toolbarDisabled({ canUndo, canRedo, single, selected, nodes, tidying }) {
  return {
    undo: !canUndo,
    redo: !canRedo,
    next: !(single && single.isNode()),
    delete: selected === 0,
    tidy: tidying || nodes === 0,
  };
}

// The top left corner each shape goes to for tidy-up's centres (`positions` by
// id); shapes the layout does not know (added while it was computed) stay.
export function tidyMoves(positions, shapes) {
  const moves = [];
  shapes.forEach(({ id, width, height }) => {
    const p = positions[id];
    if (p) moves.push({ id, x: p.x - width / 2, y: p.y - height / 2 });
  });
  return moves;
}

// Adds updateToolbar, fitView and setMinimap to `editor`; wires the toolbar and
// the palette. Tidy-up's state is editor.layout.
export function installToolbar(editor) {
  const { X6, graph, history, selection, root, canEdit, config, texts: T, layout } = editor;
  const { minimap: minimapEl, container } = editor.elements;

  async function tidy() {
    if (!canEdit || layout.tidying) return;
    editor.commitEditor();
    const doc = editor.toJSON();
    if (!doc.nodes.length) return;
    layout.tidying = true;
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
        editor.showMessage((data && data.message) || T.layoutFailed);
        return;
      }
      const nodes = graph.getNodes();
      const byId = new Map(nodes.map((node) => [node.id, node]));
      const shapes = nodes.map((node) => ({ id: node.id, ...node.getSize() }));
      graph.startBatch("tidy");
      tidyMoves(data.positions, shapes).forEach(({ id, x, y }) => byId.get(id).position(x, y));
      graph.stopBatch("tidy");
      fitView();
    } catch (error) {
      editor.showMessage(T.layoutFailed);
    } finally {
      layout.tidying = false;
      updateToolbar();
    }
  }

  function fitView() {
    if (graph.getNodes().length) {
      graph.zoomToFit({ padding: FIT_PADDING, maxScale: 1, minScale: SCALE.minScale });
    } else {
      graph.zoomTo(1);
      graph.translate(0, 0);
    }
  }

  // The view a map opens at: the whole map when it fits at a readable size, else
  // the readable size with the start of the flow at the left.
  function openView() {
    const nodes = graph.getNodes();
    if (!nodes.length) return fitView();
    const floor = readableScale(editor.doc.fontSize);
    graph.zoomToFit({ padding: FIT_PADDING, maxScale: 1, minScale: SCALE.minScale });
    if (graph.zoom() >= floor) return;
    graph.zoomTo(floor);
    const first = graph.getCellById(editor.flowIds()[0]);
    // Centred in the part of the canvas on screen (on a phone, its top only).
    const { width, height, top } = container.getBoundingClientRect();
    const onScreen = Math.min(height, Math.max(160, window.innerHeight - top));
    const view = { width, height: onScreen };
    const { tx, ty } = panToStart(first.getBBox(), floor, view, FIT_PADDING);
    graph.translate(tx, ty);
  }

  function setMinimap(show) {
    const button = root.querySelector('[data-action="minimap"]');
    if (button) button.setAttribute("aria-pressed", String(show));
    minimapEl.hidden = !show;
    if (show && !layout.minimap) {
      layout.minimap = new X6.MiniMap({
        container: minimapEl,
        width: 200,
        height: 140,
        padding: 10,
        scalable: false,
        graphOptions: {
          // Its shapes drawn a frame's budget at a time (X6's job queue), so the
          // overview of a large map is no long task.
          async: true,
          createCellView(cell) {
            return cell.isEdge() ? null : editor.MiniNodeView;
          },
        },
      });
      graph.use(layout.minimap);
    }
  }

  const palette = root.querySelector(".editor-palette");
  if (palette && canEdit) {
    const newStep = (id, kind) =>
      nodeMeta(editor, { id, kind, label: editor.defaultLabel(kind), x: 0, y: 0 });
    const dnd = new X6.Dnd({
      target: graph,
      scaled: true,
      getDragNode: (node) => node.clone(),
      getDropNode: (node) => {
        const dropped = graph.createNode(newStep(editor.newId("n"), kindOf(node)));
        return dropped.position(0, 0); // Dnd places it by its size from here
      },
    });
    palette.addEventListener("mousedown", (event) => {
      const item = event.target.closest(".palette-item");
      if (!item || event.button !== 0) return;
      dnd.start(graph.createNode(newStep("palette-preview", item.dataset.kind)), event);
    });
    palette.addEventListener("click", (event) => {
      const item = event.target.closest(".palette-item");
      if (item) editor.addAtCentre(item.dataset.kind);
    });
    graph.on("node:added", ({ node, options }) => {
      if (!options || !options.stencil) return;
      // Dropped from the palette: select it and type its label straight away.
      window.setTimeout(() => {
        if (!graph.hasCell(node)) return;
        selection.reset(node);
        editor.openEditor(node, true, { after: null });
      }, 0);
    });
  }

  const ACTIONS = {
    undo: () => editor.undo(),
    redo: () => editor.redo(),
    next: () => {
      const cell = editor.single();
      if (cell && cell.isNode()) editor.nextStep(cell);
    },
    delete: () => editor.deleteSelection(),
    tidy,
    "zoom-in": () => graph.zoomTo(graph.zoom() * ZOOM_STEP, SCALE),
    "zoom-out": () => graph.zoomTo(graph.zoom() / ZOOM_STEP, SCALE),
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
    const disabled = toolbarDisabled({
      canUndo: history.canUndo(),
      canRedo: history.canRedo(),
      single: editor.single(),
      selected: editor.selectedCells().length,
      nodes: graph.getNodes().length,
      tidying: layout.tidying,
    });
    Object.entries(disabled).forEach(([action, value]) => setDisabled(action, value));
  }
  history.on("change", updateToolbar);

  Object.assign(editor, { updateToolbar, fitView, openView, setMinimap });
}
