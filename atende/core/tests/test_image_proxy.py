"""The image proxy against a real HTTP server on loopback (allowed for these tests by IMAGE_PROXY_ALLOW_LOOPBACK):
what it passes on, and everything it refuses (unsigned links, private addresses, also after a redirect, too many
redirects, oversize, slow, and anything that is not an image whatever the server claims)."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest
from django.core import signing

from atende.core.image_proxy import SALT, address_allowed, proxy_url

GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


class _Upstream(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, status, body=b"", content_type="application/octet-stream", headers=None, length=True):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - http.server's hook name
        _Upstream.seen.append({"path": self.path, "headers": dict(self.headers)})
        port = self.server.server_address[1]
        routes = {
            "/pixel.gif": lambda: self._send(200, GIF, "text/plain", {"Set-Cookie": "tracker=1"}),  # mislabelled
            "/page.png": lambda: self._send(200, b"<html><script>alert(1)</script></html>", "image/png"),
            "/logo.svg": lambda: self._send(200, b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
                                            "image/svg+xml"),
            "/big.png": lambda: self._send(200, PNG + b"\x00" * 3000, "image/png"),
            "/big-chunked.png": lambda: self._send(200, PNG + b"\x00" * 3000, "image/png", length=False),
            "/to-private": lambda: self._send(302, headers={"Location": "http://10.1.2.3/x.png"}),
            "/to-metadata": lambda: self._send(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}),
            "/to-self": lambda: self._send(302, headers={"Location": "/to-self"}),
            "/to-pixel": lambda: self._send(301, headers={"Location": f"http://127.0.0.1:{port}/pixel.gif"}),
            "/missing.png": lambda: self._send(404, b"not here", "text/html"),
        }
        if self.path == "/slow.png":
            time.sleep(3)
            return self._send(200, PNG, "image/png")
        routes.get(self.path, routes["/missing.png"])()


@pytest.fixture
def upstream(settings):
    settings.IMAGE_PROXY_ALLOW_LOOPBACK = True
    settings.IMAGE_PROXY_MAX_BYTES = 1000
    settings.IMAGE_PROXY_TIMEOUT_SECONDS = 1.5
    _Upstream.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    client.cookies["extra"] = "agent-session-data"
    return client


def _error(response) -> str:
    return response.json()["error"]["code"]


@pytest.mark.django_db
def test_an_image_is_passed_on_under_its_sniffed_type_without_cookies_or_referrer(agent_client, upstream):
    response = agent_client.get(proxy_url(f"{upstream}/pixel.gif"), HTTP_REFERER="http://127.0.0.1:8000/console/")
    assert response.status_code == 200 and response.content == GIF
    assert response["Content-Type"] == "image/gif"  # the server said text/plain
    assert response["X-Content-Type-Options"] == "nosniff" and "sandbox" in response["Content-Security-Policy"]
    assert "tracker" not in response.cookies and "Set-Cookie" not in response
    [request] = _Upstream.seen
    headers = {name.lower() for name in request["headers"]}
    assert "cookie" not in headers and "referer" not in headers and "authorization" not in headers


@pytest.mark.django_db
def test_a_redirect_to_a_public_image_is_followed(agent_client, upstream):
    response = agent_client.get(proxy_url(f"{upstream}/to-pixel"))
    assert response.status_code == 200 and response.content == GIF


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "status", "code"), [
    ("/to-private", 403, "address_not_allowed"),
    ("/to-metadata", 403, "address_not_allowed"),
    ("/to-self", 502, "too_many_redirects"),
    ("/page.png", 502, "not_an_image"),
    ("/logo.svg", 502, "not_an_image"),
    ("/big.png", 502, "too_large"),
    ("/big-chunked.png", 502, "too_large"),
    ("/missing.png", 502, "upstream_error"),
    ("/slow.png", 504, "timeout"),
])
def test_what_the_proxy_refuses(agent_client, upstream, path, status, code):
    response = agent_client.get(proxy_url(f"{upstream}{path}"))
    assert (response.status_code, _error(response)) == (status, code)
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_redirect_limit_counts_every_hop(agent_client, upstream, settings):
    settings.IMAGE_PROXY_MAX_REDIRECTS = 0
    assert _error(agent_client.get(proxy_url(f"{upstream}/to-pixel"))) == "too_many_redirects"
    assert len(_Upstream.seen) == 1


@pytest.mark.django_db
def test_loopback_is_refused_unless_the_setting_allows_it(agent_client, upstream, settings):
    settings.IMAGE_PROXY_ALLOW_LOOPBACK = False
    response = agent_client.get(proxy_url(f"{upstream}/pixel.gif"))
    assert (response.status_code, _error(response)) == (403, "address_not_allowed")
    assert _Upstream.seen == []  # refused before connecting


@pytest.mark.django_db
def test_only_links_the_desk_signed_and_only_for_staff(client, agent, customer, upstream, settings):
    good = proxy_url(f"{upstream}/pixel.gif")
    client.force_login(agent)
    forged = "/image-proxy/?t=" + signing.dumps(f"{upstream}/pixel.gif", salt="something-else")
    tampered = good[:-3] + ("A" if good[-3] != "A" else "B") + good[-2:]  # one character of the signature
    for url in ("/image-proxy/", f"/image-proxy/?t={upstream}/pixel.gif", forged, tampered):
        response = client.get(url)
        assert (response.status_code, _error(response)) == (403, "bad_signature"), url
    settings.IMAGE_PROXY_URL_MAX_AGE = -1
    assert _error(client.get(good)) == "expired"
    settings.IMAGE_PROXY_URL_MAX_AGE = 3600
    client.force_login(customer)
    assert (client.get(good).status_code, _error(client.get(good))) == (403, "forbidden")
    client.logout()
    assert client.get(good).status_code == 403
    assert _Upstream.seen == []


@pytest.mark.django_db
def test_the_connection_goes_to_the_address_that_was_checked(agent_client, upstream):
    """A name is resolved once, checked, and connected to by address (DNS rebinding cannot switch it after the
    check); the request still names the host. ``images.example`` does not resolve anywhere but here."""
    port = int(upstream.rsplit(":", 1)[1])
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if host == "images.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, *args, **kwargs)

    with mock.patch("atende.core.image_proxy.socket.getaddrinfo", side_effect=fake) as lookups:
        response = agent_client.get(proxy_url(f"http://images.example:{port}/pixel.gif"))
    assert response.status_code == 200 and response.content == GIF
    # The name is looked up once, by the check; the connection only ever names the checked address.
    assert {call.args[0] for call in lookups.call_args_list} <= {"images.example", "127.0.0.1"}
    assert [call.args[0] for call in lookups.call_args_list].count("images.example") == 1
    assert _Upstream.seen[0]["headers"]["Host"] == f"images.example:{port}"


@pytest.mark.parametrize("address", [
    "10.0.0.1", "172.16.5.4", "192.168.1.1", "127.0.0.1", "127.8.8.8", "0.0.0.0", "169.254.169.254", "100.64.0.1",
    "192.0.2.1", "198.18.0.1", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "::1", "::",
    "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::1",
    "2002:a00:1::1", "64:ff9b::a00:1", "64:ff9b::7f00:1", "2001:db8::1", "2001:0:4136:e378:8000:63bf:f5ff:fffe",
])
def test_non_global_addresses_are_refused(address, settings):
    settings.IMAGE_PROXY_ALLOW_LOOPBACK = False
    assert not address_allowed(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8",
                                     "64:ff9b::808:808"])
def test_global_addresses_are_allowed(address):
    assert address_allowed(address)


def test_allowing_loopback_allows_nothing_else(settings):
    settings.IMAGE_PROXY_ALLOW_LOOPBACK = True
    assert address_allowed("127.0.0.1") and address_allowed("::1")
    assert not address_allowed("10.0.0.1") and not address_allowed("169.254.169.254")


def test_proxy_links_are_signed_with_their_own_salt():
    token = proxy_url("https://cdn.example/a.png").split("t=", 1)[1]
    assert signing.loads(token, salt=SALT) == "https://cdn.example/a.png"
    with pytest.raises(signing.BadSignature):
        signing.loads(token)
