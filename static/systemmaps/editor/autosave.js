// Autosave: every change is saved (a debounced PUT with If-Match, one request at a
// time, the changes made meanwhile saved right after); work the server has not
// acknowledged yet is kept in localStorage, and a 412 opens the conflict dialog:
// nothing is overwritten silently and no edit is lost.
//
// createSaveQueue touches no DOM: timers, fetch, storage and the clock come from
// editor.env, the rest of the page through editor's functions (setStatus,
// showMessage, renderLint…), so it runs under Node's test runner. installAutosave
// is the page's part: the save status, the conflict dialog, online and unload.

import { edgeMeta, inSlices, keyOf, nodeMeta } from "./document.js";

export const SAVE_DELAY = 1000; // ms after the last change
export const MAX_BACKOFF = 30000;
// Model events arrive in bursts (a drag moves a node on every mouse move).
export const SETTLE = 30;
const REFUSED = [400, 403, 404, 413, 428];

// The version in an ETag ("7" or W/"7"), or null.
export function parseEtag(etag) {
  const match = /"(\d+)"/.exec(etag || "");
  return match ? Number(match[1]) : null;
}

// How long to wait before the next try after `backoff` failed ones.
export function retryDelay(backoff) {
  return Math.min(1000 * 2 ** backoff, MAX_BACKOFF);
}

// What a refused save blocks and which text says why, or null when the answer is
// worth trying again (a server error, a proxy page, an ended session).
export function refusalOf(status, data) {
  if (!REFUSED.includes(status)) return null;
  if (status === 403) return { blocked: "forbidden", text: "forbidden" };
  if (status === 400 && data) return { blocked: "invalid", problems: true };
  if (status === 413) return { blocked: "invalid", text: "tooLarge" };
  if (status === 428) return { blocked: "invalid", text: "precondition" };
  return { blocked: "invalid", text: "failed" };
}

export function csrfTokenFrom(cookie, hxHeaders) {
  const match = (cookie || "").match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  try {
    return JSON.parse(hxHeaders || "{}")["X-CSRFToken"] || "";
  } catch (error) {
    return "";
  }
}

export function csrfToken() {
  return csrfTokenFrom(document.cookie, document.body.getAttribute("hx-headers"));
}

export async function readJSON(response) {
  try {
    return await response.json();
  } catch (error) {
    return null;
  }
}

// The unsaved work kept in localStorage, or null when there is none to restore.
export function readDraft(text) {
  let stored = null;
  try {
    stored = JSON.parse(text || "null");
  } catch (error) {
    stored = null;
  }
  if (!stored || !stored.graph || !Array.isArray(stored.graph.nodes)) return null;
  return stored;
}

// True while a change is not yet acknowledged by the server (or still being noticed).
export function isPending(editor) {
  const { state, timers } = editor;
  return Boolean(
    timers.change || timers.save || timers.retry || state.inFlight || state.current !== state.acked,
  );
}

export function newSaveState() {
  return {
    name: "",
    version: null, // the version the canvas is based on (If-Match)
    current: "", // the key of the canvas (see document.keyOf)
    body: "", // the canvas as the JSON document to PUT
    acked: "", // the key the server has acknowledged
    ackedIds: new Set(),
    loading: true,
    inFlight: false,
    blocked: null, // "conflict" | "invalid" | "forbidden" | null
    conflict: null,
    backoff: 0,
  };
}

// Adds noteChange, save, persistLocal, loadDocument and restoreLocal to `editor`;
// their state is editor.state and editor.timers.
export function createSaveQueue(editor) {
  const { state, timers, env, config } = editor;

  function storage() {
    return env.storage();
  }

  function markAcked(key) {
    state.acked = key;
    state.ackedIds = new Set(JSON.parse(key).nodes.map((n) => n.id));
  }

  // editor.stepDetails keeps the badges of a step the last save left out: the
  // server keeps the step too (deleted, with its owner and cost), and a shape
  // that undo brings back is that step again once saved.

  function takeSnapshot() {
    const doc = editor.toJSON();
    state.current = keyOf(doc);
    state.body = JSON.stringify(doc);
  }

  function persistLocal() {
    if (!editor.canEdit) return;
    try {
      if (state.current === state.acked) {
        storage().removeItem(config.storageKey);
      } else {
        storage().setItem(
          config.storageKey,
          JSON.stringify({
            base: state.version,
            graph: JSON.parse(state.body),
            savedAt: env.now().toISOString(),
          }),
        );
      }
    } catch (error) {
      // Storage full or switched off: the autosave still runs.
    }
  }

  // Look at the document once the burst of events, and any batch it belongs to,
  // is over.
  function noteChange() {
    if (!editor.canEdit || state.loading || timers.change != null) return;
    timers.change = env.setTimeout(checkForChange, SETTLE);
  }

  function checkForChange() {
    timers.change = null;
    if (editor.graph.model.hasActiveBatch()) return; // batch:stop notes the change again
    const before = state.current;
    takeSnapshot();
    if (state.current === before) return;
    persistLocal();
    editor.updateToolbar();
    if (state.blocked === "invalid") {
      // The next change may be the fix: try again.
      state.blocked = null;
      editor.hideMessages();
    }
    if (state.blocked) return;
    if (state.current === state.acked) {
      // Undone back to what the server has: nothing to save, nothing pending.
      env.clearTimeout(timers.save);
      timers.save = null;
      if (!state.inFlight) editor.setStatus("saved");
      return;
    }
    if (!timers.retry) editor.setStatus("saving");
    scheduleSave();
  }

  function scheduleSave() {
    env.clearTimeout(timers.save);
    timers.save = env.setTimeout(save, SAVE_DELAY);
  }

  async function save() {
    env.clearTimeout(timers.save);
    timers.save = null;
    if (!editor.canEdit || state.loading || state.blocked) return;
    if (state.inFlight) return; // saved again when the answer is in
    env.clearTimeout(timers.retry);
    timers.retry = null;
    const body = state.body;
    const sent = state.current;
    if (sent === state.acked) {
      editor.setStatus("saved");
      return;
    }
    state.inFlight = true;
    editor.setStatus("saving");
    let response;
    try {
      response = await env.fetch(config.graphUrl, {
        method: "PUT",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "If-Match": `"${state.version}"`,
          "X-CSRFToken": env.csrfToken(),
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
      persistLocal();
      editor.renderLint(data.lint || []);
      editor.hideMessages({ keepInfo: true });
      editor.refreshSidePanel();
      if (state.current !== state.acked) {
        save(); // changes made while the request was out
      } else {
        editor.setStatus("saved");
      }
      return;
    }
    if (response.status === 412 && data && data.graph) {
      state.blocked = "conflict";
      state.conflict = data;
      editor.setStatus("conflict");
      editor.showConflict(data);
      return;
    }
    const refusal = refusalOf(response.status, data);
    if (!refusal) {
      // Keep trying, keep the work.
      retryLater();
      return;
    }
    state.blocked = refusal.blocked;
    if (refusal.problems) editor.showProblems(data);
    else editor.showMessage(editor.texts[refusal.text]);
    editor.setStatus("notSaved");
  }

  function retryLater() {
    editor.setStatus("offline");
    const delay = retryDelay(state.backoff);
    state.backoff += 1;
    env.clearTimeout(timers.retry);
    timers.retry = env.setTimeout(() => {
      timers.retry = null;
      save();
    }, delay);
  }

  // Back online: try now rather than at the end of the backoff.
  function retryNow() {
    if (timers.retry) {
      env.clearTimeout(timers.retry);
      timers.retry = null;
      save();
    }
  }

  function loadDocument(doc, version) {
    state.loading = true;
    editor.closeEditor(false);
    editor.hideChooser();
    editor.selection.clean();
    editor.graph.fromJSON({
      nodes: (doc.nodes || []).map((n) => nodeMeta(editor, n)),
      edges: (doc.edges || []).map((e) => edgeMeta(editor, e)),
    });
    loaded(doc, version);
  }

  // The opening build: the same, with the cells added in slices of under 50 ms
  // (document.inSlices), so the page answers input while a large map is built
  // (the server's drawing is on screen meanwhile, static-view.js). Shapes first:
  // an arrow needs both its ends.
  async function loadDocumentInSlices(doc, version) {
    state.loading = true;
    editor.graph.clearCells();
    const { graph } = editor;
    // Under the server's drawing meanwhile: laid out (labels are measured) but
    // not painted, frame after frame, until the editor takes over.
    editor.elements.container.classList.add("hg-building");
    const items = [
      ...(doc.nodes || []).map((n) => () => graph.addNode(nodeMeta(editor, n))),
      ...(doc.edges || []).map((e) => () => graph.addEdge(edgeMeta(editor, e))),
    ];
    await inSlices(items, (add) => add(), { now: env.clock, pause: env.pause });
    editor.elements.container.classList.remove("hg-building");
    loaded(doc, version);
  }

  function loaded(doc, version) {
    editor.history.clean();
    state.name = doc.name || "";
    state.version = version;
    takeSnapshot();
    markAcked(state.current);
    state.loading = false;
    editor.updateToolbar();
  }

  // Unsaved work of an earlier visit goes back on the canvas and is saved; if its
  // base version is old, that save gets a 412 and the conflict dialog.
  function restoreLocal() {
    let text = null;
    try {
      text = storage().getItem(config.storageKey);
    } catch (error) {
      text = null;
    }
    const stored = readDraft(text);
    if (!stored) return;
    const server = { acked: state.acked, version: state.version };
    loadDocument(stored.graph, Number.isInteger(stored.base) ? stored.base : server.version);
    if (state.current === server.acked) {
      state.version = server.version;
      persistLocal();
      return;
    }
    markAcked(server.acked); // what the server has, so the restored work counts as unsaved
    editor.showMessage(editor.texts.restored, "info");
    save();
  }

  // The conflict is settled with theirs: mine is kept aside in this browser.
  function loadTheirs(theirs) {
    try {
      storage().setItem(
        `${config.storageKey}:discarded`,
        JSON.stringify({
          base: state.version,
          graph: JSON.parse(state.body),
          discardedAt: env.now().toISOString(),
          replacedByVersion: theirs.version,
        }),
      );
    } catch (error) {
      // Nothing more we can do in this browser; the dialog said what happens.
    }
    loadDocument(theirs.graph, theirs.version);
    persistLocal();
    editor.renderLint(null);
    editor.hideMessages();
    editor.setStatus("saved");
  }

  // Mine becomes the newest version; theirs stays in the revision history.
  function keepMine(theirs) {
    state.version = theirs.version;
    persistLocal();
    save();
  }

  Object.assign(editor, {
    noteChange,
    save,
    retryNow,
    persistLocal,
    loadDocument,
    loadDocumentInSlices,
    restoreLocal,
    loadTheirs,
    keepMine,
  });
}

// ---------------------------------------------------------------------------
// The page's part (DOM)
// ---------------------------------------------------------------------------

// Adds setStatus and showConflict to `editor`.
export function installAutosave(editor) {
  const { root, state, texts: T } = editor;
  const { status: statusEl, conflictDialog } = editor.elements;
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

  // In the page's language, as the server writes dates (English: 30 Nov 2026,
  // 14:05), not the browser's.
  function savedWhen(iso) {
    const lang = document.documentElement.lang || "en";
    return new Date(iso).toLocaleString(lang === "en" ? "en-GB" : lang, {
      dateStyle: "medium",
      timeStyle: "short",
    });
  }

  function showConflict(data) {
    const who = data.saved_by || data.saved_by_email || T.someone;
    const when = data.saved_at ? savedWhen(data.saved_at) : "";
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
    if (button.dataset.action === "load-theirs") editor.loadTheirs(theirs);
    else editor.keepMine(theirs);
  });

  window.addEventListener("online", () => editor.retryNow());

  window.addEventListener("beforeunload", (event) => {
    if (editor.canEdit && !state.loading && (state.current !== state.acked || state.inFlight)) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  Object.assign(editor, { setStatus, showConflict });
}
