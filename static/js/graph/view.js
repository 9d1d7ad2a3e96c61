// The graph canvas, shared by the builder and the run page: lays out the nodes the server
// rendered (an <li class="gnode"> each, in definition order), draws the edges it listed
// ([data-graph-edge-list] <li data-source data-target data-kind>) as SVG, and gives the
// canvas pan (drag the background), zoom (wheel, buttons, + and - keys), fit (button,
// 0 key) and a minimap. The server's HTML is the truth; this only places it.
// A canvas re-rendered by htmx keeps the pan and zoom it had (by the section's id).
(function () {
  "use strict";

  const MIN_ZOOM = 0.2, MAX_ZOOM = 2;
  const views = {}; // section id -> {x, y, k}: the view a re-rendered canvas keeps
  // section id -> the viewport's size: a re-rendered canvas starts from it, so rendering
  // never reads the layout (at 200 steps a forced reflow costs more than the layout itself);
  // a ResizeObserver keeps it true.
  const sizes = {};

  function GraphView(section) {
    this.section = section;
    this.viewport = section.querySelector("[data-graph-viewport]");
    this.world = section.querySelector("[data-graph-world]");
    this.svg = section.querySelector("[data-graph-edges]");
    this.labels = section.querySelector("[data-graph-labels]");
    this.minimap = section.querySelector("[data-graph-minimap]");
    this.nodeWidth = Number(section.dataset.nodeWidth) || 232;
    this.nodeHeight = Number(section.dataset.nodeHeight) || 76;
    this.layout = null;
    this.view = views[section.id] || null;
    this.moved = !!(this.view && this.view.moved); // the user panned or zoomed: keep their view
    this.knownSize = sizes[section.id] || null;
    section.graphView = this;
    this.render();
    this.listen();
    this.watchSize();
  }

  GraphView.prototype.nodes = function () {
    return Array.from(this.section.querySelectorAll(".gnode[data-key]"));
  };

  GraphView.prototype.edgeData = function () {
    return Array.from(this.section.querySelectorAll("[data-graph-edge-list] li")).map(function (li) {
      return { source: li.dataset.source, target: li.dataset.target, kind: li.dataset.kind || "next", label: li.dataset.label || "", text: li.textContent.trim() };
    });
  };

  GraphView.prototype.render = function () {
    const started = performance.now();
    const nodes = this.nodes();
    const byKey = {};
    nodes.forEach(function (node) { byKey[node.dataset.key] = node; });
    const edges = this.edgeData().filter(function (edge) { return byKey[edge.source] && byKey[edge.target]; });
    const width = this.nodeWidth, height = this.nodeHeight;
    const result = window.BrickworkLayout.layout(
      nodes.map(function (node) { return { id: node.dataset.key, width: width, height: height }; }),
      edges
    );
    const laidOut = performance.now();
    const pad = 40;
    this.layout = result;
    this.pad = pad;
    this.bounds = { width: result.width + 2 * pad, height: result.height + 2 * pad };
    nodes.forEach(function (node) {
      const place = result.nodes[node.dataset.key];
      node.style.transform = "translate(" + (place.x - width / 2 + pad) + "px," + (place.y - height / 2 + pad) + "px)";
    });
    this.drawEdges(result, edges, pad);
    if (this.section.classList.contains("run-graph")) {
      // A page section, not a workspace: as tall as the graph needs, within reason.
      this.viewport.style.height = Math.min(Math.max(this.bounds.height, 180), 560) + "px";
    }
    this.world.style.width = this.bounds.width + "px";
    this.world.style.height = this.bounds.height + "px";
    if (!this.view || !this.moved) this.fit(true);
    else this.keepInPlace(views[this.section.id]);
    this.apply();
    this.drawMinimap();
    const done = performance.now();
    this.section.dataset.layoutMs = (laidOut - started).toFixed(1);
    this.section.dataset.renderMs = (done - started).toFixed(1);
    this.section.dispatchEvent(new CustomEvent("graph:rendered", {
      bubbles: true, detail: { layoutMs: laidOut - started, renderMs: done - started, nodes: nodes.length },
    }));
  };

  // Edges leave a node's bottom and enter a node's top, spread side by side when there
  // are several (a switch's cases read left to right), with a label for case and error
  // routes just below their source.
  GraphView.prototype.drawEdges = function (result, edges, pad) {
    const svg = this.svg;
    svg.setAttribute("width", this.bounds.width);
    svg.setAttribute("height", this.bounds.height);
    // One string for the whole SVG and one for the labels: 200 steps are ~1,000 elements.
    const parts = ["<defs>"];
    ["next", "case", "default", "error"].forEach(function (kind) {
      parts.push('<marker id="arrow-' + kind + '" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow kind-' + kind + '"/></marker>');
    });
    parts.push("</defs>");
    const labels = [];
    const half = this.nodeHeight / 2, width = this.nodeWidth;
    const kinds = {};
    edges.forEach(function (edge) { kinds[edge.source + "\u0000" + edge.target] = edge; });
    const outs = {}, ins = {};
    result.edges.forEach(function (line) {
      (outs[line.source] = outs[line.source] || []).push(line);
      (ins[line.target] = ins[line.target] || []).push(line);
    });
    function spread(lines, end, key) {
      lines.sort(function (a, b) {
        const pa = end === "out" ? a.points[a.reversed ? a.points.length - 2 : 1] : a.points[a.reversed ? 1 : a.points.length - 2];
        const pb = end === "out" ? b.points[b.reversed ? b.points.length - 2 : 1] : b.points[b.reversed ? 1 : b.points.length - 2];
        return (pa ? pa.x : 0) - (pb ? pb.x : 0);
      });
      const span = Math.min(width * 0.6, (lines.length - 1) * 34);
      lines.forEach(function (line, i) { line[key] = lines.length > 1 ? -span / 2 + span * i / (lines.length - 1) : 0; });
    }
    Object.keys(outs).forEach(function (key) { spread(outs[key], "out", "dxOut"); });
    Object.keys(ins).forEach(function (key) { spread(ins[key], "in", "dxIn"); });
    result.edges.forEach(function (line) {
      const edge = kinds[line.source + "\u0000" + line.target] || { kind: "next", label: "" };
      const points = line.reversed ? line.points.slice().reverse() : line.points.slice();
      const source = result.nodes[line.source], target = result.nodes[line.target];
      points[0] = { x: source.x + line.dxOut, y: source.y + half };
      points[points.length - 1] = { x: target.x + line.dxIn, y: target.y - half - 2 };
      const d = pathThrough(points.map(function (p) { return { x: p.x + pad, y: p.y + pad }; }), line.reversed);
      const kind = esc(edge.kind);
      parts.push('<g class="gedge kind-' + kind + (line.reversed ? " back" : "") + '" data-source="' + esc(line.source) + '" data-target="' + esc(line.target) + '">'
        + "<title>" + esc(edge.text || (line.source + " → " + line.target)) + "</title>"
        + '<path class="hit" d="' + d + '"/><path class="line" d="' + d + '" marker-end="url(#arrow-' + kind + ')"/></g>');
      if (edge.label) {
        // Halfway down the edge's first stretch, where a switch's cases have fanned out.
        const a = points[0], b = points[1];
        const at = { x: (a.x + b.x) / 2 + pad, y: (a.y + b.y) / 2 + pad };
        labels.push('<span class="edge-label kind-' + kind + '" style="transform: translate(' + at.x + "px," + at.y + 'px) translate(-50%, -50%)">' + esc(edge.label) + "</span>");
      }
      const mid = midpoint(points);
      line.mid = { x: mid.x + pad, y: mid.y + pad };
      line.samples = sample(points, pad);
    });
    svg.innerHTML = parts.join("");
    this.labels.innerHTML = labels.join("");
  };

  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function pathThrough(points, back) {
    let d = "M" + points[0].x + "," + points[0].y;
    for (let i = 1; i < points.length; i++) {
      const a = points[i - 1], b = points[i];
      const dy = Math.max(Math.abs(b.y - a.y) / 2, 24) * (back ? -1 : 1);
      d += " C" + a.x + "," + (a.y + dy) + " " + b.x + "," + (b.y - dy) + " " + b.x + "," + b.y;
    }
    return d;
  }

  function midpoint(points) {
    const i = Math.floor((points.length - 1) / 2);
    const a = points[i], b = points[i + 1] || a;
    return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
  }

  // Points along the edge, for "which edge is under the pointer" while dragging.
  function sample(points, pad) {
    const out = [];
    for (let i = 1; i < points.length; i++) {
      const a = points[i - 1], b = points[i];
      for (let t = 0; t <= 1; t += 0.125) out.push({ x: a.x + (b.x - a.x) * t + pad, y: a.y + (b.y - a.y) * t + pad });
    }
    return out;
  }

  // ---- The view: pan and zoom ------------------------------------------------------

  GraphView.prototype.size = function () {
    if (!this.knownSize) this.measure(); // a canvas never seen before: one layout read
    return this.knownSize;
  };

  GraphView.prototype.measure = function () {
    this.knownSize = { width: this.viewport.clientWidth || 600, height: this.viewport.clientHeight || 400 };
    if (this.section.id) sizes[this.section.id] = this.knownSize;
  };

  // Called after the browser's own layout, so reading the size here forces nothing.
  GraphView.prototype.watchSize = function () {
    const self = this;
    new ResizeObserver(function () {
      const before = self.knownSize;
      self.measure();
      const now = self.knownSize;
      if (before && before.width === now.width && before.height === now.height) return;
      if (!self.moved) self.fit(true);
      self.apply();
      self.drawMinimap();
    }).observe(this.viewport);
  };

  GraphView.prototype.fit = function (initial) {
    const size = this.size();
    let k = Math.min(size.width / this.bounds.width, size.height / this.bounds.height, 1);
    if (initial && k < 0.6) {
      // A long workflow: readable at the top rather than tiny as a whole.
      k = Math.max(Math.min(size.width / this.bounds.width, 0.85), 0.5);
      this.view = { k: k, x: (size.width - this.bounds.width * k) / 2, y: 0 };
      return;
    }
    k = Math.max(k, MIN_ZOOM);
    this.view = { k: k, x: (size.width - this.bounds.width * k) / 2, y: (size.height - this.bounds.height * k) / 2 };
  };

  // After an edit the layout moves: a graph that fits stays centred; a bigger one keeps
  // the step the user worked on (else any step both layouts share) where it was on screen.
  GraphView.prototype.keepInPlace = function (before) {
    const size = this.size(), k = this.view.k;
    if (this.bounds.width * k <= size.width && this.bounds.height * k <= size.height) {
      this.view = { k: k, x: (size.width - this.bounds.width * k) / 2, y: (size.height - this.bounds.height * k) / 2 };
      return;
    }
    const places = (before && before.places) || {};
    const nodes = this.layout.nodes;
    let anchor = before && before.selected && nodes[before.selected] && places[before.selected] ? before.selected : null;
    if (!anchor) anchor = Object.keys(nodes).find(function (key) { return places[key]; });
    if (!anchor) return;
    this.view = {
      k: k,
      x: this.view.x + (places[anchor].x - nodes[anchor].x) * k,
      y: this.view.y + (places[anchor].y - nodes[anchor].y) * k,
    };
  };

  GraphView.prototype.apply = function () {
    const v = this.view;
    this.world.style.transform = "translate(" + v.x + "px," + v.y + "px) scale(" + v.k + ")";
    const selected = this.section.querySelector(".gnode.selected");
    const places = {};
    const nodes = this.layout ? this.layout.nodes : {};
    Object.keys(nodes).forEach(function (key) { places[key] = { x: nodes[key].x, y: nodes[key].y }; });
    views[this.section.id] = { x: v.x, y: v.y, k: v.k, moved: this.moved, places: places, selected: selected && selected.dataset.key };
    this.section.dataset.zoom = v.k.toFixed(2);
    this.drawViewportBox();
  };

  GraphView.prototype.zoomBy = function (factor, at) {
    const size = this.size();
    const point = at || { x: size.width / 2, y: size.height / 2 };
    const v = this.view;
    const k = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, v.k * factor));
    this.view = { k: k, x: point.x - (point.x - v.x) * k / v.k, y: point.y - (point.y - v.y) * k / v.k };
    this.apply();
  };

  GraphView.prototype.panBy = function (dx, dy) {
    this.view = { k: this.view.k, x: this.view.x + dx, y: this.view.y + dy };
    this.apply();
  };

  // Bring a node into view (the one just added, or focused with Tab).
  GraphView.prototype.reveal = function (node) {
    if (!node || !this.layout) return;
    const place = this.layout.nodes[node.dataset.key];
    if (!place) return;
    const size = this.size(), v = this.view, margin = 24;
    const left = (place.x - this.nodeWidth / 2 + this.pad) * v.k + v.x;
    const top = (place.y - this.nodeHeight / 2 + this.pad) * v.k + v.y;
    const right = left + this.nodeWidth * v.k, bottom = top + this.nodeHeight * v.k;
    let dx = 0, dy = 0;
    if (left < margin) dx = margin - left; else if (right > size.width - margin) dx = size.width - margin - right;
    if (top < margin) dy = margin - top; else if (bottom > size.height - margin) dy = size.height - margin - bottom;
    if (dx || dy) this.panBy(dx, dy);
  };

  // Where a point of the page is in the graph's own coordinates.
  GraphView.prototype.toWorld = function (clientX, clientY) {
    const box = this.viewport.getBoundingClientRect();
    return { x: (clientX - box.left - this.view.x) / this.view.k, y: (clientY - box.top - this.view.y) / this.view.k };
  };

  // The edge whose line passes within `radius` px (on screen) of a page point, if any.
  GraphView.prototype.edgeAt = function (clientX, clientY, radius) {
    if (!this.layout) return null;
    const p = this.toWorld(clientX, clientY);
    const limit = (radius || 14) / this.view.k;
    let best = null, bestDistance = limit * limit;
    this.layout.edges.forEach(function (line) {
      (line.samples || []).forEach(function (s) {
        const d = (s.x - p.x) * (s.x - p.x) + (s.y - p.y) * (s.y - p.y);
        if (d < bestDistance) { bestDistance = d; best = line; }
      });
    });
    return best;
  };

  // ---- Minimap ---------------------------------------------------------------------

  GraphView.prototype.drawMinimap = function () {
    const map = this.minimap;
    if (!map) return;
    const w = this.bounds.width, h = this.bounds.height;
    map.setAttribute("viewBox", "0 0 " + w + " " + h);
    map.setAttribute("preserveAspectRatio", "xMidYMid meet");
    const pad = this.pad, nw = this.nodeWidth, nh = this.nodeHeight;
    const layout = this.layout;
    const parts = this.nodes().map(function (node) {
      const place = layout.nodes[node.dataset.key];
      const css = "mini-node" + (node.dataset.state ? " s-" + esc(node.dataset.state) : "") + (node.classList.contains("selected") ? " selected" : "") + (node.classList.contains("type-workflow") ? " subflow" : "");
      return '<rect x="' + (place.x - nw / 2 + pad) + '" y="' + (place.y - nh / 2 + pad) + '" width="' + nw + '" height="' + nh + '" rx="10" class="' + css + '"/>';
    });
    parts.push('<rect class="mini-view"/>');
    map.innerHTML = parts.join("");
    this.box = map.lastChild;
    const size = this.size();
    const fits = Math.min(size.width / this.bounds.width, size.height / this.bounds.height);
    this.section.classList.toggle("graph-large", fits < 0.75);
    this.drawViewportBox();
  };

  GraphView.prototype.drawViewportBox = function () {
    if (!this.box) return;
    const size = this.size(), v = this.view;
    this.box.setAttribute("x", -v.x / v.k);
    this.box.setAttribute("y", -v.y / v.k);
    this.box.setAttribute("width", size.width / v.k);
    this.box.setAttribute("height", size.height / v.k);
  };

  GraphView.prototype.centreOnMinimap = function (event) {
    const box = this.minimap.getBoundingClientRect();
    const scale = Math.min(box.width / this.bounds.width, box.height / this.bounds.height);
    const offsetX = (box.width - this.bounds.width * scale) / 2, offsetY = (box.height - this.bounds.height * scale) / 2;
    const wx = (event.clientX - box.left - offsetX) / scale, wy = (event.clientY - box.top - offsetY) / scale;
    const size = this.size();
    this.view = { k: this.view.k, x: size.width / 2 - wx * this.view.k, y: size.height / 2 - wy * this.view.k };
    this.apply();
  };

  // ---- Input -----------------------------------------------------------------------

  GraphView.prototype.listen = function () {
    const self = this;
    const viewport = this.viewport;
    viewport.addEventListener("wheel", function (event) {
      event.preventDefault();
      self.moved = true;
      if (event.ctrlKey || event.metaKey || Math.abs(event.deltaY) >= Math.abs(event.deltaX)) {
        const box = viewport.getBoundingClientRect();
        self.zoomBy(Math.exp(-event.deltaY * 0.0015), { x: event.clientX - box.left, y: event.clientY - box.top });
      } else {
        self.panBy(-event.deltaX, -event.deltaY);
      }
    }, { passive: false });

    let pan = null;
    viewport.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      if (event.target.closest(".gnode, .gedge, .edge-label, button, a, [data-graph-minimap], .edge-tools")) return;
      pan = { x: event.clientX, y: event.clientY, moved: false };
      viewport.setPointerCapture(event.pointerId);
      viewport.classList.add("panning");
    });
    viewport.addEventListener("pointermove", function (event) {
      if (!pan) return;
      const dx = event.clientX - pan.x, dy = event.clientY - pan.y;
      if (!pan.moved && Math.abs(dx) + Math.abs(dy) < 3) return;
      pan.moved = true;
      self.moved = true;
      pan.x = event.clientX;
      pan.y = event.clientY;
      self.panBy(dx, dy);
    });
    function endPan(event) {
      if (!pan) return;
      const clicked = !pan.moved;
      pan = null;
      viewport.classList.remove("panning");
      if (clicked) self.section.dispatchEvent(new CustomEvent("graph:background-click", { bubbles: true, detail: { event: event } }));
    }
    viewport.addEventListener("pointerup", endPan);
    viewport.addEventListener("pointercancel", endPan);

    if (this.minimap) {
      let dragging = false;
      this.minimap.addEventListener("pointerdown", function (event) {
        dragging = true;
        self.moved = true;
        self.minimap.setPointerCapture(event.pointerId);
        self.centreOnMinimap(event);
      });
      this.minimap.addEventListener("pointermove", function (event) { if (dragging) self.centreOnMinimap(event); });
      this.minimap.addEventListener("pointerup", function () { dragging = false; });
    }

    this.section.addEventListener("click", function (event) {
      const zoom = event.target.closest("[data-graph-zoom]");
      if (zoom) { self.moved = true; self.zoomBy(zoom.dataset.graphZoom === "in" ? 1.25 : 0.8); }
      if (event.target.closest("[data-graph-fit]")) { self.moved = false; self.fit(false); self.apply(); }
    });
    this.section.addEventListener("keydown", function (event) {
      if (event.target.closest("input, textarea, select, dialog") || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "+" || event.key === "=") { self.moved = true; self.zoomBy(1.25); event.preventDefault(); }
      else if (event.key === "-") { self.moved = true; self.zoomBy(0.8); event.preventDefault(); }
      else if (event.key === "0") { self.moved = false; self.fit(false); self.apply(); event.preventDefault(); }
    });
    this.section.addEventListener("focusin", function (event) {
      const node = event.target.closest(".gnode");
      if (node) self.reveal(node);
    });
  };

  function mountAll(root) {
    const scope = root && root.querySelectorAll ? root : document;
    const sections = Array.from(scope.querySelectorAll("[data-graph]"));
    if (scope.matches && scope.matches("[data-graph]")) sections.push(scope);
    sections.forEach(function (section) {
      if (section.graphView && section.graphView.section === section) return;
      new GraphView(section);
    });
  }

  // htmx cleans up a swapped-out element one descendant at a time, with two events each:
  // at 200 steps, ~10,000 events in the middle of the swap. The graph's nodes, edges and
  // minimap carry nothing of htmx's (their buttons have no hx- attributes), so a canvas
  // on its way out lets go of them first. (htmx cleans up the element it replaces only.)
  document.addEventListener("htmx:beforeCleanupElement", function (event) {
    const view = event.target.graphView;
    if (!view || view.section !== event.target) return;
    view.world.replaceChildren();
    if (view.minimap) view.minimap.replaceChildren();
  });

  window.BrickworkGraph = { mountAll: mountAll, views: views };
  if (window.htmx) htmx.onLoad(mountAll);
  else document.addEventListener("DOMContentLoaded", function () { mountAll(document); });
})();
