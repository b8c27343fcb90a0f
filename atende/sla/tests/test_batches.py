"""A batch of events is handled set-wise: policies, calendars and settings are read once per batch, the tickets and
their clocks once, the writes are one statement per table, and every ticket of the batch still gets its own
clocks."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.core.actor import Actor
from atende.core.memo import batch_scope
from atende.core.outbox.dispatch import PAYLOAD_FIELDS, payload_of
from atende.core.outbox.drain import drain
from atende.sla.business_time import parse_hhmm
from atende.sla.models import SlaClock
from atende.sla.services.definitions import calendar_save
from atende.sla.subscribers import sla_on_events
from atende.tickets.models import TicketEvent
from atende.tickets.tests.factories import make_ticket

pytestmark = pytest.mark.django_db

CONFIG_TABLES = ("sla_slapolicy", "sla_businesscalendar", "sla_businesshours", "tickets_ticketsettings",
                 "automation_trigger", "automation_routingrule", "email_channel_notificationtemplate",
                 "email_channel_emailsettings")


def config_reads(queries) -> dict[str, int]:
    return {table: sum(f'FROM "{table}"' in q["sql"] for q in queries) for table in CONFIG_TABLES}


def create_and_drain(count, customer, team, agent):
    drain(jobs=False)  # cursors in place, earlier events handled
    tickets = [make_ticket(requester=customer, actor=Actor.for_user(agent), team=team, priority="high")
               for _ in range(count)]
    with CaptureQueriesContext(connection) as ctx:
        drain(jobs=False)
    return tickets, config_reads(ctx.captured_queries)


def test_configuration_is_read_once_per_batch_whatever_its_size(settings, fast_policy, customer, team, agent):
    settings.ATENDE_EVENTS_DRAIN_ON_COMMIT = False
    settings.ATENDE_EVENTS_BATCH = 50
    calendar_save(name="Office", time_zone="UTC", hours=[(d, parse_hhmm("09:00"), parse_hhmm("17:00"))
                                                         for d in range(5)], teams=[team])
    create_and_drain(1, customer, team, agent)  # the process copies of unchanged rows, as a running worker has them
    _few, reads_for_two = create_and_drain(2, customer, team, agent)
    many, reads_for_twelve = create_and_drain(12, customer, team, agent)
    assert reads_for_twelve == reads_for_two
    assert reads_for_twelve["sla_slapolicy"] >= 1  # the reads did happen (once), the test measures something
    for ticket in many:
        ticket.refresh_from_db()
        assert ticket.sla_policy_id == fast_policy.pk and ticket.first_reply_due_at is not None


def sla_batch_queries(count, customer, team, agent) -> tuple[list, int]:
    """The SLA subscriber alone on the events of ``count`` new tickets, as the dispatcher hands them over."""
    tickets = [make_ticket(requester=customer, actor=Actor.for_user(agent), team=team, priority="high")
               for _ in range(count)]
    rows = TicketEvent.objects.filter(ticket__in=tickets).order_by("id").values(*PAYLOAD_FIELDS)
    payloads = [payload_of(row) for row in rows]
    with CaptureQueriesContext(connection) as ctx, batch_scope():
        sla_on_events(payloads)
    return tickets, len(ctx.captured_queries)


def test_the_sla_subscriber_issues_as_many_queries_for_twenty_tickets_as_for_two(settings, fast_policy, customer,
                                                                                  team, agent):
    settings.ATENDE_EVENTS_DRAIN_ON_COMMIT = False
    calendar_save(name="Office", time_zone="UTC", hours=[(d, parse_hhmm("09:00"), parse_hhmm("17:00"))
                                                         for d in range(5)], teams=[team])
    _few, for_two = sla_batch_queries(2, customer, team, agent)
    many, for_twenty = sla_batch_queries(20, customer, team, agent)
    assert for_twenty == for_two
    for ticket in many:  # and each ticket got its own clocks, due times and SLA_APPLIED event
        ticket.refresh_from_db()
        assert ticket.sla_policy_id == fast_policy.pk and ticket.first_reply_due_at is not None
        assert SlaClock.objects.filter(ticket=ticket).count() == 2
        assert TicketEvent.objects.filter(ticket=ticket, type="SLA_APPLIED").count() == 1
