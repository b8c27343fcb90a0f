"""Who is acting: passed to every service and recorded on every event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from atende.accounts.models import User


class ActorKind:
    AGENT = "agent"
    CUSTOMER = "customer"
    SYSTEM = "system"
    AUTOMATION = "automation"
    CHOICES = [(AGENT, "agent"), (CUSTOMER, "customer"), (SYSTEM, "system"), (AUTOMATION, "automation")]


@dataclass(frozen=True)
class Actor:
    kind: str
    user: Any = None  # accounts.User or None
    source_event_id: int | None = None  # the event that caused this action (automation loop guard)

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(kind=ActorKind.AGENT if user.is_staff_member else ActorKind.CUSTOMER, user=user)

    @classmethod
    def system(cls) -> Actor:
        return cls(kind=ActorKind.SYSTEM)

    @classmethod
    def automation(cls, *, source_event_id: int | None = None, user: User | None = None) -> Actor:
        return cls(kind=ActorKind.AUTOMATION, user=user, source_event_id=source_event_id)

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None

    @property
    def is_agent(self) -> bool:
        return self.kind == ActorKind.AGENT

    @property
    def is_customer(self) -> bool:
        return self.kind == ActorKind.CUSTOMER
