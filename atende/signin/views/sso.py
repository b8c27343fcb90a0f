"""Single sign-on pages: the way out to the identity provider and the way back. Every refusal shows a clear
message (and is in the audit log); none is a 500."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from atende.core.exceptions import NotFound
from atende.signin.flow import safe_next, signin_continue
from atende.signin.models import SsoProvider
from atende.signin.selectors import access_sso_provider
from atende.signin.services.oidc import SsoProtocolError, oidc_identity, oidc_redirect
from atende.signin.services.saml import saml_identity, saml_sign_in_start, sp_metadata
from atende.signin.services.sso import SsoRefused, sso_refusal_record, sso_user_for_identity

NEXT_KEY = "sso_next"
PORTAL_KEY = "sso_portal"

REASONS = {
    "wrong_issuer": gettext_lazy("the answer came from an issuer other than the one configured"),
    "wrong_audience": gettext_lazy("the answer was meant for another application"),
    "bad_signature": gettext_lazy("its signature did not check out"),
    "nonce_mismatch": gettext_lazy("it did not answer this sign-in (nonce mismatch)"),
    "state_mismatch": gettext_lazy("it did not answer this sign-in (state mismatch)"),
    "token_expired": gettext_lazy("it has expired"),
    "response_expired": gettext_lazy("it has expired"),
    "unsolicited_or_replayed": gettext_lazy("it was already used, or answers no sign-in started here"),
    "provider_unreachable": gettext_lazy("the identity provider could not be reached"),
    "xmlsec_missing": gettext_lazy("SAML is not available on this server (xmlsec1 is not installed)"),
}


def _provider(slug: str, kind: str) -> SsoProvider:
    """The active provider ``slug`` of this ``kind`` ("oidc" or "saml"), else 404."""
    try:
        provider = access_sso_provider(slug=slug)
    except NotFound:
        raise Http404
    if provider.kind != kind:
        raise Http404
    return provider


def _refused(request, message: str, status: int = 403):
    return render(request, "signin/sso_refused.html", {"message": message}, status=status)


def _protocol_refusal(request, provider: SsoProvider, exc: SsoProtocolError):
    sso_refusal_record(provider=provider, reason=exc.reason, detail=exc.detail)
    why = REASONS.get(exc.reason, _("the answer was not valid"))
    return _refused(request, _("Sign-in with %(provider)s was refused: %(why)s.") % {"provider": provider.name,
                                                                                     "why": why})


def _finish(request, provider: SsoProvider, identity, *, next_url: str, portal: bool = False):
    try:
        user = sso_user_for_identity(provider=provider, identity=identity, portal=portal)
    except SsoRefused as exc:
        return _refused(request, exc.message)
    return signin_continue(request, user=user, method=provider.method, provider=provider.slug, next_url=next_url,
                           ask_second_factor=False)


def oidc_login(request, slug: str):
    provider = _provider(slug, "oidc")
    request.session[NEXT_KEY] = safe_next(request, request.GET.get("next"))
    request.session[PORTAL_KEY] = request.GET.get("portal") == "1"
    try:
        return oidc_redirect(request, provider=provider,
                             redirect_uri=request.build_absolute_uri(reverse("accounts:oidc_callback", args=[slug])))
    except SsoProtocolError as exc:
        return _protocol_refusal(request, provider, exc)


def oidc_callback(request, slug: str):
    provider = _provider(slug, "oidc")
    try:
        identity = oidc_identity(request, provider=provider)
    except SsoProtocolError as exc:
        return _protocol_refusal(request, provider, exc)
    return _finish(request, provider, identity, next_url=request.session.pop(NEXT_KEY, ""),
                   portal=bool(request.session.pop(PORTAL_KEY, False)))


def _base_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def saml_login(request, slug: str):
    provider = _provider(slug, "saml")
    try:
        location = saml_sign_in_start(provider=provider, base_url=_base_url(request),
                                      next_url=safe_next(request, request.GET.get("next")))
    except SsoProtocolError as exc:
        return _protocol_refusal(request, provider, exc)
    return redirect(location)


@csrf_exempt  # the IdP posts the answer cross-site: its signature and the one-time InResponseTo protect it
@require_POST
def saml_acs(request, slug: str):
    provider = _provider(slug, "saml")
    try:
        identity, next_url = saml_identity(provider=provider, base_url=_base_url(request),
                                           saml_response=request.POST.get("SAMLResponse", ""))
    except SsoProtocolError as exc:
        return _protocol_refusal(request, provider, exc)
    return _finish(request, provider, identity, next_url=next_url)


def saml_metadata(request, slug: str):
    provider = _provider(slug, "saml")
    try:
        xml = sp_metadata(provider=provider, base_url=_base_url(request))
    except SsoProtocolError as exc:
        return HttpResponse(exc.detail, status=503, content_type="text/plain")
    return HttpResponse(xml, content_type="application/samlmetadata+xml")
