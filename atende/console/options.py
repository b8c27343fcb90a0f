"""What the ticket page's side panel offers: the teams, agents and active categories, and the active custom
fields. The same for every agent and every ticket, and changed rarely, so each process keeps one copy
(``atende.core.generations``) and reads them again, in every process, after any of those rows is saved or
deleted (the receivers below; ``ConsoleConfig.ready`` connects them). Labels only: which agent may change what
is checked on every request, and a submitted value is still validated against the database."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models.signals import post_delete, post_save

from atende.accounts.choices import STAFF_ROLES
from atende.accounts.models import Team, User
from atende.accounts.selectors import agent_list, team_list
from atende.core import generations
from atende.tickets.models import Category, CustomField

NAME = "console.ticket-options"
# The user fields that decide whether an agent is listed, and under which label.
AGENT_FIELDS = frozenset({"role", "is_active", "name", "email", "phone"})


@dataclass(frozen=True)
class TicketOptions:
    teams: tuple[tuple[int, str], ...]
    agents: tuple[tuple[int, str], ...]
    categories: tuple[tuple[int, str], ...]  # active ones, labelled with their parents ("Parent › Child")
    custom_fields: tuple[CustomField, ...]  # active ones; shared by every request: read, never change


def ticket_options() -> TicketOptions:
    return generations.kept(NAME, _read)


def _read() -> TicketOptions:
    agents = tuple((pk, name or email or phone or f"#{pk}")
                   for pk, name, email, phone in agent_list().values_list("pk", "name", "email", "phone"))
    rows = list(Category.objects.values_list("pk", "name", "parent_id", "is_active"))
    by_pk = {pk: (name, parent) for pk, name, parent, _active in rows}

    def label(pk: int) -> str:
        name, parent = by_pk[pk]
        return f"{label(parent)} › {name}" if parent in by_pk else name

    return TicketOptions(teams=tuple(team_list().values_list("pk", "name")), agents=agents,
                         categories=tuple((pk, label(pk)) for pk, _name, _parent, active in rows if active),
                         custom_fields=tuple(CustomField.objects.filter(is_active=True)))


def options_changed(sender, **kwargs) -> None:
    generations.bump(NAME)


def user_changed(sender, instance: User, created: bool = False, update_fields=None, **kwargs) -> None:
    # A save of other fields only (the sign-in's last_login, preferences) or a new customer changes no list; any
    # other save may add, rename or remove an agent (a customer made agent, an agent made customer).
    if update_fields is not None and not AGENT_FIELDS & set(update_fields):
        return
    if created and instance.role not in STAFF_ROLES:
        return
    generations.bump(NAME)


def connect() -> None:
    for model in (Team, Category, CustomField):
        post_save.connect(options_changed, sender=model, dispatch_uid=f"ticket-options-{model.__name__}-save")
        post_delete.connect(options_changed, sender=model, dispatch_uid=f"ticket-options-{model.__name__}-delete")
    post_save.connect(user_changed, sender=User, dispatch_uid="ticket-options-user-save")
    post_delete.connect(user_changed, sender=User, dispatch_uid="ticket-options-user-delete")
