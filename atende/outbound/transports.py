"""Transports: how a delivery leaves. The engine (services/) owns claim, lease, retries and the attempt log;
a transport only sends one claimed delivery and says how it went.

Transports live in the app that knows the channel (``email_channel.transports.MailTransport``,
``integrations.transports.WebhookTransport``) and are registered by dotted path in
``settings.OUTBOUND_TRANSPORTS`` (name → class). They are imported when Django starts: a transport that
cannot be imported stops start-up with ImproperlyConfigured, instead of leaving its messages unsent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from atende.outbound.models import Delivery, DeliveryAttempt


@dataclass
class SendResult:
    status_code: int | None = None
    response_excerpt: str = ""
    external_id: str = ""  # the far side's id for the message, when it only becomes known on sending


class DeliveryFailed(Exception):  # noqa: N818 - reads as the outcome it reports
    """The far side refused or did not answer; the engine retries later (or gives up)."""

    def __init__(self, error: str, *, status_code: int | None = None, response_excerpt: str = "") -> None:
        super().__init__(error)
        self.status_code = status_code
        self.response_excerpt = response_excerpt


class DeliveryRefused(DeliveryFailed):
    """A refusal no later attempt can change (a closed messaging window, a connector that is not configured): the
    engine records the attempt as failed and gives up at once instead of retrying."""


class DeliveryHeld(Exception):  # noqa: N818
    """Not to be sent now and not a failed attempt (its webhook is disabled): the delivery waits, without a
    due time, until ``deliveries_resume`` makes it due again."""


class DeliveryCancelled(Exception):  # noqa: N818
    """Can never be sent (its webhook was deleted): the delivery is cancelled with this reason."""


class Transport:
    """Base class. Subclasses set ``name`` and implement ``send``; the rest has defaults."""

    name = ""
    lease_seconds = 300  # longer than one send can take, so a live worker never loses its claim

    def send(self, delivery: Delivery) -> SendResult:
        """Send one claimed delivery, outside any transaction. Return on success; raise DeliveryFailed (or
        any exception) on failure, DeliveryHeld or DeliveryCancelled when it must not be sent."""
        raise NotImplementedError

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Around the sends of one drained batch: open a connection once and reuse it (SMTP, HTTP keep-alive)."""
        yield

    def max_attempts(self) -> int:
        return 6

    def retry_base_seconds(self) -> float:
        return 60.0

    def attempt_recorded(self, delivery: Delivery, attempt: DeliveryAttempt) -> None:
        """Called inside the transaction that records each attempt (``delivery.status`` is already the new
        status): count failures, write the give-up on the ticket's timeline."""

    def attempts_recorded(self, recorded: list[tuple[Delivery, DeliveryAttempt]]) -> None:
        """The attempts one transaction records, in the order they were made; by default ``attempt_recorded``
        for each. A transport overrides it to do the work set-wise."""
        for delivery, attempt in recorded:
            self.attempt_recorded(delivery, attempt)


_registry: dict[str, Transport] = {}
_loaded_from: dict[str, str] = {}


def transports_load() -> dict[str, Transport]:
    """Import every transport in ``settings.OUTBOUND_TRANSPORTS``; fail loudly naming the one that breaks."""
    loaded: dict[str, Transport] = {}
    for name, path in getattr(settings, "OUTBOUND_TRANSPORTS", {}).items():
        try:
            cls = import_string(path)
        except ImportError as exc:
            raise ImproperlyConfigured(f"Outbound transport {name!r} ({path}) cannot be imported: {exc}") from exc
        if not (isinstance(cls, type) and issubclass(cls, Transport)):
            raise ImproperlyConfigured(f"Outbound transport {name!r} ({path}) is not a Transport subclass.")
        loaded[name] = cls()
    _registry.clear()
    _registry.update(loaded)
    _loaded_from.clear()
    _loaded_from.update(getattr(settings, "OUTBOUND_TRANSPORTS", {}))
    return loaded


def transport_get(name: str) -> Transport:
    if _loaded_from != getattr(settings, "OUTBOUND_TRANSPORTS", {}):  # tests may register their own
        transports_load()
    try:
        return _registry[name]
    except KeyError:
        raise ImproperlyConfigured(f"No outbound transport named {name!r} in settings.OUTBOUND_TRANSPORTS.") from None
