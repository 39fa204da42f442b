// Live character counters for fields with a limit.
(function () {
  "use strict";
  document.querySelectorAll("[data-counter-for]").forEach(function (counter) {
    var field = document.getElementById(counter.getAttribute("data-counter-for"));
    if (!field) return;
    var limit = parseInt(field.getAttribute("data-limit"), 10);
    // The page's words ({% counter_words %}), in its language's plural form; English without them.
    var rules = window.Intl && Intl.PluralRules ? new Intl.PluralRules(document.documentElement.lang || "en") : null;
    function words(kind, n, english) {
      var said = counter.getAttribute("data-says-" + kind + "-" + (rules ? rules.select(n) : "other"));
      return said ? said.replace("{n}", String(n)) : n + english;
    }
    function update() {
      var left = limit - field.value.replace(/\r\n/g, "\n").length;
      counter.textContent = left >= 0 ? words("left", left, " characters left") : words("over", -left, " characters too many");
    }
    field.addEventListener("input", update);
    update();
  });
})();
