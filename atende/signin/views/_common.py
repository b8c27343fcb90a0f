from collections.abc import Callable
from typing import Any

from django.conf import settings

from atende.core.exceptions import DomainError
from atende.core.selectors import site_branding
from atende.core.throttle import Throttled
from atende.signin.forms import CodeForm
from atende.signin.services.mfa import RelyingParty

NOT_ACCEPTED = object()


def relying_party(request) -> RelyingParty:
    """WebAuthn's relying party: the configured host name, else the one this request came to (without port)."""
    host = request.get_host()
    rp_id = settings.ATENDE_WEBAUTHN_RP_ID or host.rsplit(":", 1)[0].strip("[]")
    return RelyingParty(id=rp_id, name=site_branding()["name"], origin=f"{request.scheme}://{host}")


def code_submission(request, check: Callable[[str], Any]) -> tuple[CodeForm, int, Any]:
    """The code form of every second-factor page (sign-in, set-up, Profile › Security): on a valid POST,
    ``check(code)`` is the service call. Returns the form, the HTTP status and what ``check`` returned, or
    ``NOT_ACCEPTED`` when there was no submission or the code was refused (the error is then on the form;
    throttled: 429)."""
    form = CodeForm(request.POST or None)
    if request.method != "POST" or not form.is_valid():
        return form, 200, NOT_ACCEPTED
    try:
        return form, 200, check(form.cleaned_data["code"])
    except Throttled as exc:
        form.add_error(None, exc.message)
        return form, 429, NOT_ACCEPTED
    except DomainError as exc:
        form.add_error("code", exc.message)
        return form, 200, NOT_ACCEPTED
