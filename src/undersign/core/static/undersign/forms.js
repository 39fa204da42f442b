// Live character counters for fields with a limit.
(function () {
  "use strict";
  document.querySelectorAll("[data-counter-for]").forEach(function (counter) {
    var field = document.getElementById(counter.getAttribute("data-counter-for"));
    if (!field) return;
    var limit = parseInt(field.getAttribute("data-limit"), 10);
    function update() {
      var left = limit - field.value.replace(/\r\n/g, "\n").length;
      counter.textContent = left >= 0 ? left + " characters left" : -left + " characters too many";
    }
    field.addEventListener("input", update);
    update();
  });
})();
