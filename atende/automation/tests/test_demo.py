import pytest

from atende.automation import demo as automation_demo
from atende.automation.models import CannedReply, Macro, TimeRuleSchedule, Trigger
from atende.sla import demo as sla_demo
from atende.sla.models import BusinessCalendar, SlaPolicy
from atende.tickets.models import Ticket


@pytest.mark.django_db
def test_demo_loads_once_on_top_of_the_core_demo(settings):
    from atende.tickets.seed.demo import load_demo

    load_demo(tickets=40)
    first_sla = sla_demo.load_demo()
    first_automation = automation_demo.load_demo()
    assert first_sla["calendars"] == 3 and first_sla["policies"] == 2 and first_sla["tickets"] > 0
    assert first_automation["triggers"] == 3 and first_automation["macros"] == 4
    assert sla_demo.load_demo() == {} and automation_demo.load_demo() == {}
    assert BusinessCalendar.objects.filter(is_default=True).count() == 1
    assert SlaPolicy.objects.count() == 2 and Trigger.objects.count() == 3 and Macro.objects.count() == 4
    assert set(CannedReply.objects.values_list("language", flat=True)) == {"en", "pt-br"}
    unsolved = Ticket.objects.filter(status__in=["new", "open", "pending", "on_hold"])
    assert not unsolved.filter(sla_policy_id__isnull=True).exists()
    assert unsolved.filter(status__in=["new", "open"], sla_due_at__isnull=False).exists()
    pending = Ticket.objects.filter(status="pending").count()
    assert TimeRuleSchedule.objects.count() <= pending  # armed only for pending tickets, by the backfill
