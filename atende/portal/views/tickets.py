"""A customer's requests: the list, the public thread, replies, and confirming or reopening a solution."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.core.actor import Actor
from atende.core.exceptions import DomainError, NotFound
from atende.core.pagination import keyset_page
from atende.portal import selectors
from atende.portal.forms import ReplyForm, TicketFilterForm
from atende.portal.views._common import portal_login_required
from atende.surveys.selectors import survey_for_ticket, survey_path_for_ticket
from atende.tickets.choices import TicketStatus
from atende.tickets.selectors import access_ticket, custom_field_values
from atende.tickets.services import message_add_reply, ticket_transition


def _ticket_or_404(request, number):
    try:
        return access_ticket(user=request.user, number=number)
    except NotFound:
        raise Http404


@portal_login_required
def ticket_list(request):
    filters = TicketFilterForm(request.GET or None)
    data = filters.cleaned_data if filters.is_valid() else {}
    scope = data.get("scope") or "mine"
    qs = selectors.portal_ticket_list(user=request.user, scope=scope, status=data.get("status", ""),
                                      query=data.get("q", ""))
    try:
        page = keyset_page(qs.select_related("requester"), order="-updated_at",
                           cursor=request.GET.get("cursor") or None, size=25)
    except DomainError:
        page = keyset_page(qs, order="-updated_at", size=25)
    rows = [(t, *selectors.customer_status(t)) for t in page.items]
    query_string = request.GET.copy()
    query_string.pop("cursor", None)
    return render(request, "portal/ticket_list.html", {
        "filters": filters, "rows": rows, "page": page, "scope": scope,
        "shares": selectors.organization_shares_tickets(request.user),
        "query_string": query_string.urlencode(),
    })


@portal_login_required
def ticket_detail(request, number: int, reply_form=None):
    ticket = _ticket_or_404(request, number)
    status_key, status_label = selectors.customer_status(ticket)
    is_requester = ticket.requester_id == request.user.pk
    return render(request, "portal/ticket_detail.html", {
        "ticket": ticket,
        "thread": selectors.public_thread(user=request.user, ticket=ticket),
        "status_key": status_key,
        "status_label": status_label,
        "expected_reply": selectors.expected_reply(ticket),
        "custom_values": custom_field_values(ticket=ticket, for_customer=request.user.is_customer),
        "is_requester": is_requester,
        "can_reply": request.user.is_customer,
        "reply_form": reply_form or ReplyForm(),
        "survey": survey_for_ticket(ticket=ticket),
        "survey_path": survey_path_for_ticket(ticket) if is_requester else "",
        "follow_ups": ticket.follow_ups.filter(requester_id=request.user.pk).order_by("-id")[:5]
        if request.user.is_customer else [],
    })


@require_POST
@portal_login_required
def ticket_reply(request, number: int):
    ticket = _ticket_or_404(request, number)
    if not request.user.is_customer:
        messages.error(request, _("Agents reply from the console."))
        return redirect("portal:ticket", number=ticket.number)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return ticket_detail(request, number, reply_form=form)
    was_closed = ticket.is_closed
    try:
        message = message_add_reply(ticket=ticket, actor=Actor.for_user(request.user),
                                    body_text=form.cleaned_data["body"], channel="web",
                                    attachments=form.cleaned_data["attachments"])
    except DomainError as exc:
        form.add_error(None, exc.message)
        return ticket_detail(request, number, reply_form=form)
    if was_closed:
        messages.success(request, _("Your follow-up request #%(number)s was created.") % {
            "number": message.ticket.number})
        return redirect("portal:request_submitted", number=message.ticket.number)
    messages.success(request, _("Your reply was sent."))
    return redirect("portal:ticket", number=ticket.number)


@require_POST
@portal_login_required
def ticket_resolution(request, number: int):
    """The requester confirms the solution (solved → closed) or says it is still not solved (→ open)."""
    ticket = _ticket_or_404(request, number)
    action = request.POST.get("action")
    if ticket.requester_id != request.user.pk or action not in {"confirm", "reopen"}:
        messages.error(request, _("Only the person who made the request can do this."))
        return redirect("portal:ticket", number=ticket.number)
    actor = Actor.for_user(request.user)
    comment = request.POST.get("comment", "").strip()[:50_000]
    try:
        if action == "confirm":
            ticket_transition(ticket=ticket, to=TicketStatus.CLOSED, actor=actor, reason="customer_confirmed")
        elif comment:
            message_add_reply(ticket=ticket, actor=actor, body_text=comment, channel="web")  # reopens it
        else:
            ticket_transition(ticket=ticket, to=TicketStatus.OPEN, actor=actor, reason="customer_reopened")
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Thank you — your request is closed.") if action == "confirm"
                         else _("We reopened your request; an agent will get back to you."))
    return redirect("portal:ticket", number=ticket.number)
