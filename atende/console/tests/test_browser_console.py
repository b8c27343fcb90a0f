"""End to end in headless Chromium against a real ASGI server (uvicorn: HTTP and websockets), serving the demo
help desk (``atende.core.testing.server``)."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from atende.core.testing.server import ROOT, demo_server, query, server_env

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AGENT = ("agent@atende.test", "atende-agent")
ADMIN = ("admin@atende.test", "atende-admin")


@pytest.fixture(scope="module")
def asgi_server(tmp_path_factory, _playwright):
    """(base URL, database path) of a uvicorn process serving the demo help desk."""
    with demo_server(tmp_path_factory.mktemp("asgi-var")) as served:
        yield served


def log_in(page, base: str, credentials: tuple[str, str]) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", credentials[0])
    page.fill("#id_password", credentials[1])
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r"/console/"))


def open_ticket_number(database: Path) -> int:
    """An unsolved demo ticket not assigned to the demo agent."""
    return query(database, "SELECT t.number FROM tickets_ticket t WHERE t.status IN ('new', 'open') "
                           "AND t.merged_into_id IS NULL AND (t.assignee_id IS NULL OR t.assignee_id != "
                           "(SELECT id FROM accounts_user WHERE email = ?)) ORDER BY t.number DESC LIMIT 1",
                 AGENT[0])[0][0]


def test_agent_works_a_ticket_from_queue_to_reply_status_bulk_and_search(asgi_server, new_page):
    base, database = asgi_server
    page = new_page()
    log_in(page, base, AGENT)

    # Open a queue and, from it, a ticket.
    page.click("#queue-nav >> text=All open")
    page.wait_for_url(re.compile(r"view=all_open"))
    links = page.locator("main table a[href^='/console/tickets/']")
    numbers = []
    for i in range(links.count()):
        found = int(re.search(r"/console/tickets/(\d+)/", links.nth(i).get_attribute("href")).group(1))
        if found not in numbers:
            numbers.append(found)
    number = numbers[0]
    # Keyboard: j j selects the second ticket, Enter opens it, k goes back to the first (the list is remembered);
    # back on the list, j selects the first ticket and o opens it.
    page.click("h1")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/console/tickets/{numbers[1]}/")
    page.keyboard.press("k")
    page.wait_for_url(f"{base}/console/tickets/{number}/")
    page.goto(f"{base}/console/?view=all_open")
    page.click("h1")
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_url(f"{base}/console/tickets/{number}/")
    page.locator("body[data-realtime='connected']").wait_for(state="attached")

    # Reply: the message appears in the timeline without a page load.
    page.check("#reply_kind_0")
    page.fill("#reply_body", "Thanks, we are looking into it right now.")
    page.click("#send-reply")
    page.locator(".timeline .message.reply", has_text="we are looking into it right now").wait_for()
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1  # still the same page

    # Change the status from the side panel (saved as soon as it changes); the header badge follows.
    page.select_option("#panel_status", "on_hold")
    page.locator("#ws-status", has_text="On hold").wait_for()
    assert query(database, "SELECT status FROM tickets_ticket WHERE number = ?", number) == [("on_hold",)]

    # Bulk-assign two tickets of a queue to the demo agent.
    page.goto(f"{base}/console/?view=all_open")
    boxes = page.locator("input[name=tickets]")
    ids = [int(boxes.nth(i).get_attribute("value")) for i in range(2)]
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.select_option("#bulk-action", "assign")
    agent_id = query(database, "SELECT id FROM accounts_user WHERE email = ?", AGENT[0])[0][0]
    page.select_option("#bulk-assignee", str(agent_id))
    page.click(".bulk-bar button[type=submit]")
    page.get_by_text(re.compile(r"Assign.*: 2 tickets updated")).wait_for()  # what the agent sees when it is done
    assigned = query(database, f"SELECT assignee_id FROM tickets_ticket WHERE id IN ({ids[0]}, {ids[1]})")
    assert assigned == [(agent_id,), (agent_id,)]

    # Search by the ticket's number and by a word of its subject.
    subject = query(database, "SELECT subject FROM tickets_ticket WHERE number = ?", number)[0][0]
    word = max(re.findall(r"\w{5,}", subject), key=len)
    page.fill("#console-search-q", word)
    page.press("#console-search-q", "Enter")
    page.wait_for_url(re.compile(r"/console/search"))
    page.locator(f"main a[href='/console/tickets/{number}/']").first.wait_for()


def test_a_second_agents_change_arrives_live_with_presence(asgi_server, new_page):
    base, database = asgi_server
    number = open_ticket_number(database)
    watcher, actor = new_page(), new_page()
    log_in(watcher, base, AGENT)
    log_in(actor, base, ADMIN)
    for page in (watcher, actor):
        page.goto(f"{base}/console/tickets/{number}/")
        page.locator("body[data-realtime='connected']").wait_for(state="attached")

    # Collision detection: each sees the other; typing shows as "is replying".
    watcher.locator("#ws-presence .presence-chip", has_text="Alice Admin").wait_for()
    actor.fill("#reply_body", "Drafting an answer")
    watcher.locator("#ws-presence .presence-chip.typing", has_text="Alice Admin").wait_for()

    # The watcher starts a reply, then the other agent changes the ticket: it shows up live, with a warning.
    watcher.fill("#reply_body", "My answer")
    actor.check("#reply_kind_1")
    actor.fill("#reply_body", "Internal: customer is on the enterprise plan.")
    actor.click("#send-reply")
    watcher.locator(".timeline .message.note", has_text="customer is on the enterprise plan").wait_for()
    watcher.locator("#ws-live-notice").wait_for(state="visible")
    assert watcher.evaluate("performance.getEntriesByType('navigation').length") == 1

    # Sending the now-stale reply asks first; "Send anyway" sends it.
    actor.select_option("#panel_priority", "urgent")
    watcher.locator("#ws-meta .priority-urgent").wait_for()
    watcher.click("#send-reply")
    watcher.locator("#stale-warning").wait_for()
    watcher.click("#send-anyway")
    watcher.locator(".timeline .message.reply", has_text="My answer").wait_for()
    replies = query(database, "SELECT count(*) FROM tickets_message m JOIN tickets_ticket t ON t.id = m.ticket_id "
                              "WHERE t.number = ? AND m.body_text = 'My answer'", number)
    assert replies == [(1,)]

    # Keyboard: "?" opens the help; "a" assigns the ticket to the watcher.
    watcher.click("h1")
    watcher.keyboard.press("?")
    watcher.locator("#shortcuts-help[open]").wait_for()
    watcher.keyboard.press("Escape")
    watcher.keyboard.press("a")
    watcher.locator("#assign-me[disabled]").wait_for()


# A stand-in for the console's socket that opens only when the test says so; the chat socket stays real.
HELD_SOCKET = """
(() => {
  const Real = window.WebSocket;
  window.__held = [];
  window.__settled = 0;
  document.addEventListener("htmx:afterSettle", () => { window.__settled += 1; });
  class Held extends EventTarget {
    constructor(url) { super(); this.url = url; this.readyState = 0; this.sent = []; window.__held.push(this); }
    send(data) { if (this.readyState !== 1) throw new DOMException("still connecting", "InvalidStateError");
                 this.sent.push(JSON.parse(data)); }
    close() { this.readyState = 3; }
    arrive(message) { this.dispatchEvent(new MessageEvent("message", { data: JSON.stringify(message) })); }
    open() { this.readyState = 1; this.dispatchEvent(new Event("open")); }
  }
  function Socket(url, protocols) { return /\\/ws\\/console\\/$/.test(url) ? new Held(url) : new Real(url, protocols); }
  Object.assign(Socket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  window.WebSocket = Socket;
})();
"""


def wait_until(page, expression: str, seconds: float = 10) -> None:
    """``wait_for_function`` evaluates its predicate with eval, which the page's CSP forbids: poll instead."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {seconds} s: {expression}"
        page.wait_for_timeout(50)


def test_a_ticket_page_watches_its_ticket_even_when_htmx_settles_before_the_socket_is_ready(asgi_server, new_page):
    """The class: whatever the page does before the server's hello (a fragment loaded by htmx, typing) is not
    lost; the watch goes out once the socket is ready, so presence and live changes reach the page."""
    base, database = asgi_server
    number = open_ticket_number(database)
    page = new_page()
    log_in(page, base, AGENT)
    page.add_init_script(HELD_SOCKET)
    page.goto(f"{base}/console/tickets/{number}/")
    wait_until(page, "window.__settled > 0 && window.__held.length === 1")  # htmx swapped, the socket connecting
    page.fill("#reply_body", "Typed before the socket opened")
    assert page.locator("body[data-realtime='connected']").count() == 0

    page.evaluate("window.__held[0].open()")
    assert page.locator("body[data-realtime='connected']").count() == 0  # open, but the server has not said hello
    page.evaluate("window.__held[0].arrive({type: 'hello', user_id: 1, heartbeat: 20})")
    page.locator("body[data-realtime='connected']").wait_for(state="attached")
    ticket_id = int(page.locator("[data-ticket-workspace]").get_attribute("data-ticket-id"))
    assert page.evaluate("window.__held[0].sent") == [{"action": "watch", "ticket_id": ticket_id}]

    page.fill("#reply_body", "Typed after it opened")
    wait_until(page, "window.__held[0].sent.length === 2")
    assert page.evaluate("window.__held[0].sent[1]") == {"action": "typing", "ticket_id": ticket_id, "typing": True}


GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,"
       b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


class _Pixels(BaseHTTPRequestHandler):
    """A sender's image server: records every request it gets."""

    seen: list[dict[str, str]] = []

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 - http.server's hook name
        _Pixels.seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.send_header("Content-Length", str(len(GIF)))
        self.end_headers()
        self.wfile.write(GIF)


def test_remote_images_load_only_when_the_agent_asks_through_the_desk(asgi_server, new_page, tmp_path):
    base, database = asgi_server
    _Pixels.seen = []
    pixels = ThreadingHTTPServer(("127.0.0.1", 0), _Pixels)
    threading.Thread(target=pixels.serve_forever, daemon=True).start()
    port = pixels.server_address[1]
    try:
        # A newsletter with a tracking pixel, one of them written the way that used to slip past the filter.
        (tmp_path / "pixels.eml").write_bytes((
            "From: Lia <lia@newsletter.example>\r\nTo: support@atende.test\r\nSubject: Pixels inside\r\n"
            "Message-ID: <pixels@newsletter.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/html; charset=utf-8\r\n\r\n"
            f'<p>Our news<img src="http://127.0.0.1:{port}/open.gif" alt="a">'
            f'<img src="http:\\\\127.0.0.1:{port}/open2.gif" alt="b"></p>\r\n').encode())
        subprocess.run([sys.executable, "-m", "django", "mail-import", str(tmp_path / "pixels.eml")],
                       env=server_env(database), cwd=ROOT, check=True, timeout=120, capture_output=True)
        number = query(database, "SELECT number FROM tickets_ticket WHERE subject = 'Pixels inside'")[0][0]

        page = new_page()
        log_in(page, base, ADMIN)
        page.goto(f"{base}/console/tickets/{number}/")
        page.wait_for_load_state("load")  # every image the page would load on its own has loaded by now
        images = page.locator(".message-body img[data-remote-src]")
        assert images.count() == 2
        assert [images.nth(i).get_attribute("src") for i in range(2)] == [None, None]
        assert _Pixels.seen == []  # opening the ticket told the sender nothing

        page.get_by_role("button", name="Load images").click()
        # Polled from here: the page's strict CSP forbids the string evaluation wait_for_function polls with.
        loaded = ("[...document.querySelectorAll('.message-body img[data-remote-src]')]"
                  ".every(img => img.complete && img.naturalWidth === 1)")
        for _ in range(100):
            if page.evaluate(loaded):
                break
            page.wait_for_timeout(100)
        assert page.evaluate(loaded)
        assert all(images.nth(i).get_attribute("src").startswith("/image-proxy/?t=") for i in range(2))
        assert sorted(request["path"] for request in _Pixels.seen) == ["/open.gif", "/open2.gif"]
        for request in _Pixels.seen:  # fetched by the desk: nothing of the agent's browser reaches the sender
            assert "cookie" not in request and "referer" not in request and "Chrome" not in request["user-agent"]
    finally:
        pixels.shutdown()
        pixels.server_close()
