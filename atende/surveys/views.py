"""The survey page reached from the email link (no login needed) or from the portal's ticket page."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from atende.core.actor import Actor
from atende.core.exceptions import DomainError
from atende.surveys.forms import SurveyForm
from atende.surveys.selectors import access_ticket_by_survey_token, survey_for_ticket
from atende.surveys.services import survey_answer


def survey_rate(request, token: str):
    try:
        ticket = access_ticket_by_survey_token(token=token)
    except DomainError as exc:
        return render(request, "surveys/invalid.html", {"message": exc.message}, status=400)
    survey = survey_for_ticket(ticket=ticket)
    initial = {"rating": request.GET.get("rating") or (survey.rating if survey else ""),
               "comment": survey.comment if survey else ""}
    form = SurveyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        user = request.user
        # Holding the link proves access to the requester's mailbox; it acts as the requester.
        actor = Actor.for_user(user) if user.is_authenticated and user.pk == ticket.requester_id else \
            Actor(kind="customer", user=ticket.requester)
        try:
            survey = survey_answer(ticket=ticket, rating=form.cleaned_data["rating"],
                                   comment=form.cleaned_data["comment"], actor=actor)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            next_url = request.POST.get("next", "")
            if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()},
                                                            require_https=request.is_secure()):
                messages.success(request, _("Thank you for rating our support."))
                return redirect(next_url)
            return render(request, "surveys/thanks.html", {"ticket": ticket, "survey": survey, "token": token})
    return render(request, "surveys/rate.html", {"ticket": ticket, "survey": survey, "form": form, "token": token},
                  status=400 if form.errors else 200)
