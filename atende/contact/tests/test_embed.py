"""The embeddable form: framed only by the origins the admin allowed (frame-ancestors), the rest of the site
still refuses every frame; the loader script is served as a static file."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atende.contact.models import ContactFormSettings
from atende.core.csp import clean_origin

pytestmark = pytest.mark.django_db


def frame_ancestors_of(response) -> str:
    """The frame-ancestors directive of the response's Content-Security-Policy."""
    parts = [p.strip() for p in response["Content-Security-Policy"].split(";")]
    return next(p for p in parts if p.startswith("frame-ancestors"))


def test_embed_is_framed_only_by_allowed_origins(client):
    ContactFormSettings.objects.create(allowed_origins="https://www.shop.example\nhttp://127.0.0.1:8123/\n")
    response = client.get("/contact/embed/")
    assert response.status_code == 200
    assert frame_ancestors_of(response) == "frame-ancestors 'self' https://www.shop.example http://127.0.0.1:8123"
    assert "X-Frame-Options" not in response
    assert 'name="form_token"' in response.content.decode()


def test_without_allowed_origins_nobody_frames_it(client):
    response = client.get("/contact/embed/")
    assert frame_ancestors_of(response) == "frame-ancestors 'none'"


def test_the_full_page_form_keeps_refusing_frames(client):
    assert client.get("/contact/")["X-Frame-Options"] == "DENY"


def test_admin_cannot_save_a_malformed_origin(db):
    from django.core.exceptions import ValidationError

    row = ContactFormSettings(allowed_origins="https://ok.example\njavascript:alert(1)\nhttps://x.example/path")
    with pytest.raises(ValidationError) as caught:
        row.full_clean()
    assert "javascript:alert(1)" in str(caught.value) and "https://x.example/path" in str(caught.value)


@given(st.text(max_size=80))
def test_no_text_can_inject_into_the_policy(text):
    """Whatever an admin types, only origins reach the header: no quotes, semicolons or spaces sneak in."""
    origin = clean_origin(text)
    assert origin is None or origin == "'self'" or re.fullmatch(r"https?://[a-z0-9.*:-]+", origin), origin
    assert origin is None or (";" not in origin and " " not in origin and "'" not in origin)


def test_loader_script_is_a_static_file(client):
    from django.contrib.staticfiles import finders

    path = finders.find("contact/embed.js")
    assert path and "/contact/embed/" in open(path).read()
