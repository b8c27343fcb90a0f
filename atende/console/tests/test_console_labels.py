"""``{{ ticket|label:"status" }}`` writes what ``{{ ticket.get_status_display }}`` wrote, for every value of each
field the ticket page shows, a value outside the choices, in each language."""

import pytest
from django.template import engines
from django.utils import translation

from atende.tickets.models import Ticket

FIELDS = ("status", "priority", "channel", "type", "urgency", "impact")


@pytest.mark.parametrize("language", ["en", "pt-br"])
def test_labels_are_the_display_methods(language):
    ours = engines["django"].from_string('{% load console_labels %}{{ t|label:name }}')
    django = engines["django"].from_string("{{ display }}")
    ticket = Ticket()
    count = 0
    with translation.override(language):
        for name in FIELDS:
            values = [value for value, _label in Ticket._meta.get_field(name).flatchoices]
            for value in [*values, "<unknown & new>", None]:
                setattr(ticket, name, value)
                expected = django.render({"display": getattr(ticket, f"get_{name}_display")()})
                assert ours.render({"t": ticket, "name": name}) == expected, (name, value)
                count += 1
    assert count > 30
