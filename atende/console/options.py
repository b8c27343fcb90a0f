"""What the ticket page's side panel offers: the teams, agents and active categories, and the active custom
fields. The same for every agent and every ticket, and changed rarely, so each process keeps one copy
(``atende.core.generations``), read again in every process after a service that writes those rows commits (it
bumps ``AGENTS_AND_TEAMS`` or ``CATEGORIES_AND_FIELDS``). Labels only: which agent may change what is checked on
every request, and a submitted value is still validated against the database."""

from __future__ import annotations

from dataclasses import dataclass

from atende.accounts.selectors import AGENTS_AND_TEAMS, agent_list, team_list
from atende.core import generations
from atende.tickets.models import Category, CustomField
from atende.tickets.selectors import CATEGORIES_AND_FIELDS


@dataclass(frozen=True)
class TicketOptions:
    teams: tuple[tuple[int, str], ...]
    agents: tuple[tuple[int, str], ...]
    bulk_agents: tuple[tuple[int, str], ...]  # labelled as the list pages' bulk bar labels them (name or email)
    categories: tuple[tuple[int, str], ...]  # active ones, labelled with their parents ("Parent › Child")
    custom_fields: tuple[CustomField, ...]  # active ones; shared by every request: read, never change


def ticket_options() -> TicketOptions:
    return generations.kept((AGENTS_AND_TEAMS, CATEGORIES_AND_FIELDS), _read)


def _read() -> TicketOptions:
    rows = list(agent_list().values_list("pk", "name", "email", "phone"))
    agents = tuple((pk, name or email or phone or f"#{pk}") for pk, name, email, phone in rows)
    bulk_agents = tuple((pk, name or email) for pk, name, email, _phone in rows)
    categories = list(Category.objects.values_list("pk", "name", "parent_id", "is_active"))
    by_pk = {pk: (name, parent) for pk, name, parent, _active in categories}

    def label(pk: int) -> str:
        name, parent = by_pk[pk]
        return f"{label(parent)} › {name}" if parent in by_pk else name

    return TicketOptions(teams=tuple(team_list().values_list("pk", "name")), agents=agents, bulk_agents=bulk_agents,
                         categories=tuple((pk, label(pk)) for pk, _name, _parent, active in categories if active),
                         custom_fields=tuple(CustomField.objects.filter(is_active=True)))
