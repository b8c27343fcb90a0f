"""Reads for the automation pages: visible macros and canned replies, rule lists."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from atende.automation.models import CannedReply, Macro, RoutingRule, RuleRun, TimeRule, Trigger
from atende.core import generations
from atende.core.exceptions import NotFound

# The name under which processes keep copies of the active macros for the ticket page's menu (core.generations):
# the services that write macros (``macro_save``, ``macro_delete``, ``macro_move``) bump it.
MACROS = "automation.macros"


def macro_list_for_user(*, user) -> QuerySet[Macro]:
    if not user.is_authenticated or not user.is_agent:
        return Macro.objects.none()
    return Macro.objects.filter(Q(owner__isnull=True) | Q(owner=user), is_active=True).order_by("position", "name")


def macro_menu_for_user(*, user) -> list[Macro]:
    """``macro_list_for_user``'s macros, in its order, with what the ticket page's menu shows of them (id, name,
    owner, reply text): chosen per request from the process's copy of the active macros. Shared by every request:
    read them, never change them."""
    if not user.is_authenticated or not user.is_agent:
        return []
    active = generations.kept(MACROS, lambda: tuple(
        Macro.objects.filter(is_active=True).order_by("position", "name").only("id", "name", "owner_id",
                                                                               "reply_text")))
    return [macro for macro in active if macro.owner_id is None or macro.owner_id == user.pk]


def access_macro(*, user, macro_id: int) -> Macro:
    macro = macro_list_for_user(user=user).filter(pk=macro_id).first()
    if macro is None:
        raise NotFound("Macro not found.")
    return macro


def canned_reply_list_for_user(*, user, query: str = "", language: str = "") -> QuerySet[CannedReply]:
    if not user.is_authenticated or not user.is_staff_member:
        return CannedReply.objects.none()
    qs = CannedReply.objects.filter(Q(owner__isnull=True) | Q(owner=user))
    for word in (query or "").split()[:5]:
        qs = qs.filter(Q(title__icontains=word) | Q(body__icontains=word))
    if language:
        qs = qs.filter(Q(language="") | Q(language=language))
    return qs.order_by("position", "title")


def access_canned_reply(*, user, canned_id: int) -> CannedReply:
    canned = canned_reply_list_for_user(user=user).filter(pk=canned_id).first()
    if canned is None:
        raise NotFound("Canned reply not found.")
    return canned


def rule_list(model) -> QuerySet:
    """Rules of one kind (routing rules, triggers, time rules) in the order they run."""
    return model.objects.order_by("position", "id")


def macro_list_for_settings(*, user) -> QuerySet[Macro]:
    """The macros settings page: every macro for an admin, else the ones the agent may apply."""
    return Macro.objects.order_by("position", "name") if user.is_admin else macro_list_for_user(user=user)


def automation_counts() -> dict[str, int]:
    """How many of each kind of rule and reply there are (the automation overview page)."""
    return {"routing": RoutingRule.objects.count(), "triggers": Trigger.objects.count(),
            "time_rules": TimeRule.objects.count(), "macros": Macro.objects.count(),
            "canned": CannedReply.objects.count()}


def recent_rule_runs(limit: int = 15) -> QuerySet[RuleRun]:
    return RuleRun.objects.order_by("-created_at")[:limit]
