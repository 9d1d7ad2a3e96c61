// The run page's timeline: zoom into a time range (buttons, or drag across the axis), and
// a tooltip with a bar's exact times on hover and when its row has the keyboard focus.
// Bars are drawn in CSS from --start/--dur against --from/--span (static/css/app.css):
// zooming only sets those two on #timeline, so rows the live view swaps in follow it.
(function () {
  "use strict";
  var view = null; // {from, span} in seconds; null: the whole run ("fit")
  var MIN_SPAN = 0.01;

  function timeline() { return document.getElementById("timeline"); }
  function total() {
    var scale = document.getElementById("tl-scale");
    return Math.max(parseFloat(scale ? scale.dataset.total : "1") || 1, 0.001);
  }
  // As core/templatetags/brickwork.py's `duration` writes it.
  function duration(seconds) {
    if (seconds < 1) return Math.round(seconds * 1000) + " ms";
    if (seconds < 60) return seconds.toFixed(1) + " s";
    var minutes = Math.floor(seconds / 60), rest = Math.floor(seconds % 60);
    if (minutes < 60) return minutes + " m " + String(rest).padStart(2, "0") + " s";
    return Math.floor(minutes / 60) + " h " + String(minutes % 60).padStart(2, "0") + " m";
  }

  function apply() {
    var line = timeline();
    if (!line) return;
    var axis = document.querySelectorAll("#tl-axis .scale span");
    var status = document.getElementById("tl-zoom-status");
    var fit = document.querySelector("[data-zoom=fit]");
    if (view === null) {
      line.style.removeProperty("--from");
      line.style.removeProperty("--span");
      if (status) status.textContent = "";
      if (fit) fit.setAttribute("aria-pressed", "true");
    }
    var shown = current();
    axis.forEach(function (tick, index) {
      tick.textContent = duration(shown.from + (shown.span * index) / (axis.length - 1));
    });
    if (view === null) return;
    line.style.setProperty("--from", view.from.toFixed(3));
    line.style.setProperty("--span", view.span.toFixed(3));
    if (status) {
      status.textContent = "Showing " + duration(view.from) + " to " + duration(view.from + view.span);
    }
    if (fit) fit.setAttribute("aria-pressed", "false");
  }

  function show(from, span) {
    var whole = total();
    span = Math.min(Math.max(span, MIN_SPAN), whole);
    from = Math.min(Math.max(from, 0), whole - span);
    view = span >= whole ? null : { from: from, span: span };
    apply();
  }

  function current() { return view || { from: 0, span: total() }; }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-zoom]");
    if (!button) return;
    var now = current(), middle = now.from + now.span / 2;
    switch (button.dataset.zoom) {
      case "in": show(middle - now.span / 4, now.span / 2); break;
      case "out": show(middle - now.span, now.span * 2); break;
      case "earlier": show(now.from - now.span / 2, now.span); break;
      case "later": show(now.from + now.span / 2, now.span); break;
      default: view = null; apply();
    }
  });

  // Drag across the axis to show that range.
  var drag = null;
  document.addEventListener("pointerdown", function (event) {
    var scale = event.target.closest("#tl-axis .scale");
    if (!scale || event.button !== 0) return;
    var box = scale.getBoundingClientRect();
    var band = document.createElement("span");
    band.className = "tl-band";
    scale.appendChild(band);
    drag = { scale: scale, box: box, x: event.clientX, band: band };
    scale.setPointerCapture(event.pointerId);
    event.preventDefault();
    paint(event.clientX);
  });
  function paint(x) {
    var left = Math.max(Math.min(drag.x, x), drag.box.left);
    var right = Math.min(Math.max(drag.x, x), drag.box.right);
    drag.band.style.left = left - drag.box.left + "px";
    drag.band.style.width = Math.max(right - left, 1) + "px";
    return [(left - drag.box.left) / drag.box.width, (right - drag.box.left) / drag.box.width];
  }
  document.addEventListener("pointermove", function (event) { if (drag) paint(event.clientX); });
  document.addEventListener("pointerup", function (event) {
    if (!drag) return;
    var range = paint(event.clientX), now = current();
    drag.band.remove();
    drag = null;
    if (range[1] - range[0] < 0.01) return; // a click, not a drag
    show(now.from + range[0] * now.span, (range[1] - range[0]) * now.span);
  });

  // A live update brings a new axis (and a new total): zoomed, keep showing the same range.
  document.addEventListener("htmx:afterSettle", apply);

  // The tooltip: one element, described-by for the row that has the focus.
  function tip() {
    var el = document.getElementById("tl-tip");
    if (!el) {
      el = document.createElement("div");
      el.id = "tl-tip";
      el.className = "tl-tip";
      el.setAttribute("role", "tooltip");
      el.hidden = true;
      document.body.appendChild(el);
    }
    return el;
  }
  // The text a bar's title held: taken once, so that the browser's own tooltip does not
  // show on top of this one.
  function textOf(bar) {
    if (bar.hasAttribute("title")) {
      bar.dataset.tip = bar.getAttribute("title");
      bar.removeAttribute("title");
    }
    return bar.dataset.tip || "";
  }
  function place(el, anchor, text) {
    el.textContent = text;
    el.hidden = false;
    var box = anchor.getBoundingClientRect();
    var width = el.offsetWidth;
    var left = Math.min(Math.max(box.left + window.scrollX, 8), window.scrollX + document.documentElement.clientWidth - width - 8);
    el.style.left = left + "px";
    el.style.top = box.bottom + window.scrollY + 6 + "px";
  }
  function hide() { var el = document.getElementById("tl-tip"); if (el) el.hidden = true; }

  document.addEventListener("pointerover", function (event) {
    var bar = event.target.closest ? event.target.closest("#timeline .bar") : null;
    if (bar) place(tip(), bar, textOf(bar));
  });
  document.addEventListener("pointerout", function (event) {
    if (event.target.closest && event.target.closest("#timeline .bar")) hide();
  });
  document.addEventListener("focusin", function (event) {
    var row = event.target.closest ? event.target.closest("#timeline summary") : null;
    // Keyboard focus only: a click opens the row, and its panes must not hide under a tip.
    if (!row || !row.matches(":focus-visible")) return;
    var bars = Array.prototype.slice.call(row.querySelectorAll(":scope > .track > .bar, :scope .track > .bar"));
    var text = bars.map(textOf).filter(Boolean).join(" · ");
    if (!text) return;
    var el = tip();
    place(el, row.querySelector(".track") || row, text);
    row.setAttribute("aria-describedby", "tl-tip");
  });
  document.addEventListener("focusout", function (event) {
    var row = event.target.closest ? event.target.closest("#timeline summary") : null;
    if (!row) return;
    row.removeAttribute("aria-describedby");
    hide();
  });
  document.addEventListener("keydown", function (event) { if (event.key === "Escape") hide(); });
})();
