// Live character counters for fields with a limit. The page gives the words in its language as
// data-left-<category> and data-over-<category>, "#" standing for the number, one per plural
// category of Intl.PluralRules (Russian needs "one", "few" and "many"); without them, English.
(function () {
  "use strict";
  var rules = window.Intl && Intl.PluralRules ? new Intl.PluralRules(document.documentElement.lang || "en") : null;
  document.querySelectorAll("[data-counter-for]").forEach(function (counter) {
    var field = document.getElementById(counter.getAttribute("data-counter-for"));
    if (!field) return;
    var limit = parseInt(field.getAttribute("data-limit"), 10);
    function phrase(kind, n, english) {
      var words = (rules && counter.getAttribute("data-" + kind + "-" + rules.select(n))) ||
        counter.getAttribute("data-" + kind + "-other");
      return words ? words.replace("#", String(n)) : n + english;
    }
    function update() {
      var left = limit - field.value.replace(/\r\n/g, "\n").length;
      counter.textContent = left >= 0 ? phrase("left", left, " characters left") : phrase("over", -left, " characters too many");
    }
    field.addEventListener("input", update);
    update();
  });
})();
