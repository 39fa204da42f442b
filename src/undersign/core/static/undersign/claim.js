// Search a petition's registries as the signer types; without JavaScript the form's "Search"
// button does the same with a page load.
(function () {
  "use strict";
  var box = document.querySelector("fieldset[data-members-url]");
  if (!box || !window.fetch) return;
  var input = box.querySelector("input[name=member_query]");
  var results = box.querySelector(".member-results");
  var url = box.getAttribute("data-members-url");
  var timer = null;
  function render(members) {
    var checked = results.querySelector("input[name=member]:checked");
    var keep = checked ? checked.closest("label") : null;
    results.textContent = "";
    if (keep) results.appendChild(keep);
    members.forEach(function (m) {
      if (keep && keep.querySelector("input").value === String(m.id)) return;
      var label = document.createElement("label");
      var radio = document.createElement("input");
      radio.type = "radio";
      radio.name = "member";
      radio.value = String(m.id);
      var details = document.createElement("span");
      details.className = "muted";
      details.textContent = m.office + (m.district ? ", " + m.district : "") + " · " + m.territory;
      label.appendChild(radio);
      label.appendChild(document.createTextNode(" " + m.name + " "));
      label.appendChild(details);
      results.appendChild(label);
    });
    if (!members.length && input.value.trim().length >= 2) {
      var none = document.createElement("p");
      none.className = "muted";
      none.textContent = box.getAttribute("data-says-none") || "No entry matches that search.";
      results.appendChild(none);
    }
  }
  function notice(text) {
    var checked = results.querySelector("input[name=member]:checked");
    var keep = checked ? checked.closest("label") : null;
    results.textContent = "";
    if (keep) results.appendChild(keep);
    var p = document.createElement("p");
    p.className = "errorlist";
    p.setAttribute("role", "alert");
    p.textContent = text || box.getAttribute("data-says-limited") || "Too many searches just now. Wait a minute, then search again.";
    results.appendChild(p);
  }
  function search() {
    var q = input.value.trim();
    if (q.length < 2) return;
    fetch(url + "?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
      .then(function (r) {
        // 429: too many searches from this network; the answer says to wait a minute.
        if (r.status === 429) return r.json().then(function (body) { notice(body.error); return null; });
        return r.ok ? r.json() : { data: [] };
      })
      .then(function (body) { if (body) render(body.data || []); })
      .catch(function () {});
  }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, 250);
  });
  // Enter in the search box searches instead of submitting the signature.
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      search();
    }
  });
})();
