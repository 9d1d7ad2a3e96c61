// A toast when a run started in this browser session ends. The run page's live polling
// (HTMX) swaps in status badges marked `data-started-here`; a badge that was active when
// first seen and is now finished is announced once, in the #toasts live region
// (role=status), and goes after a while (its close button dismisses it sooner).
(function () {
  "use strict";
  var FINISHED = ["succeeded", "compensated", "failed", "cancelled"];
  var SHOWN_FOR_MS = 10000;
  var seen = {};

  function isFinished(status) { return FINISHED.indexOf(status) >= 0; }

  function toast(badge) {
    var region = document.getElementById("toasts");
    if (!region) return;
    var status = badge.dataset.status;
    var item = document.createElement("div");
    item.className = "toast s-" + status;
    item.dataset.run = badge.dataset.run;
    var link = document.createElement("a");
    link.href = badge.dataset.runUrl;
    link.textContent = "Run #" + badge.dataset.run;
    item.appendChild(link);
    item.appendChild(document.createTextNode(" " + status + "."));
    var close = document.createElement("button");
    close.type = "button";
    close.className = "close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", function () { item.remove(); });
    item.appendChild(close);
    region.appendChild(item);
    window.setTimeout(function () { item.remove(); }, SHOWN_FOR_MS);
  }

  function scan() {
    var badges = document.querySelectorAll("[data-started-here][data-run][data-status]");
    badges.forEach(function (badge) {
      var id = badge.dataset.run;
      var before = seen[id];
      seen[id] = badge.dataset.status;
      if (before && !isFinished(before) && isFinished(badge.dataset.status)) toast(badge);
    });
  }

  document.addEventListener("DOMContentLoaded", scan);
  document.addEventListener("htmx:afterSettle", scan);
})();
