// Shared by the editor's unit tests (node --test systemmaps/tests/js/): a
// config.document with numbers unlike the real ones (so a test fails if the code
// uses a copy of its own), a fixed-width measure, stand-ins for X6 cells built from
// the metadata the editor hands X6, and a clock whose timers a test runs by hand.

export const DOC = {
  schemaVersion: 1,
  kinds: ["terminus", "task", "decision"],
  workKinds: ["task", "decision"],
  shapes: {
    terminus: { width: 150, height: 40, radius: 20, labelWidth: 130, labelLines: 2 },
    task: { width: 160, height: 50, radius: 3, labelWidth: 104, labelLines: 2 },
    decision: { width: 120, height: 90, radius: 0, labelWidth: 84, labelLines: 3 },
  },
  // Signs unlike the real ones, so a test sees the editor takes them from here.
  signs: { critical: "C!", automated: "A!", could: "M!", manual: "H!", problem: "P!" },
  ink: "#ink",
  arrowInk: "#arrow",
  strokeWidth: 1.75,
  fontSize: 13,
  font: "test-font",
  badges: {
    inset: { task: [0, 0], decision: [25, 14] },
    radius: 8,
    looks: {
      critical: { fill: "#c-fill", stroke: "#c-line", ink: "#c-ink" },
      owner: { fill: "#o-fill", stroke: "#o-line", ink: "#o-ink" },
      automated: { fill: "#a-fill", stroke: "#a-line", ink: "#a-ink" },
      could: { fill: "#m-fill", stroke: "#m-line", ink: "#m-ink" },
    },
  },
  spacing: { column: 250, row: 130, grid: 8, freeSpotStep: 70, freeSpotMargin: 12, centreTries: 30, nextTries: 50 },
};
// Colours that name their kind, so a test sees which one was used.
Object.assign(DOC.shapes.terminus, { fill: "#t-fill", stroke: "#t-line" });
Object.assign(DOC.shapes.task, { fill: "#k-fill", stroke: "#k-line" });
Object.assign(DOC.shapes.decision, { fill: "#d-fill", stroke: "#d-line" });

export const TEXTS = {
  badgeCritical: "Critical step",
  badgeAutomated: "Automated",
  badgeCould: "Could be automated",
  badgeOwner: "Owner: {name}",
  answerYes: "Yes",
  answerNo: "No",
  forbidden: "Forbidden text",
  tooLarge: "Too large text",
  precondition: "Precondition text",
  failed: "Failed text",
  restored: "Restored text",
};

// Every character is 10 pixels wide, whatever the weight; weights asked for are
// kept in `weights`.
export function fixedMeasure(weights = []) {
  return (text, weight = 400) => {
    weights.push(weight);
    return 10 * text.length;
  };
}

// What document.js and shapes.js read of an editor.
export function drawing(overrides = {}) {
  return { doc: DOC, texts: TEXTS, stepDetails: new Map(), measure: fixedMeasure(), ...overrides };
}

function attrAt(attrs, path) {
  return path.split("/").reduce((value, key) => (value == null ? undefined : value[key]), attrs);
}

// A node as X6 keeps one made from `meta` (nodeMeta's output): the getters the
// editor reads, nothing more.
export class StandInNode {
  constructor(meta) {
    this.id = meta.id;
    this.position = { x: meta.x, y: meta.y };
    this.size = { width: meta.width, height: meta.height };
    this.data = meta.data;
    this.attrs = meta.attrs;
    this.markup = meta.markup;
    this.redrawn = 0;
  }

  isNode() {
    return true;
  }

  isEdge() {
    return false;
  }

  getPosition() {
    return { ...this.position };
  }

  getSize() {
    return { ...this.size };
  }

  getData() {
    return this.data;
  }

  getBBox() {
    return { ...this.position, ...this.size };
  }

  attr(path) {
    return attrAt(this.attrs, path);
  }

  getMarkup() {
    return this.markup;
  }

  setMarkup(markup) {
    this.markup = markup;
    this.redrawn += 1;
  }
}

export class StandInEdge {
  constructor(meta) {
    this.id = meta.id;
    this.source = meta.source && meta.source.cell;
    this.target = meta.target && meta.target.cell;
    this.labels = meta.labels || [];
  }

  isNode() {
    return false;
  }

  isEdge() {
    return true;
  }

  getSourceCellId() {
    return this.source || null;
  }

  getTargetCellId() {
    return this.target || null;
  }

  getLabels() {
    return this.labels;
  }
}

// Lets every promise that can settle now settle (fetch answers, awaits).
export function settle() {
  return new Promise((resolve) => setImmediate(resolve));
}

// setTimeout and clearTimeout on a clock that moves only when advance() is called.
export function fakeClock() {
  let now = 0;
  let nextId = 1;
  const timers = new Map();
  return {
    get now() {
      return now;
    },
    setTimeout(fn, ms) {
      const id = nextId;
      nextId += 1;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout(id) {
      timers.delete(id);
    },
    // Runs every timer due by now + ms in order, letting promises settle after each.
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...timers.entries()]
          .filter(([, timer]) => timer.at <= end)
          .sort((a, b) => a[1].at - b[1].at || a[0] - b[0]);
        if (!due.length) break;
        const [id, timer] = due[0];
        timers.delete(id);
        now = timer.at;
        timer.fn();
        await settle();
      }
      now = end;
      await settle();
    },
  };
}

export function memoryStorage() {
  const items = new Map();
  return {
    items,
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => items.set(key, String(value)),
    removeItem: (key) => items.delete(key),
  };
}
