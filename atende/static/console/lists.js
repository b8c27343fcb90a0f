/* Ticket lists: "select all" and showing only the bulk-action fields the chosen action needs.
   Delegated listeners, so lists swapped in by htmx keep working. */
(function () {
  "use strict";
  // Never redraw a ticket list under an agent who is selecting tickets: the list's own refresh
  // (`atende:ticket-list-stale`) waits until nothing is selected. Decided here, not in an htmx trigger filter,
  // which htmx evaluates with eval: the Content-Security-Policy forbids it, and htmx then lets every event through.
  var listStale = false;
  function listIdle() { return !document.querySelector("#ticket-list input[name=tickets]:checked"); }
  function refreshListWhenIdle() {
    listStale = !listIdle();
    if (!listStale) document.body.dispatchEvent(new CustomEvent("atende:ticket-list-stale", { bubbles: true }));
  }

  // Ticket changes come in bursts: a new ticket, then routing and assignment a moment later in the background
  // worker. Lists and counts redraw at the first change and once more after the last one of the burst, at most
  // every REDRAW_MS, as the event `atende:lists-stale`; so a row always ends in its state after the background
  // work. (htmx's own `throttle` drops the changes that arrive during its window, and with them that state.)
  var REDRAW_MS = 1500;
  var redrawTimer = null;
  var redrawAgain = false;
  function redraw() {
    document.body.dispatchEvent(new CustomEvent("atende:lists-stale", { bubbles: true }));
    refreshListWhenIdle();
    redrawTimer = setTimeout(function () {
      redrawTimer = null;
      if (redrawAgain) { redrawAgain = false; redraw(); }
    }, REDRAW_MS);
  }
  document.body.addEventListener("atende:ticket-changed", function () {
    if (redrawTimer) redrawAgain = true; else redraw();
  });
  function syncBulkFields(form) {
    var select = form.querySelector("[data-bulk-action]");
    if (!select) return;
    form.querySelectorAll("[data-bulk-param]").forEach(function (field) {
      var actions = field.getAttribute("data-bulk-param").split(" ");
      field.hidden = actions.indexOf(select.value) === -1;
    });
  }
  // The bulk-action bar shows only while tickets are selected (without JavaScript it is always there).
  function syncBulkBar(form) {
    form.classList.toggle("bulk-idle", !form.querySelector("input[name=tickets]:checked"));
    if (listStale) refreshListWhenIdle();  // changes that arrived while tickets were selected
  }
  function init(root) {
    (root || document).querySelectorAll("[data-bulk-form]").forEach(function (form) {
      syncBulkFields(form);
      syncBulkBar(form);
    });
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-select-all]")) {
      var form = target.closest("form");
      form.querySelectorAll("input[name=tickets]").forEach(function (box) { box.checked = target.checked; });
      syncBulkBar(form);
    } else if (target.matches("input[name=tickets]") && target.form && target.form.hasAttribute("data-bulk-form")) {
      syncBulkBar(target.form);
    } else if (target.matches("[data-bulk-action]")) {
      syncBulkFields(target.closest("form"));
    }
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (event) { init(event.target); });
})();
