"""Live chat end to end in headless Chromium: a host page on another origin embeds the widget from a real ASGI
server (uvicorn) serving the demo help desk; a visitor chats with the bot, asks for a person, an agent accepts
in the console and replies; both see each other live; a reload keeps the conversation; the ticket holds it all."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from atende.core.testing.server import demo_server, query

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AGENT = ("agent@atende.test", "atende-agent")


@pytest.fixture(scope="module")
def desk(tmp_path_factory, _playwright):
    with demo_server(tmp_path_factory.mktemp("chat-var")) as served:
        yield served


@contextmanager
def page_server(base: str, key: str):
    """A customer's website: one page embedding the widget, on its own loopback port."""
    page = (f'<!doctype html><html><head><title>Shop</title></head><body><h1>Our shop</h1>'
            f'<script src="{base}/chat/widget.js" data-widget="{key}" async></script></body></html>').encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()


def widget_key(database) -> str:
    return query(database, "SELECT key FROM chat_widget ORDER BY id LIMIT 1")[0][0]


@pytest.fixture
def host_site(desk):
    """The host page on another origin (``localhost`` vs the desk's ``127.0.0.1``), on the widget's allow-list."""
    base, database = desk
    key = widget_key(database)
    with page_server(base, key) as port:
        origin = f"http://localhost:{port}"
        query(database, "UPDATE chat_widget SET allowed_origins = allowed_origins || ? WHERE key = ?",
              "\n" + origin, key)
        yield origin, key


class Line:
    """A page's chat socket, passed through to the server; while ``down`` every connection attempt is refused at
    once, as when the network drops."""

    def __init__(self):
        self.down = False
        self.current = None

    def route(self, socket) -> None:
        if self.down:
            socket.close()
            return
        socket.connect_to_server()
        self.current = socket


def log_in(page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", AGENT[0])
    page.fill("#id_password", AGENT[1])
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r"/console/"))


def test_visitor_chats_with_the_bot_then_an_agent_and_the_ticket_holds_the_transcript(desk, host_site, new_page):
    base, database = desk
    origin, key = host_site
    agent = new_page()
    log_in(agent, base)
    line = Line()
    agent.route_web_socket(re.compile(r"/ws/console/chat/$"), line.route)
    agent.goto(f"{base}/console/chat/")
    agent.locator("body[data-chat='connected']").wait_for(state="attached")  # a selector: the CSP forbids eval

    visitor = new_page()
    console_errors = []
    visitor.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    visitor.goto(f"{origin}/")
    visitor.click("[data-atende-chat] .launcher")
    visitor.fill(".prechat input[name=name]", "Marta")
    visitor.fill(".prechat textarea[name=question]", "I forgot my password, how do I reset it?")
    visitor.wait_for_selector(".suggestions a:has-text('Reset your password')")  # suggested while typing
    visitor.click(".prechat button[type=submit]")

    # The bot answers with the article; the visitor asks for a person.
    visitor.wait_for_selector(".msg.from-bot a:has-text('Reset your password')")
    visitor.click("button.human")
    visitor.wait_for_selector(".status:has-text('number 1')")

    # The agent sees the waiting chat (offered to them), accepts it and replies.
    agent.wait_for_selector("#chat-waiting .chat-row:has-text('Marta')")
    agent.click("#chat-waiting .chat-row:has-text('Marta') .chat-accept-row")
    agent.wait_for_selector("#chat-reply-form:not([hidden])")
    agent.fill("#chat-reply", "Hi Marta, <b>I can help</b> with that.")
    visitor.wait_for_selector(".typing:has-text('is typing')")  # the agent's typing shows live
    agent.press("#chat-reply", "Enter")
    visitor.wait_for_selector(".msg.from-agent .text:has-text('Hi Marta, <b>I can help</b> with that.')")
    assert visitor.locator(".msg.from-agent b").count() == 0  # shown as text, never as HTML

    # The agent's connection drops: a reply written meanwhile is kept (the page says so) and goes out, once,
    # when the connection is back.
    line.down = True
    line.current.close()
    agent.locator("body[data-chat='disconnected']").wait_for(state="attached")
    agent.fill("#chat-reply", "Still here, Marta.")
    agent.press("#chat-reply", "Enter")
    agent.wait_for_selector("#chat-connection:has-text('goes out as soon as the connection is back')")
    line.down = False
    visitor.wait_for_selector(".msg.from-agent .text:has-text('Still here, Marta.')", timeout=20_000)
    agent.locator("#chat-connection", has_text="goes out").wait_for(state="detached")  # and the notice went

    # The visitor answers; the agent sees it and the visitor typing.
    visitor.fill(".composer textarea", "Thanks! The link did not arrive.")
    agent.wait_for_selector("#chat-typing:has-text('typing')")
    visitor.press(".composer textarea", "Enter")
    agent.wait_for_selector("#chat-log .from-visitor:has-text('The link did not arrive')")

    # A reload keeps the conversation (the signed token in the host page's localStorage).
    visitor.reload()
    visitor.click("[data-atende-chat] .launcher")
    visitor.wait_for_selector(".msg.from-visitor .text:has-text('The link did not arrive')")
    visitor.wait_for_selector(".msg.from-agent .text:has-text('Hi Marta')")
    assert visitor.locator(".msg").count() == 5
    token = visitor.evaluate(f"localStorage.getItem('atende-chat:{key}')")
    assert token and ":" in token

    # The ticket is a chat ticket whose thread is the whole transcript, the bot's turn included.
    ticket_id, channel, assignee = query(database, "SELECT t.id, t.channel, u.email FROM chat_chatsession s "
                                                   "JOIN tickets_ticket t ON t.id = s.ticket_id "
                                                   "JOIN accounts_user u ON u.id = t.assignee_id")[0]
    assert channel == "chat" and assignee == AGENT[0]
    thread = query(database, "SELECT author_kind, body_text FROM tickets_message WHERE ticket_id = ? ORDER BY id",
                   ticket_id)
    assert [kind for kind, _ in thread] == ["customer", "automation", "agent", "agent", "customer"]
    assert thread[0][1] == "I forgot my password, how do I reset it?"
    assert thread[2][1] == "Hi Marta, <b>I can help</b> with that." and thread[3][1] == "Still here, Marta."
    agent.goto(f"{base}/console/tickets/{ticket_id}/")
    agent.wait_for_selector("text=The link did not arrive.")

    # A screenshot from the widget: checked and stored as a ticket attachment, shown to the visitor as a thumbnail
    # link on the desk (their token in the address), and on the agent's ticket page.
    visitor.set_input_files(".composer input[type=file]", files=[
        {"name": "screen.png", "mimeType": "image/png", "buffer": tiny_png()}])
    visitor.wait_for_selector(".msg.from-visitor a.file:has-text('screen.png') img.thumb")
    thumb = visitor.locator(".msg.from-visitor img.thumb")
    thumb.evaluate("img => img.decode()")  # the image loads cross-origin from the desk
    assert thumb.evaluate("img => img.naturalWidth") == 1
    visitor.set_input_files(".composer input[type=file]", files=[
        {"name": "run.exe", "mimeType": "application/x-msdownload", "buffer": b"MZ"}])
    visitor.wait_for_selector(".status:has-text('not accepted')")
    agent.reload()
    agent.wait_for_selector("a:has-text('screen.png')")
    assert not [e for e in console_errors if "Content Security Policy" in e]


def tiny_png() -> bytes:
    """A valid 1×1 PNG."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def test_a_page_on_an_origin_not_allowed_gets_no_widget(desk, new_page):
    base, database = desk
    key = widget_key(database)
    with page_server(base, key) as port:
        page = new_page()
        page.goto(f"http://127.0.0.1:{port}/")  # same host as the desk, another port: another origin
        page.wait_for_function("window.Atende && window.Atende.version === 1")
        outcome = page.evaluate("(url) => fetch(url).then(r => r.status, () => 'blocked')",
                                f"{base}/chat/widget/{key}/config")
        assert outcome == "blocked"  # refused with 403 and no CORS header: the page cannot read it
        page.wait_for_timeout(500)
        assert page.locator("[data-atende-chat]").count() == 0
        code = page.evaluate("""(url) => new Promise(done => {
            const ws = new WebSocket(url);
            ws.onclose = e => done(e.code);
            ws.onopen = () => done("open");
        })""", base.replace("http", "ws") + f"/ws/chat/{key}/")
        assert code != "open"


def test_with_nobody_online_the_form_becomes_a_ticket_answered_by_email(desk, host_site, new_page):
    base, database = desk
    origin, key = host_site
    # Nobody online (an earlier test's agent tab may still be closing): every agent switched to offline.
    query(database, "UPDATE accounts_user SET availability = 'offline' WHERE role IN ('agent', 'admin')")
    visitor = new_page(locale="pt-BR")
    line = Line()
    visitor.route_web_socket(re.compile(r"/ws/chat/"), line.route)
    visitor.goto(f"{origin}/")
    visitor.click("[data-atende-chat] .launcher")
    visitor.wait_for_selector(".prechat h3:has-text('Estamos offline')")  # the browser's language: pt-BR
    visitor.fill(".prechat input[name=name]", "Joana")
    visitor.fill(".prechat input[name=email]", "joana@example.com")
    visitor.fill(".prechat textarea[name=question]", "Minha fatura veio duplicada")

    # Sent while the connection is down: refused visibly, and what the visitor typed survives the reconnect.
    line.down = True
    line.current.close()
    visitor.wait_for_selector(".status:has-text('Reconectando')")
    visitor.click(".prechat button[type=submit]")
    visitor.wait_for_selector(".prechat .error:has-text('Reconectando')")
    line.down = False
    visitor.locator(".prechat .error", has_text="Reconectando").wait_for(state="detached", timeout=20_000)
    assert visitor.input_value(".prechat textarea[name=question]") == "Minha fatura veio duplicada"
    assert visitor.input_value(".prechat input[name=name]") == "Joana"
    visitor.click(".prechat button[type=submit]")
    visitor.wait_for_selector(".ended:has-text('responderemos por e-mail')")
    channel, subject, email = query(database, "SELECT t.channel, t.subject, u.email FROM chat_chatsession s "
                                              "JOIN tickets_ticket t ON t.id = s.ticket_id "
                                              "JOIN accounts_user u ON u.id = t.requester_id "
                                              "WHERE s.outcome = 'offline_form'")[0]
    assert (channel, subject, email) == ("chat", "Minha fatura veio duplicada", "joana@example.com")
    # A new conversation can start afterwards (a new visitor token).
    old = visitor.evaluate(f"localStorage.getItem('atende-chat:{key}')")
    visitor.click("button.restart")
    visitor.wait_for_selector(".prechat textarea[name=question]")
    assert visitor.evaluate(f"localStorage.getItem('atende-chat:{key}')") != old
