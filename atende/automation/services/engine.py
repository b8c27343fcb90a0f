"""Running rules on ticket events: routing on creation, then the team's assignment strategy, then triggers in
order; SLA policy warning/breach actions. Every rule acts as ``Actor.automation(source_event_id=<event>)``.

Loop protection: each event carries the id of the event that caused it, so the chain of causes can be walked.
A trigger never fires for an event whose chain of causes already contains one of its own runs, and no rule
runs once the chain is ``MAX_CHAIN`` long. The (rule, event) unique key makes every rule fire at most once per
event, even if the task is delivered twice."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, QuerySet, Subquery, prefetch_related_objects

from atende.automation.choices import RunStatus, trigger_events_for
from atende.automation.models import RoutingRule, RuleRun, Trigger
from atende.automation.rules.actions import actions_apply, actions_stage, actions_staged
from atende.automation.services.assignment import BatchAssigner, ticket_auto_assign
from atende.automation.services.deliveries import DELIVERY_ACTIONS, DeliveryAction, deliveries_queue, delivery_item
from atende.core import generations
from atende.core.actor import Actor
from atende.core.bulk_rows import instance_new, rows_insert
from atende.core.exceptions import DomainError
from atende.core.memo import batch_cached
from atende.core.prepared import padded, prepared_read, prepared_rows
from atende.rules.conditions import matches
from atende.rules.context import FIRST_MESSAGE_TEXT, RuleContext
from atende.sla.selectors import policy_by_id
from atende.tickets.choices import TicketEventType
from atende.tickets.models import Message, Ticket, TicketEvent
from atende.tickets.services import TicketChanges

logger = logging.getLogger(__name__)

MAX_CHAIN = 8


def causal_chain(payload: dict[str, Any]) -> list[int]:
    """Ids of the events that (transitively) caused this one, nearest first."""
    return CausalChains([payload]).chain(payload)


class CausalChains:
    """The chains of causes of a batch's events, read together when first needed: one query per step back for
    the whole batch (usually one or two), and one query for the triggers that already ran on any event of them."""

    def __init__(self, payloads: list[dict[str, Any]]):
        self._payloads = payloads
        self._source: dict[int, int | None] | None = None
        self._fired: dict[int, set[int]] | None = None
        self._ran: dict[int, set[int]] = {}  # runs recorded during this batch, not all written yet

    def _sources(self) -> dict[int, int | None]:
        if self._source is None:
            source: dict[int, int | None] = {}
            wanted = {p["source_event_id"] for p in self._payloads if p.get("source_event_id")}
            for _step in range(MAX_CHAIN + 1):
                if not wanted:
                    break
                found = dict(prepared_rows("automation.event_sources", _event_sources, padded(sorted(wanted))))
                source.update({pk: found.get(pk) for pk in wanted})
                wanted = {s for s in found.values() if s and s not in source}
            self._source = source
        return self._source

    def chain(self, payload: dict[str, Any]) -> list[int]:
        sources = self._sources()
        chain: list[int] = []
        source = payload.get("source_event_id")
        while source and len(chain) <= MAX_CHAIN and source not in chain:
            chain.append(source)
            source = sources.get(source)
        return chain

    def fired(self, chain: list[int]) -> set[int]:
        """Triggers that ran on any event of ``chain``."""
        if not chain:
            return set()
        if self._fired is None:
            ids = set(self._sources())
            self._fired = {}
            for rule_id, event_id in (prepared_rows("automation.fired", _triggers_fired, padded(sorted(ids)))
                                      if ids else ()):
                self._fired.setdefault(event_id, set()).add(rule_id)
        return set().union(*(self._fired.get(e, set()) | self._ran.get(e, set()) for e in chain))

    def ran(self, rule_id: int, event_id: int) -> None:
        """A trigger ran (or failed) on an event of this batch: a later event it caused skips it too."""
        self._ran.setdefault(event_id, set()).add(rule_id)


# The reads of every batch, their SQL compiled once per connection and number of ids (``core.prepared``; the ids
# padded with 0, which no event has).
def _event_sources(*ids: int) -> QuerySet:
    return TicketEvent.objects.filter(pk__in=ids).values_list("pk", "source_event_id")


def _triggers_fired(*event_ids: int) -> QuerySet:
    return RuleRun.objects.filter(kind="trigger", event_id__in=event_ids).values_list("rule_id", "event_id")


def _runs_done(*event_ids: int) -> QuerySet:
    return RuleRun.objects.filter(kind__in=("trigger", "routing", "assignment"), event_id__in=event_ids) \
        .values_list("kind", "rule_id", "event_id")


def _ticket(ticket_id: int) -> Ticket | None:
    return Ticket.objects.select_related("requester", "team", "assignee", "organization").filter(pk=ticket_id).first()


# The active rules are kept per process (``core.generations``) under their model's label, outdated by the services
# that write them (``definitions.rule_save``, ``rule_delete``, ``rules.services.rule_move``); their tokens are
# looked at once per batch. Shared copies: not to be changed.
ROUTING_RULES, TRIGGERS = RoutingRule._meta.label_lower, Trigger._meta.label_lower


def _routing_rules() -> tuple[RoutingRule, ...]:
    return batch_cached("automation.routing_rules", lambda: generations.kept(ROUTING_RULES, lambda: tuple(
        RoutingRule.objects.filter(is_active=True).order_by("position", "id"))))


def _triggers() -> tuple[Trigger, ...]:
    return batch_cached("automation.triggers", lambda: generations.kept(TRIGGERS, lambda: tuple(
        Trigger.objects.filter(is_active=True).order_by("position", "id"))))


def _condition_fields(rules: list) -> set[str]:
    return {c.get("field") for rule in rules for group in ("all", "any")
            for c in (rule.conditions or {}).get(group) or [] if isinstance(c, dict)}


def _batch_tickets(body: bool, *ids: int) -> QuerySet[Ticket]:
    qs = Ticket.objects.select_related("requester", "team", "assignee", "organization").filter(pk__in=ids)
    if body:
        qs = qs.annotate(**{FIRST_MESSAGE_TEXT: Subquery(Message.objects.filter(ticket=OuterRef("pk"))
                                                         .order_by("created_at", "id").values("body_text")[:1])})
    return qs


class BatchTickets:
    """The tickets of one batch of events, loaded up front with what the active rules read (requester, team,
    assignee, organization; tags, first message and the events' message texts when a rule looks at them): a few
    queries per batch instead of several per event. Triggers that change fields, tags, notes or the status apply
    to the copy in hand through ``staged`` (a ``TicketChanges`` written once at the end of the batch), so later
    rules and events see the change in memory. Once a rule wrote to a ticket on its own (routing, a reply,
    automatic assignment), the copy in hand is stale and the ticket is read again, so they see that too."""

    def __init__(self, payloads: list[dict[str, Any]]):
        fields = _condition_fields([*_routing_rules(), *_triggers()])
        ids = {p["ticket_id"] for p in payloads if p.get("ticket_id")}
        body = "body" in fields
        # The SQL compiled once per connection and shape (``core.prepared``): the same rows as the ORM's read.
        tickets = prepared_read(("automation.batch_tickets", body), partial(_batch_tickets, body),
                                padded(sorted(ids))) if ids else []
        if "tags" in fields:
            prefetch_related_objects(tickets, "tags")
        self._tickets: dict[int, Ticket] = {t.pk: t for t in tickets}
        self._messages: dict[int, str] = {}
        message_ids = {(p.get("data") or {}).get("message_id") for p in payloads} - {None}
        if "message" in fields and message_ids:
            self._messages = dict(Message.objects.filter(pk__in=message_ids).values_list("pk", "body_text"))
        self._stale: set[int] = set()
        self.staged = TicketChanges(tickets=self._tickets.values())
        self.assigner = BatchAssigner()
        self.chains = CausalChains(payloads)
        self.field_defs: dict = batch_cached("automation.field_defs", dict)

    def get(self, ticket_id: int) -> Ticket | None:
        if ticket_id in self._stale:
            self._stale.discard(ticket_id)
            self._tickets[ticket_id] = _ticket(ticket_id)
        return self._tickets.get(ticket_id)

    def current(self) -> list[Ticket]:
        """Every ticket of the batch as it is now (those a rule wrote to read again)."""
        return [t for t in (self.get(pk) for pk in list(self._tickets)) if t is not None]

    def written(self, ticket_id: int) -> None:
        self._stale.add(ticket_id)
        self.staged.forget(ticket_id)

    def before_write(self, ticket_id: int) -> None:
        """A rule is about to write to the ticket on its own: what is staged for it goes to the database first;
        everything staged, once assignments were planned in memory (that write may assign, or count loads)."""
        ticket = self._tickets.get(ticket_id)
        if self.assigner:
            self.staged.save()
            self.assigner.clear()
        elif ticket is not None and self.staged.pending(ticket):
            self.staged.save()

    def context(self, ticket: Ticket, payload: dict[str, Any]) -> RuleContext:
        ctx = RuleContext(ticket, payload)
        text = self._messages.get((payload.get("data") or {}).get("message_id"))
        if text is not None:
            ctx.__dict__["message_text"] = text  # the event's message, read with the batch (a cached_property)
        tags = self.staged.known_tags(ticket)
        if tags is not None:
            ctx.__dict__["tags"] = set(tags)  # as staged changes left them
        return ctx


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


def _new_run(kind: str, rule_id: int, event_id: int, ticket: Ticket, *, status: str = RunStatus.APPLIED,
             detail: str = "") -> RuleRun:
    """A run to be written with the batch's."""
    return instance_new(RuleRun, kind=kind, rule_id=rule_id, event_id=event_id, ticket_id=ticket.pk, status=status,
                        detail=detail)


class DeferredDeliveries:
    """Triggers whose actions only send (mail, webhook) change nothing that a later rule or event reads, so over a
    batch of events their runs are collected and written at the end, set-wise: one read of the runs that exist,
    one insert of runs, one ``mails_queue`` and one ``deliveries_enqueue`` for the whole batch, instead of a
    transaction through ``actions_apply`` per ticket. Each delivery is keyed by (event, trigger, action), and
    each run by the (rule, event) unique key, so a batch handed over again queues nothing twice."""

    def __init__(self) -> None:
        self._done: set[tuple[int, int]] | None = None
        self._event_ids: set[int] = set()
        self._runs: list[tuple[RuleRun, list]] = []
        self._staged = False

    @staticmethod
    def handles(trigger: Trigger) -> bool:
        return bool(trigger.actions) and all(a.get("type") in DELIVERY_ACTIONS for a in trigger.actions)

    def watch(self, payloads: list[dict[str, Any]]) -> None:
        self._event_ids.update(p["event_id"] for p in payloads)

    def add(self, *, trigger: Trigger, payload: dict[str, Any], ticket: Ticket) -> str:
        event_id = payload["event_id"]
        if self._seen("trigger", trigger.pk, event_id):
            return RunStatus.SKIPPED
        origin = {"kind": "trigger", "id": trigger.pk, "name": trigger.name}
        try:
            items = [built for n, action in enumerate(trigger.actions) if (built := delivery_item(DeliveryAction(
                ticket=ticket, action=action, origin=origin, key=f"{event_id}:trigger:{trigger.pk}:{n}")))]
        except DomainError as exc:
            logger.info("trigger %s failed on ticket %s: %s", trigger.pk, ticket.pk, exc)
            self._runs.append((_new_run("trigger", trigger.pk, event_id, ticket, status=RunStatus.FAILED,
                                        detail=str(exc)), []))
            return RunStatus.FAILED
        self._runs.append((_new_run("trigger", trigger.pk, event_id, ticket), items))
        return RunStatus.APPLIED

    def stage(self, *, trigger: Trigger | RoutingRule, payload: dict[str, Any], ticket: Ticket,
              staged: TicketChanges, kind: str = "trigger") -> str:
        """A trigger (or routing rule) whose actions change the ticket (fields, tags, notes, status) and maybe
        send: applied to the ticket in memory through ``staged``, its run and deliveries written with the batch's."""
        event_id = payload["event_id"]
        if self._seen(kind, trigger.pk, event_id):
            return RunStatus.SKIPPED
        origin = {"kind": kind, "id": trigger.pk, "name": trigger.name}
        try:
            items = actions_stage(staged=staged, ticket=ticket, actions=trigger.actions,
                                  actor=Actor.automation(source_event_id=event_id), origin=origin)
        except DomainError as exc:
            logger.info("%s %s failed on ticket %s: %s", kind, trigger.pk, ticket.pk, exc)
            self._runs.append((_new_run(kind, trigger.pk, event_id, ticket, status=RunStatus.FAILED,
                                        detail=str(exc)), []))
            return RunStatus.FAILED
        self._staged = True
        self._runs.append((_new_run(kind, trigger.pk, event_id, ticket), items))
        return RunStatus.APPLIED

    def assign(self, *, payload: dict[str, Any], ticket: Ticket, tickets: BatchTickets) -> None:
        """The team's automatic assignment of a new ticket, planned in memory by ``tickets.assigner`` (which sees
        the batch's earlier assignments) and applied through ``tickets.staged``; its run written with the batch's."""
        event_id = payload["event_id"]
        if self._seen("assignment", 0, event_id):
            return
        staged = tickets.staged
        try:
            with staged.atomic(ticket):
                skills = set(staged.tags_of(ticket)) if ticket.team.assignment_strategy == "skills" else set()
                tickets.assigner.assign(ticket, staged=staged, actor=Actor.automation(source_event_id=event_id),
                                        skills=skills)
        except DomainError as exc:  # nothing recorded, as when ``ticket_auto_assign`` raises
            logger.info("auto-assignment failed on ticket %s: %s", ticket.pk, exc)
            self._done.discard(("assignment", 0, event_id))
            return
        self._staged = True
        self._runs.append((_new_run("assignment", 0, event_id, ticket), []))

    def _seen(self, kind: str, rule_id: int, event_id: int) -> bool:
        if self._done is None:  # read once, when the batch first needs it
            self._done = set(prepared_rows("automation.done", _runs_done,
                                           padded(sorted(self._event_ids | {event_id}))))
        if (kind, rule_id, event_id) in self._done:
            return True
        self._done.add((kind, rule_id, event_id))
        return False

    def flush(self, staged: TicketChanges | None = None, assigner: BatchAssigner | None = None) -> None:
        """Write the runs, the staged ticket changes and the deliveries: one INSERT of runs, the changes'
        grouped writes, one ``mails_queue`` and one ``deliveries_enqueue``."""
        runs, self._runs = self._runs, []
        if not runs and not staged:
            return
        try:
            with transaction.atomic():
                rows_insert(RuleRun, [run for run, _items in runs], ids=False)
                if staged is not None:
                    staged.save()
                if assigner is not None:
                    assigner.save()
                deliveries_queue([item for _run, items in runs for item in items])
        except IntegrityError:  # a run recorded meanwhile by someone else: one at a time, skipping those
            if self._staged:
                raise  # changes were applied in memory for it: the dispatcher runs the batch again event by event
            for run, items in runs:
                try:
                    with transaction.atomic():
                        run.save()
                        deliveries_queue(items)
                except IntegrityError:
                    pass


def routing_apply(payload: dict[str, Any], *, tickets: BatchTickets | None = None,
                  deferred: DeferredDeliveries | None = None) -> list[int]:
    """On TICKET_CREATED: apply matching routing rules in order, then assign by the team's strategy. With
    ``deferred``, rules whose actions can be staged and the assignment apply in memory through ``tickets.staged``
    and ``tickets.assigner``, their runs written when the caller flushes ``deferred``."""
    tickets = tickets or BatchTickets([payload])
    ticket_id = payload["ticket_id"]
    ticket = tickets.get(ticket_id)
    if ticket is None or ticket.is_closed:
        return []
    applied = []
    ctx = tickets.context(ticket, payload)
    for rule in _routing_rules():
        if not matches(rule.conditions, ctx, field_defs=tickets.field_defs):
            continue
        if deferred is not None and actions_staged(rule.actions):
            status = deferred.stage(trigger=rule, payload=payload, ticket=ticket, staged=tickets.staged,
                                    kind="routing")
        else:
            tickets.before_write(ticket_id)
            status = _run_once(kind="routing", rule_id=rule.pk, payload=payload, ticket=ticket,
                               actions=rule.actions, origin={"kind": "routing", "id": rule.pk, "name": rule.name})
            tickets.written(ticket_id)
            ticket = tickets.get(ticket_id)
        if status == RunStatus.APPLIED:
            applied.append(rule.pk)
        ctx = tickets.context(ticket, payload)
        if rule.stop:
            break
    if ticket.team_id and not ticket.assignee_id and deferred is not None:
        deferred.assign(payload=payload, ticket=ticket, tickets=tickets)
    elif ticket.team_id and not ticket.assignee_id:
        tickets.before_write(ticket_id)
        tickets.written(ticket_id)
        try:
            with transaction.atomic():
                RuleRun.objects.create(kind="assignment", rule_id=0, event_id=payload["event_id"], ticket=ticket)
                ticket_auto_assign(ticket=ticket, actor=Actor.automation(source_event_id=payload["event_id"]))
        except IntegrityError:
            pass
        except DomainError as exc:
            logger.info("auto-assignment failed on ticket %s: %s", ticket.pk, exc)
    return applied


def triggers_run(payload: dict[str, Any], *, tickets: BatchTickets | None = None,
                 deferred: DeferredDeliveries | None = None) -> list[int]:
    """Run every active trigger listening to this event, in order. Returns the ids of those that applied. With
    ``deferred``, triggers that only send are collected there (the caller flushes it) instead of applied now."""
    names = trigger_events_for(payload)
    if not names:
        return []
    listening = [t for t in _triggers() if names & set(t.events)]
    if not listening:
        return []
    tickets = tickets or BatchTickets([payload])
    chain = tickets.chains.chain(payload)
    if len(chain) >= MAX_CHAIN:
        logger.warning("automation chain too long at event %s; stopping", payload.get("event_id"))
        return []
    fired_upstream = tickets.chains.fired(chain)
    ticket_id = payload["ticket_id"]
    applied = []
    ticket = ctx = None
    event_id = payload["event_id"]
    for trigger in listening:
        if trigger.pk in fired_upstream:
            continue
        if ticket is None:  # read again after a trigger applied: it may have changed the ticket
            ticket = tickets.get(ticket_id)
            ctx = tickets.context(ticket, payload) if ticket is not None else None
        if ticket is None or ticket.is_closed:
            break
        if not matches(trigger.conditions, ctx, field_defs=tickets.field_defs):
            continue
        if deferred is not None and deferred.handles(trigger):
            status = deferred.add(trigger=trigger, payload=payload, ticket=ticket)
        elif deferred is not None and actions_staged(trigger.actions):
            status = deferred.stage(trigger=trigger, payload=payload, ticket=ticket, staged=tickets.staged)
            if status == RunStatus.APPLIED:
                ctx = tickets.context(ticket, payload)  # the ticket in hand changed
        else:
            tickets.before_write(ticket_id)
            status = _run_once(kind="trigger", rule_id=trigger.pk, payload=payload, ticket=ticket,
                               actions=trigger.actions,
                               origin={"kind": "trigger", "id": trigger.pk, "name": trigger.name})
            if status != RunStatus.SKIPPED:  # applied, or failed part-way: the ticket in hand may be stale
                tickets.written(ticket_id)
                ticket = None
        tickets.chains.ran(trigger.pk, event_id)
        if status == RunStatus.APPLIED:
            applied.append(trigger.pk)
    return applied


def sla_policy_actions_run(payload: dict[str, Any], *, tickets: BatchTickets | None = None) -> str | None:
    """SLA_WARNING / SLA_BREACHED: the policy's configured actions (notify, raise priority, reassign…)."""
    data = payload.get("data") or {}
    policy = policy_by_id(data.get("policy_id"))
    if policy is None:
        return None
    breached = payload["type"] == TicketEventType.SLA_BREACHED
    actions = policy.breach_actions if breached else policy.warning_actions
    if not actions:
        return None
    tickets = tickets or BatchTickets([payload])
    ticket = tickets.get(payload["ticket_id"])
    if ticket is None or ticket.is_closed:
        return None
    tickets.before_write(ticket.pk)
    tickets.written(ticket.pk)
    return _run_once(kind="sla_breach" if breached else "sla_warning", rule_id=policy.pk, payload=payload,
                     ticket=ticket, actions=actions,
                     origin={"kind": "sla", "id": policy.pk, "name": policy.name, "metric": data.get("metric")})
