from typing import TYPE_CHECKING

from atende.core.exceptions import ValidationError  # allowed: core is below tickets

if TYPE_CHECKING:
    from atende.automation.models import Trigger  # allowed: typing only, no run-time dependency


def ticket_escalate(ticket):
    from atende.automation.services import engine  # forbidden, although inside a function

    return engine, ValidationError, Trigger
