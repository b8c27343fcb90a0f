"""Demo data: the contact form open to everyone, embeddable from a local test page (http://localhost:8001)."""

from atende.contact.models import ContactFormSettings


def load_demo() -> dict[str, int]:
    if not ContactFormSettings.objects.exists():
        ContactFormSettings.objects.create(allowed_origins="http://localhost:8001\nhttp://127.0.0.1:8001")
    return {"contact form settings": 1}
