"""The ticket state machine as data: which moves are allowed and what category each status is in."""

from atende.tickets.choices import StatusCategory, TicketStatus

S = TicketStatus

TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.NEW: frozenset({S.OPEN, S.PENDING, S.ON_HOLD, S.SOLVED}),
    S.OPEN: frozenset({S.PENDING, S.ON_HOLD, S.SOLVED}),
    S.PENDING: frozenset({S.OPEN, S.ON_HOLD, S.SOLVED}),
    S.ON_HOLD: frozenset({S.OPEN, S.PENDING, S.SOLVED}),
    S.SOLVED: frozenset({S.OPEN, S.CLOSED}),
    S.CLOSED: frozenset(),
}

CATEGORY: dict[TicketStatus, StatusCategory] = {
    S.NEW: StatusCategory.OPEN,
    S.OPEN: StatusCategory.OPEN,
    S.PENDING: StatusCategory.PAUSED,
    S.ON_HOLD: StatusCategory.PAUSED,
    S.SOLVED: StatusCategory.RESOLVED,
    S.CLOSED: StatusCategory.RESOLVED,
}

OPEN_STATUSES = frozenset(s for s, c in CATEGORY.items() if c == StatusCategory.OPEN)
UNSOLVED_STATUSES = frozenset({S.NEW, S.OPEN, S.PENDING, S.ON_HOLD})


def can_transition(frm: str, to: str) -> bool:
    return TicketStatus(to) in TRANSITIONS[TicketStatus(frm)]


def category_of(status: str, *, on_hold_pauses: bool = True) -> StatusCategory:
    """The category SLA, reports and automation read. ``on_hold`` may be configured to keep the clock running."""
    status = TicketStatus(status)
    if status == S.ON_HOLD and not on_hold_pauses:
        return StatusCategory.OPEN
    return CATEGORY[status]
