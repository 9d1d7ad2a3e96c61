// Live lists (runs, failures, webhook deliveries). Each list has a hidden poller
// (templates/core/_live_poller.html, hx-trigger="live-poll"); every 2 s this fires it,
// but only while the tab is visible: a hidden tab has no timer and sends nothing, and
// on its return one poll catches up at once. The poller sends the ids of the rows the
// page shows, so the server replaces those in place and inserts only the others; an
// inserted row then moves to its place by id (newest first).
(function () {
  "use strict";
  var EVERY_MS = 2000;
  var timer = null;

  function visible() { return document.visibilityState !== "hidden"; }
  function pollers() { return document.querySelectorAll("[data-live]"); }

  function poll() {
    if (!visible()) { stop(); return; }
    pollers().forEach(function (poller) { htmx.trigger(poller, "live-poll"); });
  }
  function start() {
    if (timer === null && visible() && pollers().length) timer = window.setInterval(poll, EVERY_MS);
  }
  function stop() {
    if (timer !== null) { window.clearInterval(timer); timer = null; }
  }

  document.addEventListener("visibilitychange", function () {
    if (visible()) { poll(); start(); } else { stop(); }
  });
  document.addEventListener("DOMContentLoaded", start);
  document.addEventListener("htmx:afterSettle", start); // a filter change brings a new poller

  function rowsOf(poller) {
    var bodies = poller.dataset.liveRows;
    return bodies ? document.querySelectorAll(bodies.split(",").map(function (body) {
      return body + " > tr[data-id]";
    }).join(",")) : [];
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var poller = event.detail.elt;
    if (!poller.hasAttribute || !poller.hasAttribute("data-live")) return;
    var ids = [];
    rowsOf(poller).forEach(function (row) { ids.push(row.dataset.id); });
    event.detail.parameters.shown = ids.join(",");
  });

  // The other live parts (a run's timeline, the dashboard's recent runs, a step test's
  // result) poll with htmx's `every`: while the tab is hidden their requests are dropped,
  // and the first tick after it shows again catches up.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var trigger = elt.getAttribute && elt.getAttribute("hx-trigger");
    if (!visible() && trigger && /^every /.test(trigger)) event.preventDefault();
  });

  function place(row) {
    row.removeAttribute("data-live-new");
    var id = Number(row.dataset.id);
    var next = null;
    for (var other = row.parentNode.firstElementChild; other; other = other.nextElementSibling) {
      if (other !== row && other.dataset.id && Number(other.dataset.id) < id) { next = other; break; }
    }
    if (row.nextElementSibling !== next) row.parentNode.insertBefore(row, next);
  }

  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("tr[data-live-new]").forEach(place);
    document.querySelectorAll("tr[data-live-empty]").forEach(function (empty) {
      if (empty.parentNode.querySelector(":scope > tr[data-id]")) empty.remove();
    });
  });
})();
