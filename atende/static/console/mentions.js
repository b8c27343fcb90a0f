/* @-mentions in internal notes: typing "@li" in the reply box (with "Internal note" chosen) lists matching agents;
 * Enter, Tab or a click puts "@their@email" in the text, which the server turns into a notification (bell and,
 * by the agent's preference, email). Arrow keys move through the list; Esc closes it. */
(function () {
  "use strict";
  var list = null, area = null, start = -1, active = 0, timer = null, lastQuery = null;
  var url = "/console/mentions/agents/";

  function isNote(textarea) {
    var note = textarea.form && textarea.form.querySelector("input[name=kind][value=note]");
    return !!(note && note.checked);
  }

  function close() {
    if (list) list.hidden = true;
    start = -1;
    lastQuery = null;
  }

  function ensureList() {
    if (!list) {
      list = document.createElement("ul");
      list.className = "mention-suggestions";
      list.id = "mention-suggestions";
      list.setAttribute("role", "listbox");
      list.hidden = true;
      list.addEventListener("mousedown", function (event) {
        var item = event.target.closest("li");
        if (item) { event.preventDefault(); pick(item); }
      });
    }
    if (area && list.previousElementSibling !== area) area.after(list);
    return list;
  }

  function render(agents) {
    ensureList().textContent = "";
    agents.forEach(function (agent, index) {
      var item = document.createElement("li");
      item.setAttribute("role", "option");
      item.id = "mention-option-" + index;
      item.dataset.email = agent.email;
      item.textContent = agent.name + " · " + agent.email;
      list.appendChild(item);
    });
    active = 0;
    highlight();
    list.hidden = agents.length === 0;
  }

  function highlight() {
    Array.prototype.forEach.call(list.children, function (item, index) {
      item.setAttribute("aria-selected", index === active ? "true" : "false");
    });
  }

  function pick(item) {
    var before = area.value.slice(0, start), after = area.value.slice(area.selectionStart);
    var text = "@" + item.dataset.email + " ";
    area.value = before + text + after;
    area.selectionStart = area.selectionEnd = before.length + text.length;
    area.dispatchEvent(new Event("input", { bubbles: true }));
    close();
    area.focus();
  }

  function lookup(query) {
    if (query === lastQuery) return;
    lastQuery = query;
    clearTimeout(timer);
    timer = setTimeout(function () {
      fetch(url + "?q=" + encodeURIComponent(query), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { agents: [] }; })
        .then(function (data) { if (start >= 0) render(data.agents || []); })
        .catch(close);
    }, 120);
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (!target.matches || !target.matches("textarea[name=body]") || !isNote(target)) return;
    area = target;
    var upto = target.value.slice(0, target.selectionStart);
    var match = /(^|\s)@([^\s@]*)$/.exec(upto);
    if (!match) { close(); return; }
    start = upto.length - match[2].length - 1;
    lookup(match[2]);
  });

  document.addEventListener("keydown", function (event) {
    if (!list || list.hidden || event.target !== area) return;
    var count = list.children.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      active = (active + (event.key === "ArrowDown" ? 1 : count - 1)) % count;
      highlight();
    } else if (event.key === "Enter" || event.key === "Tab") {
      pick(list.children[active]);
    } else if (event.key === "Escape") {
      close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  }, true);
})();
