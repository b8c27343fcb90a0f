// Inserts "Title: URL" at the cursor of the reply textarea named by data-target (the article picker).
(function () {
  if (window.atendeKbPicker) return;
  window.atendeKbPicker = true;
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-kb-insert]");
    if (!button) return;
    var textarea = document.getElementById(button.dataset.target);
    if (!textarea) return;
    var text = button.dataset.title + ": " + button.dataset.url;
    var start = textarea.selectionStart || 0, end = textarea.selectionEnd || 0, value = textarea.value;
    var before = value.slice(0, start), after = value.slice(end);
    if (before && !/\s$/.test(before)) text = " " + text;
    if (after && !/^\s/.test(after)) text = text + " ";
    textarea.value = before + text + after;
    var caret = before.length + text.length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  });
})();
