"""SAML 2.0 sign-in (SP-initiated: HTTP-Redirect out, HTTP-POST back), with pysaml2 and Debian's xmlsec1.

Each provider gets its own service-provider configuration, built from the three things an administrator copies
from the IdP (entity ID, single sign-on URL, signing certificate). pysaml2 checks the signature (the response or
its assertion must be signed by that certificate), the issuer, the audience (our entity ID), the time window
(60 s of clock skew), and that the answer replies to a request this browser made (InResponseTo, so a replayed
or unsolicited response is refused)."""

from __future__ import annotations

import base64
import datetime
import logging
import os
import re
from xml.sax.saxutils import escape

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS
from saml2.sigver import SignatureError

from atende.signin.models import SamlRequest, SsoProvider
from atende.signin.services.oidc import SsoProtocolError
from atende.signin.services.sso import SsoIdentity

logger = logging.getLogger(__name__)
REQUEST_MAX_AGE = datetime.timedelta(minutes=15)
EMAIL_ATTRIBUTES = ("email", "mail", "emailAddress", "urn:oid:0.9.2342.19200300.100.1.3",
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress")
NAME_ATTRIBUTES = ("displayName", "name", "cn", "urn:oid:2.16.840.1.113730.3.1.241",
                   "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name")


def _certificate_body(pem: str) -> str:
    return re.sub(r"-----(BEGIN|END) CERTIFICATE-----|\s", "", pem or "")


def _idp_metadata(provider: SsoProvider) -> str:
    return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
    entityID="{escape(provider.idp_entity_id, {'"': '&quot;'})}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{_certificate_body(provider.idp_certificate)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="{BINDING_HTTP_REDIRECT}" Location="{escape(provider.idp_sso_url, {'"': '&quot;'})}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""


def sp_urls(provider: SsoProvider, base_url: str) -> tuple[str, str]:
    """(our entity ID = the metadata URL, our assertion consumer service URL)."""
    base = base_url.rstrip("/")
    return f"{base}/accounts/saml/{provider.slug}/metadata/", f"{base}/accounts/saml/{provider.slug}/acs/"


def _client(provider: SsoProvider, base_url: str) -> Saml2Client:
    if not os.path.exists(settings.ATENDE_XMLSEC_BINARY):
        raise SsoProtocolError("xmlsec_missing", f"{settings.ATENDE_XMLSEC_BINARY} not found: install Debian's xmlsec1")
    entity_id, acs = sp_urls(provider, base_url)
    config = SPConfig()
    config.load({
        "entityid": entity_id,
        "xmlsec_binary": settings.ATENDE_XMLSEC_BINARY,
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [(acs, BINDING_HTTP_POST)]},
            "allow_unsolicited": False, "authn_requests_signed": False, "logout_requests_signed": False,
            "want_assertions_signed": False, "want_response_signed": False,
            "want_assertions_or_response_signed": True, "name_id_format": NAMEID_FORMAT_EMAILADDRESS,
        }},
        "metadata": {"inline": [_idp_metadata(provider)]},
        "accepted_time_diff": 60,
        "allow_unknown_attributes": True,
    })
    return Saml2Client(config=config)


@transaction.atomic
def saml_sign_in_start(*, provider: SsoProvider, base_url: str, next_url: str = "") -> str:
    """Record a new sign-in request and return the IdP URL to send the browser to."""
    client = _client(provider, base_url)
    request_id, info = client.prepare_for_authenticate(entityid=provider.idp_entity_id,
                                                       binding=BINDING_HTTP_REDIRECT)
    SamlRequest.objects.filter(created_at__lt=timezone.now() - REQUEST_MAX_AGE).delete()
    SamlRequest.objects.create(request_id=request_id, provider=provider, next_url=next_url[:500])
    return dict(info["headers"])["Location"]


def _in_response_to(saml_response: str) -> str:
    try:
        xml = base64.b64decode(saml_response, validate=False).decode("utf-8", "replace")
    except ValueError:
        raise SsoProtocolError("malformed_response", "SAMLResponse is not base64")
    match = re.search(r"<(?:\w+:)?Response\b[^>]*\bInResponseTo=\"([^\"]{1,100})\"", xml)
    return match.group(1) if match else ""


def saml_identity(*, provider: SsoProvider, base_url: str, saml_response: str) -> tuple[SsoIdentity, str]:
    """Check the IdP's answer; returns who it names and where they were going. The request it answers is used up
    first (one UPDATE), so the same answer posted twice is refused."""
    if not saml_response:
        raise SsoProtocolError("no_response", "no SAMLResponse in the request")
    request_id = _in_response_to(saml_response)
    cutoff = timezone.now() - REQUEST_MAX_AGE
    claimed = SamlRequest.objects.filter(request_id=request_id, provider=provider, used_at__isnull=True,
                                         created_at__gte=cutoff).update(used_at=timezone.now())
    if not request_id or not claimed:
        raise SsoProtocolError("unsolicited_or_replayed", f"InResponseTo {request_id!r} is unknown or used")
    next_url = SamlRequest.objects.get(request_id=request_id).next_url
    outstanding = {request_id: next_url or "/"}
    client = _client(provider, base_url)
    try:
        response = client.parse_authn_request_response(saml_response, BINDING_HTTP_POST, outstanding=outstanding)
    except SignatureError as exc:
        raise SsoProtocolError("bad_signature", str(exc)[:300])
    except Exception as exc:  # pysaml2 raises many unrelated types for a bad answer; none may become a 500
        raise SsoProtocolError(_reason(exc), f"{type(exc).__name__}: {exc}"[:300])
    if response is None:
        raise SsoProtocolError("invalid_response", "the response could not be read")
    if response.issuer() != provider.idp_entity_id:
        raise SsoProtocolError("wrong_issuer", f"issued by {response.issuer()!r}")
    attributes = response.get_identity() or {}
    email = _first(attributes, [provider.email_attribute] if provider.email_attribute else EMAIL_ATTRIBUTES)
    if not email and response.name_id is not None:
        email = response.name_id.text or ""
    groups = attributes.get(provider.groups_claim, []) if provider.groups_claim else []
    # The IdP vouches for the address it asserts for its own users; which domains it may vouch for is the
    # provider's "allowed domains" setting.
    identity = SsoIdentity(email=email.strip(), email_verified=True, name=_first(attributes, NAME_ATTRIBUTES),
                           subject=response.name_id.text if response.name_id is not None else "",
                           groups=[str(g) for g in groups])
    return identity, next_url


def _first(attributes: dict, names) -> str:
    for name in names:
        values = attributes.get(name)
        if values:
            return str(values[0])
    return ""


def _reason(exc: Exception) -> str:
    name = type(exc).__name__
    text = f"{name} {exc}".lower()
    # pysaml2 reports an assertion whose validity window has closed as "too old", or as "Condition not OK" when
    # the window closed before it opened (NotOnOrAfter earlier than NotBefore).
    for needle, reason in (("unsolicited", "unsolicited_or_replayed"), ("lifetime", "response_expired"),
                           ("condition not ok", "response_expired"),
                           ("too old", "response_expired"), ("notonorafter", "response_expired"),
                           ("signature", "bad_signature"), ("signed", "bad_signature"),
                           ("audience", "wrong_audience"), ("status", "provider_error"), ("issuer", "wrong_issuer")):
        if needle in text:
            return reason
    return "invalid_response"


def sp_metadata(*, provider: SsoProvider, base_url: str) -> str:
    client = _client(provider, base_url)
    return str(entity_descriptor(client.config))
