"""Text and HTML handling for message bodies: sanitising (nh3) and plain-text extraction.

URLs are decided the way browsers decide them (WHATWG URL parsing, with ``ada-url``): nh3 parses the HTML as a
browser does (entities decoded), and each image URL is then resolved as a browser would resolve it, so that
``\\\\evil.example/t.gif``, ``http:\\\\evil.example``, `` https://…``, ``/\\evil.example`` or a tab inside the scheme
are seen for what they are: remote. Only ``cid:`` (inline parts of the message) and the desk's own attachment
URLs stay in ``src``. A remote image keeps its URL in ``data-remote-src``, which browsers never fetch; the console
shows it only when the agent asks, through the signed image proxy (``atende.core.image_proxy``).
"""

from __future__ import annotations

import html
import re

import nh3
from ada_url import URL
from django.conf import settings
from django.urls import reverse

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img",
    "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}
REMOTE_SRC = "data-remote-src"
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", REMOTE_SRC, "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
LINK_PROTOCOLS = {"http:", "https:", "mailto:", "tel:"}
# Our own marker for "this src was remote": written by the attribute filter, moved to data-remote-src right after.
# Not a scheme any browser fetches, so even a tag the move missed would load nothing.
_REMOTE_MARK = "atende-remote:"
_IMG_TAG = re.compile(r"<img\b[^>]*>")  # nh3 escapes ">" and '"' inside attribute values
_ATTRIBUTE = re.compile(r'\s([^\s=/>]+)(?:="([^"]*)")?')


def _desk() -> tuple[str, re.Pattern]:
    """The desk's origin and the path of its attachment URLs (``/tickets/attachments/<id>/``)."""
    origin = URL(settings.SITE_URL + "/").origin
    prefix, _sep, suffix = reverse("tickets:attachment", args=[987654321]).partition("987654321")
    return origin, re.compile(rf"^{re.escape(prefix)}(\d+){re.escape(suffix)}$")


def _parse(value: str) -> URL | None:
    try:
        return URL(value, base=settings.SITE_URL + "/")
    except ValueError:
        return None


def image_source(value: str) -> tuple[str, str]:
    """What a browser would do with ``<img src=value>``: ``("cid", url)``, ``("own", path)`` for one of the
    desk's attachment URLs, ``("remote", url)`` for an http(s) URL elsewhere, or ``("none", "")`` (other URLs
    of the desk, ``data:``, ``javascript:``, unknown schemes, unparseable)."""
    url = _parse(value)
    if url is None:
        return "none", ""
    if url.protocol == "cid:":
        return "cid", url.href
    if url.protocol not in ("http:", "https:") or not url.hostname:
        return "none", ""
    origin, attachment_path = _desk()
    if url.origin == origin:  # of the desk's own URLs, only attachments: an image must not trigger a GET elsewhere
        return ("own", url.pathname) if attachment_path.match(url.pathname) else ("none", "")
    return "remote", url.href


def _filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        kind, url = image_source(value)
        if kind == "remote":
            return _REMOTE_MARK + url
        return url if kind in ("cid", "own") else None
    if tag == "img" and attribute == REMOTE_SRC:
        kind, url = image_source(value)
        return url if kind == "remote" else None
    if tag == "a" and attribute == "href":  # a link is only followed on a click, but never to javascript: & co.
        url = _parse(value)
        return value if url is not None and url.protocol in LINK_PROTOCOLS else None
    return value


def _move_remote_src(match: re.Match) -> str:
    attributes = _ATTRIBUTE.findall(match.group(0))
    src = next((v for name, v in attributes if name == "src"), "")
    kept = [(name, v) for name, v in attributes if name not in ("src", REMOTE_SRC)]
    if src.startswith(_REMOTE_MARK):
        kept.append((REMOTE_SRC, src[len(_REMOTE_MARK):]))
    elif src:
        kept.insert(0, ("src", src))
    else:
        kept += [(name, v) for name, v in attributes if name == REMOTE_SRC]
    return "<img" + "".join(f' {name}="{v}"' for name, v in kept) + ">"


def sanitize_html(value: str) -> str:
    cleaned = nh3.clean(
        value or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid", "tel"},
        attribute_filter=_filter,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return _IMG_TAG.sub(_move_remote_src, cleaned)


def img_tags(value: str):
    """(match, {attribute: unescaped value}) for each ``<img>`` of HTML this module produced."""
    for match in _IMG_TAG.finditer(value):
        yield match, {name: html.unescape(v) for name, v in _ATTRIBUTE.findall(match.group(0))}


_BLOCK_END = re.compile(r"</(p|div|li|tr|h[1-6]|blockquote|pre)>|<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def html_to_text(value: str) -> str:
    text = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", "", value or "")
    text = _BLOCK_END.sub("\n", text)
    text = html.unescape(_TAG.sub("", text))
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return _BLANK_LINES.sub("\n\n", text).strip()
