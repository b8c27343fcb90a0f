from django.conf import settings

from atende.core.selectors import site_branding
from atende.signin.services.mfa import RelyingParty


def relying_party(request) -> RelyingParty:
    """WebAuthn's relying party: the configured host name, else the one this request came to (without port)."""
    host = request.get_host()
    rp_id = settings.ATENDE_WEBAUTHN_RP_ID or host.rsplit(":", 1)[0].strip("[]")
    return RelyingParty(id=rp_id, name=site_branding()["name"], origin=f"{request.scheme}://{host}")
