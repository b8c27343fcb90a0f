/* Atende console keyboard shortcuts. Off while typing in a field (Esc leaves the field).
 *
 *   j / k   next / previous ticket: moves the selection on a list page; on a ticket page opens the next or
 *           previous ticket of the list the agent came from (remembered per tab in sessionStorage)
 *   Enter/o open the selected ticket (list pages)
 *   r / n   reply / internal note (ticket page)      a   assign to me      s   solve
 *   ?       help overlay (#shortcuts-help dialog; a plain English one is built when the page has none)
 *
 * List pages need no markup of their own: ticket links (/console/tickets/<n>/) inside [data-ticket-list], or
 * else inside <main>, are the list, in document order.
 */
(function () {
  "use strict";
  if (window.AtendeShortcuts) return;
  window.AtendeShortcuts = true;

  var LIST_KEY = "atende:ticket-list";
  var TICKET_PATH = /^\/console\/tickets\/(\d+)\/$/;
  var selected = -1;

  function isTyping(el) {
    return !!el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  function workspace() { return document.querySelector("[data-ticket-workspace]"); }
  function numberOf(link) {
    var match = new URL(link.href, location.href).pathname.match(TICKET_PATH);
    return match ? Number(match[1]) : null;
  }
  function ticketLinks() {
    var scope = document.querySelector("[data-ticket-list]") || document.querySelector("main");
    if (!scope) return [];
    var seen = {};
    return Array.prototype.filter.call(scope.querySelectorAll("a[href]"), function (link) {
      var number = numberOf(link);
      if (number === null || seen[number]) return false;
      seen[number] = true;
      return true;
    });
  }

  function rememberList() {
    if (workspace()) return;
    var numbers = ticketLinks().map(numberOf);
    if (!numbers.length) return;
    try {
      sessionStorage.setItem(LIST_KEY, JSON.stringify({ url: location.pathname + location.search, numbers: numbers }));
    } catch (e) { /* storage disabled: j/k still work on the list itself */ }
  }

  function select(index) {
    var links = ticketLinks();
    if (!links.length) return;
    selected = Math.max(0, Math.min(index, links.length - 1));
    links.forEach(function (link, i) {
      var row = link.closest("tr, li") || link;
      row.classList.toggle("kbd-selected", i === selected);
    });
    links[selected].focus();
    (links[selected].closest("tr, li") || links[selected]).scrollIntoView({ block: "nearest" });
  }

  function stepTicket(delta) {
    var ws = workspace();
    if (!ws) { select(selected < 0 ? 0 : selected + delta); return; }
    var stored;
    try { stored = JSON.parse(sessionStorage.getItem(LIST_KEY) || "null"); } catch (e) { stored = null; }
    if (!stored || !stored.numbers) return;
    var index = stored.numbers.indexOf(Number(ws.dataset.ticketNumber));
    var next = stored.numbers[index + delta];
    if (index >= 0 && next) location.href = "/console/tickets/" + next + "/";
  }

  function startReply(kind) {
    var radio = document.querySelector('#reply-form input[name=kind][value="' + kind + '"]');
    if (radio) { radio.checked = true; radio.dispatchEvent(new Event("change", { bubbles: true })); }
    var box = document.querySelector("#reply-form textarea[name=body]");
    if (box) { box.focus(); box.scrollIntoView({ block: "center" }); }
  }

  function solve() {
    var form = document.getElementById("panel-form");
    var status = form && form.querySelector("select[name=status]");
    if (!status || !status.querySelector('option[value="solved"]')) return;
    status.value = "solved";
    form.setAttribute("data-dirty", "1");
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }

  function assignToMe() {
    var button = document.getElementById("assign-me");
    if (button && !button.disabled) button.click();
  }

  function helpDialog() {
    // The dialog is server-rendered (console/_shortcuts_help.html) so that its text is translated.
    var dialog = document.getElementById("shortcuts-help");
    if (dialog && !dialog.open) dialog.showModal();
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-shortcuts-help]")) helpDialog();
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (isTyping(target)) {
      if (event.key === "Escape") target.blur();
      return;
    }
    if (document.querySelector("dialog[open]") && event.key !== "Escape") return;
    var handled = true;
    switch (event.key) {
      case "j": stepTicket(1); break;
      case "k": stepTicket(-1); break;
      case "o":
      case "Enter": {
        var link = workspace() || selected < 0 ? null : ticketLinks()[selected];
        // The selected link has the focus: Enter on it is the browser's own navigation, "o" is ours.
        if (!link || (event.key === "Enter" && document.activeElement === link)) handled = false;
        else location.href = link.href;
        break;
      }
      case "r": startReply("reply"); break;
      case "n": startReply("note"); break;
      case "a": assignToMe(); break;
      case "s": solve(); break;
      case "?": helpDialog(); break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", rememberList);
  if (document.readyState !== "loading") rememberList();
  document.body.addEventListener("htmx:afterSettle", rememberList);
})();
