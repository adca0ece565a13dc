import assert from "node:assert/strict";
import { test } from "node:test";

import {
  MAX_BACKOFF,
  SAVE_DELAY,
  SETTLE,
  createSaveQueue,
  csrfTokenFrom,
  isPending,
  newSaveState,
  parseEtag,
  readDraft,
  refusalOf,
  retryDelay,
} from "../../../static/systemmaps/editor/autosave.js";
import { documentOf } from "../../../static/systemmaps/editor/document.js";
import {
  DOC,
  StandInEdge,
  StandInNode,
  TEXTS,
  fakeClock,
  fixedMeasure,
  memoryStorage,
  settle,
} from "./helpers.mjs";

const KEY = "hourglass:map:7";
const MAP = {
  schema_version: 1,
  name: "Sales",
  nodes: [
    { id: "n1", kind: "terminus", label: "Lead", x: 0, y: 0, stage: null, notes: null },
    { id: "n2", kind: "task", label: "Call", x: 250, y: 0, stage: null, notes: null },
  ],
  edges: [{ id: "e1", source: "n1", target: "n2", label: null }],
};

// A server that answers each PUT with `answer(request)` (by default: saved, the
// next version); `hold()` keeps the next answers back until `release()`.
function fakeServer() {
  const requests = [];
  let held = null;
  const server = {
    requests,
    answer: (request) => ({ status: 200, body: { version: request.version + 1, lint: [] } }),
    hold() {
      let release;
      held = new Promise((resolve) => {
        release = resolve;
      });
      server.release = () => {
        held = null;
        release();
      };
    },
    async fetch(url, options) {
      const request = {
        url,
        method: options.method,
        ifMatch: options.headers["If-Match"],
        version: Number(options.headers["If-Match"].replaceAll('"', "")),
        csrf: options.headers["X-CSRFToken"],
        doc: JSON.parse(options.body),
      };
      requests.push(request);
      if (held) await held;
      const answer = server.answer(request);
      if (answer instanceof Error) throw answer;
      return {
        ok: answer.status >= 200 && answer.status < 300,
        status: answer.status,
        json: async () => answer.body,
      };
    },
  };
  return server;
}

// The save queue on a canvas that is a plain document: `edit` changes it as a
// person would and tells the queue, as the graph's change events do.
function harness({ canEdit = true, stored = null } = {}) {
  const clock = fakeClock();
  const server = fakeServer();
  const storage = memoryStorage();
  if (stored) storage.setItem(KEY, JSON.stringify(stored));
  const calls = [];
  const record = (name) => (...args) => calls.push([name, ...args]);
  let canvas = null;
  const editor = {
    canEdit,
    doc: DOC,
    texts: TEXTS,
    measure: fixedMeasure(),
    config: { graphUrl: "/b/acme/maps/7/graph.json", storageKey: KEY },
    stepDetails: new Map(),
    state: newSaveState(),
    timers: { save: null, retry: null, change: null },
    env: {
      setTimeout: clock.setTimeout,
      clearTimeout: clock.clearTimeout,
      fetch: server.fetch,
      storage: () => storage,
      now: () => new Date(Date.UTC(2025, 0, 6, 9, 30)),
      csrfToken: () => "token",
    },
    graph: {
      model: { hasActiveBatch: () => false },
      fromJSON(cells) {
        canvas = documentOf(
          DOC,
          "",
          cells.nodes.map((meta) => new StandInNode(meta)),
          cells.edges.map((meta) => new StandInEdge(meta)),
        );
      },
    },
    history: { clean: record("history.clean") },
    selection: { clean: () => {} },
    toJSON: () => ({ ...structuredClone(canvas), name: editor.state.name }),
    closeEditor: () => {},
    hideChooser: () => {},
    updateToolbar: () => {},
    setStatus: record("status"),
    showMessage: record("message"),
    showProblems: record("problems"),
    hideMessages: record("hide"),
    renderLint: record("lint"),
    refreshSidePanel: () => {},
    showConflict: record("conflict"),
  };
  createSaveQueue(editor);
  editor.loadDocument(structuredClone(MAP), 3);
  return {
    editor,
    clock,
    server,
    storage,
    calls,
    statuses: () => calls.filter((c) => c[0] === "status").map((c) => c[1]),
    edit(change) {
      change(canvas);
      editor.noteChange();
      editor.noteChange(); // the events of one change come in bursts
    },
    draft: () => JSON.parse(storage.getItem(KEY)),
  };
}

const relabel = (label) => (doc) => {
  doc.nodes[1].label = label;
};

test("a burst of changes is one PUT a second after the last, based on the loaded version", async () => {
  const h = harness();
  h.edit(relabel("Call back"));
  await h.clock.advance(SETTLE + 500);
  h.edit(relabel("Call them back"));
  await h.clock.advance(SETTLE + SAVE_DELAY - 1);
  assert.equal(h.server.requests.length, 0);
  assert.equal(h.statuses().at(-1), "saving");
  assert.ok(isPending(h.editor));

  await h.clock.advance(1);
  assert.equal(h.server.requests.length, 1);
  const [put] = h.server.requests;
  assert.equal(put.method, "PUT");
  assert.equal(put.ifMatch, '"3"');
  assert.equal(put.csrf, "token");
  assert.equal(put.doc.nodes[1].label, "Call them back");
  assert.equal(h.editor.state.version, 4);
  assert.equal(h.statuses().at(-1), "saved");
  assert.ok(!isPending(h.editor));
});

test("a change made while a PUT is out is saved right after it, on the new version", async () => {
  const h = harness();
  h.server.hold();
  h.edit(relabel("First"));
  await h.clock.advance(SETTLE + SAVE_DELAY);
  assert.equal(h.server.requests.length, 1);

  h.edit(relabel("Second"));
  await h.clock.advance(SETTLE + SAVE_DELAY * 3);
  assert.equal(h.server.requests.length, 1, "one request at a time");

  h.server.release();
  await settle();
  await settle();
  assert.deepEqual(
    h.server.requests.map((r) => [r.ifMatch, r.doc.nodes[1].label]),
    [
      ['"3"', "First"],
      ['"4"', "Second"],
    ],
  );
  assert.equal(h.editor.state.version, 5);
  assert.ok(!isPending(h.editor));
});

test("an unreachable server is tried again, each wait twice the last up to the cap", async () => {
  const h = harness();
  const times = [];
  h.server.answer = () => {
    times.push(h.clock.now);
    return new Error("offline");
  };
  h.edit(relabel("Call back"));
  await h.clock.advance(SETTLE + SAVE_DELAY + 200_000);
  const waits = times.slice(1).map((t, i) => t - times[i]);
  assert.deepEqual(waits.slice(0, 7), [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  assert.equal(h.statuses().at(-1), "offline");
  // The work is kept in this browser meanwhile, with the version it is based on.
  assert.equal(h.draft().base, 3);
  assert.equal(h.draft().graph.nodes[1].label, "Call back");

  h.server.answer = (request) => ({ status: 200, body: { version: request.version + 1 } });
  h.editor.retryNow(); // back online
  await settle();
  assert.equal(h.statuses().at(-1), "saved");
  assert.equal(h.storage.getItem(KEY), null);
  assert.equal(h.editor.state.backoff, 0);
});

test("a newer version on the server opens the conflict and nothing more is sent", async () => {
  const h = harness();
  const theirs = { ...structuredClone(MAP), name: "Sales" };
  theirs.nodes[0].label = "Their lead";
  h.server.answer = () => ({ status: 412, body: { version: 9, graph: theirs, saved_by: "Bob" } });
  h.edit(relabel("Mine"));
  await h.clock.advance(SETTLE + SAVE_DELAY);
  assert.equal(h.editor.state.blocked, "conflict");
  assert.equal(h.calls.find((c) => c[0] === "conflict")[1].saved_by, "Bob");
  assert.equal(h.statuses().at(-1), "conflict");

  h.edit(relabel("Mine, again"));
  await h.clock.advance(60_000);
  assert.equal(h.server.requests.length, 1);
});

test("keeping mine saves it as the version after theirs", async () => {
  const h = harness();
  h.server.answer = () => ({ status: 412, body: { version: 9, graph: MAP } });
  h.edit(relabel("Mine"));
  await h.clock.advance(SETTLE + SAVE_DELAY);
  h.server.answer = (request) => ({ status: 200, body: { version: request.version + 1 } });
  h.editor.state.blocked = null; // the dialog's choice
  h.editor.keepMine(h.editor.state.conflict);
  await settle();
  assert.equal(h.server.requests.at(-1).ifMatch, '"9"');
  assert.equal(h.server.requests.at(-1).doc.nodes[1].label, "Mine");
  assert.equal(h.editor.state.version, 10);
});

test("loading theirs keeps mine aside in this browser", async () => {
  const h = harness();
  const theirs = structuredClone(MAP);
  theirs.nodes[0].label = "Their lead";
  h.server.answer = () => ({ status: 412, body: { version: 9, graph: theirs } });
  h.edit(relabel("Mine"));
  await h.clock.advance(SETTLE + SAVE_DELAY);
  h.editor.state.blocked = null;
  h.editor.loadTheirs(h.editor.state.conflict);
  const discarded = JSON.parse(h.storage.getItem(`${KEY}:discarded`));
  assert.deepEqual([discarded.base, discarded.replacedByVersion], [3, 9]);
  assert.equal(discarded.graph.nodes[1].label, "Mine");
  assert.equal(h.editor.toJSON().nodes[0].label, "Their lead");
  assert.equal(h.editor.state.version, 9);
  assert.equal(h.statuses().at(-1), "saved");
  assert.ok(!isPending(h.editor));
});

test("a refused map is not sent again until the next change, which may be the fix", async () => {
  const h = harness();
  h.server.answer = () => ({ status: 400, body: { message: "Bad", problems: [{ id: "n2" }] } });
  h.edit(relabel(""));
  await h.clock.advance(SETTLE + SAVE_DELAY);
  assert.equal(h.editor.state.blocked, "invalid");
  assert.equal(h.calls.find((c) => c[0] === "problems")[1].message, "Bad");
  assert.equal(h.statuses().at(-1), "notSaved");
  await h.clock.advance(60_000);
  assert.equal(h.server.requests.length, 1);

  h.server.answer = (request) => ({ status: 200, body: { version: request.version + 1 } });
  h.edit(relabel("Call"));
  h.edit(relabel("Call them"));
  await h.clock.advance(SETTLE + SAVE_DELAY);
  assert.equal(h.server.requests.length, 2);
  assert.equal(h.editor.state.blocked, null);
  assert.ok(h.calls.some((c) => c[0] === "hide"));
});

test("a role that may no longer edit blocks saving, with its own message", async () => {
  const h = harness();
  h.server.answer = () => ({ status: 403, body: null });
  h.edit(relabel("Mine"));
  await h.clock.advance(SETTLE + SAVE_DELAY);
  assert.equal(h.editor.state.blocked, "forbidden");
  assert.deepEqual(h.calls.find((c) => c[0] === "message"), ["message", "Forbidden text"]);
  h.edit(relabel("Mine again"));
  await h.clock.advance(60_000);
  assert.equal(h.server.requests.length, 1);
});

test("undoing back to the saved map sends nothing", async () => {
  const h = harness();
  h.edit(relabel("Changed"));
  await h.clock.advance(SETTLE);
  assert.equal(h.statuses().at(-1), "saving");
  h.edit(relabel("Call"));
  await h.clock.advance(SETTLE + SAVE_DELAY * 5);
  assert.equal(h.server.requests.length, 0);
  assert.equal(h.statuses().at(-1), "saved");
  assert.equal(h.storage.getItem(KEY), null);
  // Nothing is waiting either: the page may be left without a warning.
  assert.equal(isPending(h.editor), false);
});

test("unsaved work of an earlier visit is put back and saved on its own base version", async () => {
  const mine = structuredClone(MAP);
  mine.nodes[1].label = "Left unsaved";
  const h = harness({ stored: { base: 2, graph: mine } });
  h.editor.restoreLocal();
  await settle();
  assert.deepEqual(h.calls.find((c) => c[0] === "message"), ["message", "Restored text", "info"]);
  assert.equal(h.server.requests.length, 1);
  assert.equal(h.server.requests[0].ifMatch, '"2"');
  assert.equal(h.server.requests[0].doc.nodes[1].label, "Left unsaved");
});

test("a kept copy that is what the server has is dropped, and nothing is sent", async () => {
  const h = harness({ stored: { base: 1, graph: structuredClone(MAP) } });
  h.editor.restoreLocal();
  await settle();
  assert.equal(h.server.requests.length, 0);
  assert.equal(h.editor.state.version, 3);
  assert.equal(h.storage.getItem(KEY), null);
});

test("a member who may only read changes nothing and keeps nothing", async () => {
  const h = harness({ canEdit: false });
  h.edit(relabel("Mine"));
  await h.clock.advance(60_000);
  assert.equal(h.server.requests.length, 0);
  assert.equal(h.storage.items.size, 0);
});

test("the version is read from a strong or weak ETag", () => {
  assert.equal(parseEtag('"7"'), 7);
  assert.equal(parseEtag('W/"12"'), 12);
  assert.equal(parseEtag('"abc"'), null);
  assert.equal(parseEtag(""), null);
  assert.equal(parseEtag(null), null);
});

test("waits double from a second and stop at the cap", () => {
  assert.deepEqual([0, 1, 2, 3, 4].map(retryDelay), [1000, 2000, 4000, 8000, 16000]);
  assert.equal(retryDelay(5), MAX_BACKOFF);
  assert.equal(retryDelay(40), MAX_BACKOFF);
});

test("refused answers block with their message; the others are tried again", () => {
  assert.deepEqual(refusalOf(403, null), { blocked: "forbidden", text: "forbidden" });
  assert.deepEqual(refusalOf(400, { problems: [] }), { blocked: "invalid", problems: true });
  assert.deepEqual(refusalOf(400, null), { blocked: "invalid", text: "failed" });
  assert.deepEqual(refusalOf(404, null), { blocked: "invalid", text: "failed" });
  assert.deepEqual(refusalOf(413, null), { blocked: "invalid", text: "tooLarge" });
  assert.deepEqual(refusalOf(428, null), { blocked: "invalid", text: "precondition" });
  for (const status of [500, 502, 503, 401, 302, 0]) assert.equal(refusalOf(status, null), null);
});

test("the CSRF token comes from the cookie, else from the page's hx-headers", () => {
  assert.equal(csrfTokenFrom("a=1; csrftoken=abc%3D; b=2", "{}"), "abc=");
  assert.equal(csrfTokenFrom("", '{"X-CSRFToken": "from-page"}'), "from-page");
  assert.equal(csrfTokenFrom("xcsrftoken=no", "not json"), "");
});

test("only a kept copy with a graph of nodes is restored", () => {
  assert.deepEqual(readDraft('{"base": 2, "graph": {"nodes": []}}'), { base: 2, graph: { nodes: [] } });
  assert.equal(readDraft(null), null);
  assert.equal(readDraft("{broken"), null);
  assert.equal(readDraft('{"graph": {"nodes": "no"}}'), null);
});
