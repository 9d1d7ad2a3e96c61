// Small behaviours the pages share. Everything works without them; they make it nicer.
(function () {
  "use strict";

  // Expanded <details> stay expanded when the live timeline re-renders their row.
  const open = new Set();
  document.addEventListener("toggle", function (event) {
    const el = event.target;
    if (!(el instanceof HTMLDetailsElement) || !el.id) return;
    if (el.open) open.add(el.id); else open.delete(el.id);
  }, true);
  document.addEventListener("htmx:afterSettle", function () {
    open.forEach(function (id) {
      const el = document.getElementById(id);
      if (el && !el.open) el.open = true;
    });
  });

  // A live update of the run timeline brings its new scale (#tl-scale's data-total): the
  // bars are drawn against it through --total, set here as no inline <style> may be.
  document.addEventListener("htmx:afterSettle", function () {
    const scale = document.getElementById("tl-scale");
    const timeline = document.getElementById("timeline");
    if (scale && timeline) timeline.style.setProperty("--total", scale.dataset.total);
  });

  // <button data-open-dialog="id"> opens a modal <dialog>; Esc and [data-close-dialog] close it.
  document.addEventListener("click", function (event) {
    const opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.openDialog);
      if (dialog) { event.preventDefault(); dialog.showModal(); }
      return;
    }
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) { event.preventDefault(); closer.closest("dialog").close(); }
    // A click outside an open menu closes it.
    document.querySelectorAll("details.dropdown[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.dropdown[open]").forEach(function (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    });
  });
  // A dialog that the server re-rendered with errors opens itself.
  function openMarked(root) {
    root.querySelectorAll("dialog[data-open]").forEach(function (dialog) {
      if (!dialog.open) dialog.showModal();
    });
  }
  document.addEventListener("DOMContentLoaded", function () { openMarked(document); });
  document.addEventListener("htmx:load", function (event) { openMarked(event.target.parentNode || document); });

  // <form data-confirm="..."> asks before it submits.
  document.addEventListener("submit", function (event) {
    const message = event.target.dataset && event.target.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // Narrow screens: [data-nav-toggle] shows or hides the sidebar it controls. The sidebar
  // is folded only once this script runs (the "js" class), so it never becomes unreachable.
  document.documentElement.classList.add("js");
  document.addEventListener("click", function (event) {
    const toggle = event.target.closest("[data-nav-toggle]");
    if (!toggle) return;
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    document.getElementById(toggle.getAttribute("aria-controls")).classList.toggle("open", open);
  });

  // [data-copy="#selector"] copies the text of the element it points at.
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const source = document.querySelector(button.dataset.copy);
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      const label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  });

  // [data-select-all] toggles every checkbox named by its value in the same form.
  document.addEventListener("change", function (event) {
    const all = event.target.closest("[data-select-all]");
    if (!all) return;
    all.form.querySelectorAll('input[type="checkbox"][name="' + all.dataset.selectAll + '"]')
      .forEach(function (box) { box.checked = all.checked; });
  });
})();
