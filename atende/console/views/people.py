"""Customer and organisation profiles: contact data, notes, custom fields, ticket history and interactions.

Ticket histories are keyset-paginated newest first (``?cursor=``); htmx "Show more" fetches only the rows.
"""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from atende.accounts.selectors import (
    access_customer,
    access_organization,
    customer_event_list,
    identity_list_for_customer,
)
from atende.accounts.services import user_update_profile
from atende.console.selectors import customer_interactions, organization_interactions
from atende.core.exceptions import DomainError, NotFound
from atende.core.exceptions import ValidationError as DomainValidationError
from atende.core.pagination import keyset_page
from atende.tickets.selectors import ticket_list_for_user
from atende.tickets.states import UNSOLVED_STATUSES

from ..forms_workspace import CustomerNotesForm, IdentityAddForm

PAGE_SIZE = 25


def _staff(request) -> None:
    if not request.user.is_staff_member:
        raise Http404


def _ticket_history(request, tickets):
    try:
        return keyset_page(tickets.for_list(), order="-created_at", cursor=request.GET.get("cursor"),
                           size=PAGE_SIZE)
    except DomainValidationError:
        raise Http404


def _counts(tickets) -> dict[str, int]:
    return tickets.aggregate(total=Count("pk"), unsolved=Count("pk", filter=Q(status__in=UNSOLVED_STATUSES)))


def _rows_or_page(request, template: str, context: dict):
    if request.htmx and request.GET.get("cursor"):
        return render(request, "console/people_ticket_rows.html", context)
    return render(request, template, context)


@login_required
def customer_profile(request, id: int):
    _staff(request)
    try:
        customer = access_customer(user=request.user, customer_id=id)
    except NotFound:
        raise Http404
    tickets = ticket_list_for_user(user=request.user).filter(requester=customer)
    page = _ticket_history(request, tickets)
    context = {
        "person": customer, "page": page, "rows_url": request.path,
        "counts": _counts(tickets) if not request.GET.get("cursor") else None,
        "interactions": customer_interactions(user=request.user, customer=customer),
        "notes_form": CustomerNotesForm(initial={"notes": customer.notes}),
        "can_edit": request.user.is_agent,
        "identities": list(identity_list_for_customer(customer=customer)) if customer.is_customer else [],
        "identity_form": IdentityAddForm(), "customer_events": list(customer_event_list(customer=customer)[:20]),
    }
    return _rows_or_page(request, "console/people_customer.html", context)


@login_required
def customer_notes(request, id: int):
    _staff(request)
    if request.method != "POST":
        return redirect("console:customer", id=id)
    if not request.user.is_agent:
        raise PermissionDenied
    try:
        customer = access_customer(user=request.user, customer_id=id)
    except NotFound:
        raise Http404
    form = CustomerNotesForm(request.POST)
    if form.is_valid():
        try:
            user_update_profile(user=customer, notes=form.cleaned_data["notes"])
        except DomainError as exc:
            flash.error(request, exc.message)
        else:
            flash.success(request, _("Notes saved."))
    return redirect("console:customer", id=customer.pk)


@login_required
def organization_profile(request, id: int):
    _staff(request)
    try:
        organization = access_organization(user=request.user, organization_id=id)
    except NotFound:
        raise Http404
    tickets = ticket_list_for_user(user=request.user).filter(organization=organization)
    page = _ticket_history(request, tickets)
    members = organization.members.order_by("name", "email")
    context = {
        "organization": organization, "page": page, "rows_url": request.path,
        "counts": _counts(tickets) if not request.GET.get("cursor") else None,
        "members": list(members[:50]), "member_count": members.count(),
        "domains": list(organization.domains.values_list("domain", flat=True)),
        "interactions": organization_interactions(user=request.user, organization=organization),
    }
    return _rows_or_page(request, "console/people_organization.html", context)
