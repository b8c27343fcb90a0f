/* Atende live chat widget. Embed with:
 *   <script src="https://DESK/chat/widget.js" data-widget="KEY" async></script>
 * Draws a launcher and a panel inside a shadow root (the host page's CSS cannot reach it), talks to the desk
 * over a websocket, and keeps the conversation across reloads (a signed visitor token in localStorage).
 * API: Atende.open(), Atende.close(), Atende.prefill(text), Atende.identify({email, name, signature}).
 * Plain JavaScript, no build step. Text is always set with textContent, never parsed as HTML. */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-widget]");
  if (!script || window.Atende && window.Atende.version) return;
  var KEY = script.getAttribute("data-widget") || "";
  var BASE = new URL(script.src, location.href).origin;
  var STORE = "atende-chat:" + KEY;
  var T = {
    en: {
      title: "Chat with us", name: "Your name", email: "Email", emailOptional: "Email (optional)",
      question: "How can we help?", start: "Start chat", send: "Send", type: "Type a message…",
      suggested: "These articles may help:", solved: "This solved it", human: "Talk to a person",
      queued: "Waiting for an agent. You are number {n} in the queue.", queuedShort: "Waiting for an agent…",
      joined: "{name} joined the chat.", typing: "{name} is typing…", agent: "Agent", bot: "Bot", you: "You",
      ended: "This chat has ended.", thanks: "Glad we could help!", rate: "How was this chat?",
      good: "Good", bad: "Bad", rated: "Thanks for your rating.", transcript: "Email me the transcript",
      transcriptSent: "The transcript is on its way.", end: "End chat", offlineTitle: "We are offline",
      offlineText: "Leave a message and we will answer by email.", offlineSend: "Send message",
      offlineDone: "Thanks! We will answer by email.", reconnecting: "Reconnecting…", close: "Close chat",
      open: "Open chat", required: "Please fill this in.", error: "Something went wrong.",
      restart: "Start a new conversation", attach: "Send a file", sending: "Sending {name}…",
      fileTooLarge: "“{name}” is too large (at most {max} MB)."
    },
    "pt-br": {
      title: "Fale conosco", name: "Seu nome", email: "E-mail", emailOptional: "E-mail (opcional)",
      question: "Como podemos ajudar?", start: "Iniciar conversa", send: "Enviar", type: "Digite uma mensagem…",
      suggested: "Estes artigos podem ajudar:", solved: "Isso resolveu", human: "Falar com uma pessoa",
      queued: "Aguardando um atendente. Você é o número {n} na fila.", queuedShort: "Aguardando um atendente…",
      joined: "{name} entrou na conversa.", typing: "{name} está digitando…", agent: "Atendente", bot: "Robô",
      you: "Você", ended: "Esta conversa terminou.", thanks: "Que bom que ajudamos!",
      rate: "Como foi esta conversa?", good: "Boa", bad: "Ruim", rated: "Obrigado pela avaliação.",
      transcript: "Enviar a transcrição por e-mail", transcriptSent: "A transcrição está a caminho.",
      end: "Encerrar conversa", offlineTitle: "Estamos offline",
      offlineText: "Deixe uma mensagem e responderemos por e-mail.", offlineSend: "Enviar mensagem",
      offlineDone: "Obrigado! Responderemos por e-mail.", reconnecting: "Reconectando…", close: "Fechar conversa",
      open: "Abrir conversa", required: "Preencha este campo.", error: "Algo deu errado.",
      restart: "Iniciar nova conversa", attach: "Enviar um arquivo", sending: "Enviando {name}…",
      fileTooLarge: "“{name}” é grande demais (no máximo {max} MB)."
    }
  };
  var cfg = null, lang = "en", host, root, els = {}, ws = null, token = "", state = null, identity = null;
  var messages = [], outbox = [], prefillText = "", isOpen = false, retry = 0, heartbeat = null, typingTimer = null;
  var suggestTimer = null, agentName = "", started = false, hello = null, agentTyping = false;

  function t(key, vars) {
    var text = (T[lang] || T.en)[key] || T.en[key] || key;
    Object.keys(vars || {}).forEach(function (k) { text = text.replace("{" + k + "}", vars[k]); });
    return text;
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }
  function store(value) {
    try { if (value) localStorage.setItem(STORE, value); return localStorage.getItem(STORE) || ""; }
    catch (e) { return value || ""; }
  }
  function cid() { return Date.now().toString(36) + Math.random().toString(36).slice(2, 10); }

  // Building the widget ---------------------------------------------------------------------------------------

  function build() {
    host = el("div");
    host.setAttribute("data-atende-chat", KEY);
    root = host.attachShadow({mode: "open"});
    var css = el("link");
    css.rel = "stylesheet";
    css.href = BASE + "/chat/widget.css";
    root.appendChild(css);
    var frame = el("div", "atende pos-" + (cfg.position === "left" ? "left" : "right"));
    frame.style.setProperty("--atende-color", cfg.primary_color);
    frame.style.setProperty("--atende-text", cfg.text_color);
    els.launcher = el("button", "launcher");
    els.launcher.type = "button";
    els.launcher.setAttribute("aria-label", t("open"));
    els.launcher.appendChild(el("span", "launcher-icon", "\u{1F4AC}"));
    els.launcher.addEventListener("click", function () { isOpen ? api.close() : api.open(); });
    els.panel = el("section", "panel");
    els.panel.setAttribute("role", "dialog");
    els.panel.setAttribute("aria-label", cfg.title || t("title"));
    els.panel.hidden = true;
    var head = el("header", "head");
    head.appendChild(el("h2", "", cfg.title || t("title")));
    var close = el("button", "close", "\u00D7");
    close.type = "button";
    close.setAttribute("aria-label", t("close"));
    close.addEventListener("click", function () { api.close(); });
    head.appendChild(close);
    els.status = el("p", "status");
    els.status.setAttribute("role", "status");
    els.body = el("div", "body");
    els.panel.append(head, els.status, els.body);
    frame.append(els.panel, els.launcher);
    root.appendChild(frame);
    document.body.appendChild(host);
  }

  function field(form, name, label, type, required) {
    var wrap = el("label", "field");
    wrap.appendChild(el("span", "", label));
    var input = el(type === "textarea" ? "textarea" : "input");
    if (type !== "textarea") input.type = type;
    input.name = name;
    if (required) input.required = true;
    wrap.appendChild(input);
    form.appendChild(wrap);
    return input;
  }

  function showForm(offline) {
    // Drawn again after a reconnect: what the visitor typed stays (the same form is kept; in the other mode
    // its answers carry over).
    var kept = {};
    if (els.prechat && els.body.contains(els.prechat)) {
      els.status.textContent = "";
      els.formError.textContent = "";
      if (els.prechatOffline === offline) return;
      ["name", "email", "question"].forEach(function (n) { if (els.prechat.elements[n]) kept[n] = els.prechat.elements[n].value; });
    }
    els.body.textContent = "";
    els.status.textContent = "";
    var form = el("form", "prechat");
    els.prechat = form;
    els.prechatOffline = offline;
    form.noValidate = true;
    if (offline) {
      form.appendChild(el("h3", "", t("offlineTitle")));
      form.appendChild(el("p", "", t("offlineText")));
    } else if (cfg.greeting) {
      form.appendChild(el("p", "greeting", cfg.greeting));
    }
    var name = cfg.ask_name || offline ? field(form, "name", t("name"), "text", false) : null;
    var needEmail = offline || cfg.email_required;
    var email = (cfg.ask_email || offline) && !identity ? field(form, "email", needEmail ? t("email") : t("emailOptional"),
      "email", needEmail) : null;
    var question = field(form, "question", t("question"), "textarea", true);
    question.value = kept.question || prefillText;
    if (name && kept.name) name.value = kept.name;
    if (email && kept.email) email.value = kept.email;
    var trap = field(form, "website", "Website", "text", false);  // a honeypot: people never see it
    trap.parentNode.className = "trap";
    trap.tabIndex = -1;
    trap.autocomplete = "off";
    var suggestions = el("div", "suggestions");
    suggestions.setAttribute("aria-live", "polite");
    form.appendChild(suggestions);
    els.suggestions = suggestions;
    var error = el("p", "error");
    form.appendChild(error);
    var submit = el("button", "primary", offline ? t("offlineSend") : t("start"));
    submit.type = "submit";
    form.appendChild(submit);
    question.addEventListener("input", function () {
      clearTimeout(suggestTimer);
      suggestTimer = setTimeout(function () { send({action: "suggest", text: question.value, language: lang}); }, 300);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!question.value.trim() || (email && needEmail && !email.value.trim())) {
        error.textContent = t("required");
        return;
      }
      var payload = {action: offline ? "offline" : "start", question: question.value, language: lang,
        name: name ? name.value : (identity && identity.name) || "", email: email ? email.value : "",
        page_url: location.href, website: trap.value};
      if (identity) payload.identity = identity;
      started = send(payload);
    });
    els.body.appendChild(form);
    els.formError = error;
  }

  function showConversation() {
    if (els.log && els.body.contains(els.log)) return;
    els.body.textContent = "";
    els.log = el("ol", "log");
    els.log.setAttribute("aria-live", "polite");
    els.typing = el("p", "typing");
    els.actions = el("div", "actions");
    var form = el("form", "composer");
    els.input = el("textarea");
    els.input.rows = 2;
    els.input.placeholder = t("type");
    els.input.setAttribute("aria-label", t("type"));
    var button = el("button", "primary", t("send"));
    button.type = "submit";
    // One file at a time over HTTP (the socket carries text only); the desk checks it like a ticket attachment.
    els.file = el("input");
    els.file.type = "file";
    els.file.hidden = true;
    els.file.addEventListener("change", function () {
      if (els.file.files.length) uploadFile(els.file.files[0]);
      els.file.value = "";
    });
    els.attach = el("button", "secondary attach", "\u{1F4CE}");
    els.attach.type = "button";
    els.attach.title = t("attach");
    els.attach.setAttribute("aria-label", t("attach"));
    els.attach.addEventListener("click", function () { els.file.click(); });
    form.append(els.attach, els.file, els.input, button);
    els.input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
    });
    els.input.addEventListener("input", function () {
      send({action: "typing", typing: true});
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { send({action: "typing", typing: false}); }, 2500);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = els.input.value.trim();
      if (!text) return;
      els.input.value = "";
      notice = "";
      var item = {action: "message", text: text, cid: cid()};
      outbox.push(item);
      messages.push({id: "local-" + item.cid, from: "visitor", text: text, cid: item.cid, pending: true});
      render();
      send(item);
    });
    els.composer = form;
    els.body.append(els.log, els.typing, els.actions, form);
  }

  function render() {
    if (!state) return;
    showConversation();
    els.log.textContent = "";
    messages.forEach(function (m) {
      var item = el("li", "msg from-" + m.from + (m.pending ? " pending" : ""));
      var who = m.from === "visitor" ? t("you") : m.from === "bot" ? t("bot") : (m.author || t("agent"));
      item.appendChild(el("span", "who", who));
      if (m.text) item.appendChild(el("p", "text", m.text));
      (m.files || []).forEach(function (f) {
        var link = el("a", "file"), url = fileUrl(f.id);
        link.href = url;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        if (f.image) {
          var img = el("img", "thumb");
          img.src = url;
          img.alt = f.name;
          link.appendChild(img);
        }
        link.appendChild(el("span", "", f.name));
        item.appendChild(link);
      });
      if (m.articles && m.articles.length) {
        var list = el("ul", "articles");
        m.articles.forEach(function (a) {
          var li = el("li"), link = el("a", "", a.title);
          link.href = new URL(a.url, BASE).href;
          link.target = "_blank";
          link.rel = "noopener";
          li.appendChild(link);
          list.appendChild(li);
        });
        item.appendChild(list);
      }
      els.log.appendChild(item);
    });
    els.log.scrollTop = els.log.scrollHeight;
    renderState();
  }

  function button(label, cls, onClick) {
    var b = el("button", cls, label);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  // A refusal or error stays in the status line until the visitor's next action: a state push (an agent joining,
  // the queue moving) must not wipe it before it is read.
  var notice = "";
  function say(text) { notice = text; els.status.textContent = text; }

  function renderState() {
    var s = state.status;
    els.actions.textContent = "";
    els.status.textContent = notice || (s === "queued" ? (state.position ? t("queued", {n: state.position}) : t("queuedShort"))
      : s === "active" && state.agent ? t("joined", {name: state.agent}) : "");
    els.typing.textContent = agentTyping && s === "active" ? t("typing", {name: state.agent || t("agent")}) : "";
    els.composer.hidden = s === "ended";
    els.attach.hidden = s !== "queued" && s !== "active";
    if (s === "bot") {
      els.actions.append(button(t("solved"), "secondary solved", function () { send({action: "solved"}); }),
        button(t("human"), "primary human", function () { send({action: "human"}); }));
    } else if (s === "ended") {
      els.actions.appendChild(el("p", "ended", state.outcome === "solved_by_bot" ? t("thanks")
        : state.outcome === "offline_form" ? (t("offlineDone") + " " + (state.expected_reply || "")).trim()
        : t("ended")));
      if (state.ticket && !state.rated && state.outcome === "ended_by_agent") {
        els.actions.appendChild(el("p", "", t("rate")));
        els.actions.append(button(t("good"), "secondary rate-good", function () { send({action: "rate", rating: "good"}); }),
          button(t("bad"), "secondary rate-bad", function () { send({action: "rate", rating: "bad"}); }));
      } else if (state.rated) {
        els.actions.appendChild(el("p", "", t("rated")));
      }
      if (state.ticket && state.email_known && !state.transcriptSent && state.outcome !== "offline_form") {
        els.actions.appendChild(button(t("transcript"), "link transcript", function () { send({action: "transcript"}); }));
      }
      els.actions.appendChild(button(t("restart"), "link restart", function () { send({action: "restart"}); }));
    } else {
      els.actions.appendChild(button(t("end"), "link end", function () { send({action: "end"}); }));
    }
  }

  // The connection ------------------------------------------------------------------------------------------

  // False while the connection is down. Messages wait in the outbox; any other click is refused visibly (the
  // visitor clicks again once connected) instead of vanishing.
  function send(data) {
    if (ws && ws.readyState === 1) {
      ws.send(JSON.stringify(data));
      return true;
    }
    var quiet = {message: 1, typing: 1, heartbeat: 1, suggest: 1, hello: 1, opened: 1};
    if (!quiet[data.action]) {
      if (els.formError && els.body.contains(els.formError)) els.formError.textContent = t("reconnecting");
      else if (els.status) els.status.textContent = t("reconnecting");
    }
    return false;
  }

  function connect() {
    var url = BASE.replace(/^http/, "ws") + "/ws/chat/" + encodeURIComponent(KEY) + "/";
    ws = new WebSocket(url);
    ws.addEventListener("open", function () {
      retry = 0;
      send({action: "hello", token: store()});
      clearInterval(heartbeat);
      heartbeat = setInterval(function () { send({action: "heartbeat"}); }, 20000);
    });
    ws.addEventListener("message", function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      receive(data);
    });
    ws.addEventListener("close", function (event) {
      clearInterval(heartbeat);
      if (event.code === 4403 || event.code === 4404) return;  // not allowed here: stay quiet
      if (els.status) els.status.textContent = t("reconnecting");
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 500 * Math.pow(2, retry - 1) + Math.random() * 300);
    });
  }

  function receive(data) {
    switch (data.type) {
      case "hello":
        if (data.token !== token && token && !data.state) { state = null; messages = []; outbox = []; started = false; }
        token = store(data.token);
        hello = data;
        if (data.state) {
          state = data.state;
          messages = data.messages || [];
          mergeOutbox();
          render();
          outbox.forEach(send);  // sent while offline: delivered once (the server ignores a known cid)
        } else if (!started) {
          if (!data.online && data.offline_mode === "hide") { host.hidden = true; return; }
          showForm(!data.online);
        }
        break;
      case "history":
        messages = data.messages;
        mergeOutbox();
        if (state) render();
        break;
      case "state":
        state = Object.assign({}, state || {}, data);
        if (data.status !== "active") agentTyping = false;
        render();
        break;
      case "message":
      case "ack":
        outbox = outbox.filter(function (o) { return !data.cid || o.cid !== data.cid; });
        if (data.message.cid) outbox = outbox.filter(function (o) { return o.cid !== data.message.cid; });
        add(data.message);
        if (data.message.from === "agent") agentTyping = false;
        render();
        break;
      case "typing":
        agentTyping = data.typing;
        if (state) renderState();
        break;
      case "suggestions":
        if (els.suggestions) showSuggestions(data.articles);
        break;
      case "done":
        if (data.action === "transcript" && state) { state.transcriptSent = true; els.status.textContent = t("transcriptSent"); renderState(); }
        if (data.action === "rate" && state) { state.rated = true; renderState(); }
        break;
      case "error":
        if (els.formError && !state) els.formError.textContent = data.message || t("error");
        else if (els.status) say(data.message || t("error"));
        started = !!state;
        break;
    }
  }

  function fileUrl(id) {
    return BASE + "/chat/widget/" + encodeURIComponent(KEY) + "/files/" + id + "?t=" + encodeURIComponent(token);
  }

  function uploadFile(file) {
    var max = cfg.file_max_bytes || 0;
    if (max && file.size > max) {
      say(t("fileTooLarge", {name: file.name, max: Math.floor(max / 1048576)}));
      return;
    }
    var data = new FormData();
    data.append("token", token);
    data.append("cid", cid());
    data.append("file", file);
    notice = "";
    els.status.textContent = t("sending", {name: file.name});
    fetch(BASE + "/chat/widget/" + encodeURIComponent(KEY) + "/files", {method: "POST", body: data, credentials: "omit"})
      .then(function (r) { return r.json().then(function (body) { return {ok: r.ok, body: body}; }); })
      .then(function (answer) {
        els.status.textContent = "";
        if (answer.ok) { add(answer.body.message); render(); }
        else say((answer.body.error && answer.body.error.message) || t("error"));
      })
      .catch(function () { say(t("error")); });
  }

  function add(message) {
    var known = messages.some(function (m) { return m.id === message.id; });
    messages = messages.filter(function (m) { return !(m.pending && m.cid && m.cid === message.cid); });
    if (!known) messages.push(message);
  }

  function mergeOutbox() {
    outbox.forEach(function (o) {
      if (!messages.some(function (m) { return m.cid === o.cid; })) {
        messages.push({id: "local-" + o.cid, from: "visitor", text: o.text, cid: o.cid, pending: true});
      } else {
        outbox = outbox.filter(function (x) { return x.cid !== o.cid; });
      }
    });
  }

  function showSuggestions(articles) {
    els.suggestions.textContent = "";
    if (!articles.length) return;
    els.suggestions.appendChild(el("p", "", t("suggested")));
    var list = el("ul", "articles");
    articles.forEach(function (a) {
      var li = el("li"), link = el("a", "", a.title);
      link.href = new URL(a.url, BASE).href;
      link.target = "_blank";
      link.rel = "noopener";
      link.addEventListener("click", function () { send({action: "opened", article_id: a.id}); });
      li.appendChild(link);
      list.appendChild(li);
    });
    els.suggestions.appendChild(list);
  }

  // The page's API --------------------------------------------------------------------------------------------

  var api = {
    version: 1,
    open: function () {
      if (!els.panel) { prefillOpen = true; return; }
      isOpen = true;
      els.panel.hidden = false;
      els.launcher.setAttribute("aria-expanded", "true");
      var focus = els.body.querySelector("textarea, input");
      if (focus) focus.focus();
    },
    close: function () {
      if (!els.panel) { prefillOpen = false; return; }
      isOpen = false;
      els.panel.hidden = true;
      els.launcher.setAttribute("aria-expanded", "false");
    },
    prefill: function (text) {
      prefillText = String(text || "");
      var q = els.body && els.body.querySelector("textarea[name=question]");
      if (q) q.value = prefillText;
      if (state && els.input) els.input.value = prefillText;
    },
    identify: function (who) {
      who = who || {};
      identity = {email: String(who.email || ""), name: String(who.name || ""), signature: String(who.signature || "")};
      if (!state && hello && els.body) showForm(!hello.online);
    }
  };
  var prefillOpen = false;
  window.Atende = api;

  function init() {
    fetch(BASE + "/chat/widget/" + encodeURIComponent(KEY) + "/config", {credentials: "omit"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (config) {
        if (!config) return;
        cfg = config;
        var wanted = cfg.language === "auto" ? (navigator.language || "en").toLowerCase() : cfg.language;
        lang = wanted.indexOf("pt") === 0 ? "pt-br" : "en";
        build();
        connect();
        if (prefillOpen) api.open();
      })
      .catch(function () { /* the desk is unreachable or refuses this site: no widget */ });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
