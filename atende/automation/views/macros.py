"""Macros and canned replies: settings pages, the one-click apply from the ticket page, the reply-box picker."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from atende.accounts.decorators import agent_required, staff_required
from atende.automation.forms import CannedReplyForm, MacroForm
from atende.automation.models import CannedReply, Macro
from atende.automation.selectors import (
    access_canned_reply,
    access_macro,
    canned_reply_list_for_user,
    macro_list_for_settings,
)
from atende.automation.services.definitions import (
    canned_reply_delete,
    canned_reply_save,
    macro_can_edit,
    macro_delete,
    macro_move,
    macro_save,
)
from atende.automation.services.macros import macro_apply
from atende.core.actor import Actor
from atende.core.exceptions import DomainError, NotFound
from atende.rules.actions import describe
from atende.rules.builder import rule_builder_catalogue
from atende.rules.pages import reference, settings_form
from atende.rules.placeholders import PLACEHOLDERS
from atende.rules.placeholders import render as render_placeholders
from atende.tickets.selectors import access_ticket


def _editable_macro(request, macro_id: int) -> Macro:
    macro = get_object_or_404(Macro, pk=macro_id)
    if not macro_can_edit(request.user, macro):
        raise Http404
    return macro


@agent_required
def macro_list(request):
    macros = macro_list_for_settings(user=request.user)
    return render(request, "automation/macro_list.html", {"macros": [
        (m, [describe(a) for a in m.actions], macro_can_edit(request.user, m)) for m in macros.select_related("owner")]})


@agent_required
def macro_edit(request, macro_id: int | None = None):
    macro = _editable_macro(request, macro_id) if macro_id else None
    initial = {"shared": request.user.is_admin, "is_active": True}
    if macro is not None:
        initial = {"name": macro.name, "shared": macro.is_shared, "is_active": macro.is_active,
                   "reply_text": macro.reply_text, "reply_visibility": macro.reply_visibility, "actions": macro.actions}

    def save(data):
        return macro_save(user=request.user, macro=macro, name=data["name"], actions=data["actions"],
                          reply_text=data["reply_text"], reply_visibility=data["reply_visibility"],
                          shared=data["shared"], is_active=data["is_active"])

    return settings_form(request, form_class=MacroForm, initial=initial, save=save,
                         success_url=reverse("automation:macros"), template="automation/macro_form.html",
                         context={"macro": macro, **reference(),
                                  "rule_builder": rule_builder_catalogue(context="macro")})


@agent_required
@require_POST
def macro_remove(request, macro_id: int):
    macro = _editable_macro(request, macro_id)
    macro_delete(user=request.user, macro=macro)
    messages.success(request, _("Deleted “%(name)s”.") % {"name": macro.name})
    return redirect("automation:macros")


@agent_required
@require_POST
def macro_reorder(request, macro_id: int):
    if not request.user.is_admin:
        raise Http404
    macro_move(macro=get_object_or_404(Macro, pk=macro_id), user=request.user,
               direction="up" if request.POST.get("direction") == "up" else "down")
    return redirect("automation:macros")


@agent_required
@require_POST
def macro_run(request, macro_id: int, number: int):
    """One click on the ticket page: apply the macro and go back to the ticket (htmx: reload it)."""
    try:
        ticket = access_ticket(user=request.user, number=number)
        macro = access_macro(user=request.user, macro_id=macro_id)
    except NotFound:
        raise Http404
    ticket_url = reverse("console:ticket", args=[ticket.number])
    try:
        macro_apply(macro=macro, ticket=ticket, actor=Actor.for_user(request.user))
    except DomainError as exc:
        messages.error(request, _("“%(name)s” could not be applied: %(error)s") % {"name": macro.name, "error": exc})
    else:
        messages.success(request, _("Applied “%(name)s”.") % {"name": macro.name})
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = ticket_url
        return response
    return redirect(ticket_url)


@staff_required
def canned_list(request):
    replies = canned_reply_list_for_user(user=request.user, query=request.GET.get("q", ""),
                                         language=request.GET.get("language", ""))
    return render(request, "automation/canned_list.html", {
        "replies": replies.select_related("owner"), "q": request.GET.get("q", ""),
        "language": request.GET.get("language", "")})


@agent_required
def canned_edit(request, canned_id: int | None = None):
    canned = None
    if canned_id:
        try:
            canned = access_canned_reply(user=request.user, canned_id=canned_id)
        except NotFound:
            raise Http404
    initial = {"shared": request.user.is_admin}
    if canned is not None:
        initial = {"title": canned.title, "body": canned.body, "language": canned.language,
                   "shared": canned.owner_id is None}

    def save(data):
        return canned_reply_save(user=request.user, canned=canned, title=data["title"], body=data["body"],
                                 language=data["language"], shared=data["shared"])

    return settings_form(request, form_class=CannedReplyForm, initial=initial, save=save, saved_name="title",
                         success_url=reverse("automation:canned"), template="automation/canned_form.html",
                         context={"canned": canned, "ref_placeholders": PLACEHOLDERS})


@agent_required
@require_POST
def canned_remove(request, canned_id: int):
    canned = get_object_or_404(CannedReply, pk=canned_id)
    try:
        canned_reply_delete(user=request.user, canned=canned)
    except DomainError:
        raise Http404
    messages.success(request, _("Deleted “%(name)s”.") % {"name": canned.title})
    return redirect("automation:canned")


@staff_required
def canned_search(request):
    """The reply-box picker: matching replies, rendered for the ticket, as buttons that fill the textarea."""
    ticket = None
    if request.GET.get("ticket"):
        try:
            ticket = access_ticket(user=request.user, number=request.GET["ticket"])
        except NotFound:
            raise Http404
    language = request.GET.get("language") or (ticket.language if ticket else "")
    replies = canned_reply_list_for_user(user=request.user, query=request.GET.get("q", ""), language=language)[:10]
    items = [(c, render_placeholders(c.body, ticket=ticket, agent=request.user) if ticket else c.body)
             for c in replies]
    return render(request, "automation/_canned_results.html", {"items": items,
                                                               "target": request.GET.get("target", "")})
