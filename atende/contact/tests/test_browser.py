"""The embedded contact form in Chromium: a page on another origin (a second loopback port) embeds it with the
loader script; the visitor sees a knowledge-base suggestion while typing and submits a ticket. The same embed on
an origin the admin did not allow is refused by frame-ancestors."""

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from atende.contact.models import ContactFormSettings
from atende.kb.tests.factories import make_article, make_section
from atende.tickets.models import Ticket


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def host_site(tmp_path):
    """``make(html)`` serves a page at http://127.0.0.1:<new port>/ and returns its origin."""
    servers = []

    def make(html: str) -> str:
        root = tmp_path / f"site{len(servers)}"
        root.mkdir()
        (root / "index.html").write_text(html)
        server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


def _warm_up(desk: str) -> None:
    """The first request loads every app's URLs and views: do it before the browser's timeouts start."""
    httpx.get(desk + "/contact/embed/", timeout=180)


def _page_html(desk: str) -> str:
    return ("<!doctype html><html><body><h1>Shop</h1>"
            f'<script src="{desk}/static/contact/embed.js" async></script></body></html>')


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_embedded_form_on_an_allowed_site_creates_a_ticket(live_server, page, host_site, settings):
    settings.SITE_URL = live_server.url
    make_article(section=make_section(), title="Track your order", body="Open **Orders** to follow a delivery.")
    shop = host_site(_page_html(live_server.url))
    ContactFormSettings.objects.create(allowed_origins=shop)
    _warm_up(live_server.url)

    page.goto(shop + "/index.html", wait_until="domcontentloaded")
    frame = page.frame_locator("iframe.atende-contact-frame")
    frame.locator("#id_name").fill("Paula Visitante")
    frame.locator("#id_email").fill("paula@visitante.example")
    frame.locator("#id_subject").press_sequentially("track my order", delay=30)
    frame.locator("#kb-suggestions >> text=Track your order").wait_for()
    frame.locator("#id_description").fill("Where is my parcel? It has been ten days.")
    page.wait_for_timeout(2100)  # a person takes longer than the form's minimum time anyway
    frame.locator("button[type=submit]").click()
    frame.locator("text=Thank you, we received your request").wait_for()

    ticket = Ticket.objects.get()
    assert ticket.requester.email == "paula@visitante.example" and ticket.subject == "track my order"
    assert frame.locator(f"text=#{ticket.number}").count() == 1


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_embed_on_a_site_not_allowed_is_refused_by_the_browser(live_server, page, host_site):
    allowed = host_site("<p>allowed</p>")
    other = host_site(_page_html(live_server.url))
    ContactFormSettings.objects.create(allowed_origins=allowed)
    _warm_up(live_server.url)
    refusals = []
    page.on("console", lambda message: refusals.append(message.text) if "frame-ancestors" in message.text else None)

    page.goto(other + "/index.html", wait_until="domcontentloaded")
    page.wait_for_selector("iframe.atende-contact-frame", state="attached")
    page.wait_for_timeout(1500)
    assert page.frame_locator("iframe.atende-contact-frame").locator("#request-form").count() == 0
    assert any("frame-ancestors" in text for text in refusals), refusals
