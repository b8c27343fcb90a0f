"""Every page, as every role, in headless Chromium under the real Content-Security-Policy: no violation.

The URLs come from the URLconf (so a page added later is walked without touching this test), with sample ids
from the seeded demo desk; each role walks the part of the site it can reach. A page fails on any
``securitypolicyviolation`` event or any console message about the Content Security Policy. Action endpoints
(delete, move, apply…) and non-HTML responses (CSV, JSON, images) are skipped.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from playwright.sync_api import Error as PlaywrightError

from atende.core.testing.server import demo_server, query

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROLES = {
    "customer": ("customer@atende.test", "atende-customer"),
    "agent": ("agent@atende.test", "atende-agent"),
    "admin": ("admin@atende.test", "atende-admin"),
}
# Where each role goes: anonymous and customers the public and portal side, staff the console side.
PUBLIC = ("portal/", "kb/", "accounts/", "surveys/", "")
STAFF = ("console/", "tickets/", "reports/", "email/", "integrations/", "api/tokens/", "api/v1/docs", "kb/manage/",
         "accounts/profile/", "accounts/security/")
SKIP_LAST = re.compile(r"(delete|remove|move|apply|revoke|redeliver|abandon|vote|logout|reorder|test|run|"
                       r"preview|raw|content|download|export|search|ping|options|verify|finish|callback|acs|"
                       r"metadata|merge|bulk|claim|take|toggle|read|poll|check)/?$")
NOT_HTML = re.compile(r"\.(csv|json|svg|ico|png|txt|xml|js|css)$|^api/v1/(?!docs)|^healthz|^image-proxy|^i18n/|"
                      r"^admin/(jsi18n|autocomplete|r/|logout|login|password_change)|^media/|^static/|^ws/")
CSP_SIGNS = ("Content Security Policy", "Content-Security-Policy", "evalDisallowedError")
INIT = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' +
                    (e.sourceFile || '') + ':' + e.lineNumber + ' ' + (e.sample || ''));
});
"""


def routes() -> list[str]:
    found: list[str] = []

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                found.append(prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns)
    return sorted({r for r in found if not r.startswith("^") and "(?P" not in r})


def samples(database: Path) -> dict[str, str]:
    """A value for each URL parameter, from the demo desk (first row; 1 where the table is not known)."""

    def first(sql: str, default="1") -> str:
        try:
            rows = query(database, sql)
        except sqlite3.OperationalError:  # an app whose table the demo does not have
            return default
        return str(rows[0][0]) if rows and rows[0][0] is not None else default

    return {
        "number": first("SELECT number FROM tickets_ticket ORDER BY number LIMIT 1"),
        "kind": "triggers", "slug": first("SELECT slug FROM accounts_team LIMIT 1", "support"),
        "category_slug": first("SELECT slug FROM kb_kbcategory LIMIT 1", "x"),
        "article_slug": first("SELECT slug FROM kb_article LIMIT 1", "x"),
        "article_id": first("SELECT id FROM kb_article LIMIT 1"),
        "team_id": first("SELECT id FROM accounts_team LIMIT 1"),
        "user_id": first("SELECT id FROM accounts_user WHERE role = 'customer' LIMIT 1"),
        "macro_id": first("SELECT id FROM automation_macro LIMIT 1"),
        "attachment_id": first("SELECT id FROM tickets_attachment LIMIT 1"),
        "inbound_id": first("SELECT id FROM email_channel_inboundmessage LIMIT 1"),
    }


def urls_for(prefixes: tuple[str, ...], values: dict[str, str], *, admin: bool = False) -> list[str]:
    chosen = []
    for route in routes():
        if NOT_HTML.search(route) or SKIP_LAST.search(route.rstrip("/").rsplit("/", 1)[-1] + "/"):
            continue
        if route.startswith("admin/"):
            # Each model's list and form (the edit form is the same template as the add form).
            if not admin or "<" in route:
                continue
        elif not (route == "" or any(route.startswith(p) for p in prefixes if p)):
            continue
        if "<str:token>" in route or "<token>" in route or "<uidb64>" in route:
            continue
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values.get(m.group(1), "1"), route)
        chosen.append("/" + url)
    return sorted(set(chosen))


@pytest.fixture(scope="module")
def desk(tmp_path_factory, _playwright):
    with demo_server(tmp_path_factory.mktemp("csp-var"), tickets=6) as served:
        yield served


def log_in(context, base: str, credentials: tuple[str, str]) -> None:
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", credentials[0])
    page.fill("#id_password", credentials[1])
    page.click("button[type=submit].primary")
    page.wait_for_load_state("load")
    assert "/accounts/login/" not in page.url, f"{credentials[0]} could not sign in"
    page.close()


def walk(context, base: str, urls: list[str]) -> tuple[list[str], int]:
    problems: list[str] = []
    console: list[str] = []

    def fresh_page():
        page = context.new_page()
        # htmx reports what the policy stopped it evaluating (a trigger filter, hx-on) as evalDisallowedError.
        page.on("console", lambda message: console.append(message.text)
                if any(sign in message.text for sign in CSP_SIGNS) else None)
        return page

    page = fresh_page()
    visited = 0
    for url in urls:
        console.clear()
        try:
            response = page.goto(base + url, wait_until="load")
        except PlaywrightError:
            # An empty error response (a POST-only endpoint answering 405) renders nothing, and the browser's own
            # error page would then interrupt the next navigation: go on in a new tab.
            page.close()
            page = fresh_page()
            continue
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        visited += 1
        violations = page.evaluate("window.__csp || []")
        for text in [*violations, *console]:
            problems.append(f"{url}: {text}")
    # The control: the listener does catch what the policy blocks (an inline style and a remote image).
    page.close()
    page = context.new_page()
    page.goto(f"{base}/portal/", wait_until="load")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', "
                  "'<img src=\"http://192.0.2.1/pixel.gif\"><p style=\"color: red\">x</p>')")
    page.wait_for_function("window.__csp.length >= 2", timeout=5_000)
    page.close()
    return problems, visited


def test_no_page_violates_the_content_security_policy_for_any_role(browser, desk):
    base, database = desk
    values = samples(database)
    plan = {
        "anonymous": urls_for(PUBLIC, values),
        "customer": urls_for(PUBLIC, values),
        "agent": urls_for(STAFF, values),
        "admin": urls_for(STAFF + ("console/automation/", "console/sla/", "console/security/", "console/audit/",
                                   "portal/settings/"), values, admin=True),
    }
    problems, visited = [], {}
    for role, urls in plan.items():
        context = browser.new_context()
        context.set_default_timeout(15_000)
        context.add_init_script(INIT)
        if role in ROLES:
            log_in(context, base, ROLES[role])
        found, visited[role] = walk(context, base, urls)
        problems.extend(f"[{role}] {p}" for p in found)
        context.close()
    print("pages walked per role:", visited)
    assert not problems, "\n".join(problems)
    # The walk reached the pages (not only a login page over and over).
    assert visited["admin"] > 40 and visited["agent"] > 20 and visited["customer"] > 5, visited


def test_pages_carry_the_strict_policy(desk):
    import urllib.request

    base, _database = desk
    with urllib.request.urlopen(f"{base}/accounts/login/") as response:
        policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy
