// Panning and zooming at display rate. X6 draws the map in one <svg>; changing
// the transform of its viewport <g> makes Chromium repaint and rasterise the
// whole map on the main thread, which on a 500-step map takes longer than a frame.
// So a gesture (wheel, trackpad, drag on the background, Space+drag, the
// keyboard's look-around) only moves the map's already painted layers: at most one
// CSS transform per animation frame on a layer around the <svg>, on the grid and
// on the overview map's frame (all composited, will-change: transform). When the
// gesture settles, the accumulated view is committed to X6 in one matrix, in the
// same task as the CSS transform is dropped, so the frame shows no jump.
//
// Anything that reads X6's transform while a gesture is under way (a click, Fit,
// the zoom buttons, the overview map, a test) commits it first (installPan wraps
// X6's getMatrix), so every coordinate is the one on screen.
//
// A view is {tx, ty, s}: X6's translation and scale, in container pixels.

// A gesture is committed this long after its last event.
export const SETTLE_MS = 150;
// How far a preview may drift from what was painted before it is committed
// mid-gesture: Chromium paints a will-change layer's content a few thousand
// pixels beyond the visible area, and a scale too far from the painted one blurs.
export const DRIFT_PX = 2500;
export const SCALE_DRIFT = 2;
// X6's wheel zoom step (Ctrl/Cmd+wheel), as the editor configured it before.
export const WHEEL_FACTOR = 1.1;

export function sameView(a, b) {
  return a.tx === b.tx && a.ty === b.ty && a.s === b.s;
}

export function panned(view, dx, dy) {
  return { tx: view.tx + dx, ty: view.ty + dy, s: view.s };
}

function clamp(value, { minScale, maxScale }) {
  return Math.min(maxScale, Math.max(minScale, value));
}

// `view` zoomed to `scale` (within `limits`) so that the point (x, y) of the
// container stays where it is on screen.
export function zoomedAt(view, scale, x, y, limits) {
  const s = clamp(scale, limits);
  const k = s / view.s;
  return { tx: x - (x - view.tx) * k, ty: y - (y - view.ty) * k, s };
}

// The scale one wheel event zooms to from `scale`: X6's own rule (5 % steps, 1 %
// steps below 15 %), so the wheel zooms exactly as it did when X6 handled it.
export function wheelScale(scale, deltaY, factor, limits) {
  let next;
  if (deltaY < 0) {
    next = scale < 0.15 ? scale + 0.01 : Math.round(scale * factor * 20) / 20;
    if (next <= scale) next = scale * 1.05;
  } else {
    next = scale <= 0.15 ? scale - 0.01 : Math.round((scale / factor) * 20) / 20;
    if (next >= scale) next = scale * 0.95;
  }
  return clamp(next, limits);
}

// The CSS transform (origin at the container's top left) that shows a layer
// painted at `base` as it would be at `view`: screen = k * painted + d.
export function previewOf(base, view) {
  const k = view.s / base.s;
  return { k, dx: view.tx - k * base.tx, dy: view.ty - k * base.ty };
}

// The same for the grid: its pattern repeats every `period` painted pixels, so the
// translation is taken modulo the (scaled) period and the grid layer, painted one
// margin beyond the canvas on each side, never shows an edge.
export function gridPreviewOf(base, view, period) {
  const { k, dx, dy } = previewOf(base, view);
  const step = k * period;
  const wrap = (d) => d - step * Math.round(d / step);
  return { k, dx: wrap(dx), dy: wrap(dy) };
}

export function cssTransform({ k, dx, dy }) {
  return `translate(${dx}px, ${dy}px) scale(${k})`;
}

// The grid layer's margin on each side: a few periods (a pan moves it by less
// than one; a zoom-out may show a band without dots until it settles), in whole
// pixels (a layer at a fractional offset blurs its one-pixel dots), with the
// background shifted by what puts X6's pattern back in phase with the canvas.
// (A grid image the size of three canvases is drawn blurred by Chromium.)
export const GRID_PERIODS = 4;

export function gridMargin(period) {
  const margin = Math.ceil(GRID_PERIODS * period);
  return { margin, shift: margin % period };
}

// Whether a preview has drifted too far from what was painted to be shown.
export function needsCommit(base, view) {
  const { k, dx, dy } = previewOf(base, view);
  return Math.abs(dx) > DRIFT_PX || Math.abs(dy) > DRIFT_PX || k > SCALE_DRIFT || k < 1 / SCALE_DRIFT;
}

// How the overview map's frame (drawn by X6 for `base`, `miniScale` overview
// pixels per map pixel) moves and grows for `view`: the graph's top left corner
// in map coordinates is (-tx / s, -ty / s) and its size is the canvas's / s.
export function minimapShift(base, view, miniScale) {
  return {
    k: base.s / view.s,
    dx: (base.tx / base.s - view.tx / view.s) * miniScale,
    dy: (base.ty / base.s - view.ty / view.s) * miniScale,
  };
}

// The coalescer: gestures accumulate into one target view; at most one frame is
// requested, which shows it (`preview`, or `commit` when it drifted too far or
// `direct()` says overlays need X6's own transform); `settleMs` after the last
// event the view is committed. `read` gives X6's view, `commit(view)` sets it,
// `preview(base, view)` moves the layers (null: drop the CSS transform).
export function createViewQueue({ read, commit, preview, direct, env, limits, settleMs = SETTLE_MS }) {
  let base = null; // X6's view when the gesture began (what is painted)
  let view = null; // where the gesture has taken it
  let frame = null;
  let timer = null;
  const counts = { frames: 0, previews: 0, commits: 0 };

  function begin() {
    if (!base) {
      base = read();
      view = base;
    }
  }

  function schedule() {
    if (frame === null) frame = env.requestFrame(onFrame);
    if (timer !== null) env.clearTimeout(timer);
    timer = env.setTimeout(flush, settleMs);
  }

  function onFrame() {
    frame = null;
    if (!base) return;
    counts.frames += 1;
    if (direct() || needsCommit(base, view)) {
      const target = view;
      apply(target);
      base = target;
      view = target;
      // Still in the gesture: the settle timer drops `base` later.
      return;
    }
    counts.previews += 1;
    preview(base, view);
  }

  function apply(target) {
    counts.commits += 1;
    preview(null, null);
    commit(target);
  }

  // Commits the gesture now (the settle timer, a read of X6's transform, a click).
  function flush() {
    if (timer !== null) env.clearTimeout(timer);
    timer = null;
    if (frame !== null) env.cancelFrame(frame);
    frame = null;
    if (!base) return;
    const target = view;
    const changed = !sameView(target, base);
    base = null;
    view = null;
    if (changed) apply(target);
    else preview(null, null);
  }

  return {
    panBy(dx, dy) {
      if (!dx && !dy) return;
      begin();
      view = panned(view, dx, dy);
      schedule();
    },
    // Zoom to `scale` around the container point (x, y).
    zoomAt(scale, x, y) {
      begin();
      view = zoomedAt(view, scale, x, y, limits);
      schedule();
    },
    // One Ctrl/Cmd+wheel event at (x, y).
    wheelZoom(deltaY, x, y, factor = WHEEL_FACTOR) {
      begin();
      view = zoomedAt(view, wheelScale(view.s, deltaY, factor, limits), x, y, limits);
      schedule();
    },
    flush,
    pending: () => base !== null,
    current: () => (base ? view : read()),
    counts,
  };
}

// Wires the queue to X6 and the page: the wheel, X6's background drag (through
// graph.translateBy), the read barrier on X6's transform, and the layers' CSS.
// Adds editor.viewQueue.
export function installPan(editor) {
  const { graph, layout } = editor;
  const { container } = editor.elements;
  const transform = graph.transform;
  const { grid } = graph.view;
  // The map's layer: a div around X6's <svg>, reaching --pan-margin past the canvas
  // (editor.css). Chromium paints a will-change layer's content that far out; when
  // it all fits in the layer's box the map stays one layer, where a canvas-sized
  // box split it into dozens (~15 ms of layerising a frame on 500 steps).
  const layer = document.createElement("div");
  layer.className = "hg-pan-layer";
  graph.view.svg.before(layer);
  layer.append(graph.view.svg);
  const limits = { minScale: graph.options.scaling.min, maxScale: graph.options.scaling.max };
  const getMatrix = transform.getMatrix.bind(transform);
  let committing = false;

  const read = () => {
    const m = getMatrix();
    return { tx: m.e, ty: m.f, s: m.a };
  };

  // One matrix for X6, then the events X6 itself sends after a zoom and a pan
  // (the grid, the overview map, the label editor's position follow them).
  function commit(view) {
    committing = true;
    try {
      const m = getMatrix();
      m.a = view.s;
      m.d = view.s;
      m.e = view.tx;
      m.f = view.ty;
      transform.setMatrix(m);
      graph.options.x = view.tx;
      graph.options.y = view.ty;
      graph.trigger("scale", { sx: view.s, sy: view.s, ox: 0, oy: 0 });
      graph.trigger("translate", { tx: view.tx, ty: view.ty });
    } finally {
      committing = false;
    }
  }

  const gridPeriod = (s) => graph.options.grid.size * s;

  function fitGrid() {
    const s = read().s;
    const { margin, shift } = gridMargin(gridPeriod(s));
    Object.assign(grid.style, {
      inset: `${-margin}px`,
      backgroundPosition: `${shift}px ${shift}px`,
    });
  }

  function preview(base, view) {
    container.classList.toggle("hg-panning", Boolean(base));
    if (!base) {
      layer.style.transform = "";
      grid.style.transform = "";
      if (layout.minimap) layout.minimap.viewport.style.transform = "";
      return;
    }
    layer.style.transform = cssTransform(previewOf(base, view));
    grid.style.transform = cssTransform(gridPreviewOf(base, view, gridPeriod(base.s)));
    const minimap = layout.minimap;
    if (minimap && !editor.elements.minimap.hidden) {
      const miniScale = minimap.targetGraph.transform.getScale().sx;
      minimap.viewport.style.transform = cssTransform(minimapShift(base, view, miniScale));
    }
  }

  const queue = createViewQueue({
    read,
    commit,
    preview,
    // The label editor and the quick labels are HTML over the canvas, placed from
    // X6's transform: while one is open, every frame commits.
    direct: () => Boolean(editor.labelling.editing || editor.labelling.chooserEdge),
    limits,
    env: {
      requestFrame: (fn) => window.requestAnimationFrame(fn),
      cancelFrame: (id) => window.cancelAnimationFrame(id),
      setTimeout: (fn, ms) => window.setTimeout(fn, ms),
      clearTimeout: (id) => window.clearTimeout(id),
    },
  });

  // The read barrier: whoever asks X6 for its transform gets the one on screen.
  transform.getMatrix = () => {
    if (!committing && queue.pending()) queue.flush();
    return getMatrix();
  };
  // X6's background drag (and Space+drag) and the arrow keys' look-around pan by
  // steps: they go through the queue.
  graph.translateBy = (dx, dy) => {
    queue.panBy(dx, dy);
    return graph;
  };

  container.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      const unit = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? container.clientHeight : 1;
      if (event.ctrlKey || event.metaKey) {
        if (!event.deltaY) return;
        const box = container.getBoundingClientRect();
        queue.wheelZoom(event.deltaY, event.clientX - box.left, event.clientY - box.top);
      } else {
        queue.panBy(-event.deltaX * unit, -event.deltaY * unit);
      }
    },
    { passive: false },
  );
  // A press on the canvas (to select, drag a shape, draw an arrow or start a new
  // pan) starts from the committed view. While the map moves its shapes take no
  // pointer events (hit testing them costs a frame's time on a large map), so the
  // pointer moving with no button down (to point at something) commits first.
  container.addEventListener("pointerdown", () => queue.flush(), { capture: true });
  container.addEventListener(
    "pointermove",
    (event) => {
      if (!event.buttons && queue.pending()) queue.flush();
    },
    { capture: true, passive: true },
  );

  graph.on("scale", fitGrid);
  graph.on("resize", fitGrid);
  fitGrid();

  Object.assign(editor, { viewQueue: queue });
}
