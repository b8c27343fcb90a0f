"""Chat's pages and endpoints: the widget script, its config (CORS only for allowed origins), the demo page, the
workspace and the admin's widget pages, with who may see what."""

from __future__ import annotations

import gzip
import html
import re

import pytest
from django.test import Client

from atende.chat.models import Widget

pytestmark = pytest.mark.django_db

INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+=|\sstyle=", re.IGNORECASE)


def test_widget_script_is_plain_javascript_and_small():
    response = Client().get("/chat/widget.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"attachShadow" in body and b"innerHTML" not in body  # text is never parsed as HTML
    assert len(gzip.compress(body)) < 30 * 1024


def test_config_answers_allowed_origins_only_with_cors(widget):
    allowed = Client().get(f"/chat/widget/{widget.key}/config", HTTP_ORIGIN="https://shop.example")
    assert allowed.status_code == 200
    assert allowed["Access-Control-Allow-Origin"] == "https://shop.example"
    assert allowed.json()["primary_color"] == widget.primary_color
    assert "secret" not in allowed.content.decode() and widget.secret not in allowed.content.decode()
    refused = Client().get(f"/chat/widget/{widget.key}/config", HTTP_ORIGIN="https://evil.example")
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused
    assert refused.json()["error"]["code"] == "origin_not_allowed"
    missing = Client().get("/chat/widget/nope/config", HTTP_ORIGIN="https://shop.example")
    assert missing.status_code == 404
    widget.is_active = False
    widget.save()
    assert Client().get(f"/chat/widget/{widget.key}/config", HTTP_ORIGIN="https://shop.example").status_code == 404


def test_demo_page_embeds_the_widget_without_inline_code(widget):
    response = Client().get("/chat/demo/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-widget="{widget.key}"' in html
    assert INLINE.findall(html) == []


@pytest.mark.parametrize("who,status", [("anonymous", 302), ("customer", 404), ("collaborator", 404),
                                        ("agent", 200), ("admin_user", 200)])
def test_workspace_is_for_agents(who, status, request, widget):
    client = Client()
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    response = client.get("/console/chat/")
    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert 'id="chat-workspace"' in html and "chat/agent.js" in html
        assert [m for m in INLINE.findall(html) if "<script" in m.lower()] == []


@pytest.mark.parametrize("who,status", [("anonymous", 302), ("customer", 404), ("agent", 404), ("admin_user", 200)])
def test_widget_admin_is_for_admins(who, status, request):
    client = Client()
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    assert client.get("/console/chat/widgets/").status_code == status
    assert client.get("/console/chat/widgets/new/").status_code == status


def test_admin_creates_a_widget_and_gets_the_snippet(admin_user, team):
    client = Client()
    client.force_login(admin_user)
    response = client.post("/console/chat/widgets/new/", {
        "name": "Shop", "allowed_origins": "https://shop.example/\nhttps://SHOP.example", "is_active": "on",
        "team": team.pk, "primary_color": "#aa0000", "text_color": "#ffffff", "position": "left", "greeting": "Hi",
        "language": "pt-br", "ask_name": "on", "ask_email": "on", "bot_enabled": "on", "offline_mode": "form"})
    widget = Widget.objects.get(name="Shop")
    assert response.status_code == 302
    assert widget.origins == ["https://shop.example"] and widget.team == team and widget.language == "pt-br"
    page = html.unescape(client.get(response["Location"]).content.decode())
    assert f'/chat/widget.js" data-widget="{widget.key}" async></script>' in page


@pytest.mark.parametrize("origins", ["shop.example", "ftp://shop.example", "https://shop.example/path",
                                     "https://", "javascript:alert(1)"])
def test_bad_origins_are_a_form_error(admin_user, origins):
    client = Client()
    client.force_login(admin_user)
    response = client.post("/console/chat/widgets/new/", {
        "name": "Shop", "allowed_origins": origins, "primary_color": "#aa0000", "text_color": "#ffffff",
        "position": "right", "language": "auto", "offline_mode": "form"})
    assert response.status_code == 200
    assert "is not an origin" in response.content.decode()
    assert not Widget.objects.filter(name="Shop").exists()


def test_widget_changes_are_audited_and_only_admins_may_make_them(admin_user, agent, widget):
    from atende.audit.models import AuditEntry
    from atende.chat.services import widget_save
    from atende.core.actor import Actor
    from atende.core.exceptions import PermissionDenied

    widget_save(actor=Actor.for_user(admin_user), widget=widget, greeting="Olá!", rotate_secret=True)
    entry = AuditEntry.objects.filter(action="settings_changed").latest("id")
    assert entry.changes["greeting"] == ["", "Olá!"] and "secret" in entry.changes
    with pytest.raises(PermissionDenied):
        widget_save(actor=Actor.for_user(agent), widget=widget, greeting="hacked")
