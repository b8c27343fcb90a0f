"""The settings-page base shared by the rule pages (routing rules, triggers, time rules, macros) and the SLA
policy pages: the edit form round trip, reordering, the help panel's reference and the preview against a ticket."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from atende.core.exceptions import DomainError, NotFound
from atende.rules.actions import ACTIONS, describe
from atende.rules.conditions import explain
from atende.rules.context import RuleContext
from atende.rules.fields import CHANGE_OPS, FIELDS, OP_LABELS, OPS, RANK_OPS
from atende.rules.placeholders import PLACEHOLDERS
from atende.rules.services import rule_move
from atende.tickets.selectors import access_ticket


def preview_ticket(request):
    """The ticket named by ``?ticket=N`` if the user may see it (``None`` when absent or not found)."""
    number = request.GET.get("ticket")
    if not number:
        return None, ""
    try:
        return access_ticket(user=request.user, number=number), ""
    except NotFound:
        return None, number


def form_error(form, exc) -> None:
    """Put a DomainError from the service on the form (the message names the faulty condition or action)."""
    form.add_error(None, str(exc))


def reference(*, fields: tuple[str, ...] | None = None) -> dict:
    """What the help panel lists: fields (all, or only ``fields``) with their operators, actions, placeholders."""
    listed = [{"name": f.name, "label": f.label, "ops": [*OPS[f.kind], *(RANK_OPS if f.rank else ()),
                                                         *(CHANGE_OPS if f.changeable else ())],
               "choices": f.choices} for f in FIELDS.values() if fields is None or f.name in fields]
    return {"ref_fields": listed, "ref_actions": [(k, v[0]) for k, v in ACTIONS.items()],
            "ref_placeholders": PLACEHOLDERS, "ref_ops": OP_LABELS}


def settings_form(request, *, form_class, initial: dict, save: Callable[[dict], Any], success_url: str,
                  template: str, context: dict | None = None, saved_name: str = "name") -> HttpResponse:
    """GET: the form filled from ``initial``. POST: ``save(cleaned_data)`` (one service call returning the saved
    row); a DomainError becomes a form error, success a message and a redirect to ``success_url``."""
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            try:
                saved = save(form.cleaned_data)
            except DomainError as exc:
                form_error(form, exc)
            else:
                messages.success(request, _("Saved “%(name)s”.") % {"name": getattr(saved, saved_name)})
                return redirect(success_url)
    else:
        form = form_class(initial=initial)
    return render(request, template, {"form": form, **(context or {})})


def reorder(request, *, rule, success_url: str) -> HttpResponse:
    """The ▲/▼ buttons of an ordered list."""
    rule_move(rule=rule, user=request.user, direction="up" if request.POST.get("direction") == "up" else "down")
    return redirect(success_url)


def preview_page(request, *, subject, conditions: dict, actions: list[dict], template: str, context: dict,
                 more: Callable[[Any], dict] | None = None) -> HttpResponse:
    """"Test against ticket #N": each condition with the ticket's actual value and what the actions would do;
    ``more(ticket)`` adds what only one kind of rule knows (a time rule's due time, an SLA policy's targets)."""
    ticket, missing = preview_ticket(request)
    result = None
    if ticket is not None:
        matched, lines = explain(conditions or {}, RuleContext(ticket))
        result = {"matched": matched, "lines": lines, "actions": [describe(a) for a in actions]}
        if more is not None:
            result.update(more(ticket))
    return render(request, template, {**context, "subject": subject, "ticket": ticket, "missing": missing,
                                      "result": result, "ref_ops": OP_LABELS})
