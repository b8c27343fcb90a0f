/* Site-wide behaviour, kept out of the templates (no inline handlers):
 * - forms marked [data-submit-on-change] submit as soon as one of their fields changes (the header's language
 *   switch; a <noscript> button does it without JavaScript);
 * - forms with data-confirm="question" ask it before they submit. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-submit-on-change")) form.submit();
  });
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
