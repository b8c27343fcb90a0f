"""The Content-Security-Policy header on pages, per-view framing, and the branding stylesheet that replaced the
inline <style> block (the browser walk of every page is test_csp_browser.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from csp import middleware as upstream
from csp.decorators import csp_exempt
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.test import RequestFactory

from atende.core.csp import CSPMiddleware, frame_ancestors
from atende.core.models import SiteConfiguration
from atende.core.selectors import site_branding_forget

TEMPLATES = Path(__file__).resolve().parents[2]


def policy_of(response) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip())


def serve(view, path="/embed/"):
    return XFrameOptionsMiddleware(CSPMiddleware(view))(RequestFactory().get(path))


def with_nonce(request):
    return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")


@pytest.mark.parametrize("view", [
    lambda request: HttpResponse("page"),
    frame_ancestors("https://shop.example")(lambda request: HttpResponse("form")),
    with_nonce,
    csp_exempt()(lambda request: HttpResponse("exempt")),
], ids=["plain", "framed", "nonce", "exempt"])
@pytest.mark.parametrize("report_only", [False, True])
def test_the_policy_built_once_is_the_one_django_csp_builds(settings, view, report_only):
    if report_only:
        settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'self'"],
                                                                       "report-uri": "/csp-report/"}}
    headers = ("Content-Security-Policy", "Content-Security-Policy-Report-Only")
    for _ in range(2):  # built, then reused
        ours = CSPMiddleware(view)(RequestFactory().get("/x/"))
        theirs = upstream.CSPMiddleware(view)(RequestFactory().get("/x/"))
        mine = {h: ours.get(h) for h in headers}
        if view is with_nonce:  # a new nonce each response: the same policy around it
            mine = {h: re.sub(r"'nonce-[^']+'", "N", v) if v else v for h, v in mine.items()}
            assert mine == {h: re.sub(r"'nonce-[^']+'", "N", v) if (v := theirs.get(h)) else v for h in headers}
        else:
            assert mine == {h: theirs.get(h) for h in headers}
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}  # a changed setting counts
    assert CSPMiddleware(view)(RequestFactory().get("/x/")).get(headers[0]) == \
        upstream.CSPMiddleware(view)(RequestFactory().get("/x/")).get(headers[0])


def test_pages_are_framed_by_nobody_by_default(client, db):
    response = client.get("/accounts/login/")
    policy = policy_of(response)
    assert policy["frame-ancestors"] == "'none'" and response["X-Frame-Options"] == "DENY"
    assert policy["script-src"] == "'self'" and "unsafe" not in response["Content-Security-Policy"]


def test_a_view_may_name_the_origins_that_frame_it():
    view = frame_ancestors("https://shop.example", lambda request: ["https://blog.example/"])(
        lambda request: HttpResponse("form"))
    response = serve(view)
    assert policy_of(response)["frame-ancestors"] == "https://shop.example https://blog.example"
    assert "X-Frame-Options" not in response
    assert policy_of(response)["script-src"] == "'self'"  # only frame-ancestors changes


@pytest.mark.parametrize("bad", ["*", "https://a.example; script-src *", "javascript:alert(1)", "'unsafe-inline'",
                                 "https://a.example/path", ""])
def test_origins_that_are_not_origins_are_dropped(bad):
    response = serve(frame_ancestors(lambda request: [bad])(lambda request: HttpResponse("form")))
    assert policy_of(response)["frame-ancestors"] == "'none'"


def test_branding_colours_come_from_a_stylesheet_view(client, db):
    SiteConfiguration.objects.update_or_create(pk=1, defaults={"primary_color": "#123456", "accent_color": "#abc"})
    _forget()
    page = client.get("/accounts/login/").content.decode()
    link = re.search(r'href="(/branding\.css\?v=\w+)"', page).group(1)
    css = client.get(link)
    assert css["Content-Type"].startswith("text/css") and "--brand: #123456" in css.content.decode()
    assert "<style" not in page


def test_a_colour_that_is_not_a_colour_never_reaches_the_stylesheet(client, db):
    SiteConfiguration.objects.update_or_create(pk=1, defaults={"primary_color": "red;}*{", "accent_color": "#abc"})
    _forget()
    css = client.get("/branding.css").content.decode()
    assert "red" not in css and "--brand: #1f6feb" in css


def test_no_template_has_inline_scripts_handlers_or_styles():
    """The class: templates carry behaviour and looks only in static files (the CSP forbids the rest)."""
    offenders = []
    for template in TEMPLATES.rglob("templates/**/*.html"):
        if "/email/" in str(template):  # mail bodies are not pages; mail clients ignore CSP
            continue
        text = template.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", r"\son[a-z]+\s*=",
                        r"\sstyle\s*=", r"<style[\s>]", r"javascript:"):
            if re.search(pattern, text, re.I):
                offenders.append(f"{template.relative_to(TEMPLATES)}: {pattern}")
    assert not offenders, "\n".join(offenders)


def test_no_htmx_attribute_needs_eval():
    """htmx runs trigger filters (``hx-trigger="event[expression]"``), ``hx-on`` handlers and ``js:`` values
    with eval, which the CSP forbids: htmx then logs an error and treats a filter as true, so the condition
    silently stops holding. Conditions live in the static scripts instead (templates and Python-written markup)."""
    patterns = (r"hx-trigger=\s*[\"'][^\"']*\[", r"\shx-on[:\-]", r"hx-(?:vals|headers)=\s*[\"']\s*(?:js|javascript):",
                r"\shx-vars=")
    offenders = []
    sources = [*TEMPLATES.rglob("templates/**/*.html"), *(p for p in TEMPLATES.rglob("*.py") if "/tests/" not in str(p))]
    for source in sources:
        text = source.read_text()
        if "hx-" not in text:
            continue
        for pattern in patterns:
            for found in re.finditer(pattern, text):
                offenders.append(f"{source.relative_to(TEMPLATES)}: {found.group(0)}")
    assert not offenders, "\n".join(offenders)


def _forget():
    from django.core.cache import cache

    cache.clear()
    site_branding_forget()
