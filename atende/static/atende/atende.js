/* Site-wide behaviour, kept out of the templates (no inline handlers):
 * - forms marked [data-submit-on-change] submit as soon as one of their fields changes (the header's language
 *   switch; a <noscript> button does it without JavaScript). */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-submit-on-change")) form.submit();
  });
})();
