/* Chat widget admin: copy the embed snippet. */
(function () {
  "use strict";
  var button = document.getElementById("chat-copy-snippet");
  if (!button) return;
  button.addEventListener("click", function () {
    var text = document.getElementById(button.dataset.target).textContent;
    var status = document.getElementById("chat-copy-status");
    navigator.clipboard.writeText(text).then(function () { status.textContent = button.dataset.done; },
      function () { status.textContent = text; });
  });
})();
