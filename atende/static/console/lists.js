/* Ticket lists: "select all" and showing only the bulk-action fields the chosen action needs.
   Delegated listeners, so lists swapped in by htmx keep working. */
(function () {
  "use strict";
  // htmx trigger filter for live list refreshes: never redraw a list under an agent who is selecting tickets.
  window.atendeListIdle = function () {
    return !document.querySelector("#ticket-list input[name=tickets]:checked");
  };
  function syncBulkFields(form) {
    var select = form.querySelector("[data-bulk-action]");
    if (!select) return;
    form.querySelectorAll("[data-bulk-param]").forEach(function (field) {
      var actions = field.getAttribute("data-bulk-param").split(" ");
      field.hidden = actions.indexOf(select.value) === -1;
    });
  }
  function init(root) {
    (root || document).querySelectorAll("[data-bulk-form]").forEach(syncBulkFields);
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-select-all]")) {
      var form = target.closest("form");
      form.querySelectorAll("input[name=tickets]").forEach(function (box) { box.checked = target.checked; });
    } else if (target.matches("[data-bulk-action]")) {
      syncBulkFields(target.closest("form"));
    }
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function (event) { init(event.target); });
})();
