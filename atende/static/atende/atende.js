/* Site-wide behaviour, kept out of the templates (no inline handlers):
 * - forms marked [data-submit-on-change] submit as soon as one of their fields changes (the header's language
 *   switch; a <noscript> button does it without JavaScript);
 * - forms with data-confirm="question" ask it before they submit;
 * - on phones the console's top bar links fold behind the "Menu" button (without JavaScript they stay unfolded);
 * - fields with data-select-on-click select their whole text when clicked (a new API token, to copy). */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-submit-on-change")) form.submit();
  });
  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.querySelector(".menu-toggle");
    var bar = toggle && toggle.closest(".topbar");
    if (!bar || !document.body.classList.contains("console")) return;  // the console's stylesheet folds it
    toggle.hidden = false;
    bar.classList.add("has-menu-toggle");
    toggle.addEventListener("click", function () {
      var open = bar.classList.toggle("menu-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  });
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    var field = event.target;
    if (field.hasAttribute && field.hasAttribute("data-select-on-click") && field.select) field.select();
  });
})();
