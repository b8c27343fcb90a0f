from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from atende.triage.models import TriageModel


def test_train_command_shows_progress_and_the_figures(desk):
    out, err = StringIO(), StringIO()

    call_command("triage", "train", stdout=out, stderr=err)

    row = TriageModel.objects.get(is_active=True)
    assert f"Triage model v{row.version} trained on 120 tickets" in out.getvalue()
    assert "team: accuracy" in out.getvalue() and "(3 classes)" in out.getvalue()
    progress = err.getvalue()
    assert "reading tickets" in progress and "cross-validating" in progress and "fitting" in progress
    assert "120/120" in progress


def test_train_command_with_too_little_history_fails_with_the_number_needed(db):
    with pytest.raises(CommandError, match=r"at least 100 solved or closed tickets.*this desk has 0"):
        call_command("triage", "train", "--quiet", stdout=StringIO(), stderr=StringIO())
    assert not TriageModel.objects.exists()


def test_the_minimum_is_a_setting(desk, settings):
    settings.TRIAGE_MIN_TICKETS = 500
    with pytest.raises(CommandError, match=r"at least 500 solved or closed tickets.*this desk has 120"):
        call_command("triage", "train", "--quiet", stdout=StringIO(), stderr=StringIO())


def test_a_field_the_text_does_not_predict_is_shown_as_left_out(desk):
    import random

    from atende.tickets.models import Ticket

    rng = random.Random(11)
    for ticket in desk["tickets"]:  # impact drawn at random: nothing in the text tells it
        Ticket.objects.filter(pk=ticket.pk).update(impact=rng.choice(["low", "medium", "high"]))
    out = StringIO()

    call_command("triage", "train", "--quiet", stdout=out, stderr=StringIO())

    row = TriageModel.objects.get(is_active=True)
    assert row.fields["impact"]["no_signal"] is True and "classes" not in row.fields["impact"]
    assert "impact: left out, no better than its most common value" in out.getvalue()
    assert "team: accuracy" in out.getvalue()
