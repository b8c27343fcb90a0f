"""Creating a ticket on a customer's behalf, and logging a phone call (new ticket or existing one)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from atende.accounts.services import customer_get_or_create
from atende.core.actor import Actor
from atende.core.exceptions import DomainError, NotFound
from atende.tickets.selectors import access_ticket
from atende.tickets.services import phone_call_log, ticket_create

from ..forms_workspace import PhoneCallForm, TicketNewForm, incoming_files, parse_tags, user_by_email


def _agents_only(request) -> None:
    if not request.user.is_staff_member:
        raise Http404
    if not request.user.is_agent:
        # Collaborators read and write internal notes only.
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied


def _contact(data, actor: Actor):
    """The existing contact with this address, or a new customer (agents are never created here)."""
    existing = user_by_email(data["requester_email"])
    if existing is not None:
        return existing
    return customer_get_or_create(email=data["requester_email"], name=data.get("requester_name") or "", actor=actor)


@login_required
def ticket_new(request):
    _agents_only(request)
    initial = {}
    if request.method == "GET" and (email := request.GET.get("email")):
        initial["requester_email"] = email
    form = TicketNewForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        actor = Actor.for_user(request.user)
        try:
            # One transaction: a failed ticket must not leave a half-created contact behind.
            with transaction.atomic():
                ticket = ticket_create(
                    actor=actor, requester=_contact(data, actor), subject=data["subject"], body_text=data["body"],
                    channel=data["channel"], type=data["type"], category=data["category"], team=data["team"],
                    assignee=data["assignee"], urgency=data["urgency"], impact=data["impact"],
                    priority=data["priority"] or None, tags=parse_tags(data["tags"]),
                    attachments=incoming_files(data["attachments"]),
                    first_message_by_agent=data["first_message_by_agent"],
                )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("console:ticket", number=ticket.number)
    return render(request, "console/ticket_new.html", {"form": form}, status=422 if form.errors else 200)


@login_required
def phone_call(request):
    _agents_only(request)
    initial = {}
    existing = None
    if request.method == "GET" and request.GET.get("ticket"):
        try:
            existing = access_ticket(user=request.user, number=request.GET["ticket"])
        except NotFound:
            raise Http404
        initial = {"ticket_number": existing.number, "requester_email": existing.requester.email,
                   "requester_name": existing.requester.name}
    form = PhoneCallForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        actor = Actor.for_user(request.user)
        try:
            ticket = access_ticket(user=request.user, number=data["ticket_number"]) if data["ticket_number"] else None
            with transaction.atomic():
                ticket = phone_call_log(
                    actor=actor, caller=_contact(data, actor), notes=data["notes"],
                    duration_seconds=form.total_seconds, direction=data["direction"], ticket=ticket,
                    **({} if ticket else {"subject": data["subject"], "type": data["type"],
                                          "category": data["category"], "team": data["team"]}))
        except NotFound:
            form.add_error("ticket_number", _("Ticket #%(number)s was not found.") % {"number": data["ticket_number"]})
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("console:ticket", number=ticket.number)
    return render(request, "console/ticket_phone_call.html", {"form": form, "existing": existing},
                  status=422 if form.errors else 200)
