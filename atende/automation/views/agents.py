"""Agent availability (the console header switch) and team assignment settings."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from atende.accounts.choices import Availability
from atende.accounts.decorators import admin_required, staff_required
from atende.accounts.models import Team
from atende.accounts.selectors import team_list
from atende.automation.forms import TeamAssignmentForm
from atende.automation.selectors import automation_counts, recent_rule_runs
from atende.automation.services.assignment import agent_set_availability, open_ticket_counts, team_set_assignment
from atende.automation.services.deliveries import SOURCE
from atende.core.actor import Actor
from atende.core.exceptions import DomainError
from atende.outbound.selectors import delivery_list


@staff_required
@require_POST
def availability_set(request):
    value = request.POST.get("availability", "")
    try:
        moved = agent_set_availability(agent=request.user, availability=value, actor=Actor.for_user(request.user))
    except DomainError as exc:
        if request.htmx:
            return render(request, "automation/_availability.html", {"error": str(exc)}, status=422)
        messages.error(request, str(exc))
        return redirect(request.POST.get("next") or "home")
    request.user.availability = value
    if request.htmx:
        return render(request, "automation/_availability.html", {"moved": moved})
    if moved:
        messages.info(request, _("%(n)s tickets were handed to your teammates.") % {"n": moved})
    return redirect(request.POST.get("next") or "home")


@admin_required
def team_assignment(request):
    teams = list(team_list().prefetch_related("members"))
    member_ids = sorted({m.pk for t in teams for m in t.members.all()})
    loads = open_ticket_counts(member_ids)
    rows = [(team, TeamAssignmentForm(prefix=f"t{team.pk}", initial={
        "strategy": team.assignment_strategy, "reassign_when_offline": team.reassign_when_offline}),
        [(m, loads.get(m.pk, 0)) for m in team.members.all() if m.is_agent]) for team in teams]
    return render(request, "automation/team_assignment.html", {"rows": rows, "availability": Availability})


@admin_required
@require_POST
def team_assignment_save(request, team_id: int):
    team = get_object_or_404(Team, pk=team_id)
    form = TeamAssignmentForm(request.POST, prefix=f"t{team.pk}")
    if not form.is_valid():
        raise Http404
    team_set_assignment(team=team, strategy=form.cleaned_data["strategy"],
                        reassign_when_offline=form.cleaned_data["reassign_when_offline"],
                        actor=Actor.for_user(request.user))
    messages.success(request, _("Saved assignment for %(team)s.") % {"team": team.name})
    return redirect("automation:teams")


@admin_required
def index(request):
    counts = automation_counts()
    recent_runs = recent_rule_runs()
    failed_deliveries = delivery_list(source=SOURCE).exclude(status="sent").order_by("-created_at")[:10]
    return render(request, "automation/index.html", {"counts": counts, "recent_runs": recent_runs,
                                                     "failed_deliveries": failed_deliveries})
