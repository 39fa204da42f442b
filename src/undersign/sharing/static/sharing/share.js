// The share section's copy buttons. Without JavaScript they stay hidden and the link and the
// snippets are plain fields to select and copy by hand.
(function () {
  "use strict";
  function copyBySelection() {
    try { return document.execCommand("copy"); } catch (e) { return false; }
  }
  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("data-copy-status"));
    if (!field || !status) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      function say(copied) {
        status.textContent = button.getAttribute(copied ? "data-copied" : "data-copy-failed");
      }
      field.focus();
      field.select();  // left selected: if copying fails, Ctrl+C is all that is left to do
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(function () { say(true); }, function () { say(copyBySelection()); });
      } else {
        say(copyBySelection());
      }
    });
  });
})();
