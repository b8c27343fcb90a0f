"""The image proxy: remote images in messages, fetched by the desk on an agent's request, as mail clients do.

The browser never contacts the remote host (no cookies, no referrer, no IP address or "opened" signal leaks to a
sender's tracker); the desk fetches the image without credentials. The proxy must not become a way into the
desk's own network (SSRF), so:

- only URLs the desk signed itself are fetched (``proxy_url``: Django signing, time-limited);
- the host is resolved here and every address must be global: private, loopback, link-local, multicast,
  reserved and unspecified addresses are refused (IPv4-mapped, 6to4, Teredo and NAT64 forms included), and the
  connection goes to the address that was checked, so DNS rebinding cannot switch it afterwards;
- redirects are followed by hand, each hop checked the same way, up to a limit;
- size and total time are capped, and only content whose first bytes are an image format (PNG, JPEG, GIF, WebP,
  BMP, ICO, AVIF) is passed on, under the type sniffed, never the one the server claims. SVG is not (scripts).
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass

import httpx
from ada_url import URL
from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "atende.image-proxy"
REDIRECTS = {301, 302, 303, 307, 308}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class ImageProxyError(Exception):
    def __init__(self, code: str, message: str, status: int = 502):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class FetchedImage:
    content: bytes
    content_type: str


def proxy_url(remote_url: str) -> str:
    """The desk's URL that shows ``remote_url`` through the proxy (signed; valid IMAGE_PROXY_URL_MAX_AGE)."""
    return f"{reverse('image_proxy')}?t={signing.dumps(remote_url, salt=SALT, compress=True)}"


def proxy_target(token: str) -> str:
    try:
        return signing.loads(token or "", salt=SALT, max_age=settings.IMAGE_PROXY_URL_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise ImageProxyError("expired", "This image link has expired; reload the page.", 403) from exc
    except signing.BadSignature as exc:
        raise ImageProxyError("bad_signature", "This image link was not made by this desk.", 403) from exc


def address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            ip = embedded
    if ip.is_loopback:
        return bool(settings.IMAGE_PROXY_ALLOW_LOOPBACK)
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_unspecified
                                 or ip.is_private)


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, IPv4 first; all must be allowed (a host that mixes public and private
    addresses is refused rather than trusted to pick the right one)."""
    host = host.strip("[]")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ImageProxyError("unresolvable", f"The image's host {host} could not be resolved.") from exc
    addresses = sorted(dict.fromkeys(info[4][0] for info in infos), key=lambda a: ":" in a)
    refused = [a for a in addresses if not address_allowed(a)]
    if refused or not addresses:
        raise ImageProxyError("address_not_allowed",
                              f"The image's host {host} is on a private or reserved network.", 403)
    return addresses


def sniff_image(head: bytes) -> str | None:
    """The image type by its first bytes (the WHATWG MIME sniffing patterns), or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:14] == b"WEBPVP":
        return "image/webp"
    if head.startswith(b"BM"):
        return "image/bmp"
    if head.startswith((b"\x00\x00\x01\x00", b"\x00\x00\x02\x00")):
        return "image/x-icon"
    if head[4:12] in (b"ftypavif", b"ftypavis"):
        return "image/avif"
    return None


def fetch_image(remote_url: str) -> FetchedImage:
    deadline = time.monotonic() + settings.IMAGE_PROXY_TIMEOUT_SECONDS
    url = remote_url
    with httpx.Client(follow_redirects=False, trust_env=False, headers={"User-Agent": "Atende image proxy"}) as client:
        for _hop in range(settings.IMAGE_PROXY_MAX_REDIRECTS + 1):
            response_or_next = _fetch_once(client, url, deadline)
            if isinstance(response_or_next, FetchedImage):
                return response_or_next
            url = response_or_next
    raise ImageProxyError("too_many_redirects",
                          f"The image redirected more than {settings.IMAGE_PROXY_MAX_REDIRECTS} times.")


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise ImageProxyError("timeout", "The image's server took too long.", 504)
    return left


def _fetch_once(client: httpx.Client, url: str, deadline: float) -> FetchedImage | str:
    """The image, or the URL a redirect points to."""
    try:
        target = URL(url)
    except ValueError as exc:
        raise ImageProxyError("bad_url", "The image's address is not a valid URL.") from exc
    if target.protocol not in ("http:", "https:") or not target.hostname:
        raise ImageProxyError("bad_url", "Only http and https images are fetched.")
    port = int(target.port) if target.port else (443 if target.protocol == "https:" else 80)
    response = _connect(client, target, port, resolve(target.hostname, port), deadline)
    try:
        if response.status_code in REDIRECTS and response.headers.get("location"):
            try:
                return URL(response.headers["location"], base=url).href
            except ValueError as exc:
                raise ImageProxyError("bad_url", "The image redirected to an invalid address.") from exc
        if response.status_code != 200:
            raise ImageProxyError("upstream_error", f"The image's server answered {response.status_code}.")
        return _read_image(response, deadline)
    finally:
        response.close()


def _connect(client: httpx.Client, target: URL, port: int, addresses: list[str], deadline: float) -> httpx.Response:
    """Connect to the addresses just checked, in turn (never to the name, which could resolve elsewhere a moment
    later: DNS rebinding); the Host header and the TLS server name still carry the name, so virtual hosts and
    certificates work."""
    failure: Exception | None = None
    for address in addresses:
        pinned = f"[{address}]" if ":" in address else address
        request = client.build_request(
            "GET", f"{target.protocol}//{pinned}:{port}{target.pathname}{target.search}",
            headers={"Host": target.host, "Accept": "image/*"},
            extensions={"sni_hostname": target.hostname.strip("[]"),
                        "timeout": httpx.Timeout(_remaining(deadline)).as_dict()},
        )
        try:
            return client.send(request, stream=True)
        except httpx.ConnectError as exc:  # e.g. an IPv6 address without a route: try the next one
            failure = exc
        except httpx.TimeoutException as exc:
            raise ImageProxyError("timeout", "The image's server took too long.", 504) from exc
        except httpx.HTTPError as exc:
            failure = exc
            break
    raise ImageProxyError("upstream_error", f"The image could not be fetched ({failure.__class__.__name__}).")


def _read_image(response: httpx.Response, deadline: float) -> FetchedImage:
    limit = settings.IMAGE_PROXY_MAX_BYTES
    too_large = ImageProxyError("too_large", f"The image is larger than {limit} bytes.")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    try:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
            _remaining(deadline)
    except httpx.TimeoutException as exc:
        raise ImageProxyError("timeout", "The image's server took too long.", 504) from exc
    except httpx.HTTPError as exc:
        raise ImageProxyError("upstream_error", f"The image could not be read ({exc.__class__.__name__}).") from exc
    content = b"".join(chunks)
    content_type = sniff_image(content[:32])
    if content_type is None:
        raise ImageProxyError("not_an_image", "The address does not hold an image this desk shows.")
    return FetchedImage(content=content, content_type=content_type)
