// Moving through the map without a mouse: the shapes in flow order (Tab and the
// arrow keys walk it), a focus ring on the shape selected, what a screen reader
// hears of it, and the "Arrows" card beside the canvas (connect to another step,
// delete an arrow or the step). Pure helpers first; the X6 and DOM glue is in
// installFlow.

import { edgeMeta } from "./document.js";
import { edgeLabel, nodeLabel } from "./labels.js";
import { CANVAS, isDecision, kindOf } from "./shapes.js";

// A step's role by its arrows, as systemmaps/document.py (Index.role) says: a
// terminus is a start when arrows only leave it, a stop when they only arrive.
export function roleOf(kind, hasIn, hasOut) {
  if (kind !== "terminus") return kind;
  if (hasOut && !hasIn) return "start";
  if (hasIn && !hasOut) return "stop";
  return "start-or-stop";
}

// Left to right, then top to bottom: the way a map is read.
function reading(a, b) {
  return a.x - b.x || a.y - b.y || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

// Branches top to bottom, then left to right.
function branching(a, b) {
  return a.y - b.y || a.x - b.x || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

// The ids of `nodes` ({id, kind, x, y}) in flow order: from the first start (a
// terminus arrows only leave, the leftmost first), following the arrows (`edges`,
// {source, target}) one branch to its end before the next, the upper branch
// first; steps no arrow reaches follow, each followed on from, in reading order.
export function flowOrder(nodes, edges) {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const next = new Map(nodes.map((node) => [node.id, []]));
  const hasIn = new Set();
  const hasOut = new Set();
  edges.forEach(({ source, target }) => {
    if (!byId.has(source) || !byId.has(target)) return;
    next.get(source).push(byId.get(target));
    hasOut.add(source);
    hasIn.add(target);
  });
  const isStart = (node) => roleOf(node.kind, hasIn.has(node.id), hasOut.has(node.id)) === "start";
  const roots = [...nodes].sort(reading);
  const starts = roots.filter(isStart);
  const order = [];
  const seen = new Set();
  [...starts, ...roots].forEach((root) => {
    const stack = [root];
    while (stack.length) {
      const node = stack.pop();
      if (seen.has(node.id)) continue;
      seen.add(node.id);
      order.push(node.id);
      const ahead = next.get(node.id).filter((other) => !seen.has(other.id));
      ahead.sort(branching).reverse().forEach((other) => stack.push(other));
    }
  });
  return order;
}

// The id `step` places away from `current` in `order` (1 the next, -1 the one
// before), or null past either end. From no shape, forwards starts at the first
// and backwards at the last.
export function stepFrom(order, current, step) {
  if (!order.length) return null;
  const at = order.indexOf(current);
  if (at < 0) return step > 0 ? order[0] : order[order.length - 1];
  const to = at + step;
  return to >= 0 && to < order.length ? order[to] : null;
}

// A label read aloud or in a list: its lines as one line.
export function spoken(label, unnamed) {
  const text = String(label || "")
    .replace(/\s+/g, " ")
    .trim();
  return text || unnamed;
}

// `template` with its {name}s filled in, in one pass: a label that holds "{answer}"
// stays as it is.
export function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (match, key) => (key in values ? values[key] : match));
}

// The step at the other end of an arrow ({label, answer}), with the answer.
export function endName(end, texts) {
  const label = spoken(end.label, texts.unnamed);
  return end.answer ? fill(texts.withAnswer, { step: label, answer: end.answer }) : label;
}

// What a screen reader hears of a step: "Task: Bake the cake. Owner: Ana. Arrows
// to: Deliver. Arrows from: Order received." `step` is {role, label, owner, to, from},
// `to` and `from` lists of {label, answer}; `texts` the page's words (T), `words`
// the role words, `list` a function joining names (Intl.ListFormat).
export function describeStep(step, texts, words, list) {
  const name = (end) => endName(end, texts);
  const parts = [
    fill(texts.describeStep, {
      kind: words[step.role] || step.role,
      label: spoken(step.label, texts.unnamed),
    }),
  ];
  if (step.owner) parts.push(fill(texts.describeOwner, { name: step.owner }));
  if (step.to.length) parts.push(fill(texts.describeTo, { steps: list(step.to.map(name)) }));
  if (step.from.length) {
    parts.push(fill(texts.describeFrom, { steps: list(step.from.map(name)) }));
  }
  if (!step.to.length && !step.from.length) parts.push(texts.describeNoArrows);
  return parts.join(" ");
}

// ---------------------------------------------------------------------------
// The canvas and the Arrows card (X6 and DOM)
// ---------------------------------------------------------------------------

const RING = "hg-focus-ring";

// Adds flowIds, selectInFlow, describeSelection and focusArrows to `editor`.
export function installFlow(editor) {
  const { graph, selection, texts: T, config, canEdit } = editor;
  const { announce, arrowsCard, container } = editor.elements;
  const words = config.roleWords || {};
  const lang = document.documentElement.lang || "en";
  const listFormat = new Intl.ListFormat(lang, { style: "long", type: "conjunction" });
  const list = (names) => listFormat.format(names);

  function flowIds() {
    const nodes = graph.getNodes().map((node) => {
      const { x, y } = node.getBBox().getCenter();
      return { id: node.id, kind: kindOf(node), x, y };
    });
    const edges = graph.getEdges().map((e) => ({
      source: e.getSourceCellId(),
      target: e.getTargetCellId(),
    }));
    return flowOrder(nodes, edges);
  }

  function current() {
    const nodes = editor.selectedNodes();
    if (nodes.length) return nodes[0];
    const cell = editor.single();
    return cell && cell.isEdge() ? cell.getSourceCell() : null;
  }

  // Select the shape `step` places on in flow order; false past either end (so
  // Tab can leave the canvas).
  function selectInFlow(step) {
    const from = current();
    const id = stepFrom(flowIds(), from ? from.id : null, step);
    if (!id) return false;
    const node = graph.getCellById(id);
    selection.reset(node);
    editor.ensureVisible(node);
    return true;
  }

  // The arrows out of `node` (to) and into it (from), each with the step at its
  // other end and, leaving a decision, its answer.
  function ends(node) {
    const end = (edges, far) =>
      (edges || [])
        .filter((edge) => far(edge))
        .map((edge) => ({
          edge,
          label: nodeLabel(far(edge)),
          answer: isDecision(edge.getSourceCell()) ? edgeLabel(edge) : null,
        }));
    return {
      to: end(graph.getOutgoingEdges(node), (edge) => edge.getTargetCell()),
      from: end(graph.getIncomingEdges(node), (edge) => edge.getSourceCell()),
    };
  }

  function describe(node) {
    const { to, from } = ends(node);
    const details = editor.stepDetails.get(node.id);
    return describeStep(
      {
        role: roleOf(kindOf(node), from.length > 0, to.length > 0),
        label: nodeLabel(node),
        owner: details && details.ownerName,
        to,
        from,
      },
      T,
      words,
      list,
    );
  }

  function describeSelection() {
    const cell = editor.single();
    if (!cell) return "";
    if (cell.isNode()) return describe(cell);
    const source = cell.getSourceCell();
    const target = cell.getTargetCell();
    if (!source || !target) return "";
    return fill(T.describeArrow, {
      source: spoken(nodeLabel(source), T.unnamed),
      target: spoken(nodeLabel(target), T.unnamed),
    });
  }

  // The ring drawn round the one selected shape: 3 px of the accent, clear of the
  // shape's own outline (X6 tools are not edits, see the History in main.js).
  function ring(node, on) {
    if (!graph.hasCell(node)) return;
    if (on) {
      node.addTools({
        name: "boundary",
        args: {
          padding: 5,
          attrs: {
            class: RING,
            fill: "none",
            stroke: CANVAS.accent,
            "stroke-width": 3,
            "stroke-dasharray": "none",
            rx: 6,
            ry: 6,
          },
        },
      });
    } else if (node.hasTools()) {
      node.removeTools();
    }
  }

  let ringed = null;
  let spokenText = "";
  // `card: false` leaves the Arrows card (whose Connect to… lists every other step)
  // to the task after the next frame, so a selection shows at once on a large map.
  function refresh({ card: now = true } = {}) {
    const cell = editor.single();
    const node = cell && cell.isNode() ? cell : null;
    if (ringed !== node) {
      if (ringed) ring(ringed, false);
      if (node) ring(node, true);
      ringed = node;
    }
    const text = describeSelection();
    if (text !== spokenText) {
      spokenText = text;
      announce.textContent = text;
    }
    if (now) {
      cardQueued = false;
      renderCard(node);
    } else if (!cardQueued) {
      cardQueued = true;
      requestAnimationFrame(() => window.setTimeout(flushCard, 0));
    }
  }

  let cardQueued = false;
  function flushCard() {
    if (!cardQueued) return;
    cardQueued = false;
    const cell = editor.single();
    renderCard(cell && cell.isNode() ? cell : null);
  }

  // ---- the Arrows card ----

  const card = arrowsCard;
  const listEl = card ? card.querySelector("[data-arrows]") : null;
  const targetSelect = card ? card.querySelector("[data-connect-target]") : null;
  const answerField = card ? card.querySelector("[data-connect-answer-field]") : null;
  const answerSelect = card ? card.querySelector("[data-connect-answer]") : null;
  let cardKey = "";

  function option(value, text) {
    const el = document.createElement("option");
    el.value = value;
    el.textContent = text;
    return el;
  }

  function arrowItem(end, toward) {
    const text = fill(toward ? T.arrowTo : T.arrowFrom, { step: endName(end, T) });
    const li = document.createElement("li");
    const span = document.createElement("span");
    span.textContent = text;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "linklike danger";
    button.dataset.deleteEdge = end.edge.id;
    button.textContent = T.deleteArrow;
    const hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = ` ${text}`;
    button.append(hidden);
    li.append(span, " ", button);
    return li;
  }

  function renderCard(node) {
    if (!card) return;
    if (!node || !canEdit || editor.state.blocked === "forbidden") {
      card.hidden = true;
      cardKey = "";
      return;
    }
    const { to, from } = ends(node);
    const order = flowIds().filter((id) => id !== node.id);
    const others = order.map((id) => {
      const other = graph.getCellById(id);
      const hasIn = (graph.getIncomingEdges(other) || []).length > 0;
      const hasOut = (graph.getOutgoingEdges(other) || []).length > 0;
      return [id, spoken(nodeLabel(other), T.unnamed), roleOf(kindOf(other), hasIn, hasOut)];
    });
    const key = JSON.stringify([
      node.id,
      isDecision(node),
      to.map((e) => [e.edge.id, e.label, e.answer]),
      from.map((e) => [e.edge.id, e.label, e.answer]),
      others,
    ]);
    card.hidden = false;
    if (key === cardKey) return;
    cardKey = key;
    const focused = card.contains(document.activeElement) ? document.activeElement : null;
    const keepTarget = targetSelect.value;
    listEl.replaceChildren(
      ...to.map((end) => arrowItem(end, true)),
      ...from.map((end) => arrowItem(end, false)),
    );
    if (!to.length && !from.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = T.describeNoArrows;
      listEl.append(li);
    }
    targetSelect.replaceChildren(
      option("", T.chooseStep),
      ...others.map(([id, label, kind]) =>
        option(id, fill(T.withKind, { step: label, kind: words[kind] || kind })),
      ),
    );
    if (others.some(([id]) => id === keepTarget)) targetSelect.value = keepTarget;
    answerField.hidden = !isDecision(node);
    answerSelect.value = editor.defaultAnswer(node, null) === T.answerNo ? "no" : "yes";
    if (focused && !card.contains(focused)) targetSelect.focus();
  }

  function connect() {
    const node = current();
    const target = targetSelect.value ? graph.getCellById(targetSelect.value) : null;
    if (!canEdit || !node || !target || target === node) {
      targetSelect.focus();
      return;
    }
    editor.commitEditor();
    const answer = isDecision(node)
      ? { yes: T.answerYes, no: T.answerNo }[answerSelect.value] || null
      : null;
    graph.addEdge(
      edgeMeta(editor, { id: editor.newId("e"), source: node.id, target: target.id, label: answer }),
    );
    targetSelect.value = "";
    refresh();
    targetSelect.focus();
  }

  // F6 goes from the canvas to the selected step's "Connect to…"; Esc comes back.
  function focusArrows() {
    flushCard();
    if (!card || card.hidden) return false;
    targetSelect.focus();
    return true;
  }

  if (card) {
    card.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      event.preventDefault();
      container.focus({ preventScroll: true });
    });
    card.addEventListener("click", (event) => {
      const button = event.target.closest("button");
      if (!button) return;
      if (button.dataset.action === "connect") connect();
      else if (button.dataset.action === "delete-step") {
        const node = current();
        if (!node) return;
        selection.reset(node);
        editor.deleteSelection();
        container.focus({ preventScroll: true });
      } else if (button.dataset.deleteEdge) {
        const edge = graph.getCellById(button.dataset.deleteEdge);
        if (edge && canEdit) edge.remove();
        refresh();
        (card.querySelector("[data-delete-edge]") || targetSelect).focus();
      }
    });
  }

  graph.on("selection:changed", () => refresh({ card: false }));
  let queued = false;
  const later = () => {
    if (queued) return;
    queued = true;
    window.setTimeout(() => {
      queued = false;
      refresh({ card: false });
    }, 0);
  };
  ["cell:added", "cell:removed", "edge:change:labels", "node:change:attrs"].forEach((name) =>
    graph.on(name, later),
  );
  document.body.addEventListener("stepDetailsChanged", later);

  Object.assign(editor, { flowIds, selectInFlow, describeSelection, focusArrows });
}
