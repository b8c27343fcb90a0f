// Inside the embedded contact form: tell the embedding page how tall the form is, so its iframe fits it.
(function () {
  if (window.parent === window) return;
  var last = 0;
  function report() {
    var height = document.documentElement.scrollHeight;
    if (height !== last) {
      last = height;
      window.parent.postMessage({ atendeContactHeight: height }, "*");
    }
  }
  window.addEventListener("load", report);
  document.addEventListener("htmx:afterSettle", report);
  if (window.ResizeObserver) new ResizeObserver(report).observe(document.documentElement);
})();
