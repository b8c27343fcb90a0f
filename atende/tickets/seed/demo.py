"""The demo data ``make run`` loads once: people, teams, and 500 tickets with real histories (through services)."""

from __future__ import annotations

import datetime
import random

from django.contrib.auth.hashers import get_hasher, make_password
from django.db import transaction
from django.utils import timezone

from atende.accounts.choices import Availability, Role
from atende.accounts.models import Organization, Team, User
from atende.accounts.services import organization_create, team_create, user_create
from atende.core import generations
from atende.core.actor import Actor
from atende.core.events import events_suppressed
from atende.core.memo import batch_scope
from atende.tickets.choices import Channel, FieldKind, Level, TicketStatus, TicketType
from atende.tickets.models import Category, CustomField, Ticket, TicketForm, TicketFormField
from atende.tickets.seed import corpus
from atende.tickets.selectors import CATEGORIES_AND_FIELDS
from atende.tickets.services import (
    message_add_note,
    message_add_reply,
    ticket_assign,
    ticket_create,
    ticket_link,
    ticket_transition,
)

DEMO_LOGINS = [
    ("admin", "admin@atende.test", "atende-admin"),
    ("agent", "agent@atende.test", "atende-agent"),
    ("customer", "customer@atende.test", "atende-customer"),
]

ORGS = [("Acme Corp", ["acme.example"], True), ("Padaria Pão Quente", ["paoquente.com.br"], False),
        ("Globex Brasil", ["globex.com.br", "globex.example"], True)]
TEAMS = [("Technical Support", "technical-support"), ("Billing", "billing"), ("Product", "product")]
CATEGORIES = {
    "technical": ("Technical", ["Login & access", "Performance", "Integrations"], "technical-support"),
    "billing": ("Billing", ["Invoices", "Payments & refunds"], "billing"),
    "product": ("Product", ["Feature requests", "How-to"], "product"),
}


def demo_exists() -> bool:
    return User.objects.filter(email="admin@atende.test").exists()


def _configuration(rng: random.Random) -> tuple[list[Organization], dict[str, Team], dict[str, list[Category]]]:
    orgs = [organization_create(name=n, domains=d, shares_tickets=s) for n, d, s in ORGS]
    teams = {slug: team_create(name=name, slug=slug, email=f"{slug}@atende.test") for name, slug in TEAMS}
    categories: dict[str, list[Category]] = {}
    for key, (name, children, team_slug) in CATEGORIES.items():
        parent = Category.objects.create(name=name, default_team=teams[team_slug])
        categories[key] = [Category.objects.create(name=c, parent=parent, default_team=teams[team_slug])
                           for c in children]
    plan = CustomField.objects.create(key="plan", label="Plan", label_pt_br="Plano", kind=FieldKind.DROPDOWN,
                                      choices=["free", "pro", "enterprise"], position=1,
                                      choice_labels={"free": "Free", "pro": "Pro", "enterprise": "Enterprise"},
                                      choice_labels_pt_br={"free": "Gratuito", "pro": "Pro",
                                                           "enterprise": "Empresarial"})
    order = CustomField.objects.create(key="order_number", label="Order number", label_pt_br="Número do pedido",
                                       kind=FieldKind.TEXT, position=2)
    general = TicketForm.objects.create(name="General request", name_pt_br="Solicitação geral", is_default=True)
    TicketFormField.objects.create(form=general, field=plan, required=False, position=1)
    billing = TicketForm.objects.create(name="Billing question", name_pt_br="Dúvida de cobrança",
                                        category=categories["billing"][0], team=teams["billing"], position=1)
    TicketFormField.objects.create(form=billing, field=order, required=True, position=1)
    TicketFormField.objects.create(form=billing, field=plan, required=False, position=2)
    generations.bump(CATEGORIES_AND_FIELDS)
    return orgs, teams, categories


# The demo passwords are published (README, the command's output), so their hashes can be constants: hashing
# them is slow on purpose (about a third of a second each) and was a tenth of the demo's set-up. Used only when
# the default hasher is the one that made them; Django re-hashes a stored password at log-in when its hasher's
# settings (iterations) change.
DEMO_PASSWORD_HASHES = {
    "atende-admin": "pbkdf2_sha256$1000000$atendedemoadmin$NUqApyNgeWvhtTOK+GeDbPgqa5tsv+9dM4XWSI/LT/g=",
    "atende-agent": "pbkdf2_sha256$1000000$atendedemoagent$VHFMkq5bMU5XNoqtoHA8BCK8FRiLUUPKPUjRXbuDrn8=",
    "atende-customer": "pbkdf2_sha256$1000000$atendedemocustomer$vo2n6d+9/ek0yf2FMiKc2wQhRT6rIHv7cZxGpITJEFU=",
}


class _DemoLogins:
    """``user_create`` for the demo logins, hashing each demo password at most once (ten of the eleven logins
    share three passwords), and not at all when its hash above fits the default hasher."""

    def __init__(self):
        default = get_hasher().algorithm
        self.hashes: dict[str, str] = {password: encoded for password, encoded in DEMO_PASSWORD_HASHES.items()
                                       if encoded.split("$", 1)[0] == default}

    def __call__(self, *, password: str | None = None, **fields) -> User:
        user = user_create(**fields)
        if password:
            if password not in self.hashes:
                self.hashes[password] = make_password(password)
            user.password = self.hashes[password]
            user.save(update_fields=["password"])
        return user


def _people(rng: random.Random, orgs, teams) -> tuple[list[User], list[User]]:
    create = _DemoLogins()
    create(email="admin@atende.test", password="atende-admin", name="Alice Admin", role=Role.ADMIN,
                is_superuser=True, email_verified=True, locale="en")
    agents = [create(email="agent@atende.test", password="atende-agent", name="Rafael Agente", role=Role.AGENT,
                          email_verified=True, availability=Availability.ONLINE, capacity=30, skills=["pt-br", "api"])]
    for i in range(1, 8):
        agents.append(create(email=f"agent{i}@atende.test", password="atende-agent",
                                  name=corpus.person_name(rng), role=Role.AGENT, email_verified=True, capacity=25,
                                  availability=rng.choice(list(Availability.values)),
                                  skills=rng.sample(["en", "pt-br", "billing", "api", "mobile"], 2)))
    team_list = list(teams.values())
    for i, agent in enumerate(agents):
        agent.teams.add(team_list[i % 3])
        if i % 2 == 0:
            agent.teams.add(team_list[(i + 1) % 3])
    create(email="collaborator@atende.test", password="atende-agent", name="Carlos Colaborador",
                role=Role.COLLABORATOR, email_verified=True).teams.add(teams["product"])
    customers = [create(email="customer@atende.test", password="atende-customer", name="Camila Cliente",
                             role=Role.CUSTOMER, organization=orgs[0], email_verified=True, locale="pt-br")]
    domains = ["acme.example", "paoquente.com.br", "globex.com.br", "gmail.com", "outlook.com", "uol.com.br"]
    seen = {"customer@atende.test"}
    while len(customers) < 200:
        name = corpus.person_name(rng)
        email = f"{name.lower().replace(' ', '.')}{rng.randint(1, 99)}@{rng.choice(domains)}"
        email = email.encode("ascii", "ignore").decode()
        if email in seen:
            continue
        seen.add(email)
        customers.append(create(email=email, name=name, role=Role.CUSTOMER, locale=rng.choice(["en", "pt-br"])))
    return agents, customers


def load_demo(*, tickets: int = 500, seed: int = 7) -> dict[str, int]:
    """Create the demo help desk. Runs once: returns {} when the demo admin already exists.

    Events are recorded but not delivered (no notifications to demo customers); the search index and other
    derived data are rebuilt by each app's ``demo.load_demo`` hook afterwards."""
    if demo_exists():
        return {}
    with events_suppressed(), transaction.atomic():
        return _load(tickets=tickets, seed=seed)


def _load(*, tickets: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    orgs, teams, categories = _configuration(rng)
    agents, customers = _people(rng, orgs, teams)
    now = timezone.now()
    statuses = [TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ON_HOLD,
                TicketStatus.SOLVED, TicketStatus.CLOSED]
    weights = [12, 30, 14, 6, 18, 20]
    channels = list(Channel.values)
    created = []
    agent_teams = {agent.pk: set(agent.teams.values_list("pk", flat=True)) for agent in agents}  # read once
    org_names = {org.pk: org.name for org in orgs}
    with batch_scope():  # the settings and fields written above are read once, not per service call
        for i in range(tickets):
            customer = customers[0] if i % 25 == 0 else rng.choice(customers)
            key = rng.choice(list(categories))
            category = rng.choice(categories[key])
            lang, subject, body = corpus.ticket_text(rng, key, org_names.get(customer.organization_id, ""))
            start = now - datetime.timedelta(days=rng.uniform(0, 90), minutes=rng.randint(0, 600))
            team = category.default_team
            members = [a for a in agents if category.default_team_id in agent_teams[a.pk]] or agents
            assignee = rng.choice(members) if rng.random() < 0.75 else None
            ticket = ticket_create(
                actor=Actor.for_user(customer) if rng.random() < 0.7 else Actor.system(), requester=customer,
                subject=subject, body_text=body, channel=rng.choice(channels), category=category,
                type=rng.choice(list(TicketType.values)), urgency=rng.choice(list(Level.values)),
                impact=rng.choice(list(Level.values)), tags=rng.sample(corpus.TAGS, rng.randint(0, 3)),
                custom_fields={"plan": rng.choice(["free", "pro", "enterprise"])}, language="pt-br" if lang == "pt" else "en",
                created_at=start,
            )
            if assignee:
                ticket = ticket_assign(ticket=ticket, actor=Actor.system(), team=team, assignee=assignee,
                                       now=start + datetime.timedelta(minutes=rng.randint(1, 30)))
            target = rng.choices(statuses, weights)[0]
            _play_history(rng, ticket, target, assignee or rng.choice(members), customer, lang, start)
            created.append(ticket)
    # read the statuses back: the objects in ``created`` still hold the values they were created with
    unsolved = Ticket.objects.filter(pk__in=[t.pk for t in created]).unsolved().order_by("pk")
    problems = list(unsolved.filter(type=TicketType.PROBLEM)[:3])
    incidents = list(unsolved.filter(type=TicketType.INCIDENT))
    for problem, incident in zip(problems, incidents, strict=False):
        ticket_link(source=problem, target=incident, kind="problem", actor=Actor.for_user(agents[0]))
    return {"organizations": len(orgs), "teams": len(teams), "agents": len(agents), "customers": len(customers),
            "tickets": len(created)}


def _play_history(rng, ticket, target, agent, customer, lang, start) -> None:
    """Drive a ticket to ``target`` through the real services, with plausible timing."""
    if target == TicketStatus.NEW:
        return
    agent_actor, customer_actor = Actor.for_user(agent), Actor.for_user(customer)
    at = start + datetime.timedelta(minutes=rng.randint(5, 600))
    if rng.random() < 0.4:
        message_add_note(ticket=ticket, actor=agent_actor, body_text=rng.choice(corpus.NOTES[lang]), created_at=at)
    for _ in range(rng.randint(0, 2)):
        message_add_reply(ticket=ticket, actor=agent_actor, body_text=rng.choice(corpus.AGENT_REPLIES[lang]),
                          created_at=at)
        at += datetime.timedelta(minutes=rng.randint(30, 3000))
        message_add_reply(ticket=ticket, actor=customer_actor, body_text=rng.choice(corpus.CUSTOMER_REPLIES[lang]),
                          created_at=at)
        at += datetime.timedelta(minutes=rng.randint(10, 600))
    last_status = {TicketStatus.OPEN: TicketStatus.OPEN, TicketStatus.PENDING: TicketStatus.PENDING,
                   TicketStatus.ON_HOLD: TicketStatus.ON_HOLD}.get(target, TicketStatus.SOLVED)
    message_add_reply(ticket=ticket, actor=agent_actor, body_text=rng.choice(corpus.AGENT_REPLIES[lang]),
                      set_status=last_status if last_status != TicketStatus.SOLVED else None, created_at=at)
    if target in (TicketStatus.SOLVED, TicketStatus.CLOSED):
        ticket_transition(ticket=ticket, to=TicketStatus.SOLVED, actor=agent_actor,
                          resolution_summary="Fixed and confirmed with the customer.", now=at)
    if target == TicketStatus.CLOSED:
        ticket_transition(ticket=ticket, to=TicketStatus.CLOSED, actor=customer_actor, reason="customer_confirmed",
                          now=at + datetime.timedelta(hours=rng.randint(1, 90)))
