"""The "API tokens" page: create (the secret is shown once), list with last use, revoke."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.api.forms import TokenCreateForm
from atende.api.selectors import access_api_token, api_token_list_for_user
from atende.api.services import api_token_create, api_token_revoke
from atende.core.actor import Actor
from atende.core.exceptions import DomainError, NotFound
from atende.core.pages import page_base


@login_required
def token_list(request):
    form = TokenCreateForm(request.POST or None, user=request.user)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data.get("expires_in_days")
        expires_at = timezone.now() + datetime.timedelta(days=days) if days else None
        try:
            token, new_secret = api_token_create(actor=Actor.for_user(request.user), user=request.user,
                                                 name=form.cleaned_data["name"], scope=form.cleaned_data["scope"],
                                                 expires_at=expires_at)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            form = TokenCreateForm(user=request.user)
    return render(request, "api/tokens.html", {
        "form": form, "new_secret": new_secret, "tokens": api_token_list_for_user(user=request.user),
        "base_template": page_base(request.user), "now": timezone.now(),
    })


@login_required
@require_POST
def token_revoke(request, token_id: int):
    try:
        token = access_api_token(user=request.user, token_id=token_id)
    except NotFound:
        raise Http404
    api_token_revoke(actor=Actor.for_user(request.user), token=token)
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("api:tokens")
