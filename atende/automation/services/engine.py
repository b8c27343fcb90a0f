"""Running rules on ticket events: routing on creation, then the team's assignment strategy, then triggers in
order; SLA policy warning/breach actions. Every rule acts as ``Actor.automation(source_event_id=<event>)``.

Loop protection: each event carries the id of the event that caused it, so the chain of causes can be walked.
A trigger never fires for an event whose chain of causes already contains one of its own runs, and no rule
runs once the chain is ``MAX_CHAIN`` long. The (rule, event) unique key makes every rule fire at most once per
event, even if the task is delivered twice."""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction

from atende.automation.choices import RunStatus, trigger_events_for
from atende.automation.models import RoutingRule, RuleRun, Trigger
from atende.automation.rules.actions import actions_apply
from atende.automation.services.assignment import ticket_auto_assign
from atende.core.actor import Actor
from atende.core.exceptions import DomainError
from atende.core.memo import batch_cached
from atende.rules.conditions import matches
from atende.rules.context import RuleContext
from atende.sla.selectors import policy_by_id
from atende.tickets.choices import TicketEventType
from atende.tickets.models import Ticket, TicketEvent

logger = logging.getLogger(__name__)

MAX_CHAIN = 8


def causal_chain(payload: dict[str, Any]) -> list[int]:
    """Ids of the events that (transitively) caused this one, nearest first."""
    chain: list[int] = []
    source = payload.get("source_event_id")
    while source and len(chain) <= MAX_CHAIN and source not in chain:
        chain.append(source)
        source = TicketEvent.objects.filter(pk=source).values_list("source_event_id", flat=True).first()
    return chain


def _ticket(ticket_id: int) -> Ticket | None:
    return Ticket.objects.select_related("requester", "team", "assignee", "organization").filter(pk=ticket_id).first()


def _run_once(*, kind: str, rule_id: int, payload: dict[str, Any], ticket: Ticket, actions: list[dict],
              origin: dict[str, Any]) -> str:
    """Record the run and apply the actions atomically; a failure is recorded (and never raised to the caller)."""
    event_id = payload["event_id"]
    actor = Actor.automation(source_event_id=event_id)
    try:
        with transaction.atomic():
            RuleRun.objects.create(kind=kind, rule_id=rule_id, event_id=event_id, ticket=ticket)
            actions_apply(ticket=ticket, actions=actions, actor=actor, origin=origin)
    except IntegrityError:
        return RunStatus.SKIPPED  # this rule already handled this event (task delivered twice)
    except DomainError as exc:
        logger.info("%s %s failed on ticket %s: %s", kind, rule_id, ticket.pk, exc)
        RuleRun.objects.get_or_create(kind=kind, rule_id=rule_id, event_id=event_id,
                                      defaults={"ticket": ticket, "status": RunStatus.FAILED, "detail": str(exc)})
        return RunStatus.FAILED
    return RunStatus.APPLIED


def routing_apply(payload: dict[str, Any]) -> list[int]:
    """On TICKET_CREATED: apply matching routing rules in order, then assign by the team's strategy."""
    ticket = _ticket(payload["ticket_id"])
    if ticket is None or ticket.is_closed:
        return []
    applied = []
    for rule in batch_cached("automation.routing_rules", lambda: list(
            RoutingRule.objects.filter(is_active=True).order_by("position", "id"))):
        if not matches(rule.conditions, RuleContext(ticket, payload)):
            continue
        status = _run_once(kind="routing", rule_id=rule.pk, payload=payload, ticket=ticket, actions=rule.actions,
                           origin={"kind": "routing", "id": rule.pk, "name": rule.name})
        if status == RunStatus.APPLIED:
            applied.append(rule.pk)
        ticket = _ticket(ticket.pk)
        if rule.stop:
            break
    if ticket.team_id and not ticket.assignee_id:
        try:
            with transaction.atomic():
                RuleRun.objects.create(kind="assignment", rule_id=0, event_id=payload["event_id"], ticket=ticket)
                ticket_auto_assign(ticket=ticket, actor=Actor.automation(source_event_id=payload["event_id"]))
        except IntegrityError:
            pass
        except DomainError as exc:
            logger.info("auto-assignment failed on ticket %s: %s", ticket.pk, exc)
    return applied


def triggers_run(payload: dict[str, Any]) -> list[int]:
    """Run every active trigger listening to this event, in order. Returns the ids of those that applied."""
    names = trigger_events_for(payload)
    if not names:
        return []
    listening = [t for t in batch_cached("automation.triggers", lambda: list(
        Trigger.objects.filter(is_active=True).order_by("position", "id"))) if names & set(t.events)]
    if not listening:
        return []
    chain = causal_chain(payload)
    if len(chain) >= MAX_CHAIN:
        logger.warning("automation chain too long at event %s; stopping", payload.get("event_id"))
        return []
    fired_upstream = set(RuleRun.objects.filter(kind="trigger", event_id__in=chain).values_list("rule_id", flat=True)) \
        if chain else set()
    applied = []
    ticket = None
    for trigger in listening:
        if trigger.pk in fired_upstream:
            continue
        if ticket is None:  # read again after a trigger applied: it may have changed the ticket
            ticket = _ticket(payload["ticket_id"])
        if ticket is None or ticket.is_closed:
            break
        if not matches(trigger.conditions, RuleContext(ticket, payload)):
            continue
        status = _run_once(kind="trigger", rule_id=trigger.pk, payload=payload, ticket=ticket,
                           actions=trigger.actions, origin={"kind": "trigger", "id": trigger.pk, "name": trigger.name})
        if status == RunStatus.APPLIED:
            applied.append(trigger.pk)
        if status != RunStatus.SKIPPED:  # applied, or failed part-way: the ticket in hand may be stale
            ticket = None
    return applied


def sla_policy_actions_run(payload: dict[str, Any]) -> str | None:
    """SLA_WARNING / SLA_BREACHED: the policy's configured actions (notify, raise priority, reassign…)."""
    data = payload.get("data") or {}
    policy = policy_by_id(data.get("policy_id"))
    if policy is None:
        return None
    breached = payload["type"] == TicketEventType.SLA_BREACHED
    actions = policy.breach_actions if breached else policy.warning_actions
    ticket = _ticket(payload["ticket_id"])
    if not actions or ticket is None or ticket.is_closed:
        return None
    return _run_once(kind="sla_breach" if breached else "sla_warning", rule_id=policy.pk, payload=payload,
                     ticket=ticket, actions=actions,
                     origin={"kind": "sla", "id": policy.pk, "name": policy.name, "metric": data.get("metric")})
