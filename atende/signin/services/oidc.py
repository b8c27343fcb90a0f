"""OpenID Connect sign-in (authorization code flow with PKCE, state and nonce), with Authlib.

Authlib checks the ID token's signature against the provider's published keys (JWKS), its audience (our client
ID), expiry and nonce; the issuer is checked against the issuer the administrator configured, and so is the
discovery document's."""

from __future__ import annotations

import logging
import re

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.django_client import OAuth
from joserfc.errors import JoseError

from atende.signin.models import SsoProvider
from atende.signin.services.sso import SsoIdentity

logger = logging.getLogger(__name__)
TIMEOUT = 10


class SsoProtocolError(Exception):
    """The provider's answer failed a check (``reason`` is stable, ``detail`` says what)."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


def _client(provider: SsoProvider):
    registry = OAuth()
    issuer = provider.issuer.rstrip("/")
    return registry.register(
        name=f"atende-{provider.slug}", client_id=provider.client_id, client_secret=provider.resolved_client_secret(),
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": provider.scopes or "openid email profile", "code_challenge_method": "S256",
                       "timeout": TIMEOUT})


def _metadata(client, provider: SsoProvider) -> dict:
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        raise SsoProtocolError("provider_unreachable", str(exc)[:300])
    if str(metadata.get("issuer", "")).rstrip("/") != provider.issuer.rstrip("/"):
        raise SsoProtocolError("wrong_issuer", f"discovery names issuer {metadata.get('issuer')!r}")
    return metadata


def oidc_redirect(request, *, provider: SsoProvider, redirect_uri: str):
    client = _client(provider)
    _metadata(client, provider)
    return client.authorize_redirect(request, redirect_uri)


def oidc_identity(request, *, provider: SsoProvider) -> SsoIdentity:
    """Exchange the callback's code and check the ID token; raises SsoProtocolError when anything is off."""
    if request.GET.get("error"):
        raise SsoProtocolError("provider_error", f"{request.GET.get('error')}: {request.GET.get('error_description', '')}"[:300])
    client = _client(provider)
    _metadata(client, provider)
    issuer = provider.issuer.rstrip("/")
    options = {"iss": {"essential": True, "values": [issuer, issuer + "/"]}}
    try:
        token = client.authorize_access_token(request, claims_options=options, leeway=60)
    except JoseError as exc:
        raise SsoProtocolError(_jose_reason(exc), f"{type(exc).__name__}: {exc}"[:300])
    except AuthlibBaseError as exc:
        reason = "state_mismatch" if "state" in str(exc).lower() else "token_exchange_failed"
        raise SsoProtocolError(reason, f"{type(exc).__name__}: {exc}"[:300])
    except (requests.RequestException, ValueError, KeyError) as exc:
        raise SsoProtocolError("token_exchange_failed", f"{type(exc).__name__}: {exc}"[:300])
    claims = token.get("userinfo")
    if not claims:
        raise SsoProtocolError("no_id_token", "the token response had no ID token")
    verified = claims.get("email_verified")
    if isinstance(verified, str):
        verified = verified.lower() == "true"
    groups = claims.get(provider.groups_claim) if provider.groups_claim else None
    return SsoIdentity(email=str(claims.get("email") or ""), email_verified=verified if verified is not None else None,
                       name=str(claims.get("name") or ""), subject=str(claims.get("sub") or ""),
                       groups=[str(g) for g in groups] if isinstance(groups, list) else [])


CLAIM_REASONS = {"aud": "wrong_audience", "azp": "wrong_audience", "iss": "wrong_issuer", "nonce": "nonce_mismatch",
                 "exp": "token_expired", "iat": "token_expired", "nbf": "token_expired"}


def _jose_reason(exc: JoseError) -> str:
    name = type(exc).__name__
    if "Signature" in name:
        return "bad_signature"
    if "Expired" in name:
        return "token_expired"
    claims = re.findall(r"claim: ['\"](\w+)['\"]", str(exc), flags=re.IGNORECASE)
    return CLAIM_REASONS.get(claims[-1], "invalid_id_token") if claims else "invalid_id_token"
