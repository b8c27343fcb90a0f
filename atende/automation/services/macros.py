"""Applying a macro: its actions and its reply text, in one transaction, as the agent who clicked it."""

from __future__ import annotations

from django.db import transaction

from atende.automation.models import Macro
from atende.automation.rules.actions import actions_apply
from atende.core.actor import Actor
from atende.core.exceptions import PermissionDenied
from atende.tickets.models import Ticket


@transaction.atomic
def macro_apply(*, macro: Macro, ticket: Ticket, actor: Actor) -> Ticket:
    user = actor.user
    if user is None or not user.is_agent:
        raise PermissionDenied("Only agents apply macros.")
    if macro.owner_id is not None and macro.owner_id != user.pk:
        raise PermissionDenied("This is someone else's personal macro.")
    return actions_apply(ticket=ticket, actions=macro.actions, actor=actor,
                         origin={"kind": "macro", "id": macro.pk, "name": macro.name},
                         reply_text=macro.reply_text, reply_visibility=macro.reply_visibility)
