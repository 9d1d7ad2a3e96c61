// A live countdown in every <time data-countdown datetime="..."> (a wait's wake-up or
// timeout). Looked up at every tick, so rows the timeline swaps in count down too.
(function () {
  "use strict";
  function text(seconds) {
    if (seconds <= 0) return "a moment";
    var s = Math.ceil(seconds);
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    var m = Math.floor((s % 3600) / 60), rest = s % 60;
    if (d) return d + " d " + h + " h";
    if (h) return h + " h " + m + " min";
    if (m) return m + " min " + rest + " s";
    return rest + " s";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(at)) el.textContent = text((at - now) / 1000);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
  });
})();
