/* Atende console real time: one websocket per tab (/ws/console/).
 *
 * - Every ticket change the agent may see is re-dispatched as the DOM event `atende:ticket-changed` on
 *   document.body, detail {ticket_id, number, version, event_type, status, team_id, assignee_id}; queue pages
 *   listen to it (htmx `hx-trigger="atende:ticket-changed from:body"`).
 * - On a ticket page ([data-ticket-workspace]) it watches the ticket: changes re-fetch the timeline, related
 *   tickets and (unless the agent is editing it) the side panel through the htmx events
 *   `atende:timeline-refresh` / `atende:panel-refresh`; presence shows who else is viewing or replying; a change
 *   by someone else while the agent is writing shows a warning (the server also refuses a stale reply).
 * - The agent's own writes (htmx requests other than GET) are answered with the partial they change and
 *   HX-Trigger events carrying the ticket's new version. Their websocket echo can arrive before that answer, so
 *   while one of this page's writes is on its way, the echo of the agent's own change is left to the answer:
 *   refreshing on the echo would show the change while the forms still carry the version from before it, and
 *   the next save would be refused as if someone else had changed the ticket. A refresh that started before a
 *   write to the same part of the page is not swapped in after it (it would show the part as it was before).
 */
(function () {
  "use strict";
  if (window.AtendeRealtime) return;

  var body = document.body;
  var socket = null;
  var ready = false;  // the server said hello on the current socket
  var retries = 0;
  var me = null;
  var watched = null;
  var heartbeatTimer = null;
  var typingSent = false;
  var typingTimer = null;
  var refreshTimer = null;
  var pending = { panel: false, foreign: false };
  var writesInFlight = 0;
  var lastWriteStart = {};  // target element id -> when this page last started a write that swaps it

  function workspace() { return document.querySelector("[data-ticket-workspace]"); }
  // False when the socket is not open: the caller keeps its state unchanged, so the action is taken again once
  // the server has said hello (a watch sent while connecting would be lost, and the page never seen as viewing).
  function send(message) {
    if (!ready || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(message));
    return true;
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
    });
    socket.addEventListener("message", function (event) {
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      handle(message);
    });
    socket.addEventListener("close", function (event) {
      body.dataset.realtime = "disconnected";
      ready = false;
      watched = null;
      clearInterval(heartbeatTimer);
      if (event.code === 4403) return; // not a console user: do not hammer the server
      retries = Math.min(retries + 1, 6);
      setTimeout(connect, 500 * Math.pow(2, retries) + Math.random() * 500);
    });
  }

  function handle(message) {
    if (message.type === "hello") {
      ready = true;
      body.dataset.realtime = "connected";  // joined: this page's changes and presence reach it from now on
      me = message.user_id;
      clearInterval(heartbeatTimer);
      heartbeatTimer = setInterval(function () { send({ action: "heartbeat" }); },
                                   (message.heartbeat || 20) * 1000);
      syncWatch();
    } else if (message.type === "ticket.changed") {
      onChange(message);
    } else if (message.type === "presence") {
      renderPresence(message);
    } else if (message.type === "notifications.changed") {
      fire("atende:notifications-changed");
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
    var own = me !== null && change.actor_user_id === me;
    if (own && writesInFlight > 0) return;  // the write's own answer refreshes the page and the forms' version
    if (change.version && Number(change.version) > Number(ws.dataset.version || 0)) ws.dataset.version = change.version;
    if (!own) pending.foreign = true;
    pending.panel = true;
    // One service call can record several events: refresh once for the burst.
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(flushRefresh, 150);
  }

  function flushRefresh() {
    var panelForm = document.getElementById("panel-form");
    var panelDirty = panelForm && panelForm.hasAttribute("data-dirty");
    fire("atende:timeline-refresh");
    if (pending.panel && !panelDirty) fire("atende:panel-refresh");  // never under the agent's unsaved edits
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

  // This page's writes: counted while on their way; each remembers when it started, per part of the page.
  function isWrite(detail) { return detail.requestConfig && detail.requestConfig.verb !== "get"; }
  body.addEventListener("htmx:beforeRequest", function (event) {
    var detail = event.detail;
    detail.xhr.atendeStarted = performance.now();
    if (!isWrite(detail) || !workspace()) return;
    writesInFlight += 1;
    detail.xhr.atendeWrite = true;
    if (detail.target && detail.target.id) lastWriteStart[detail.target.id] = detail.xhr.atendeStarted;
  });
  body.addEventListener("htmx:afterRequest", function (event) {
    var detail = event.detail;
    if (!detail.xhr || !detail.xhr.atendeWrite) return;
    detail.xhr.atendeWrite = false;
    writesInFlight = Math.max(0, writesInFlight - 1);
    // No answer to refresh from (network error, server error): catch up with what the server now holds.
    if (!detail.successful) { fire("atende:timeline-refresh"); fire("atende:panel-refresh"); }
  });

  body.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    if (!detail.target || detail.requestConfig.verb !== "get") return;
    // A refresh that started before this page's latest write to the same part shows it as it was before.
    var started = detail.xhr && detail.xhr.atendeStarted;
    if (started && lastWriteStart[detail.target.id] > started) { detail.shouldSwap = false; return; }
    // Never replace the side panel under the agent's unsaved edits, even when the refresh was already on its way.
    var form = document.getElementById("panel-form");
    if (detail.target.id === "ticket-panel" && form && form.hasAttribute("data-dirty")) detail.shouldSwap = false;
  });

  // Watching the ticket on this page -----------------------------------------------------------------------
  function syncWatch() {
    var ws = workspace();
    var id = ws ? Number(ws.dataset.ticketId) : null;
    if (!ready || id === watched) return;  // before hello: the hello handler watches
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
    if (send({ action: "typing", ticket_id: watched, typing: flag })) typingSent = flag;
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
