"""Markdown → sanitised HTML for articles. Raw HTML in Markdown is allowed only as far as the sanitiser allows."""

import markdown

from atende.tickets.text import sanitize_html

EXTENSIONS = ["extra", "sane_lists", "smarty"]


def render_markdown(text: str) -> str:
    html = markdown.markdown(text or "", extensions=EXTENSIONS, output_format="html")
    # Articles may show images stored as article attachments (relative URLs); remote images are dropped.
    return sanitize_html(html)
