"""Privacy requests for administrators: a customer's data export, and erasure."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from atende.accounts.selectors import access_customer
from atende.api.auth import require_admin
from atende.api.schemas import responses
from atende.core.actor import Actor
from atende.integrations.services.privacy import privacy_erase, privacy_export

router = Router(tags=["privacy"])


class ErasureOut(Schema):
    tickets: int
    messages: int
    attachments: int
    events: int
    audit_entries: int


@router.get("/privacy/customers/{customer_id}/export", response=responses(dict[str, Any]),
            summary="Export everything held about a person")
def customer_export(request: HttpRequest, customer_id: int):
    require_admin(request)
    person = access_customer(user=request.user, customer_id=customer_id)
    return privacy_export(actor=Actor.for_user(request.user), person=person)


@router.post("/privacy/customers/{customer_id}/erase", response=responses(ErasureOut),
             summary="Erase a customer (irreversible)")
def customer_erase(request: HttpRequest, customer_id: int):
    """Anonymise the person and their messages; tickets and their statistics stay."""
    require_admin(request)
    person = access_customer(user=request.user, customer_id=customer_id)
    return privacy_erase(actor=Actor.for_user(request.user), person=person)
