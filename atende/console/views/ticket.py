"""The ticket workspace page and the partials htmx re-fetches when the ticket changes.

Writes from the page live in ``ticket_actions.py``; creating tickets and logging calls in ``ticket_create.py``.
"""

from __future__ import annotations

from functools import partial, wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef
from django.http import Http404
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.views.decorators.http import require_GET

from atende.core.exceptions import NotFound
from atende.email_channel.selectors import undeliverable_among, undeliverable_flag
from atende.messaging.selectors import (
    delivery_states_for_ticket,
    reply_refusal,
    whatsapp_template_list,
)
from atende.tickets.choices import Channel
from atende.tickets.models import Ticket
from atende.tickets.selectors import (
    access_ticket,
    can_edit_ticket,
    custom_field_values,
    requester_recent_tickets,
    ticket_list_for_user,
)
from atende.tickets.services.relations import links_for_ticket

from ..forms_workspace import FollowerAddForm, LinkForm, MergeForm, ReplyForm, TicketFieldsForm
from ..options import ticket_options
from ..panel_fields import panel_fields_html, reply_form_as_opened
from ..realtime import HEARTBEAT_SECONDS
from ..timeline_items import TimelineEntries
from .ticket_timeline import build_timeline_window

# A long thread opens on its newest entries; "Show earlier" loads the whole of it (and refreshes keep it whole).
TIMELINE_LATEST = 10

# What every workspace request reads of the ticket's relations (the merged-into, problem and follow-up tickets
# load when a ticket has them: few do).
WORKSPACE_RELATED = ("requester", "assignee", "team", "organization", "category", "category__parent")

# Include points other apps fill by shipping the template; the page renders a slot only when its template exists.
# Each partial receives the page context (``ticket``, ``user``, ``can_edit``, ``can_reply``).
OPTIONAL_PARTIALS = {
    "sla_badge": "sla/_ticket_badge.html",
    "macros": "automation/_ticket_macros.html",
    "canned_replies": "automation/_ticket_canned_replies.html",
    "kb_links": "kb/_ticket_article_picker.html",
    "satisfaction": "surveys/_ticket_rating.html",
}


def optional_partials() -> dict[str, str]:
    found = {}
    for slot, name in OPTIONAL_PARTIALS.items():
        try:
            found[slot] = select_template([name]).template.name
        except TemplateDoesNotExist:
            continue
    return found


def staff_ticket_view(view=None, *, page: bool = False):
    """Log-in required, console users only, and the ticket fetched through ``access_ticket`` (404 otherwise).
    ``page=True`` (the whole workspace page): the same query also reads what the page shows of the requester's
    address and, when the page shows it, the satisfaction rating (each was a query of its own)."""
    if view is None:
        return partial(staff_ticket_view, page=page)

    @login_required
    @wraps(view)
    def wrapper(request, number: int, *args, **kwargs):
        if not request.user.is_staff_member:
            raise Http404
        related, annotate = WORKSPACE_RELATED, None
        if page:
            annotate = page_annotations
            if "satisfaction" in optional_partials():
                related += ("satisfaction",)
        try:
            ticket = access_ticket(user=request.user, number=number, related=related, annotate=annotate)
        except NotFound:
            raise Http404
        return view(request, ticket, *args, **kwargs)

    return wrapper


def page_annotations() -> dict[str, Any]:
    """What the whole page reads with the ticket (a function: the query's SQL is built once per shape)."""
    return {"requester_undeliverable": undeliverable_flag(OuterRef("requester__email"))}


def permissions(user, ticket: Ticket) -> dict[str, bool]:
    editable = can_edit_ticket(user, ticket)
    # Closed tickets are final: no replies, notes or field changes (a customer's reply opens a follow-up).
    return {"can_edit": editable, "can_reply": editable, "can_note": user.is_staff_member and not ticket.is_closed}


def timeline_context(request, ticket: Ticket) -> dict[str, Any]:
    whole = request.GET.get("all") == "1"
    timeline, earlier = build_timeline_window(user=request.user, ticket=ticket,
                                              latest=None if whole else TIMELINE_LATEST)
    if ticket.channel == Channel.MESSAGING:
        # On a ticket opened from Telegram or WhatsApp, replies show what the platform reported (sent, delivered,
        # read, failed; the reason on hover).
        states = delivery_states_for_ticket(ticket)
        for item in timeline:
            if item.kind == "message":
                item.delivery = states.get(item.message.pk)
    return {"ticket": ticket, "timeline": timeline, "timeline_entries": TimelineEntries(timeline),
            "timeline_earlier": earlier, "timeline_whole": whole,
            "requester_undeliverable": requester_undeliverable(ticket)}


def requester_undeliverable(ticket: Ticket) -> bool:
    flag = getattr(ticket, "requester_undeliverable", None)  # read with the ticket by the page
    return bool(undeliverable_among([ticket.requester.email])) if flag is None else flag


def panel_context(request, ticket: Ticket, *, form: TicketFieldsForm | None = None,
                  error: str = "") -> dict[str, Any]:
    perms = permissions(request.user, ticket)
    # The form and the read-only list both show the names: read once, as names (sorted here: the tags' default
    # ordering made the query's building cost more than its reading).
    tags = sorted(ticket.tags.order_by().values_list("name", flat=True))
    fields = None
    if perms["can_edit"] and form is None:
        # The fields as the page opens, written from the ticket's values (the form is built when it is submitted).
        fields = panel_fields_html(ticket, tag_names=tags, options=ticket_options())
        if fields is None:
            form = TicketFieldsForm(ticket=ticket, tag_names=tags)
    return {"ticket": ticket, "panel_form": form, "panel_fields": fields, "panel_error": error, **perms,
            "tags": tags,
            "custom_values": [] if perms["can_edit"] else custom_field_values(ticket=ticket)}


def related_context(request, ticket: Ticket, *, link_error: str = "", follower_error: str = "",
                    merge_error: str = "") -> dict[str, Any]:
    user = request.user
    visible = ticket_list_for_user(user=user)
    links = []
    linked_ids = set()
    for link in links_for_ticket(ticket):
        outgoing = link.source_id == ticket.pk
        other = link.target if outgoing else link.source
        links.append({"link": link, "other": other, "outgoing": outgoing})
        linked_ids.add(other.pk)
    related_ids = {t for t in (ticket.problem_id, ticket.merged_into_id, ticket.follow_up_of_id) if t}
    visible_ids = set(visible.filter(pk__in=linked_ids | related_ids).values_list("pk", flat=True))
    followers = list(ticket.followers.order_by("name", "email"))
    return {
        "ticket": ticket, **permissions(user, ticket),
        "links": [row for row in links if row["other"].pk in visible_ids],
        "problem": ticket.problem if ticket.problem_id in visible_ids else None,
        "incidents": list(visible.filter(problem=ticket).order_by("-created_at")[:50]),
        "merged_into": ticket.merged_into if ticket.merged_into_id in visible_ids else None,
        "merged_tickets": list(visible.filter(merged_into=ticket).order_by("-created_at")[:50]),
        "follow_up_of": ticket.follow_up_of if ticket.follow_up_of_id in visible_ids else None,
        "follow_ups": list(visible.filter(follow_up_of=ticket).order_by("-created_at")[:50]),
        "recent_tickets": list(requester_recent_tickets(user=user, ticket=ticket)),
        "followers": followers,
        "link_form": LinkForm(), "follower_form": FollowerAddForm(), "merge_form": MergeForm(),
        "link_error": link_error, "follower_error": follower_error, "merge_error": merge_error,
    }


def reply_context(request, ticket: Ticket, *, form: ReplyForm | None = None, stale: dict | None = None,
                  error: str = "") -> dict[str, Any]:
    perms = permissions(request.user, ticket)
    if form is None:  # the box as it opens: no form built (its fields are the same on every ticket in a status)
        form = reply_form_as_opened(ticket, can_reply=perms["can_reply"])
    notice = reply_refusal(ticket) if perms.get("can_reply") else ""
    return {"ticket": ticket, "reply_form": form, "stale": stale, "reply_error": error, **perms,
            "messaging_notice": notice, "whatsapp_templates": list(whatsapp_template_list()) if notice else []}


def ticket_detail_context(request, ticket: Ticket, *, reply_form: ReplyForm | None = None,
                          stale: dict | None = None) -> dict[str, Any]:
    return {
        **timeline_context(request, ticket), **panel_context(request, ticket), **permissions(request.user, ticket),
        **reply_context(request, ticket, form=reply_form, stale=stale),
        "optional_partials": optional_partials(),
        "heartbeat_seconds": HEARTBEAT_SECONDS,
    }


@require_GET
@staff_ticket_view(page=True)
def ticket_detail(request, ticket: Ticket):
    return render(request, "console/ticket.html", ticket_detail_context(request, ticket))


@require_GET
@staff_ticket_view
def ticket_timeline(request, ticket: Ticket):
    # The header badges (status, priority) travel with the timeline as an out-of-band swap.
    return render(request, "console/_ticket_timeline.html", {**timeline_context(request, ticket),
                                                               "oob_meta": True,
                                                               "optional_partials": optional_partials()})


@require_GET
@staff_ticket_view
def ticket_panel(request, ticket: Ticket):
    return render(request, "console/_ticket_panel.html",
                  {**panel_context(request, ticket), "optional_partials": optional_partials()})


@require_GET
@staff_ticket_view
def ticket_related(request, ticket: Ticket):
    return render(request, "console/_ticket_related.html", related_context(request, ticket))
