// The request form: when it is left without submitting after the customer opened a suggested article,
// tell the server (it turns that session's pending suggestion views into deflections). See docs/knowledge-base.md.
(function () {
  var script = document.currentScript;
  var beaconUrl = script && script.dataset.beaconUrl;
  var form = document.getElementById("request-form");
  if (!form || !beaconUrl) return;
  var submitting = false, openedSuggestion = false;
  form.addEventListener("submit", function () { submitting = true; });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-suggestion]")) openedSuggestion = true;
  });
  window.addEventListener("pagehide", function () {
    if (submitting || !openedSuggestion || !navigator.sendBeacon) return;
    var data = new FormData(document.getElementById("deflection-beacon"));
    navigator.sendBeacon(beaconUrl, data);
  });
})();
