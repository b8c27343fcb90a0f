"""A batch of events is handled set-wise where it counts: policies, calendars and settings are read once per batch,
not once per ticket, and every ticket of the batch still gets its own clocks."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.core.actor import Actor
from atende.core.outbox.drain import drain
from atende.sla.business_time import parse_hhmm
from atende.sla.services.definitions import calendar_save
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
    _few, reads_for_two = create_and_drain(2, customer, team, agent)
    many, reads_for_twelve = create_and_drain(12, customer, team, agent)
    assert reads_for_twelve == reads_for_two
    assert reads_for_twelve["sla_slapolicy"] >= 1  # the reads did happen (once), the test measures something
    for ticket in many:
        ticket.refresh_from_db()
        assert ticket.sla_policy_id == fast_policy.pk and ticket.first_reply_due_at is not None
