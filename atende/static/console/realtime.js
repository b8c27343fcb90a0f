/* Atende console real time: one websocket per tab (/ws/console/).
 *
 * - Every ticket change the agent may see is re-dispatched as the DOM event `atende:ticket-changed` on
 *   document.body, detail {ticket_id, number, version, event_type, status, team_id, assignee_id}; queue pages
 *   listen to it (htmx `hx-trigger="atende:ticket-changed from:body"`).
 * - On a ticket page ([data-ticket-workspace]) it watches the ticket: changes re-fetch the timeline, related
 *   tickets and (unless the agent is editing it) the side panel through the htmx events
 *   `atende:timeline-refresh` / `atende:panel-refresh`; presence shows who else is viewing or replying; a change
 *   by someone else while the agent is writing shows a warning (the server also refuses a stale reply).
 */
(function () {
  "use strict";
  if (window.AtendeRealtime) return;

  var body = document.body;
  var socket = null;
  var retries = 0;
  var me = null;
  var watched = null;
  var heartbeatTimer = null;
  var typingSent = false;
  var typingTimer = null;
  var refreshTimer = null;
  var pending = { panel: false, foreign: false };

  function workspace() { return document.querySelector("[data-ticket-workspace]"); }
  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }
  function fire(name, detail) {
    if (window.htmx) window.htmx.trigger(body, name, detail || {});
    else body.dispatchEvent(new CustomEvent(name, { detail: detail || {}, bubbles: true }));
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/console/");
    socket.addEventListener("open", function () {
      retries = 0;
      body.dataset.realtime = "connected";
    });
    socket.addEventListener("message", function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      handle(message);
    });
    socket.addEventListener("close", function (event) {
      body.dataset.realtime = "disconnected";
      watched = null;
      clearInterval(heartbeatTimer);
      if (event.code === 4403) return; // not a console user: do not hammer the server
      retries = Math.min(retries + 1, 6);
      setTimeout(connect, 500 * Math.pow(2, retries) + Math.random() * 500);
    });
  }

  function handle(message) {
    if (message.type === "hello") {
      me = message.user_id;
      clearInterval(heartbeatTimer);
      heartbeatTimer = setInterval(function () { send({ action: "heartbeat" }); },
                                   (message.heartbeat || 20) * 1000);
      syncWatch();
    } else if (message.type === "ticket.changed") {
      onChange(message);
    } else if (message.type === "presence") {
      renderPresence(message);
    }
  }

  // Ticket changes ------------------------------------------------------------------------------------------
  function onChange(change) {
    var detail = {
      ticket_id: change.ticket_id, number: change.number, version: change.version, event_type: change.event_type,
      status: change.status, team_id: change.team_id, assignee_id: change.assignee_id
    };
    body.dispatchEvent(new CustomEvent("atende:ticket-changed", { detail: detail, bubbles: true }));
    var ws = workspace();
    if (!ws || String(change.ticket_id) !== ws.dataset.ticketId) return;
    if (change.version && Number(change.version) > Number(ws.dataset.version || 0)) ws.dataset.version = change.version;
    if (change.actor_user_id !== me) pending.foreign = true;
    pending.panel = true;
    // One service call can record several events: refresh once for the burst.
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(flushRefresh, 150);
  }

  function flushRefresh() {
    var panelForm = document.getElementById("panel-form");
    var panelDirty = panelForm && panelForm.hasAttribute("data-dirty");
    fire("atende:timeline-refresh");
    if (pending.panel) fire("atende:panel-refresh");
    if (pending.foreign) {
      // Forms drawn before this change must not silently carry the new version (see atende:ticket-version).
      ["reply-form", "panel-form"].forEach(function (id) {
        var form = document.getElementById(id);
        if (form) form.setAttribute("data-stale", "1");
      });
      var notice = document.getElementById("ws-live-notice");
      var reply = document.querySelector("#reply-form textarea[name=body]");
      var writing = reply && reply.value.trim() !== "";
      if (notice && (writing || panelDirty)) {
        notice.textContent = writing ? notice.dataset.textChanged : notice.dataset.textPanel;
        notice.hidden = false;
      }
    }
    pending = { panel: false, foreign: false };
  }

  // The agent's own writes answer with HX-Trigger `atende:ticket-version`: keep the open forms' expected
  // version current, unless someone else changed the ticket since the form was drawn (then the server asks).
  body.addEventListener("atende:ticket-version", function (event) {
    var ws = workspace();
    if (!ws || !event.detail) return;
    ws.dataset.version = event.detail.version;
    ["reply-form", "panel-form"].forEach(function (id) {
      var form = document.getElementById(id);
      var input = form && form.querySelector("input[name=expected_version]");
      if (input && !form.hasAttribute("data-stale")) input.value = event.detail.version;
    });
  });

  // Never replace the side panel under the agent's unsaved edits, even when the refresh was already on its way.
  body.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    if (!detail.target || detail.target.id !== "ticket-panel" || detail.requestConfig.verb !== "get") return;
    var form = document.getElementById("panel-form");
    if (form && form.hasAttribute("data-dirty")) detail.shouldSwap = false;
  });

  // Watching the ticket on this page -----------------------------------------------------------------------
  function syncWatch() {
    var ws = workspace();
    var id = ws ? Number(ws.dataset.ticketId) : null;
    if (id === watched) return;
    if (watched) send({ action: "unwatch", ticket_id: watched });
    watched = id;
    typingSent = false;
    if (id) send({ action: "watch", ticket_id: id });
    else renderPresence({ viewers: [] });
  }

  function renderPresence(message) {
    var box = document.getElementById("ws-presence");
    if (!box) return;
    var others = (message.viewers || []).filter(function (v) { return v.user_id !== me; });
    box.textContent = "";
    if (!others.length) { box.hidden = true; return; }
    box.hidden = false;
    var label = document.createElement("span");
    label.className = "muted";
    label.textContent = box.dataset.labelViewing + " ";
    box.appendChild(label);
    others.forEach(function (viewer, index) {
      var chip = document.createElement("span");
      chip.className = "presence-chip" + (viewer.typing ? " typing" : "");
      chip.dataset.userId = viewer.user_id;
      chip.textContent = viewer.name + (viewer.typing ? " (" + box.dataset.labelTyping + ")" : "");
      box.appendChild(chip);
      if (index < others.length - 1) box.appendChild(document.createTextNode(" "));
    });
  }

  function setTyping(flag) {
    if (!watched || typingSent === flag) return;
    typingSent = flag;
    send({ action: "typing", ticket_id: watched, typing: flag });
  }

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (target.closest && target.closest("#panel-form")) target.closest("#panel-form").setAttribute("data-dirty", "1");
    if (target.matches && target.matches("#reply-form textarea[name=body]")) {
      setTyping(target.value.trim() !== "");
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { setTyping(false); }, 6000);
    }
  });
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("#panel-form");
    if (form) form.setAttribute("data-dirty", "1");
  });
  body.addEventListener("htmx:beforeRequest", function (event) {
    if (event.target && event.target.id === "reply-form") setTyping(false);
  });
  body.addEventListener("htmx:afterSwap", function (event) {
    if (event.target && event.target.id === "ticket-reply") {
      var form = document.getElementById("reply-form");
      // A fresh (empty) form means the message went out: the warnings no longer apply.
      if (form && !form.querySelector("#stale-warning") && !form.querySelector(".errorlist")) {
        var notice = document.getElementById("ws-live-notice");
        if (notice) notice.hidden = true;
      }
    }
  });
  body.addEventListener("htmx:afterSettle", syncWatch);
  window.addEventListener("pagehide", function () { setTyping(false); });

  window.AtendeRealtime = { send: send, syncWatch: syncWatch };
  connect();
})();
