// Editing the builder's graph with the mouse (and touch): drag an action from the palette
// onto the canvas (a step that waits for nothing), onto a step (runs after it) or onto an
// edge (inserted on it); drag a step's handle onto another step to connect them; click an
// edge, then Delete or "Remove edge". Each gesture only POSTs what it meant to the server,
// which answers with the canvas it now holds. The keyboard's twins: the palette's Add
// buttons, each step's Connect… dialog (key C), Move up/down and Remove.
(function () {
  "use strict";

  function builder() { return document.getElementById("builder"); }
  function canvas() { return document.getElementById("canvas"); }
  function view() { const c = canvas(); return c && c.graphView; }
  function editable() { const b = builder(); return b && b.dataset.editable === "true"; }

  function csrfToken() {
    const input = document.querySelector("#builder [name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function post(url, values) {
    const selected = document.getElementById("selected-step");
    return htmx.ajax("POST", url, {
      source: "#canvas", target: "#canvas", swap: "outerHTML",
      values: Object.assign({ selected: selected ? selected.value : "" }, values),
      headers: { "X-CSRFToken": csrfToken() },
    });
  }

  function nodeAt(x, y) {
    const hit = document.elementFromPoint(x, y);
    return hit && hit.closest("#canvas .gnode");
  }

  function overCanvas(x, y) {
    const viewport = document.querySelector("#canvas [data-graph-viewport]");
    if (!viewport) return false;
    const box = viewport.getBoundingClientRect();
    return x >= box.left && x <= box.right && y >= box.top && y <= box.bottom;
  }

  function clearMarks() {
    document.querySelectorAll("#canvas .drop-target").forEach(function (el) { el.classList.remove("drop-target"); });
    const c = canvas();
    if (c) c.classList.remove("drop-blank");
  }

  // What a drop at (x, y) means: {after, before} or null outside the canvas.
  function dropTarget(x, y) {
    if (!overCanvas(x, y)) return null;
    const node = nodeAt(x, y);
    if (node) return { node: node, after: node.dataset.key, before: "" };
    const v = view();
    const line = v && v.edgeAt(x, y, 16);
    if (line) return { edge: line, after: line.source, before: line.target };
    return { blank: true, after: "", before: "" };
  }

  function markDrop(target) {
    clearMarks();
    if (!target) return;
    if (target.node) target.node.classList.add("drop-target");
    else if (target.edge) {
      const group = document.querySelector('#canvas .gedge[data-source="' + CSS.escape(target.edge.source) + '"][data-target="' + CSS.escape(target.edge.target) + '"]');
      if (group) group.classList.add("drop-target");
    } else canvas().classList.add("drop-blank");
  }

  // ---- Optimistic add: the node shows at once, laid out, until the server's answer -----

  // The server's canvas replaces this within a round trip; the user sees the new step
  // (and the graph re-laid out) right away, which is what "responsive" means at 200 steps.
  function showPending(item, after, before) {
    const c = canvas(), v = view();
    const list = c && c.querySelector(".graph-nodes");
    if (!v || !list) return;
    const node = document.createElement("li");
    node.className = "gnode pending";
    node.dataset.key = "\u0000pending";
    const body = document.createElement("div");
    body.className = "gnode-body";
    const icon = item.querySelector(".palette-icon");
    if (icon) body.appendChild(icon.cloneNode(true)).className = "gnode-icon " + icon.className.replace("palette-icon", "");
    const text = document.createElement("span");
    text.className = "gnode-text";
    text.innerHTML = '<span class="step-key"></span><span class="gnode-title">Adding…</span>';
    text.firstChild.textContent = item.dataset.name;
    body.appendChild(text);
    node.appendChild(body);
    list.appendChild(node);
    const edges = c.querySelector("[data-graph-edge-list]");
    function edge(source, target) {
      const li = document.createElement("li");
      li.dataset.source = source;
      li.dataset.target = target;
      edges.appendChild(li);
    }
    if (after) edge(after, node.dataset.key);
    if (before) {
      edges.querySelectorAll("li").forEach(function (li) {
        if (li.dataset.source === after && li.dataset.target === before) li.remove();
      });
      edge(node.dataset.key, before);
    }
    v.render();
    v.reveal(node);
    timing.pending = performance.now();
    // And on screen: the first task after the next frame runs once it is painted.
    const started = timing.t0;
    requestAnimationFrame(function () {
      setTimeout(function () { if (timing.t0 === started) timing.painted = performance.now(); }, 0);
    });
  }

  // ---- Palette → canvas ------------------------------------------------------------

  let drag = null;
  document.addEventListener("pointerdown", function (event) {
    const item = event.target.closest(".palette-item[data-action]");
    if (!item || event.button !== 0 || event.target.closest("button") || !editable()) return;
    event.preventDefault();
    drag = { item: item, x: event.clientX, y: event.clientY, ghost: null };
  });
  document.addEventListener("pointermove", function (event) {
    if (!drag) return;
    if (!drag.ghost) {
      if (Math.abs(event.clientX - drag.x) + Math.abs(event.clientY - drag.y) < 4) return;
      drag.ghost = drag.item.cloneNode(true);
      drag.ghost.classList.add("drag-ghost");
      drag.ghost.removeAttribute("id");
      drag.ghost.querySelectorAll("button").forEach(function (b) { b.remove(); });
      document.body.appendChild(drag.ghost);
      document.body.classList.add("dragging-action");
    }
    drag.ghost.style.transform = "translate(" + (event.clientX + 8) + "px," + (event.clientY + 8) + "px)";
    markDrop(dropTarget(event.clientX, event.clientY));
  });
  function endDrag(event, cancelled) {
    if (!drag) return;
    const started = drag.ghost;
    const item = drag.item;
    if (drag.ghost) drag.ghost.remove();
    document.body.classList.remove("dragging-action");
    drag = null;
    clearMarks();
    if (!started || cancelled) return;
    const target = dropTarget(event.clientX, event.clientY);
    if (!target) return;
    timing.start();
    showPending(item, target.after, target.before);
    post(builder().dataset.addUrl, { action: item.dataset.action, graph: "1", after: target.after, before: target.before });
  }
  document.addEventListener("pointerup", function (event) { endDrag(event, false); });
  document.addEventListener("pointercancel", function (event) { endDrag(event, true); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && drag) endDrag(event, true);
  });

  // ---- Handle → node: connect ------------------------------------------------------

  let wire = null;
  document.addEventListener("pointerdown", function (event) {
    const handle = event.target.closest("#canvas [data-handle]");
    if (!handle || event.button !== 0) return;
    event.preventDefault();
    event.stopPropagation();
    const v = view();
    const source = handle.closest(".gnode");
    const place = v.layout.nodes[source.dataset.key];
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("class", "wire");
    v.svg.appendChild(path);
    wire = { source: source, from: { x: place.x + v.pad, y: place.y + v.nodeHeight / 2 + v.pad }, path: path };
    source.classList.add("wiring");
    canvas().classList.add("connecting");
  }, true);
  document.addEventListener("pointermove", function (event) {
    if (!wire) return;
    const v = view();
    const to = v.toWorld(event.clientX, event.clientY);
    const dy = Math.max(Math.abs(to.y - wire.from.y) / 2, 30);
    wire.path.setAttribute("d", "M" + wire.from.x + "," + wire.from.y + " C" + wire.from.x + "," + (wire.from.y + dy) + " " + to.x + "," + (to.y - dy) + " " + to.x + "," + to.y);
    clearMarks();
    const node = nodeAt(event.clientX, event.clientY);
    if (node && node !== wire.source) node.classList.add("drop-target");
  });
  document.addEventListener("pointerup", function (event) {
    if (!wire) return;
    const source = wire.source;
    wire.path.remove();
    source.classList.remove("wiring");
    canvas().classList.remove("connecting");
    wire = null;
    clearMarks();
    const target = nodeAt(event.clientX, event.clientY);
    if (!target || target === source) return;
    post(canvas().dataset.linkUrl, { op: "add", source: source.dataset.key, target: target.dataset.key });
  });

  // ---- Edges: select, then Delete --------------------------------------------------

  let selectedEdge = null;
  function selectEdge(group) {
    document.querySelectorAll("#canvas .gedge.selected").forEach(function (g) { g.classList.remove("selected"); });
    const tools = document.querySelector("#canvas [data-edge-tools]");
    selectedEdge = group ? { source: group.dataset.source, target: group.dataset.target } : null;
    if (!tools) return;
    if (!group) { tools.hidden = true; return; }
    group.classList.add("selected");
    const v = view();
    const line = v.layout.edges.find(function (l) { return l.source === selectedEdge.source && l.target === selectedEdge.target; });
    const box = v.viewport.getBoundingClientRect();
    const button = tools.querySelector("[data-remove-edge]");
    button.textContent = "Remove edge " + selectedEdge.source + " → " + selectedEdge.target;
    tools.hidden = false;
    const x = line.mid.x * v.view.k + v.view.x, y = line.mid.y * v.view.k + v.view.y;
    tools.style.left = Math.min(Math.max(x, 8), box.width - 8) + "px";
    tools.style.top = Math.min(Math.max(y, 8), box.height - 8) + "px";
  }
  function removeSelectedEdge() {
    if (!selectedEdge) return;
    const edge = selectedEdge;
    selectEdge(null);
    post(canvas().dataset.linkUrl, { op: "remove", source: edge.source, target: edge.target });
  }
  document.addEventListener("click", function (event) {
    const group = event.target.closest("#canvas .gedge");
    if (group && editable()) { selectEdge(group); return; }
    if (event.target.closest("[data-remove-edge]")) { removeSelectedEdge(); return; }
  });
  document.addEventListener("graph:background-click", function () { if (selectedEdge) selectEdge(null); });
  document.addEventListener("keydown", function (event) {
    if (selectedEdge && (event.key === "Delete" || event.key === "Backspace") && !event.target.closest("input, textarea, select")) {
      event.preventDefault();
      removeSelectedEdge();
    } else if (selectedEdge && event.key === "Escape") {
      selectEdge(null);
    }
  });

  // ---- A step's own buttons: open, connect, move up/down, remove -------------------

  document.addEventListener("click", function (event) {
    const control = event.target.closest("#canvas [data-step-op]");
    if (!control || control.getAttribute("aria-disabled") === "true") return;
    const node = control.closest(".gnode");
    const url = canvas().dataset.stepsUrl + node.dataset.stepIndex + "/";
    const op = control.dataset.stepOp;
    event.preventDefault();
    if (op === "open") {
      htmx.ajax("GET", url + "?key=" + encodeURIComponent(node.dataset.key), { source: control, target: "#canvas", swap: "outerHTML" });
    } else if (op === "connect") {
      htmx.ajax("GET", url + "connect/", { source: control, target: "#dialog-slot", swap: "innerHTML" });
    } else if (op === "up" || op === "down") {
      post(url + "move/", { direction: op });
    } else if (op === "remove") {
      post(url + "remove/", {});
    }
  });

  // ---- Keyboard: C on a step opens its connections ---------------------------------

  document.addEventListener("keydown", function (event) {
    if ((event.key !== "c" && event.key !== "C") || event.ctrlKey || event.metaKey || event.altKey) return;
    const node = event.target.closest && event.target.closest("#canvas .gnode");
    if (!node || !editable()) return;
    const button = node.querySelector("[data-step-op=connect]");
    if (button) { event.preventDefault(); button.click(); }
  });
  // An edge added or removed from the dialog closes it (the focus goes back to the step).
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.elt.closest || !event.detail.elt.closest("[data-link]")) return;
    // Removed, not only closed: a dialog marked data-open would reopen when htmx loads.
    const dialog = document.getElementById("connect-dialog");
    if (dialog) { dialog.close(); dialog.remove(); }
  });

  // ---- After every re-render: show the selected step; time the edit ----------------

  const timing = {
    t0: null,
    pending: null,
    start: function () { this.t0 = performance.now(); this.pending = null; this.painted = null; },
  };
  window.__graphTimings = [];
  // The palette's Add button appends after the last step (builder.js posts it).
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-add-action]");
    if (!button || !editable()) return;
    timing.start();
    const last = Array.from(document.querySelectorAll("#canvas .gnode[data-step-index]")).pop();
    showPending(button.closest(".palette-item"), last ? last.dataset.key : "", "");
  }, true);
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "canvas") timing.swap = performance.now();
  });
  document.addEventListener("graph:rendered", function (event) {
    if (event.target.id !== "canvas" || event.target.querySelector(".gnode.pending")) return;
    selectedEdge = null;
    const selected = event.target.querySelector(".gnode.selected");
    if (selected && event.target.graphView) event.target.graphView.reveal(selected);
    if (timing.t0 !== null) {
      const now = performance.now();
      window.__graphTimings.push({
        nodes: event.detail.nodes,
        shownMs: timing.pending ? timing.pending - timing.t0 : null,
        paintedMs: timing.painted ? timing.painted - timing.t0 : null,
        totalMs: now - timing.t0,
        clientMs: timing.swap ? now - timing.swap : null,
        layoutMs: event.detail.layoutMs,
        renderMs: event.detail.renderMs,
      });
      timing.t0 = null;
    }
  });
})();
