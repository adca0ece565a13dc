// Labels: word wrap and text measuring (pure, given a measure function), the label
// editor over the canvas and the quick yes/no labels of a decision's arrows (DOM
// glue in installLabels). Importable without a DOM.

import { isDecision, kindOf, shapeOf } from "./shapes.js";

export const NODE_LABEL_MAX = 200;
export const EDGE_LABEL_MAX = 60;
const EDGE_LABEL_HEIGHT = 18;
// The label editor is never smaller than this, so a short arrow label fits.
const EDITOR_MIN = { width: 140, height: 36 };

// A measure function: (text, weight = 400) => width in pixels, from a canvas.
export function canvasMeasure(fontSize, font) {
  const context = document.createElement("canvas").getContext("2d");
  return (text, weight = 400) => {
    context.font = `${weight} ${fontSize}px ${font}`;
    return context.measureText(text).width;
  };
}

// The room for a label in a shape of `kind`: { width, lines }.
export function labelRoom(doc, kind) {
  const shape = shapeOf(doc, kind);
  return { width: shape.labelWidth, lines: shape.labelLines };
}

// Break `label` into lines of at most room.width (measured by `measure`): by words,
// a word longer than a line cut where it must be, at most room.lines lines with an
// ellipsis on the last when there is more. Newlines in the label are kept.
export function wrapLabel(label, room, measure) {
  const width = room.width - 4; // canvas and SVG measure a little differently
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
          while (measure(rest) > width) {
            let cut = rest.length - 1;
            while (cut > 1 && measure(rest.slice(0, cut)) > width) cut -= 1;
            if (line) lines.push(line);
            lines.push(rest.slice(0, cut));
            line = "";
            rest = rest.slice(cut);
          }
          const candidate = line ? `${line} ${rest}` : rest;
          if (measure(candidate) <= width) {
            line = candidate;
          } else {
            lines.push(line);
            line = rest;
          }
        });
      lines.push(line);
    });
  if (lines.length > room.lines) {
    let last = lines[room.lines - 1];
    while (last && measure(`${last}…`) > width) last = last.slice(0, -1);
    lines.splice(room.lines - 1, lines.length, `${last.trimEnd()}…`);
  }
  return lines.join("\n");
}

export function labelAttrs(editor, kind, label) {
  const wrapped = wrapLabel(label, labelRoom(editor.doc, kind), editor.measure);
  return { text: label, textWrap: { text: wrapped } };
}

// An arrow's label, its box sized from the measured text.
export function edgeLabelOf(text, measure) {
  const width = Math.ceil(measure(text, 600)) + 10;
  const height = EDGE_LABEL_HEIGHT;
  return {
    attrs: {
      label: { text },
      body: { x: -width / 2, y: -height / 2, width, height },
    },
  };
}

export function nodeLabel(node) {
  const text = node.attr("label/text");
  return text == null ? "" : String(text);
}

export function edgeLabel(edge) {
  const label = edge.getLabels()[0];
  const text = label && label.attrs && label.attrs.label && label.attrs.label.text;
  return text ? String(text) : null;
}

// A second arrow out of a decision answers the other way round: given the labels
// of its other arrows, the answer a new one gets (null when it is not clear).
export function otherAnswer(labels, yes, no) {
  const others = labels.map((label) => (label || "").trim().toLowerCase());
  if (others.includes(yes.toLowerCase()) && !others.includes(no.toLowerCase())) return no;
  if (others.includes(no.toLowerCase()) && !others.includes(yes.toLowerCase())) return yes;
  return null;
}

// Whether a key press in the label editor undoes the shape it was opened for:
// Ctrl+Z (Cmd+Z) on a shape just added whose label is still as it came.
export function undoesShape(event, editing, value) {
  const undo = (event.ctrlKey || event.metaKey) && !event.shiftKey && !event.altKey;
  return Boolean(
    undo && event.key.toLowerCase() === "z" && editing && editing.fresh && value === editing.value,
  );
}

// Where the label editor goes over a shape or an arrow's middle, in page pixels.
export function editorBox(rect, scale) {
  const width = Math.max(rect.width, EDITOR_MIN.width);
  const height = Math.max(rect.height, EDITOR_MIN.height);
  return {
    left: `${rect.x + rect.width / 2 - width / 2}px`,
    top: `${rect.y + rect.height / 2 - height / 2}px`,
    width: `${width}px`,
    height: `${height}px`,
    fontSize: `${Math.min(Math.max(13 * scale, 13), 22)}px`,
  };
}

// ---------------------------------------------------------------------------
// The label editor and the quick labels (DOM)
// ---------------------------------------------------------------------------

// Adds openEditor, commitEditor, closeEditor, setNodeLabel, setEdgeLabel,
// showChooser, hideChooser, chooserKeeps and defaultAnswer to `editor`; their
// state is editor.labelling.
export function installLabels(editor) {
  const { graph, texts: T, labelling } = editor;
  const { labelEditor, chooser, container } = editor.elements;

  function edgeMidpoint(edge) {
    const source = edge.getSourceCell();
    const target = edge.getTargetCell();
    if (!source || !target) return null;
    const a = source.getBBox().getCenter();
    const b = target.getBBox().getCenter();
    return graph.localToGraph({ x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 });
  }

  function positionEditor() {
    if (!labelling.editing) return;
    const cell = labelling.editing.cell;
    let rect;
    if (cell.isNode()) {
      rect = graph.localToGraph(cell.getBBox());
    } else {
      const mid = edgeMidpoint(cell);
      if (!mid) return;
      const { width, height } = EDITOR_MIN;
      rect = { x: mid.x - width / 2, y: mid.y - height / 2, width, height };
    }
    Object.assign(labelEditor.style, editorBox(rect, graph.scale().sx));
  }

  // fresh ({after: the shape it follows, or null}): the shape was just added for
  // this label, so undoing before anything is typed takes the shape away
  // (undoesShape).
  function openEditor(cell, selectAll = true, fresh = null) {
    if (!editor.canEdit || !cell || !graph.hasCell(cell)) return;
    if (editor.state.blocked === "forbidden") return;
    if (labelling.editing) commitEditor();
    const value = cell.isNode() ? nodeLabel(cell) : edgeLabel(cell) || "";
    labelling.editing = { cell, fresh, value };
    labelEditor.maxLength = cell.isNode() ? NODE_LABEL_MAX : EDGE_LABEL_MAX;
    labelEditor.value = value;
    positionEditor();
    labelEditor.hidden = false;
    labelEditor.focus({ preventScroll: true });
    if (selectAll) labelEditor.select();
  }

  function setNodeLabel(node, label) {
    node.attr("label", labelAttrs(editor, kindOf(node), label));
  }

  function setEdgeLabel(edge, text) {
    const value = text ? text.trim().slice(0, EDGE_LABEL_MAX) : "";
    if ((edgeLabel(edge) || "") === value) return;
    edge.setLabels(value ? [edgeLabelOf(value, editor.measure)] : []);
  }

  function commitEditor() {
    closeEditor(true);
  }

  function closeEditor(keep) {
    if (!labelling.editing) return;
    const { cell } = labelling.editing;
    labelling.editing = null;
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
    if (undoesShape(event, labelling.editing, labelEditor.value)) {
      // Nothing typed yet: the undo is for the shape, not for an empty text box.
      event.preventDefault();
      const { after } = labelling.editing.fresh;
      closeEditor(false);
      container.focus({ preventScroll: true });
      editor.undo();
      // Back on the shape the new one followed, for the next key.
      if (after && graph.hasCell(after)) editor.selection.reset(after);
    } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
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
      const cell = labelling.editing && labelling.editing.cell;
      commitEditor();
      container.focus({ preventScroll: true });
      if (cell && cell.isNode() && !event.shiftKey && graph.hasCell(cell)) editor.nextStep(cell);
    }
  });
  labelEditor.addEventListener("blur", () => commitEditor());

  function positionChooser() {
    const edge = labelling.chooserEdge;
    if (!edge) return;
    const mid = edgeMidpoint(edge);
    if (!mid) return hideChooser();
    chooser.style.left = `${mid.x}px`;
    chooser.style.top = `${mid.y}px`; // drawn above the middle of the arrow (CSS)
    const current = (edgeLabel(edge) || "").toLowerCase();
    chooser.querySelectorAll("button").forEach((button) => {
      const answer = button.dataset.answer === "yes" ? T.answerYes : T.answerNo;
      button.setAttribute("aria-pressed", String(current === answer.toLowerCase()));
    });
  }

  function showChooser(edge, sticky) {
    if (!editor.canEdit) return;
    labelling.chooserEdge = edge;
    labelling.chooserSticky = sticky;
    positionChooser();
    chooser.hidden = false;
  }

  // A chooser offered for a new arrow stays while the selection is about that
  // arrow (nothing, or one of its two shapes), so the answer can be picked after
  // typing.
  function chooserKeeps(cell) {
    const edge = labelling.chooserEdge;
    if (!labelling.chooserSticky || !edge || !graph.hasCell(edge)) return false;
    if (!cell) return editor.selectedCells().length === 0;
    return [edge.id, edge.getSourceCellId(), edge.getTargetCellId()].includes(cell.id);
  }

  function hideChooser() {
    labelling.chooserEdge = null;
    labelling.chooserSticky = false;
    chooser.hidden = true;
  }

  // Keep the label editor's focus while an answer is picked.
  chooser.addEventListener("mousedown", (event) => event.preventDefault());
  chooser.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-answer]");
    const edge = labelling.chooserEdge;
    if (!button || !edge || !graph.hasCell(edge)) return;
    setEdgeLabel(edge, button.dataset.answer === "yes" ? T.answerYes : T.answerNo);
    hideChooser();
    if (!labelling.editing) container.focus({ preventScroll: true });
  });

  function defaultAnswer(decision, except) {
    if (!isDecision(decision)) return null;
    const others = (graph.getOutgoingEdges(decision) || [])
      .filter((e) => e !== except)
      .map((e) => edgeLabel(e));
    return otherAnswer(others, T.answerYes, T.answerNo);
  }

  function repositionOverlays() {
    positionEditor();
    positionChooser();
  }
  graph.on("scale", repositionOverlays);
  graph.on("translate", repositionOverlays);
  graph.on("resize", repositionOverlays);
  graph.on("node:change:position", () => {
    if (labelling.editing || labelling.chooserEdge) repositionOverlays();
  });
  graph.on("cell:removed", ({ cell }) => {
    if (labelling.editing && labelling.editing.cell === cell) closeEditor(false);
    if (labelling.chooserEdge === cell) hideChooser();
  });

  Object.assign(editor, {
    openEditor,
    commitEditor,
    closeEditor,
    setNodeLabel,
    setEdgeLabel,
    showChooser,
    hideChooser,
    chooserKeeps,
    defaultAnswer,
  });
}
