// The light hint of the mistyped-address guard (core/addresses.py, which the server applies
// too): when the e-mail field is left with an address whose domain is one slip away from a
// common one, offer the likely address under the field. It only suggests; nothing is sent.
(function () {
  "use strict";
  function distance(a, b) {
    var prev2 = [], prev = [], cur, i, j;
    for (j = 0; j <= b.length; j++) prev.push(j);
    for (i = 1; i <= a.length; i++) {
      cur = [i];
      for (j = 1; j <= b.length; j++) {
        cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) cur[j] = Math.min(cur[j], prev2[j - 2] + 1);
      }
      prev2 = prev; prev = cur;
    }
    return prev[b.length];
  }
  function suggestion(email, domains) {
    var at = email.lastIndexOf("@");
    if (at < 1) return null;
    var domain = email.slice(at + 1).toLowerCase(), best = null, bestDistance = 3;
    if (domains.indexOf(domain) !== -1) return null;
    domains.forEach(function (candidate) {
      var d = distance(domain, candidate);
      if ((d === 1 || (d === 2 && candidate.length >= 8)) && d < bestDistance) { best = candidate; bestDistance = d; }
    });
    return best && email.slice(0, at + 1) + best;
  }
  document.querySelectorAll("input[data-address-domains]").forEach(function (field) {
    var domains = field.getAttribute("data-address-domains").split(" ");
    var hint = document.createElement("p");
    hint.className = "hint address-hint";
    hint.setAttribute("aria-live", "polite");
    field.insertAdjacentElement("afterend", hint);
    function check() {
      var likely = suggestion(field.value.trim(), domains);
      hint.textContent = "";
      if (!likely) return;
      var parts = field.getAttribute("data-address-hint").split("%s");
      var use = document.createElement("button");
      use.type = "button";
      use.className = "link";
      use.textContent = likely;
      use.addEventListener("click", function () { field.value = likely; hint.textContent = ""; field.focus(); });
      hint.append(parts[0], use, parts[1] || "");
    }
    field.addEventListener("change", check);
  });
})();
