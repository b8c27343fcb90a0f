"""Submitting a request: pick a form, fill it (with suggestions from the knowledge base), get a number."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from atende.core.exceptions import DomainError, NotFound
from atende.kb.selectors import current_language
from atende.portal import selectors
from atende.portal.forms import RequestForm
from atende.portal.services import portal_request_submit
from atende.portal.views._common import portal_login_required, session_key
from atende.tickets.selectors import access_ticket

FIELD_FOR_DETAIL = {"subject": "subject", "body": "description"}


@portal_login_required
def request_new(request):
    forms_offered = list(selectors.ticket_forms_for_customers())
    ticket_form = selectors.ticket_form_for_customers(request.GET.get("form") or request.POST.get("form_id"))
    if (request.GET.get("form") or request.POST.get("form_id")) and ticket_form is None:
        raise Http404
    form = RequestForm(request.POST or None, request.FILES or None, ticket_form=ticket_form)
    if request.method == "POST" and form.is_valid() and not request.user.is_staff_member:
        data = form.cleaned_data
        try:
            ticket = portal_request_submit(
                customer=request.user, subject=data["subject"], description=data["description"], form=ticket_form,
                custom_fields=form.custom_field_values(), attachments=data["attachments"],
                language=current_language(), session_key=session_key(request))
        except DomainError as exc:
            details = exc.details if isinstance(exc.details, dict) else {}
            placed = False
            for key, problem in details.items():
                name = FIELD_FOR_DETAIL.get(key, f"cf_{key}")
                if name in form.fields:
                    form.add_error(name, problem if problem != "required" else _("This field is required."))
                    placed = True
            if not placed:
                form.add_error(None, exc.message)
        else:
            return redirect("portal:request_submitted", number=ticket.number)
    elif request.method == "POST" and request.user.is_staff_member:
        form.add_error(None, _("Agents create tickets in the console, not in the customer portal."))
    return render(request, "portal/request_new.html", {
        "form": form, "ticket_form": ticket_form, "forms_offered": forms_offered,
    })


@portal_login_required
def request_submitted(request, number: int):
    try:
        ticket = access_ticket(user=request.user, number=number)
    except NotFound:
        raise Http404
    return render(request, "portal/request_submitted.html",
                  {"ticket": ticket, "expected_reply": selectors.expected_reply(ticket)})
