// The run page's graph: a node follows the state the live poll swaps in (its colour comes
// from data-state), and a click (or Enter) on a node opens that step's attempts in the
// timeline below.
(function () {
  "use strict";

  function syncStates(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("#run-graph .run-state[data-state]").forEach(function (state) {
      const node = state.closest(".gnode");
      if (node && node.dataset.state !== state.dataset.state) {
        node.dataset.state = state.dataset.state;
        const mini = node.closest("[data-graph]");
        if (mini && mini.graphView) mini.graphView.drawMinimap();
      }
    });
  }
  document.addEventListener("htmx:oobAfterSwap", function () { syncStates(document); });
  document.addEventListener("htmx:afterSettle", function () { syncStates(document); });

  function openStep(body) {
    const section = document.getElementById(body.dataset.openStep);
    if (!section) return;
    const details = section.querySelector("details");
    if (details && !details.open) details.open = true;
    section.scrollIntoView({ block: "center", behavior: "smooth" });
    const summary = section.querySelector("summary");
    if (summary) summary.focus({ preventScroll: true });
    section.classList.add("flash");
    setTimeout(function () { section.classList.remove("flash"); }, 1200);
  }
  document.addEventListener("click", function (event) {
    const body = event.target.closest("#run-graph [data-open-step]");
    if (body) openStep(body);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" && event.key !== " ") return;
    const body = event.target.closest && event.target.closest("#run-graph [data-open-step]");
    if (!body) return;
    event.preventDefault();
    openStep(body);
  });
})();
