// The parts of the page beside the canvas: the messages above it, the lint panel
// ("Gaps and problems"), and the side panel of the selected step, loaded through
// htmx, which tells the canvas what changed with stepChanged / stepDetailsChanged
// events. Pure helpers first; the DOM glue is in installPanel.

import { nodeDoc } from "./document.js";
import { nodeLabel } from "./labels.js";
import { applyBadges, kindOf } from "./shapes.js";

// "n3 · label: Too long", or the bare message of a problem with no place.
export function problemText(problem) {
  const where = [problem.id, problem.field].filter(Boolean).join(" · ");
  return where ? `${where}: ${problem.message}` : problem.message;
}

// The side panel's address for a step, with the canvas's values, which may not be
// saved yet (the panel shows those).
export function panelUrl(template, doc) {
  const query = new URLSearchParams({
    label: doc.label,
    kind: doc.kind,
    stage: doc.stage || "",
    notes: doc.notes || "",
  });
  return `${template.replace("NODE", encodeURIComponent(doc.id))}?${query}`;
}

// What the canvas keeps of a stepDetailsChanged event: the step's badges.
export function badgeDetails(detail) {
  return {
    ownerInitials: detail.ownerInitials || "",
    ownerName: detail.ownerName || "",
    critical: Boolean(detail.critical),
    automation: detail.automation || "manual",
  };
}

// The values of a stepChanged event: those on the applied form (its
// data-changed JSON) when they are for the step the event names, else none.
export function changedValues(detail, form) {
  const id = (detail || {}).id;
  const raw = form && form.dataset ? form.dataset.changed : "";
  if (!id || !raw) return {};
  const values = JSON.parse(raw);
  return values.id === id ? values : {};
}

// The ids a lint finding points at: its steps, else its arrows.
export function findingTargets(finding) {
  const nodes = finding.nodes || [];
  return nodes.length ? nodes : finding.edges || [];
}

// Whether a key press in the side panel's form applies it (Ctrl+Enter, Cmd+Enter).
export function appliesForm(event) {
  return event.key === "Enter" && Boolean(event.ctrlKey || event.metaKey) && !event.isComposing;
}

export function element(tag, props = {}, children = []) {
  const el = document.createElement(tag);
  Object.entries(props).forEach(([key, value]) => {
    if (key === "text") el.textContent = value;
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value);
  });
  children.forEach((child) => el.append(child));
  return el;
}

// Adds showMessage, hideMessages, showProblems, renderLint, focusCells and
// refreshSidePanel to `editor`; the side panel's state is editor.panel.
export function installPanel(editor) {
  const { graph, selection, texts: T, config, panel } = editor;
  const { messages: messagesEl, lint: lintPanel, sidePanel } = editor.elements;

  function showMessage(text, kind = "error", extra = null) {
    messagesEl.replaceChildren(element("p", { text }));
    if (extra) messagesEl.append(extra);
    messagesEl.classList.toggle("is-info", kind === "info");
    messagesEl.hidden = false;
  }

  // keepInfo: leave a message that only informs (a restored draft) in place.
  function hideMessages({ keepInfo = false } = {}) {
    if (keepInfo && messagesEl.classList.contains("is-info")) return;
    messagesEl.hidden = true;
    messagesEl.classList.remove("is-info");
    messagesEl.replaceChildren();
  }

  function showProblems(data) {
    const list = element("ul", { "data-testid": "save-problems" });
    (data.problems || []).forEach((problem) => {
      const text = problemText(problem);
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
      button.addEventListener("click", () => focusCells(findingTargets(finding)));
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

  // Only the panel of the step selected last may land: an answer for a step
  // selected before (a quick click, then Tab) is dropped.
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    const detail = event.detail || {};
    if (detail.target !== sidePanel || !detail.requestConfig) return;
    const { verb, path } = detail.requestConfig;
    if (String(verb).toLowerCase() === "get" && path !== panel.request) {
      detail.shouldSwap = false;
    }
  });

  function refreshSidePanel() {
    const cell = editor.single();
    const node = cell && cell.isNode() ? cell : null;
    const id = node ? node.id : null;
    if (!config.panelUrl || id === panel.shownFor) return;
    if (!id) {
      panel.shownFor = null;
      panel.request = null;
      sidePanel.replaceChildren(element("p", { class: "muted", text: T.panelEmpty }));
      return;
    }
    if (!editor.state.ackedIds.has(id)) {
      panel.shownFor = null; // load it once the step is saved
      panel.request = null;
      sidePanel.replaceChildren(element("p", { class: "muted", text: T.panelWait }));
      return;
    }
    panel.shownFor = id;
    if (window.htmx) {
      const url = panelUrl(config.panelUrl, nodeDoc(node));
      panel.request = url;
      window.htmx.ajax("GET", url, { target: "#side-panel" });
    }
  }

  // The panel's Label is a textarea, so a label may take two lines: Shift+Enter
  // breaks the line; Enter (app.js, data-enter-submits) and Ctrl+Enter (Cmd+Enter)
  // apply the form, as the Apply button does.
  sidePanel.addEventListener("keydown", (event) => {
    const form = event.target.closest && event.target.closest("#step-panel-details");
    if (!form || !appliesForm(event)) return;
    event.preventDefault();
    form.requestSubmit();
  });

  // The side panel says a step changed: apply it as one undoable change. The
  // event (fired after the swap) names the step; the values are on the form
  // that was swapped in, since they could make too big a header.
  document.body.addEventListener("stepChanged", (event) => {
    const detail = changedValues(event.detail, document.getElementById("step-panel-details"));
    const node = detail.id ? graph.getCellById(detail.id) : null;
    if (!node || !node.isNode()) return;
    graph.startBatch("step-changed");
    if (detail.kind && editor.doc.shapes[detail.kind] && detail.kind !== kindOf(node)) {
      editor.changeKind(node, detail.kind);
    }
    if (typeof detail.label === "string" && detail.label !== nodeLabel(node)) {
      editor.setNodeLabel(node, detail.label);
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
    editor.stepDetails.set(detail.id, badgeDetails(detail));
    const node = graph.getCellById(detail.id);
    if (node && node.isNode()) applyBadges(editor, node);
  });

  // Undo and redo bring back shapes as they were drawn then, badges included:
  // show the badges of now.
  function refreshBadges() {
    graph.getNodes().forEach((node) => applyBadges(editor, node));
  }
  editor.history.on("undo", refreshBadges);
  editor.history.on("redo", refreshBadges);

  Object.assign(editor, {
    showMessage,
    hideMessages,
    showProblems,
    renderLint,
    focusCells,
    refreshSidePanel,
  });
}
