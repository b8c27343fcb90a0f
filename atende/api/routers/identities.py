"""A customer's contact identities and merging customers.

- ``GET /customers/{id}/identities``: staff, or the customer themselves;
- ``POST /customers/{id}/identities`` and ``DELETE /customers/{id}/identities/{identity_id}``: agents;
- ``POST /customers/{id}/merge`` with ``{"source_id": …}``: agents; the customer in the path survives.
An identity owned by someone else is refused with 409 ``identity_taken`` (merge the two customers instead).
"""

from __future__ import annotations

import datetime

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from atende.accounts.choices import IdentityKind
from atende.accounts.identities import customer_merge, identity_add, identity_remove
from atende.accounts.selectors import access_customer, access_identity, identity_list_for_customer
from atende.api.schemas import InputSchema, responses
from atende.core.actor import Actor
from atende.core.exceptions import NotFound, PermissionDenied

router = Router(tags=["people"])


class IdentityOut(Schema):
    id: int
    kind: str
    value: str
    is_primary: bool
    verified: bool
    created_at: datetime.datetime


class IdentityIn(InputSchema):
    kind: IdentityKind = Field(..., description="email, phone, telegram, whatsapp or chat")
    value: str = Field(..., min_length=1, max_length=254)


class MergeIn(InputSchema):
    source_id: int = Field(..., description="The duplicate customer, merged into the one in the path.")


class MergeOut(Schema):
    id: int
    merged_id: int
    identities: list[IdentityOut]


def _agent(request: HttpRequest) -> None:
    if not request.user.is_agent:
        raise PermissionDenied("Only agents change identities or merge customers.")


@router.get("/customers/{customer_id}/identities", response=responses(list[IdentityOut]),
            summary="List a customer's identities")
def identity_list(request: HttpRequest, customer_id: int):
    customer = access_customer(user=request.user, customer_id=customer_id)
    return list(identity_list_for_customer(customer=customer))


@router.post("/customers/{customer_id}/identities", response=responses({201: IdentityOut}),
             summary="Add an identity to a customer")
def identity_create(request: HttpRequest, customer_id: int, payload: IdentityIn):
    _agent(request)
    customer = access_customer(user=request.user, customer_id=customer_id)
    return 201, identity_add(customer=customer, kind=payload.kind, value=payload.value,
                             actor=Actor.for_user(request.user))


@router.delete("/customers/{customer_id}/identities/{identity_id}", response=responses({204: None}),
               summary="Remove an identity")
def identity_delete(request: HttpRequest, customer_id: int, identity_id: int):
    _agent(request)
    identity = access_identity(user=request.user, identity_id=identity_id)
    if identity.customer_id != customer_id:
        raise NotFound("Identity not found.")
    identity_remove(identity=identity, actor=Actor.for_user(request.user))
    return 204, None


@router.post("/customers/{customer_id}/merge", response=responses(MergeOut),
             summary="Merge a duplicate customer into this one")
def customer_merge_endpoint(request: HttpRequest, customer_id: int, payload: MergeIn):
    """Tickets, messages, identities and history of ``source_id`` move to this customer in one transaction."""
    _agent(request)
    target = access_customer(user=request.user, customer_id=customer_id)
    source = access_customer(user=request.user, customer_id=payload.source_id)
    survivor = customer_merge(source=source, target=target, actor=Actor.for_user(request.user))
    return {"id": survivor.pk, "merged_id": source.pk,
            "identities": list(identity_list_for_customer(customer=survivor))}
