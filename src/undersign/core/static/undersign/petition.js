// Refresh the signature count by polling count.json; the page itself stays cacheable.
(function () {
  "use strict";
  var el = document.querySelector("[data-count-url]");
  if (!el || !window.fetch) return;
  var seconds = Math.max(parseInt(el.getAttribute("data-interval") || "5", 10), 2);
  // Grouped as the page's language groups numbers (U+00A0 in Russian), not the browser's.
  var format = new Intl.NumberFormat(document.documentElement.lang || undefined);
  function refresh() {
    fetch(el.getAttribute("data-count-url"), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (body && typeof body.signature_count === "number") {
          el.textContent = format.format(body.signature_count);
          var bar = document.querySelector("progress.progress");
          if (bar) bar.value = body.signature_count;
        }
      })
      .catch(function () {});
  }
  setInterval(refresh, seconds * 1000);
})();
