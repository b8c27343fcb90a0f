import io

from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from atende.core.models import SiteConfiguration


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "#ff0000").save(buffer, "PNG")
    return buffer.getvalue()


def test_admin_sets_name_colours_and_logo(client, admin_user):
    cache.clear()
    client.force_login(admin_user)
    response = client.post(reverse("portal:branding"), {
        "name": "Padaria Help", "primary_color": "#aa3300", "accent_color": "#005500",
        "support_email": "ajuda@padaria.example", "logo": SimpleUploadedFile("logo.png", _png(), "image/png")})
    assert response.status_code == 302
    config = SiteConfiguration.objects.get()
    assert (config.name, config.primary_color, config.accent_color) == ("Padaria Help", "#aa3300", "#005500")
    client.logout()
    home = client.get(reverse("portal:home")).content.decode()
    assert "Padaria Help" in home and reverse("portal:branding_logo") in home
    assert "--brand: #aa3300" in client.get("/branding.css").content.decode()  # the colours, under the strict CSP
    logo = client.get(reverse("portal:branding_logo"))
    assert logo.status_code == 200 and b"".join(logo.streaming_content) == config.logo.open("rb").read()


def test_invalid_colour_and_non_image_logo_are_refused(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("portal:branding"), {
        "name": "X", "primary_color": "red", "accent_color": "#005500",
        "logo": SimpleUploadedFile("logo.png", b"not an image", "image/png")})
    page = response.content.decode()
    assert response.status_code == 200 and "Use a colour like #1f6feb." in page and "Upload a valid image" in page
    assert not SiteConfiguration.objects.filter(name="X").exists()
