"""Who the caller is, and with which token."""

from __future__ import annotations

import datetime

from django.http import HttpRequest
from ninja import Router, Schema

from atende.api.schemas import responses

router = Router(tags=["me"])


class TokenInfoOut(Schema):
    id: int
    name: str
    prefix: str
    scope: str
    expires_at: datetime.datetime | None
    last_used_at: datetime.datetime | None


class MeOut(Schema):
    id: int
    email: str
    name: str
    role: str
    organization_id: int | None
    token: TokenInfoOut | None


@router.get("/me", response=responses(MeOut), summary="The caller")
def me(request: HttpRequest):
    user, token = request.user, getattr(request, "api_token", None)
    return {"id": user.pk, "email": user.email or "", "name": user.display_name, "role": user.role,
            "organization_id": user.organization_id,
            "token": None if token is None else {
                "id": token.pk, "name": token.name, "prefix": token.prefix, "scope": token.scope,
                "expires_at": token.expires_at, "last_used_at": token.last_used_at}}
