// Signature receipts (docs/transparency.md). On the confirm page: make r with Web Crypto and
// send only C = SHA-256("undersign/v1/commit" || petition UUID || r) with the form; r waits
// in this tab's sessionStorage. On the next page: poll for C's inclusion proof and build the
// C2SP tlog-proof receipt here, so r never leaves this device.
(function () {
  "use strict";
  if (!window.crypto || !window.crypto.subtle || !window.fetch || !window.sessionStorage || !window.TextEncoder) return;
  var PREFIX = new TextEncoder().encode("undersign/v1/commit");
  var KEY = "undersign-receipt-";

  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function unhex(text) {
    var out = new Uint8Array(text.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
    return out;
  }
  function concat(parts) {
    var length = parts.reduce(function (n, p) { return n + p.length; }, 0);
    var out = new Uint8Array(length), offset = 0;
    parts.forEach(function (p) { out.set(p, offset); offset += p.length; });
    return out;
  }
  function base64(bytes) {
    return btoa(String.fromCharCode.apply(null, Array.prototype.slice.call(bytes)));
  }
  function uuidBytes(uuid) { return unhex(uuid.replace(/-/g, "")); }

  var form = document.querySelector("form[data-commit-petition]");
  if (form) {
    var petition = form.getAttribute("data-commit-petition");
    var sent = false;
    form.addEventListener("submit", function (event) {
      if (sent) return;
      event.preventDefault();
      sent = true;
      var r = crypto.getRandomValues(new Uint8Array(32));
      crypto.subtle.digest("SHA-256", concat([PREFIX, uuidBytes(petition), r])).then(function (digest) {
        var c = hex(new Uint8Array(digest));
        sessionStorage.setItem(KEY + c, JSON.stringify({ petition: petition, r: hex(r) }));
        form.querySelector("input[name=commitment]").value = c;
        form.submit();
      }, function () { form.submit(); });  // no receipt then: the server makes r and shows it
    });
  }

  var box = document.querySelector("[data-receipt-commitment]");
  if (!box) return;
  var c = box.getAttribute("data-receipt-commitment");
  var saved = sessionStorage.getItem(KEY + c);
  if (!saved) return;
  var secret = JSON.parse(saved);
  var status = box.querySelector("#receipt-status");
  // The page's own words, in its language (data-receipt-says-*); English if a page has none.
  function words(name, english) {
    return box.getAttribute("data-receipt-says-" + name) || english;
  }
  box.hidden = false;
  var tries = 0;

  function build(proof) {
    var extra = concat([new Uint8Array([1]), uuidBytes(secret.petition), unhex(secret.r)]);
    var lines = ["c2sp.org/tlog-proof@v1", "extra " + base64(extra), "index " + proof.index].concat(proof.hashes);
    var text = lines.join("\n") + "\n\n" + proof.checkpoint;
    var link = box.querySelector("#receipt-download");
    link.href = "data:text/plain;charset=utf-8," + encodeURIComponent(text);
    box.querySelector("#receipt-save").hidden = false;
    var area = box.querySelector("#receipt-text");
    area.value = text;
    area.hidden = false;
    // The receipt is on the page now; r need not stay in this tab's storage.
    sessionStorage.removeItem(KEY + c);
    status.textContent = words(
      "in-log",
      "Your signature is in the public log (entry %(index)s). Save your receipt:",
    ).replace("%(index)s", String(proof.index));
  }

  function poll() {
    tries += 1;
    fetch("/log/proof/" + c, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (proof) {
        if (proof) return build(proof);
        if (tries < 600) setTimeout(poll, 1000);
        else status.textContent = words("not-yet", "Your signature is not in the log yet. Check the petition page in a while.");
      })
      .catch(function () { if (tries < 600) setTimeout(poll, 2000); });
  }
  poll();
})();
