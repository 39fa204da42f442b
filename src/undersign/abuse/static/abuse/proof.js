// Attack mode's proof of work (undersign/abuse/proof.py says what is computed and why). On
// submit: find a counter whose Argon2id output over (challenge, SHA-256 of the address stripped
// and lower-cased, counter) starts with the asked number of zero bits, put it in the hidden
// fields and send the form. Without JavaScript or WebAssembly the form goes without a proof,
// and the signature waits for a moderator.
(function () {
  "use strict";
  var box = document.querySelector("[data-proof-challenge]");
  var hashwasm = window.hashwasm;
  if (!box || !hashwasm || !hashwasm.argon2id || !hashwasm.sha256 || !window.WebAssembly) return;
  var form = box.closest("form");
  if (!form) return;
  var status = box.querySelector(".proof-status");
  var challengeField = box.querySelector("input[name=proof_challenge]");
  var counterField = box.querySelector("input[name=proof_counter]");
  var memory = parseInt(box.getAttribute("data-proof-memory"), 10);
  var iterations = parseInt(box.getAttribute("data-proof-iterations"), 10);
  var bits = parseInt(box.getAttribute("data-proof-bits"), 10);
  var challenge = box.getAttribute("data-proof-challenge");
  var salt = new TextEncoder().encode("undersign/proof/v1");
  var working = false;
  var proven = false;

  // The page's own words, in its language (data-proof-says-*); English if a page has none.
  function words(name, english) {
    return box.getAttribute("data-proof-says-" + name) || english;
  }

  function say(text) {
    status.textContent = text;
  }

  function leadingZeroBits(bytes) {
    var count = 0;
    for (var i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) {
        count += 8;
        continue;
      }
      var b = bytes[i];
      while ((b & 0x80) === 0) {
        count += 1;
        b <<= 1;
      }
      return count;
    }
    return count;
  }

  // A challenge lives a few minutes; a page left open longer asks for a fresh one first.
  function freshChallenge() {
    var expires = parseInt(challenge.split(".")[2], 10) * 1000;
    if (expires - Date.now() > 60000 || !window.fetch) return Promise.resolve(challenge);
    var url = box.getAttribute("data-proof-renew") + "?challenge=" + encodeURIComponent(challenge);
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { challenge: challenge }; })
      .then(function (body) { challenge = body.challenge || challenge; return challenge; })
      .catch(function () { return challenge; });
  }

  function solve(current, addressHash) {
    var counter = 0;
    function attempt() {
      return hashwasm
        .argon2id({
          password: current + "|" + addressHash + "|" + counter,
          salt: salt,
          parallelism: 1,
          iterations: iterations,
          memorySize: memory,
          hashLength: 32,
          outputType: "binary",
        })
        .then(function (digest) {
          if (leadingZeroBits(digest) >= bits) return counter;
          counter += 1;
          say(
            words("attempts", "Working… (%(attempts)s attempts so far). Please keep this page open.").replace(
              "%(attempts)s",
              String(counter),
            ),
          );
          return attempt();
        });
    }
    return attempt();
  }

  form.addEventListener("submit", function (event) {
    if (proven) return;
    // The claim form's "Search" button re-shows the form: nothing is signed, nothing to prove.
    if (event.submitter && event.submitter.name === "search") return;
    event.preventDefault();
    if (working) return;
    working = true;
    var email = form.querySelector("input[name=email]");
    var address = email ? email.value.trim().toLowerCase() : "";
    say(words("working", "Working… Your browser is doing the calculation; this takes a few seconds."));
    Promise.all([freshChallenge(), hashwasm.sha256(address)])
      .then(function (values) {
        return solve(values[0], values[1]).then(function (counter) {
          challengeField.value = values[0];
          counterField.value = String(counter);
        });
      })
      .catch(function () {
        // Sent without a proof: the signature is kept and waits for a moderator.
        challengeField.value = "";
        counterField.value = "";
      })
      .then(function () {
        proven = true;
        say(words("done", "Done. Sending your signature…"));
        form.submit();
      });
  });
})();
