"""Writes from the ticket workspace: reply/note, side-panel fields, assign to me, followers, links, merge.

Each view parses the form, calls one service, and answers htmx with the re-rendered partial plus ``HX-Trigger``
events that make the rest of the page re-fetch (``atende:timeline-refresh``) and tell the scripts the ticket's new
version (``atende:ticket-version``). Without htmx the views redirect back to the page (plain forms still work).
"""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.core.actor import Actor
from atende.core.exceptions import Conflict, DomainError, NotFound
from atende.messaging.selectors import reply_refusal
from atende.tickets.choices import MessageKind
from atende.tickets.models import Ticket
from atende.tickets.selectors import access_ticket
from atende.tickets.services import (
    message_add_note,
    message_add_reply,
    ticket_link,
    ticket_merge,
    ticket_set_followers,
    ticket_unlink,
    ticket_update,
)

from ..forms_workspace import FollowerAddForm, LinkForm, MergeForm, ReplyForm, TicketFieldsForm, incoming_files
from .ticket import (
    panel_context,
    permissions,
    related_context,
    reply_context,
    staff_ticket_view,
    ticket_detail_context,
)


def _location(url: str) -> str:
    """HX-Location that swaps only <main>: the top bar, scripts and the open websocket stay."""
    return json.dumps({"path": url, "target": "#main", "select": "#main", "swap": "outerHTML"})


def _triggers(response, ticket: Ticket, *, panel: bool = False):
    events = {"atende:timeline-refresh": {"number": ticket.number},
              "atende:ticket-version": {"number": ticket.number, "version": ticket.version}}
    if panel:
        events["atende:panel-refresh"] = {"number": ticket.number}
    response["HX-Trigger"] = json.dumps(events)
    return response


def _back(ticket: Ticket):
    return redirect("console:ticket", number=ticket.number)


def _reload(request, ticket: Ticket) -> Ticket | None:
    """The ticket as the agent may now see it (a change of team can take it out of a restricted agent's view)."""
    try:
        return access_ticket(user=request.user, number=ticket.number)
    except NotFound:
        return None


def _gone(request):
    """The agent can no longer see the ticket (e.g. moved to another team): back to the queues."""
    url = reverse("console:queues")
    if request.htmx:
        response = render(request, "console/_ticket_gone.html", {})
        response["HX-Location"] = _location(url)
        return response
    return redirect(url)


def _require_edit(request, ticket: Ticket) -> None:
    if not permissions(request.user, ticket)["can_edit"]:
        raise DjangoPermissionDenied


@require_POST
@staff_ticket_view
def ticket_reply(request, ticket: Ticket):
    perms = permissions(request.user, ticket)
    form = ReplyForm(request.POST, request.FILES, ticket=ticket, can_reply=perms["can_reply"])
    stale = None
    if form.is_valid():
        data = form.cleaned_data
        actor = Actor.for_user(request.user)
        try:
            files = incoming_files(data["attachments"])
            if data["kind"] == MessageKind.NOTE:
                message_add_note(ticket=ticket, actor=actor, body_text=data["body"], attachments=files)
            elif refusal := reply_refusal(ticket):  # WhatsApp's 24-hour window has closed: templates only
                raise DomainError(refusal, code="whatsapp_window_closed")
            else:
                message_add_reply(ticket=ticket, actor=actor, body_text=data["body"], attachments=files,
                                  set_status=data.get("set_status") or None,
                                  expected_version=None if data["force"] else data["expected_version"])
        except Conflict as exc:
            if exc.code != "stale_version":
                form.add_error(None, exc.message)
            else:
                stale = {"current_version": (exc.details or {}).get("current_version"),
                         "had_attachments": bool(data["attachments"])}
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            ticket = _reload(request, ticket)
            if ticket is None:
                return _gone(request)
            if not request.htmx:
                return _back(ticket)
            response = render(request, "console/_ticket_reply.html", reply_context(request, ticket))
            return _triggers(response, ticket, panel=True)
    if not request.htmx:
        return render(request, "console/ticket.html",
                      ticket_detail_context(request, ticket, reply_form=form, stale=stale), status=422)
    response = render(request, "console/_ticket_reply.html", reply_context(request, ticket, form=form, stale=stale))
    if stale:  # show the agent what changed meanwhile
        response["HX-Trigger"] = json.dumps({"atende:timeline-refresh": {"number": ticket.number},
                                             "atende:panel-refresh": {"number": ticket.number}})
    return response


@require_POST
@staff_ticket_view
def ticket_fields(request, ticket: Ticket):
    _require_edit(request, ticket)
    form = TicketFieldsForm(request.POST, ticket=ticket)
    error = ""
    if form.is_valid():
        try:
            ticket = ticket_update(ticket=ticket, actor=Actor.for_user(request.user), changes=form.changes(),
                                   expected_version=form.cleaned_data["expected_version"])
        except Conflict as exc:
            if exc.code == "stale_version":
                # Someone changed the ticket after this panel was drawn: show the current values, keep nothing.
                ticket = _reload(request, ticket)
                if ticket is None:
                    return _gone(request)
                form = None
                error = _("Someone else changed this ticket while you were editing. Your changes were not saved: "
                          "review the current values and save again.")
            else:
                error = exc.message
        except DomainError as exc:
            error = exc.message
        else:
            ticket = _reload(request, ticket)
            if ticket is None:
                return _gone(request)
            if not request.htmx:
                return _back(ticket)
            response = render(request, "console/_ticket_panel.html", panel_context(request, ticket))
            return _triggers(response, ticket)
    if not request.htmx:
        return _back(ticket)
    return render(request, "console/_ticket_panel.html", panel_context(request, ticket, form=form, error=error))


@require_POST
@staff_ticket_view
def ticket_assign_me(request, ticket: Ticket):
    _require_edit(request, ticket)
    error = ""
    try:
        ticket = ticket_update(ticket=ticket, actor=Actor.for_user(request.user),
                               changes={"assignee": request.user})
    except DomainError as exc:
        error = exc.message
    else:
        ticket = _reload(request, ticket) or ticket
    if not request.htmx:
        return _back(ticket)
    response = render(request, "console/_ticket_panel.html", panel_context(request, ticket, error=error))
    return response if error else _triggers(response, ticket)


@require_POST
@staff_ticket_view
def ticket_followers(request, ticket: Ticket):
    _require_edit(request, ticket)
    actor = Actor.for_user(request.user)
    error = ""
    try:
        if request.POST.get("remove"):
            users = [f for f in ticket.followers.all() if str(f.pk) == request.POST["remove"]]
            ticket = ticket_set_followers(ticket=ticket, actor=actor, remove=users)
        else:
            form = FollowerAddForm(request.POST)
            if form.is_valid():
                ticket = ticket_set_followers(ticket=ticket, actor=actor, add=[form.cleaned_data["email"]])
            else:
                error = " ".join(form.errors.get("email", [])) or _("Enter an email address.")
    except DomainError as exc:
        error = exc.message
    return _related_response(request, ticket, follower_error=error)


@require_POST
@staff_ticket_view
def ticket_links(request, ticket: Ticket):
    _require_edit(request, ticket)
    form = LinkForm(request.POST)
    error = ""
    if form.is_valid():
        data = form.cleaned_data
        actor = Actor.for_user(request.user)
        try:
            other = access_ticket(user=request.user, number=data["number"])
            source, target = (ticket, other) if data.get("direction", "out") != "in" else (other, ticket)
            if request.POST.get("remove"):
                ticket_unlink(source=source, target=target, kind=data["kind"], actor=actor)
            else:
                ticket_link(source=source, target=target, kind=data["kind"], actor=actor)
        except NotFound:
            error = _("Ticket #%(number)s was not found.") % {"number": data["number"]}
        except DomainError as exc:
            error = exc.message
    else:
        error = _("Enter a ticket number and the kind of link.")
    return _related_response(request, ticket, link_error=error)


@require_POST
@staff_ticket_view
def ticket_merge_into(request, ticket: Ticket):
    _require_edit(request, ticket)
    form = MergeForm(request.POST)
    error = _("Enter the number of the ticket to merge into.")
    if form.is_valid():
        number = form.cleaned_data["number"]
        try:
            target = ticket_merge(source=ticket, target=access_ticket(user=request.user, number=number),
                                  actor=Actor.for_user(request.user))
        except NotFound:
            error = _("Ticket #%(number)s was not found.") % {"number": number}
        except DomainError as exc:
            error = exc.message
        else:
            url = reverse("console:ticket", kwargs={"number": target.number})
            if not request.htmx:
                return redirect(url)
            response = render(request, "console/_ticket_gone.html", {"merged_into": target})
            response["HX-Location"] = _location(url)
            return response
    return _related_response(request, ticket, merge_error=error)


def _related_response(request, ticket: Ticket, **errors):
    ticket = _reload(request, ticket)
    if ticket is None:
        return _gone(request)
    if not request.htmx:
        return _back(ticket)
    response = render(request, "console/_ticket_related.html", related_context(request, ticket, **errors))
    return response if any(errors.values()) else _triggers(response, ticket)
