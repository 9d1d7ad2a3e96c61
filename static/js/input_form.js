// The step panel's typed input fields (templates/builder/_input_fields.html): a second view
// of the JSON in #f-input. A typed edit is written into #f-input before the panel's
// autosave reads the form (this listener runs in the capture phase, before htmx's); an
// edit of the JSON fills the typed fields back. Each field can hold a reference instead,
// typed in a combobox whose listbox offers what the step may reference. The same combobox
// serves the for-each list (`{{ ref }}`) and conditions (data-ref-combo="bare": the name
// under the cursor is completed, bare, as core/expressions.py reads it).
(function () {
  "use strict";

  const JSON_VIEW_KEY = "brickwork.inputJson";

  function jsonArea() { return document.getElementById("f-input"); }
  function typedFields() { return document.querySelectorAll("[data-typed-fields] .typed-field"); }

  function parsedInput() {
    const area = jsonArea();
    if (!area) return null;
    try {
      const value = JSON.parse(area.value.trim() || "{}");
      return value && typeof value === "object" && !Array.isArray(value) ? value : null;
    } catch (error) {
      return null;
    }
  }

  function setInert(inert) {
    const box = document.querySelector("[data-typed-fields]");
    if (!box) return;
    box.toggleAttribute("data-inert", inert);
    const note = box.querySelector("[data-typed-inert]");
    if (note) note.hidden = !inert;
  }

  // ---- Typed fields -> JSON ----------------------------------------------------------

  // {set: false} removes the key; {keep: true} leaves the JSON's value as it is.
  function readField(field) {
    if (field.dataset.keep === "true") return { keep: true };
    if (field.dataset.mode === "ref") {
      const text = field.querySelector("[data-ref-combo]").value.trim();
      return { set: text !== "", value: text };
    }
    const widget = field.querySelector("[data-typed]");
    const kind = field.dataset.kind;
    const text = widget.value;
    if (kind === "boolean") return { set: field.dataset.present === "true", value: widget.checked };
    if (text.trim() === "") return { set: false };
    if (kind === "number") {
      const number = Number(text.trim());
      const integer = field.hasAttribute("data-integer");
      const ok = Number.isFinite(number) && (!integer || Number.isInteger(number));
      return { set: true, value: ok ? number : text };  // not a number: the validator says so
    }
    if (kind === "enum") return { set: true, value: JSON.parse(text) };
    if (kind === "secret") return { set: true, value: "{{ secrets." + text + " }}" };
    if (kind === "json") {
      try { return { set: true, value: JSON.parse(text) }; } catch (error) { return { set: true, value: text }; }
    }
    return { set: true, value: text };
  }

  function writeJson() {
    const value = parsedInput();
    setInert(value === null);
    if (value === null) return;
    typedFields().forEach(function (field) {
      const read = readField(field);
      if (read.keep) return;
      if (read.set) value[field.dataset.field] = read.value;
      else delete value[field.dataset.field];
    });
    jsonArea().value = JSON.stringify(value, null, 2);
  }

  // ---- JSON -> typed fields ----------------------------------------------------------

  function isSecretRef(value) { return /^\s*{{\s*secrets\.[\w-]+\s*}}\s*$/.test(value); }

  function fillField(field, present, value) {
    const kind = field.dataset.kind;
    const widget = field.querySelector("[data-typed]");
    const combo = field.querySelector("[data-ref-combo]");
    const reference = present && typeof value === "string" && value.indexOf("{{") !== -1
      && !(kind === "secret" && isSecretRef(value));
    setMode(field, reference ? "ref" : "value");
    field.dataset.present = present ? "true" : "false";
    field.dataset.keep = "false";
    combo.value = reference ? value : "";
    if (reference) return;
    if (kind === "boolean") {
      if (present && typeof value !== "boolean") field.dataset.keep = "true";
      else widget.checked = present && value;
    } else if (kind === "enum") {
      widget.value = present ? JSON.stringify(value) : "";
      if (present && widget.value === "") field.dataset.keep = "true";
    } else if (kind === "secret") {
      const name = present && isSecretRef(value) ? value.replace(/[{}\s]/g, "").slice(8) : "";
      widget.value = name;
      if (present && widget.value !== name) field.dataset.keep = "true";
    } else if (kind === "json") {
      widget.value = present ? JSON.stringify(value, null, 2) : "";
    } else if (kind === "number") {
      if (present && typeof value !== "number") field.dataset.keep = "true";
      else widget.value = present ? String(value) : "";
    } else {
      if (present && typeof value !== "string") field.dataset.keep = "true";
      else widget.value = present ? value : "";
    }
    // A value of another type than the widget's stays in the JSON, untouched by this field.
    widget.disabled = field.dataset.keep === "true";
  }

  function fillFields() {
    const value = parsedInput();
    setInert(value === null);
    if (value === null) return;
    typedFields().forEach(function (field) {
      const name = field.dataset.field;
      fillField(field, Object.prototype.hasOwnProperty.call(value, name), value[name]);
    });
  }

  document.addEventListener("input", function (event) {
    const target = event.target;
    if (target.id === "f-input") { fillFields(); return; }
    const field = target.closest && target.closest("[data-typed-fields] .typed-field");
    if (!field) return;
    if (target.matches("[data-typed]")) field.dataset.present = "true";
    writeJson();
  }, true);
  document.addEventListener("change", function (event) {
    // Some browsers report a checkbox or select only by `change`: write it all the same.
    if (event.target.closest && event.target.closest("[data-typed-fields]")) writeJson();
  }, true);

  // ---- Value or reference ------------------------------------------------------------

  function setMode(field, mode) {
    field.dataset.mode = mode;
    field.querySelector(".typed-value").hidden = mode === "ref";
    field.querySelector(".typed-ref").hidden = mode !== "ref";
    field.querySelector("[data-ref-toggle]").setAttribute("aria-pressed", String(mode === "ref"));
  }

  document.addEventListener("click", function (event) {
    const toggle = event.target.closest("[data-ref-toggle]");
    if (!toggle) return;
    const field = toggle.closest(".typed-field");
    const toRef = field.dataset.mode !== "ref";
    setMode(field, toRef ? "ref" : "value");
    const combo = field.querySelector("[data-ref-combo]");
    if (toRef) {
      combo.focus();
      openList(combo);
    } else {
      combo.value = "";
      closeList(combo);
      field.querySelector("[data-typed]").focus();
    }
    combo.dataset.picking = "true";
    combo.dispatchEvent(new Event("input", { bubbles: true }));
    combo.dataset.picking = "false";
  });

  // ---- The reference combobox --------------------------------------------------------

  function listOf(combo) { return document.getElementById(combo.getAttribute("aria-controls")); }
  function visibleOptions(combo) { return Array.from(listOf(combo).querySelectorAll("[role=option]:not([hidden])")); }

  function isBare(combo) { return combo.dataset.refCombo === "bare"; }

  // A condition's name under the cursor: [start, end) of the dotted name around it.
  function bareSpan(combo) {
    const text = combo.value;
    const caret = combo.selectionStart === null ? text.length : combo.selectionStart;
    let start = caret;
    let end = caret;
    while (start > 0 && /[\w.]/.test(text[start - 1])) start--;
    while (end < text.length && /[\w.]/.test(text[end])) end++;
    return [start, end];
  }

  // The for-each item's references exist once the step's for-each list is set.
  function forEachSet() {
    const field = document.getElementById("f-for-each");
    return Boolean(field && field.value.trim());
  }

  function showItemChips() {
    document.querySelectorAll("[data-insert-ref][data-for-each-only]").forEach(function (chip) {
      chip.hidden = !forEachSet();
    });
  }

  // The text being completed: a condition's name under the cursor; after an unclosed `{{`;
  // else the whole value.
  function query(combo) {
    const text = combo.value;
    if (isBare(combo)) {
      const span = bareSpan(combo);
      return text.slice(span[0], span[1]);
    }
    const open = text.lastIndexOf("{{");
    if (open !== -1 && open > text.lastIndexOf("}}")) return text.slice(open + 2).trim();
    return text.replace(/[{}]/g, "").trim();
  }

  function openList(combo) {
    const needle = query(combo).toLowerCase();
    const list = listOf(combo);
    const items = forEachSet();
    list.querySelectorAll("[role=option]").forEach(function (option) {
      const unmatched = needle !== "" && option.dataset.ref.toLowerCase().indexOf(needle) === -1;
      option.hidden = unmatched || (option.hasAttribute("data-for-each-only") && !items);
    });
    const any = visibleOptions(combo).length > 0;
    list.hidden = !any;
    combo.setAttribute("aria-expanded", String(any));
    setActive(combo, null);
  }

  function closeList(combo) {
    listOf(combo).hidden = true;
    combo.setAttribute("aria-expanded", "false");
    setActive(combo, null);
  }

  function setActive(combo, option) {
    listOf(combo).querySelectorAll("[aria-selected=true]").forEach(function (other) {
      other.setAttribute("aria-selected", "false");
    });
    if (option) {
      option.setAttribute("aria-selected", "true");
      combo.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      combo.removeAttribute("aria-activedescendant");
    }
  }

  function pick(combo, option) {
    if (isBare(combo)) {
      const span = bareSpan(combo);
      combo.setRangeText(option.dataset.ref, span[0], span[1], "end");
    } else {
      const text = "{{ " + option.dataset.ref + " }}";
      const value = combo.value;
      const open = value.lastIndexOf("{{");
      combo.value = open !== -1 && open > value.lastIndexOf("}}") ? value.slice(0, open) + text : text;
    }
    closeList(combo);
    combo.dataset.picking = "true";
    combo.dispatchEvent(new Event("input", { bubbles: true }));
    combo.dataset.picking = "false";
    combo.focus();
  }

  document.addEventListener("input", function (event) {
    const combo = event.target;
    if (combo.id === "f-for-each") showItemChips();
    if (!combo.matches || !combo.matches("[data-ref-combo]") || combo.dataset.picking === "true") return;
    // In a condition, a space or an operator ends a name: the list waits for the next one.
    if (isBare(combo) && query(combo) === "") closeList(combo);
    else openList(combo);
  });
  document.addEventListener("focusin", function (event) {
    if (event.target.matches("[data-ref-combo]")) openList(event.target);
  });
  document.addEventListener("focusout", function (event) {
    if (event.target.matches("[data-ref-combo]")) closeList(event.target);
  });
  document.addEventListener("keydown", function (event) {
    const combo = event.target;
    if (!combo.matches("[data-ref-combo]")) return;
    const options = visibleOptions(combo);
    const active = document.getElementById(combo.getAttribute("aria-activedescendant") || "");
    const at = options.indexOf(active);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (listOf(combo).hidden) openList(combo);
      const shown = visibleOptions(combo);
      if (!shown.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      const next = at === -1 ? (step > 0 ? 0 : shown.length - 1) : (at + step + shown.length) % shown.length;
      setActive(combo, shown[next]);
    } else if (event.key === "Enter") {
      event.preventDefault();  // never submits the panel form
      if (active && !listOf(combo).hidden) pick(combo, active);
    } else if (event.key === "Escape" && !listOf(combo).hidden) {
      event.preventDefault();
      event.stopPropagation();
      closeList(combo);
    }
  });
  // Mouse: pressing an option must not blur the combobox (which would close the list).
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest(".ref-listbox [role=option]")) event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    const option = event.target.closest(".ref-listbox [role=option]");
    if (!option) return;
    const combo = document.querySelector("[aria-controls='" + option.parentElement.id + "']");
    if (combo) pick(combo, option);
  });

  // ---- The JSON view -----------------------------------------------------------------

  function applyJsonView(shown) {
    const toggle = document.getElementById("json-toggle");
    const view = document.getElementById("input-json");
    if (!toggle || !view) return;
    toggle.setAttribute("aria-expanded", String(shown));
    view.hidden = !shown;
  }

  document.addEventListener("click", function (event) {
    const toggle = event.target.closest("[data-json-toggle]");
    if (!toggle) return;
    const shown = toggle.getAttribute("aria-expanded") !== "true";
    try { localStorage.setItem(JSON_VIEW_KEY, shown ? "shown" : "hidden"); } catch (error) { /* private mode */ }
    applyJsonView(shown);
  });

  htmx.onLoad(function (content) {
    const fresh = content.matches && (content.matches("[data-typed-fields]") || content.querySelector("[data-typed-fields]"));
    let stored = null;
    try { stored = localStorage.getItem(JSON_VIEW_KEY); } catch (error) { /* private mode */ }
    applyJsonView(stored !== "hidden");
    showItemChips();
    if (fresh) fillFields();  // not on other swaps: a field being typed in keeps its text
  });
})();
