// Canned replies: clicking a result inserts its (already rendered) text at the cursor of the target textarea.
(function () {
  if (window.atendeCannedPicker) return;
  window.atendeCannedPicker = true;
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".canned-insert");
    if (!button) return;
    var area = document.getElementById(button.dataset.target);
    if (!area) return;
    var text = button.dataset.text || "";
    var start = area.selectionStart != null ? area.selectionStart : area.value.length;
    var end = area.selectionEnd != null ? area.selectionEnd : area.value.length;
    area.value = area.value.slice(0, start) + text + area.value.slice(end);
    area.selectionStart = area.selectionEnd = start + text.length;
    area.dispatchEvent(new Event("input", { bubbles: true }));
    area.focus();
  });
})();
