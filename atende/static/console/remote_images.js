/* "Load images" on a message: remote images are never fetched by the browser on their own. The sanitiser keeps
 * their address in data-remote-src; the page adds a signed data-proxy-src (the desk's image proxy). A click on
 * [data-load-remote-images="<id of the message body>"] moves data-proxy-src into src for that message only.
 * Delegated from document, so timeline parts swapped in by htmx work without re-binding. No inline script. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-load-remote-images]");
    if (!button) return;
    var body = document.getElementById(button.getAttribute("data-load-remote-images"));
    if (!body) return;
    body.querySelectorAll("img[data-proxy-src]").forEach(function (img) {
      img.setAttribute("src", img.getAttribute("data-proxy-src"));
      img.removeAttribute("data-proxy-src");
    });
    button.disabled = true;
    if (button.dataset.loadedText) button.textContent = button.dataset.loadedText;
  });
})();
