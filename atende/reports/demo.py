"""Demo data and bulk loads write tickets without delivering events: build the rollups from what they wrote.

``atende seed`` calls ``load_demo`` after the apps before this one in INSTALLED_APPS (tickets, sla, surveys) have
loaded theirs; the bulk seeder (``atende seed --tickets N``) finds ``after_bulk_seed`` through the app registry,
so the tickets app does not import this one."""

from __future__ import annotations

from atende.reports.services import rollups_rebuild


def load_demo() -> dict[str, float]:
    return rollups_rebuild()


def after_bulk_seed(*, ticket_ids: range) -> dict[str, float]:
    """The seeded tickets span the seeder's whole period, so rebuilding everything costs no more than a range."""
    return rollups_rebuild()
