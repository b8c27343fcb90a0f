// Embeds the contact form: <script src="https://desk.example.com/static/contact/embed.js" async></script>
// inserts an iframe showing https://desk.example.com/contact/embed/ where the script tag is (or inside the
// element named by data-target="#id"). Only sites the admin allowed can show it (frame-ancestors).
(function () {
  var script = document.currentScript;
  if (!script) return;
  var origin = new URL(script.src, document.baseURI).origin;
  var frame = document.createElement("iframe");
  frame.src = origin + "/contact/embed/";
  frame.title = script.dataset.title || "Contact form";
  frame.setAttribute("width", "100%");
  frame.setAttribute("height", script.dataset.height || "720");
  frame.setAttribute("frameborder", "0");
  frame.className = "atende-contact-frame";
  var target = script.dataset.target && document.querySelector(script.dataset.target);
  if (target) target.appendChild(frame); else script.parentNode.insertBefore(frame, script.nextSibling);
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || event.source !== frame.contentWindow) return;
    var height = event.data && event.data.atendeContactHeight;
    if (typeof height === "number" && height > 100 && height < 10000) frame.setAttribute("height", String(height + 8));
  });
})();
