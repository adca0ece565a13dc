// The shapes on the canvas, drawn as the server's SVG export draws them: sizes and
// colours come from the page's config.document (systemmaps/document.py), never from
// copies here. Pure but for registerShapes, which is handed window.X6; importable
// without a DOM.
//
// `editor` below is the editor's context (main.js): these functions read only its
// `doc` (config.document), `texts` (the page's translated words) and `stepDetails`.

export const SIDES = ["top", "right", "bottom", "left"];
export const PORT_ITEMS = SIDES.map((side) => ({ id: side, group: side }));
// An unknown kind is drawn as a task, as document.look_of does.
export const FALLBACK_KIND = "task";

// The canvas around the shapes: editor-only, so they live here and nowhere else.
export const CANVAS = {
  accent: "#2854c5", // ports, a snapped target, the owner badge (hourglass.css --accent)
  paper: "#ffffff",
  grid: "#cfd6df",
  background: "#fbfcfd",
  labelBorder: "#b9c1cc",
  overview: "#9fb3d9",
};

// Badges: the owner's initials, a critical marker and the automation, each a glyph
// with a tooltip and an accessible name (never colour alone). Termini have none.
// Where they sit, their size and colours are config.document.badges
// (systemmaps/document.py BADGE_*, which the edit page's first drawing uses too);
// the signs themselves come from the shared vocabulary (config.document.signs).
export function knownKind(doc, kind) {
  return doc.shapes[kind] ? kind : FALLBACK_KIND;
}

export function shapeOf(doc, kind) {
  return doc.shapes[knownKind(doc, kind)];
}

export function kindOf(node) {
  return (node.getData() || {}).kind || FALLBACK_KIND;
}

export function isDecision(cell) {
  return Boolean(cell && cell.isNode() && kindOf(cell) === "decision");
}

// Where each badge of a kind goes, in the shape's own coordinates; null for a kind
// without badges.
export function badgeSpots(doc, kind) {
  const inset = doc.badges.inset[kind];
  if (!inset) return null;
  const { width, height } = shapeOf(doc, kind);
  const [dx, dy] = inset;
  return { critical: [dx, dy], owner: [width - dx, dy], automation: [width - dx, height - dy] };
}

// [name, title, value] of each badge a step shows, in drawing order.
export function badgeParts(doc, kind, details, texts) {
  if (!details || !doc.badges.inset[kind]) return [];
  const parts = [];
  if (details.critical) parts.push(["critical", texts.badgeCritical]);
  if (details.automation === "automated" || details.automation === "could") {
    const title = details.automation === "automated" ? texts.badgeAutomated : texts.badgeCould;
    parts.push(["automation", title, details.automation]);
  }
  if (details.ownerInitials) {
    const title = texts.badgeOwner.replace("{name}", details.ownerName || details.ownerInitials);
    parts.push(["owner", title, details.ownerInitials]);
  }
  return parts;
}

// Two elements a badge (the shapes of a large map are many): a circle, and the
// glyph that carries the badge's name and words; one tooltip for them all.
function badge(doc, name, [x, y], title, look, text, size) {
  return [
    {
      tagName: "circle",
      attrs: {
        cx: x,
        cy: y,
        r: doc.badges.radius,
        "stroke-width": doc.strokeWidth,
        fill: look.fill,
        stroke: look.stroke,
      },
    },
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
        fill: look.ink,
        "font-size": size,
        "font-weight": 700,
        "font-family": doc.font,
        "text-anchor": "middle",
      },
    },
  ];
}

export function badgesMarkup(editor, kind, details) {
  const { doc } = editor;
  const parts = badgeParts(doc, kind, details, editor.texts);
  if (!parts.length) return null;
  const spots = badgeSpots(doc, kind);
  const looks = doc.badges.looks;
  const children = parts.flatMap(([name, title, value]) => {
    if (name === "critical") {
      return badge(doc, name, spots[name], title, looks.critical, doc.signs.critical, 11);
    }
    if (name === "automation") {
      return badge(doc, name, spots[name], title, looks[value], doc.signs[value], 11);
    }
    return badge(doc, name, spots[name], title, looks.owner, value, 8);
  });
  return {
    tagName: "g",
    selector: "badges",
    className: "hg-badges",
    // What the badges say, so a shape is only redrawn when that changes.
    attrs: { "data-badges": JSON.stringify(parts) },
    children: [
      { tagName: "title", textContent: parts.map((part) => part[1]).join(" · ") },
      ...children,
    ],
  };
}

export function markupOf(editor, kind, details = null) {
  const markup = [
    { tagName: kind === "decision" ? "polygon" : "rect", selector: "body" },
    { tagName: "text", selector: "label" },
  ];
  const badges = badgesMarkup(editor, kind, details);
  if (badges) markup.push(badges);
  return markup;
}

function shownBadges(node) {
  const markup = node.getMarkup();
  const group = Array.isArray(markup) ? markup.find((item) => item.selector === "badges") : null;
  return group ? group.attrs["data-badges"] : "";
}

// Redraw a shape's badges when they are not what editor.stepDetails says; not an
// edit of the map, so not in the undo history (see the History in main.js).
export function applyBadges(editor, node) {
  const kind = kindOf(node);
  const details = editor.stepDetails.get(node.id);
  const parts = badgeParts(editor.doc, kind, details, editor.texts);
  const wanted = parts.length ? JSON.stringify(parts) : "";
  if (wanted === shownBadges(node)) return;
  node.setMarkup(markupOf(editor, kind, details), { hgBadges: true });
}

// The attrs of a step of `kind`; `wrapped` is its label broken into lines
// (labels.wrapLabel): X6 wraps by characters, so it only places the lines.
export function attrsOf(doc, kind, label, wrapped) {
  const shape = shapeOf(doc, kind);
  const body =
    kind === "decision"
      ? { refPoints: "0,10 10,0 20,10 10,20" }
      : { refWidth: "100%", refHeight: "100%", rx: shape.radius, ry: shape.radius };
  return {
    body: { ...body, fill: shape.fill, stroke: shape.stroke, strokeWidth: doc.strokeWidth },
    label: {
      fill: doc.ink,
      fontSize: doc.fontSize,
      fontFamily: doc.font,
      refX: 0.5,
      refY: 0.5,
      textAnchor: "middle",
      textVerticalAnchor: "middle",
      pointerEvents: "none",
      text: label,
      textWrap: {
        text: wrapped,
        width: -(shape.width - shape.labelWidth),
        height: 100, // the lines are counted in wrapLabel
        ellipsis: true,
      },
    },
  };
}

// Where an arrow from `start` towards the centre of `box` meets the outline, from
// the geometry alone; null when the arrow starts at the centre or the box is flat.
// Diamonds are exact; the rounded ends of a terminus are met where the arrow
// usually meets them, at the middle of the side.
export function outlinePoint(box, start, diamond) {
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const ux = start.x - cx;
  const uy = start.y - cy;
  const hw = box.width / 2;
  const hh = box.height / 2;
  if ((ux === 0 && uy === 0) || !hw || !hh) return null;
  const reach = diamond
    ? Math.abs(ux) / hw + Math.abs(uy) / hh
    : Math.max(Math.abs(ux) / hw, Math.abs(uy) / hh);
  const t = 1 / reach;
  return { x: cx + ux * t, y: cy + uy * t };
}

// Registers the step, the arrow and their connection point with X6; returns the
// view the overview map draws shapes with.
export function registerShapes(X6, editor) {
  const { Graph, NodeView } = X6;
  const doc = editor.doc;
  Graph.registerNode(
    "hg-step",
    {
      markup: markupOf(editor, FALLBACK_KIND),
      ports: {
        groups: Object.fromEntries(
          SIDES.map((side) => [
            side,
            {
              position: side,
              attrs: {
                circle: {
                  r: 5,
                  magnet: true,
                  fill: CANVAS.paper,
                  stroke: CANVAS.accent,
                  strokeWidth: doc.strokeWidth,
                },
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
          stroke: doc.arrowInk,
          strokeWidth: doc.strokeWidth,
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
            fill: doc.ink,
            fontSize: doc.fontSize,
            fontWeight: 600,
            fontFamily: doc.font,
            textAnchor: "middle",
            textVerticalAnchor: "middle",
            pointerEvents: "none",
          },
          // Sized from the text in labels.edgeLabelOf: measuring each label in the
          // DOM costs a layout per arrow.
          body: { fill: CANVAS.paper, stroke: CANVAS.labelBorder, strokeWidth: 1, rx: 4, ry: 4 },
        },
        position: { distance: 0.5 },
      },
    },
    true,
  );

  // Every label reaches X6 wrapped already (labels.wrapLabel, the rule the server's
  // drawing shares): X6's own textWrap would measure it again, making a <canvas>
  // per label, and might break it differently. Its lines are placed as given.
  const placeText = X6.attrPresets.text;
  X6.attrRegistry.register(
    "textWrap",
    {
      qualify: (value) => value != null && typeof value === "object",
      set(value, options) {
        const text = value.text ?? options.attrs.text;
        return placeText.set.call(this, text == null ? "" : String(text), options);
      },
    },
    true,
  );

  // X6's "boundary" asks the DOM for every end of every arrow, which doubles the
  // time a large map takes to open: outlinePoint needs only the shape's box.
  Graph.registerConnectionPoint(
    "hg-outline",
    (line, view) => {
      const cell = view.cell;
      const point = outlinePoint(cell.getBBox(), line.start, isDecision(cell));
      return point ? new X6.Point(point.x, point.y) : line.end;
    },
    true,
  );

  // The overview map draws plain boxes: no text to measure, no arrows.
  return class MiniNodeView extends NodeView {
    renderMarkup() {
      return this.renderJSONMarkup({ tagName: "rect", selector: "body" });
    }

    update() {
      super.update({
        body: { refWidth: "100%", refHeight: "100%", fill: CANVAS.overview, stroke: "none" },
      });
    }
  };
}
