// The builder's page glue: palette Add buttons and filter, the panel's autosave and
// reference chips, focus after an edit. The graph's own gestures are in graph/edit.js.
// The server owns the draft: an edit POSTs what happened and swaps in the canvas it
// answers with.
(function () {
  "use strict";

  function builder() { return document.getElementById("builder"); }

  function csrfToken() {
    const input = document.querySelector("#builder [name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function selectedStep() {
    const input = document.getElementById("selected-step");
    return input ? input.value : "";
  }

  function post(url, values) {
    return htmx.ajax("POST", url, {
      source: "#canvas",
      target: "#canvas",
      swap: "outerHTML",
      values: Object.assign({ selected: selectedStep() }, values),
      headers: { "X-CSRFToken": csrfToken() },
    });
  }

  // Palette "Add" buttons: the keyboard's way of dragging an action to the end.
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-add-action]");
    if (!button || !builder()) return;
    event.preventDefault();
    post(builder().dataset.addUrl, { action: button.dataset.addAction });
  });

  // Palette filter.
  document.addEventListener("input", function (event) {
    if (!event.target.matches("[data-palette-filter]")) return;
    const needle = event.target.value.trim().toLowerCase();
    document.querySelectorAll(".palette-item").forEach(function (item) {
      item.hidden = needle !== "" && item.dataset.name.indexOf(needle) === -1;
    });
    document.querySelectorAll(".palette-group").forEach(function (group) {
      group.hidden = !group.querySelector(".palette-item:not([hidden])");
    });
  });

  // In a JSON field a reference is a string: quoted, unless the cursor is inside a string
  // already (an odd number of unescaped quotes before it). A text field holds it bare.
  function needsQuotes(field, position) {
    if (field.dataset.refTarget === "text") return false;
    let inString = false;
    const before = field.value.slice(0, position);
    for (let i = 0; i < before.length; i++) {
      if (before[i] === "\\") i++;
      else if (before[i] === '"') inString = !inString;
    }
    return !inString;
  }

  // Reference chips insert `{{ ref }}` into the JSON field last focused, then autosave.
  let lastField = null;
  document.addEventListener("focusin", function (event) {
    if (event.target.matches("[data-ref-target]")) lastField = event.target;
  });
  document.addEventListener("click", function (event) {
    const chip = event.target.closest("[data-insert-ref]");
    if (!chip) return;
    const field = (lastField && document.body.contains(lastField)) ? lastField : document.getElementById("f-input");
    if (!field || field.disabled) return;
    const text = "{{ " + chip.dataset.insertRef + " }}";
    const start = field.selectionStart || 0;
    const end = field.selectionEnd || 0;
    const inserted = needsQuotes(field, start) ? '"' + text + '"' : text;
    field.setRangeText(inserted, start, end, "end");
    field.focus();
    field.dispatchEvent(new Event("input", { bubbles: true }));
  });

  // Autosave waits 300 ms after the last keystroke. An edit typed just before another
  // request (open another step, move, publish) is saved first, so no edit is ever lost:
  // the other request goes out once the save is done.
  let dirty = false;
  function panelForm() { return document.querySelector("#panel form[hx-post]"); }
  function saving(on) { if (builder()) builder().dataset.saving = on ? "true" : "false"; }
  document.addEventListener("input", function (event) {
    if (event.target.closest("#panel form")) { dirty = true; saving(true); }
  });
  document.addEventListener("htmx:beforeRequest", function (event) {
    const form = panelForm();
    if (form && form.contains(event.detail.elt)) dirty = false;
  });
  // A request whose element its own swap replaced reports its end on a detached element,
  // which never reaches this document's listeners: so while "saving" shows, look again
  // every 200 ms as well as after each request.
  function maybeSaved() {
    if (!dirty && !document.querySelector("#builder .htmx-request")) saving(false);
  }
  document.addEventListener("htmx:afterRequest", maybeSaved);
  setInterval(function () {
    if (builder() && builder().dataset.saving === "true") maybeSaved();
  }, 200);
  document.addEventListener("htmx:confirm", function (event) {
    const form = panelForm();
    if (!dirty || !form || form.contains(event.detail.elt)) return;
    event.preventDefault();
    dirty = false;
    htmx.ajax("POST", form.getAttribute("hx-post"), { source: form, target: "#canvas", swap: "outerHTML" })
      .then(function () { event.detail.issueRequest(true); });
  });
  window.addEventListener("pagehide", function () {
    const form = panelForm();
    if (!dirty || !form) return;
    fetch(form.getAttribute("hx-post"), {
      method: "POST", body: new FormData(form), keepalive: true, credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "HX-Request": "true" },
    });
  });

  // After an edit, the server may name the element that should have focus next
  // (after a removal, the step that took its place).
  document.addEventListener("htmx:afterSettle", function () {
    const announcer = document.getElementById("announcer");
    if (!announcer || !announcer.dataset.focus) return;
    const target = document.getElementById(announcer.dataset.focus);
    announcer.dataset.focus = "";
    if (target) target.focus();
  });

  // A step card is a role=button <div> (a real <button> cannot start a drag): Enter and
  // Space open it as a click does (Space must not scroll the canvas).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" && event.key !== " ") return;
    if (!event.target.matches(".step-open[role=button]")) return;
    event.preventDefault();
    event.target.click();
  });

  // A field that saves on its own ([data-own-input], the action select) keeps its input
  // events from the panel form's autosave.
  function ownInput(event) { event.stopPropagation(); }
  htmx.onLoad(function (content) {
    const root = content.querySelectorAll ? content : document;
    if (root.matches && root.matches("[data-own-input]")) root.addEventListener("input", ownInput);
    root.querySelectorAll("[data-own-input]").forEach(function (field) {
      field.addEventListener("input", ownInput);
    });
  });

  // A button marked aria-disabled does nothing (it stays focusable for screen readers).
  document.addEventListener("click", function (event) {
    const button = event.target.closest("button[aria-disabled='true']");
    if (button) event.preventDefault();
  }, true);
})();
