"""``{% message_body message proxy=True as body %}``: a message's HTML ready to show.

The stored HTML is sanitised again (HTML stored under older rules is held to today's), inline ``cid:`` images
point at the message's attachments, and with ``proxy`` each remote image gets a signed ``data-proxy-src`` that
the console's "Load images" button (static/console/remote_images.js) moves into ``src`` when the agent asks.
``body.html`` is the markup, ``body.remote_images`` how many remote images wait for that click.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import unquote

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from atende.core.image_proxy import proxy_url
from atende.tickets.text import REMOTE_SRC, img_tags, sanitize_html

register = template.Library()


@dataclass(frozen=True)
class MessageBody:
    html: SafeString
    remote_images: int


def render_message_html(value: str, *, attachments, proxy: bool) -> MessageBody:
    cleaned = sanitize_html(value)
    by_content_id = {a.content_id: a.pk for a in attachments if a.content_id}
    parts, last, remote = [], 0, 0
    for match, attributes in img_tags(cleaned):
        src = attributes.get("src", "")
        if src.startswith("cid:") and unquote(src[4:]) in by_content_id:
            attributes["src"] = reverse("tickets:attachment", args=[by_content_id[unquote(src[4:])]])
        if REMOTE_SRC in attributes:
            remote += 1
            if proxy:
                attributes["data-proxy-src"] = proxy_url(attributes[REMOTE_SRC])
        tag = "<img" + "".join(f' {name}="{html.escape(value)}"' for name, value in attributes.items()) + ">"
        parts += [cleaned[last:match.start()], tag]
        last = match.end()
    parts.append(cleaned[last:])
    return MessageBody(html=mark_safe("".join(parts)), remote_images=remote)  # noqa: S308 - sanitised above


@register.simple_tag
def message_body(message, proxy: bool = False) -> MessageBody:
    if not message.body_html:
        return MessageBody(html=mark_safe(""), remote_images=0)
    return render_message_html(message.body_html, attachments=message.attachments.all(), proxy=proxy)
