"""Triage pages: the ticket sidebar (suggestions with one-click apply, similar tickets, knowledge-base articles,
near-duplicates), the recurring-problems page, and the admin page (models, auto-apply, predictable fields,
how often suggestions were right)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.accounts.decorators import admin_required, staff_required
from atende.core.actor import Actor
from atende.core.exceptions import DomainError
from atende.kb.selectors import article_search
from atende.tickets.models import Ticket
from atende.tickets.selectors import access_ticket, can_edit_ticket
from atende.tickets.services import ticket_merge
from atende.triage.forms import FieldSettingForm, PredictableFieldsForm
from atende.triage.labels import field_label, value_label
from atende.triage.selectors import (
    active_model,
    current_value,
    dropdown_fields,
    field_settings,
    how_solved_for_user,
    near_duplicates_for_user,
    predictable_custom_field_ids,
    predictions_for_ticket,
    similar_tickets_for_user,
    suggestion_accuracy,
    ticket_numbers_for_user,
    training_models,
)
from atende.triage.services import triage_field_setting_save, triage_predictable_fields_set
from atende.triage.suggestions import triage_apply_suggestion
from atende.triage.topics import recurring_topics

RESOLUTION_CHARS = 220


def sidebar_context(request, ticket: Ticket) -> dict:
    user = request.user
    custom = dropdown_fields()
    editable = can_edit_ticket(user, ticket)
    suggestions = []
    for p in predictions_for_ticket(ticket=ticket):
        applied = current_value(ticket, p.field) == p.value
        suggestions.append({"prediction": p, "label": field_label(p.field, custom),
                            "value": value_label(p.field, p.value, custom), "percent": round(p.confidence * 100),
                            "applied": applied, "can_apply": editable and not applied})
    similar = similar_tickets_for_user(user=user, ticket=ticket)
    how = how_solved_for_user(user=user, tickets=similar, max_chars=RESOLUTION_CHARS)
    return {
        "ticket": ticket, "suggestions": suggestions, "can_edit": editable,
        "similar": [{"ticket": t, "how": how.get(t.pk, "")} for t in similar],
        "articles": article_search(user=user, query=ticket.subject, limit=3),
        "duplicates": near_duplicates_for_user(user=user, ticket=ticket) if not ticket.is_closed else [],
    }


def _sidebar(request, ticket: Ticket, *, error: str = "", refresh: bool = False):
    response = render(request, "triage/_sidebar.html", {**sidebar_context(request, ticket), "error": error})
    if refresh:
        response["HX-Trigger"] = json.dumps({"atende:panel-refresh": {"number": ticket.number},
                                             "atende:timeline-refresh": {"number": ticket.number}})
    return response


@staff_required
def ticket_sidebar(request, number: int):
    return _sidebar(request, access_ticket(user=request.user, number=number))


@require_POST
@staff_required
def suggestion_apply(request, number: int, field: str):
    ticket = access_ticket(user=request.user, number=number)
    error = ""
    if not can_edit_ticket(request.user, ticket):
        error = _("You cannot change this ticket.")
    else:
        try:
            triage_apply_suggestion(ticket=ticket, field=field, actor=Actor.for_user(request.user))
        except DomainError as exc:
            error = exc.message
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("console:ticket", number=ticket.number)
    return _sidebar(request, access_ticket(user=request.user, ticket_id=ticket.pk), error=error, refresh=not error)


@require_POST
@staff_required
def duplicate_merge(request, number: int, target: int):
    """Merge this ticket into the earlier near-duplicate ``target`` (the existing merge service)."""
    ticket = access_ticket(user=request.user, number=number)
    if not can_edit_ticket(request.user, ticket):
        return _sidebar(request, ticket, error=_("You cannot change this ticket."))
    try:
        merged = ticket_merge(source=ticket, target=access_ticket(user=request.user, number=target),
                              actor=Actor.for_user(request.user))
    except DomainError as exc:
        return _sidebar(request, ticket, error=exc.message)
    url = reverse("console:ticket", kwargs={"number": merged.number})
    if not request.htmx:
        return redirect(url)
    response = render(request, "console/_ticket_gone.html", {"merged_into": merged})
    response["HX-Redirect"] = url
    return response


@staff_required
def topics_page(request):
    days = 30 if request.GET.get("days") == "30" else 7
    topics = recurring_topics(user=request.user, days=days)
    numbers = ticket_numbers_for_user(user=request.user, ticket_ids=[i for t in topics for i in t.ticket_ids])
    for topic in topics:
        topic.numbers = [numbers[i] for i in topic.ticket_ids if i in numbers]
    return render(request, "triage/topics.html", {"days": days, "topics": topics})


@admin_required
def settings_page(request):
    model = active_model()
    custom = dropdown_fields()
    saved = field_settings()
    fields = []
    for name, figures in (model.fields.items() if model else []):
        setting = saved.get(name)
        fields.append({"name": name, "label": field_label(name, custom), "figures": figures,
                       "form": FieldSettingForm(prefix=name, initial={
                           "auto_apply": setting.auto_apply if setting else False,
                           "threshold": setting.threshold if setting else 0.9})})
    accuracy = suggestion_accuracy()
    for row in accuracy:
        row["label"] = field_label(row["field"], custom)
    return render(request, "triage/settings.html", {
        "model": model, "fields": fields, "models": training_models(), "accuracy": accuracy,
        "predictable_form": PredictableFieldsForm(initial={"fields": predictable_custom_field_ids()})})


@require_POST
@admin_required
def field_setting_save(request, field: str):
    form = FieldSettingForm(request.POST, prefix=field)
    if form.is_valid():
        try:
            triage_field_setting_save(field=field, actor=Actor.for_user(request.user), **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Saved."))
    else:
        messages.error(request, _("The threshold must be between 0.5 and 1."))
    return redirect("triage:settings")


@require_POST
@admin_required
def predictable_fields_save(request):
    form = PredictableFieldsForm(request.POST)
    if form.is_valid():
        triage_predictable_fields_set(custom_fields=list(form.cleaned_data["fields"]),
                                      actor=Actor.for_user(request.user))
        messages.success(request, _("Saved. The next training learns these fields."))
    return redirect("triage:settings")
