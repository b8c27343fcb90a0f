"""A freshly seeded demo desk (``atende seed``, every app's demo) tells one story: the dashboard's SLA figures,
as the seed left the rollups, count exactly the targets the tickets met and missed, and a ticket's page shows
the SLA history and state its clocks hold."""

import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from atende.accounts.models import User
from atende.reports.selectors import report_scope
from atende.sla.models import SlaClock
from atende.tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db

METRICS = ("first_reply", "next_reply", "resolution")


def _kpi(html: str, kpi: str) -> str:
    match = re.search(rf'data-kpi="{kpi}">(.*?)</dd>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_the_seeded_demo_reports_what_its_tickets_show(client, rollups_as_is):
    call_command("seed", stdout=io.StringIO())
    admin = User.objects.get(email="admin@atende.test")
    client.force_login(admin)
    html = client.get(reverse("reports:dashboard"), {"period": "90d"}).content.decode()
    scope = report_scope(period="90d")
    clocks = list(SlaClock.objects.filter(ticket__created_at__gte=scope.since, ticket__created_at__lt=scope.until,
                                          ticket__is_spam=False).exclude(state="cancelled"))
    for metric in METRICS:
        mine = [c for c in clocks if c.metric == metric]
        met = sum(1 for c in mine if c.state == "fulfilled" and c.breached_at is None)
        decided = sum(1 for c in mine if c.state == "fulfilled" or c.breached_at is not None
                      or (c.state == "running" and c.due_at < scope.until))
        assert 0 < met < decided, metric  # the demo shows targets met and missed
        assert _kpi(html, f"{metric}_sla").endswith(f"{met} of {decided}"), metric
    breaches = TicketEvent.objects.filter(type="SLA_BREACHED", created_at__gte=scope.since,
                                          created_at__lt=scope.until).count()
    assert breaches == SlaClock.objects.filter(breached_at__gte=scope.since, breached_at__lt=scope.until).count()
    assert _kpi(html, "sla_breaches") == str(breaches)

    # a ticket still open past its target: the page says so, and its timeline has the breach
    late = Ticket.objects.filter(sla_clocks__state="running", sla_clocks__breached_at__isnull=False,
                                 status__in=["new", "open"]).order_by("pk").first()
    page = client.get(reverse("console:ticket", args=[late.number])).content.decode()
    assert "sla-breached" in page
    assert "SLA target breached" in page and late.events.filter(type="SLA_BREACHED").exists()
    # a solved ticket that met every target: achievements on its timeline, no breach, no badge
    met_all = (Ticket.objects.filter(status="solved", sla_clocks__isnull=False)
               .exclude(sla_clocks__breached_at__isnull=False).order_by("pk").first())
    page = client.get(reverse("console:ticket", args=[met_all.number])).content.decode()
    assert "SLA target achieved" in page and met_all.events.filter(type="SLA_ACHIEVED").exists()
    assert "SLA target breached" not in page and "sla-breached" not in page
