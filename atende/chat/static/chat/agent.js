/* The agents' side of live chat, on every console page: keeps the agent present for routing (while any console
 * tab is open), shows how many chats wait on the "Chats" link, and on /console/chat/ runs the workspace
 * (queue, conversation, accept / reply / transfer / end). Text is set with textContent only. */
(function () {
  "use strict";
  var badge = document.getElementById("chat-nav-count");
  var ws = null, retry = 0, heartbeat = null, current = null, conversation = null, typingTimer = null;
  // Replies wait here until the server answers for them (stored, or refused with an error): written while the
  // socket is down they go out when it is back, and one sent just before a connection dropped is sent again on
  // the next (the server stores a client id once, so a reply sent twice is stored once).
  var outbox = [], socketSerial = 0;
  var root = document.getElementById("chat-workspace");
  var L = root ? root.dataset : {};
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }
  function cid() { return Date.now().toString(36) + Math.random().toString(36).slice(2, 10); }
  function send(data) {
    if (!ws || ws.readyState !== 1) return false;
    ws.send(JSON.stringify(data));
    return true;
  }
  function flushOutbox() {
    var waiting = false;
    outbox.forEach(function (item) {
      if (item.sentOn !== socketSerial && send(item.message)) item.sentOn = socketSerial;
      if (item.sentOn !== socketSerial) waiting = true;
    });
    if ($("chat-connection")) $("chat-connection").textContent = waiting ? L.labelQueued : "";
  }
  function answered(clientId) {
    outbox = outbox.filter(function (item) { return item.message.cid !== clientId; });
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + "/ws/console/chat/");
    socketSerial += 1;
    ws.addEventListener("open", function () {
      retry = 0;
      document.body.dataset.chat = "connected";
      clearInterval(heartbeat);
      heartbeat = setInterval(function () { send({action: "heartbeat"}); }, 20000);
      if (current) send({action: "open", session_id: current});
      flushOutbox();
    });
    ws.addEventListener("message", function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      receive(data);
    });
    ws.addEventListener("close", function (event) {
      document.body.dataset.chat = "disconnected";
      clearInterval(heartbeat);
      if (event.code === 4403) return;
      if ($("chat-connection")) $("chat-connection").textContent = L.labelReconnecting;
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 500 * Math.pow(2, retry - 1) + Math.random() * 300);
    });
  }

  function receive(data) {
    if ((data.type === "done" || data.type === "error") && data.cid) answered(data.cid);  // stored, or refused
    if (data.type === "list") {
      if (badge) badge.textContent = data.waiting.length ? String(data.waiting.length) : "";
      if (root) renderLists(data);
    } else if (!root) {
      return;
    } else if (data.type === "conversation" && data.session_id === current) {
      conversation = data;
      renderConversation();
    } else if (data.type === "event" && data.session_id === current && conversation) {
      var ev = data.event;
      if (ev.type === "message") {
        if (!conversation.messages.some(function (m) { return m.id === ev.message.id; })) conversation.messages.push(ev.message);
        if (ev.message.from === "visitor") $("chat-typing").textContent = "";
      } else if (ev.type === "history") {
        conversation.messages = ev.messages;
      } else if (ev.type === "state") {
        conversation.state = Object.assign(conversation.state, ev);
        send({action: "open", session_id: current});  // who holds it may have changed: re-read
      }
      renderConversation();
    } else if (data.type === "typing" && data.session_id === current) {
      $("chat-typing").textContent = data.typing ? L.labelTyping : "";
    } else if (data.type === "presence" && data.session_id === current && conversation) {
      conversation.visitor.online = data.visitor_online;
      renderVisitor();
    } else if (data.type === "done" && data.session_id === current) {
      if (data.action === "accept" || data.action === "end" || data.action === "transfer") send({action: "open", session_id: current});
      if (data.message && conversation && !conversation.messages.some(function (m) { return m.id === data.message.id; })) {
        conversation.messages.push(data.message);
        renderConversation();
      }
    } else if (data.type === "error") {
      $("chat-error").textContent = data.message || data.code;
    }
  }

  // The workspace ---------------------------------------------------------------------------------------------

  function renderLists(data) {
    fill($("chat-waiting"), data.waiting, true);
    fill($("chat-mine"), data.mine, false);
  }

  function fill(list, rows, waiting) {
    list.textContent = "";
    if (!rows.length) { list.appendChild(el("li", "muted", L.labelNone)); return; }
    rows.forEach(function (row) {
      var item = el("li", "chat-row" + (row.id === current ? " current" : "") + (row.offered_to_me ? " offered" : ""));
      item.dataset.sessionId = row.id;
      var open = el("button", "link chat-open", row.name);
      open.type = "button";
      open.addEventListener("click", function () { openChat(row.id); });
      item.appendChild(open);
      item.appendChild(el("span", "muted small chat-question", row.question));
      if (waiting) {
        var meta = L.labelPosition + " " + row.position;
        if (row.queued_at) meta += " · " + L.labelWaitingSince + " " + Math.max(0, Math.round((Date.now() - Date.parse(row.queued_at)) / 1000)) + " s";
        item.appendChild(el("span", "small chat-meta", meta + (row.offered_to_me ? " · " + L.labelOffered : "")));
        var accept = el("button", "primary small chat-accept-row", L.labelAccept);
        accept.type = "button";
        accept.addEventListener("click", function () { openChat(row.id); send({action: "accept", session_id: row.id}); });
        item.appendChild(accept);
      }
      list.appendChild(item);
    });
  }

  function openChat(id) {
    current = id;
    conversation = null;
    $("chat-error").textContent = "";
    $("chat-typing").textContent = "";
    send({action: "open", session_id: id});
  }

  function renderVisitor() {
    var v = conversation.visitor, parts = [];
    if (v.email) parts.push(v.email + " (" + (v.identified ? L.labelVerified : L.labelUnverified) + ")");
    if (v.language) parts.push(v.language);
    if (v.page_url) parts.push(v.page_url);
    parts.push(v.online ? L.labelOnline : (v.email ? L.labelAway : L.labelUnreachable));
    $("chat-visitor").textContent = parts.join(" · ");
  }

  function renderConversation() {
    var c = conversation, s = c.state;
    $("chat-conversation").hidden = false;
    $("chat-title").textContent = c.visitor.name || c.visitor.email || L.labelVisitor;
    renderVisitor();
    var link = $("chat-ticket-link");
    link.hidden = !c.ticket_url;
    if (c.ticket_url) link.href = c.ticket_url;
    var log = $("chat-log");
    log.textContent = "";
    c.messages.forEach(function (m) {
      var item = el("li", "chat-msg from-" + m.from);
      item.appendChild(el("span", "small muted", m.from === "visitor" ? (c.visitor.name || L.labelVisitor) : m.from === "bot" ? L.labelBot : m.author));
      if (m.text) item.appendChild(el("p", "chat-text", m.text));
      (m.files || []).forEach(function (f) {  // the ticket's attachment URL: the desk checks the agent's access
        var link = el("a", "chat-file"), url = "/tickets/attachments/" + f.id + "/";
        link.href = url;
        link.target = "_blank";
        link.rel = "noopener";
        if (f.image) {
          var img = el("img", "chat-thumb");
          img.src = url;
          img.alt = f.name;
          link.appendChild(img);
        }
        link.appendChild(el("span", "", f.name));
        item.appendChild(link);
      });
      (m.articles || []).forEach(function (a) {
        var link = el("a", "small", a.title);
        link.href = a.url;
        link.target = "_blank";
        item.appendChild(link);
      });
      log.appendChild(item);
    });
    log.scrollTop = log.scrollHeight;
    var ended = s.status === "ended";
    $("chat-accept").hidden = s.status !== "queued";
    $("chat-holder-controls").hidden = !(s.status === "active" && c.holder);
    $("chat-reply-form").hidden = !((s.status === "active" && c.holder) || (ended && c.ticket_url && c.holder));
    if (ended) $("chat-typing").textContent = L.labelEnded;
    var history = $("chat-history");
    history.textContent = "";
    c.history.forEach(function (t) {
      var li = el("li"), a = el("a", "", "#" + t.number + " " + t.subject);
      a.href = "/console/tickets/" + t.number + "/";
      li.append(a, el("span", "muted", " · " + t.status));
      history.appendChild(li);
    });
    if (!c.history.length) history.appendChild(el("li", "muted", L.labelNone));
  }

  function bindWorkspace() {
    $("chat-accept").addEventListener("click", function () { send({action: "accept", session_id: current}); });
    $("chat-end").addEventListener("click", function () { send({action: "end", session_id: current}); });
    $("chat-transfer-go").addEventListener("click", function () {
      var value = $("chat-transfer").value;
      if (!value) return;
      var parts = value.split(":"), msg = {action: "transfer", session_id: current};
      msg[parts[0] + "_id"] = parseInt(parts[1], 10);
      send(msg);
    });
    $("chat-canned").addEventListener("change", function () {
      var option = this.options[this.selectedIndex];
      if (option && option.dataset.body) {
        var box = $("chat-reply");
        box.value = (box.value ? box.value + "\n" : "") + option.dataset.body;
        box.focus();
      }
      this.selectedIndex = 0;
    });
    var box = $("chat-reply");
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("chat-reply-form").requestSubmit(); }
    });
    box.addEventListener("input", function () {
      send({action: "typing", session_id: current, typing: true});
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { send({action: "typing", session_id: current, typing: false}); }, 2500);
    });
    // A file goes over HTTP (the socket carries text only), checked and stored like a ticket attachment.
    $("chat-attach").addEventListener("click", function () { $("chat-file").click(); });
    $("chat-file").addEventListener("change", function () {
      var input = this, file = input.files[0], id = current;
      if (!file || !id) return;
      var data = new FormData();
      data.append("file", file);
      data.append("cid", cid());
      input.value = "";
      $("chat-error").textContent = "";
      var headers = {};
      try { headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}"); } catch (e) { /* none */ }
      fetch("/console/chat/" + id + "/files", {method: "POST", body: data, headers: headers, credentials: "same-origin"})
        .then(function (r) { return r.json().then(function (body) { return {ok: r.ok, body: body}; }); })
        .then(function (answer) {
          if (!answer.ok) { $("chat-error").textContent = (answer.body.error && answer.body.error.message) || "Error"; return; }
          var row = answer.body.message;
          if (id === current && conversation && !conversation.messages.some(function (m) { return m.id === row.id; })) {
            conversation.messages.push(row);
            renderConversation();
          }
        })
        .catch(function () { $("chat-error").textContent = "Error"; });
    });
    $("chat-reply-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var text = box.value.trim();
      if (!text || !current) return;
      box.value = "";
      $("chat-error").textContent = "";
      send({action: "typing", session_id: current, typing: false});
      outbox.push({message: {action: "reply", session_id: current, text: text, cid: cid()}, sentOn: 0});
      flushOutbox();
    });
  }

  if (root) bindWorkspace();
  connect();
})();
