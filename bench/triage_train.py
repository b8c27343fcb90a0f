#!/usr/bin/env python
"""Time ``atende triage train`` on a large seeded desk.

    export ATENDE_VAR_DIR=/tmp/triage-bench DJANGO_SETTINGS_MODULE=atende.config.settings.dev
    .venv/bin/atende migrate && .venv/bin/atende seed && .venv/bin/atende seed --tickets 100000
    .venv/bin/python bench/triage_train.py --relabel

The bulk seeder draws each ticket's category (and so its team) and its urgency and impact at random, whatever its
text says: nothing in that history can be learned. ``--relabel`` gives the solved and closed tickets a category
that follows their subject, as a real desk's history does (each distinct subject belongs to one category; one
ticket in ten gets another at random, as misfiled tickets do), and the category's default team; urgency and
impact stay random, so the run also shows the fields the model leaves out for lack of signal. Without
``--relabel`` the history is used as seeded. Prints one JSON object: tickets, seconds, figures per field.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atende.config.settings.dev")

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402

from atende.core.actor import Actor  # noqa: E402
from atende.tickets.models import Category, Ticket  # noqa: E402
from atende.triage.selectors import LEARNED_STATUSES  # noqa: E402
from atende.triage.services import triage_train  # noqa: E402


def relabel(noise: float = 0.1, seed: int = 7) -> int:
    """Category by subject (stable hash), 10% at random; team = the category's default team."""
    categories = list(Category.objects.filter(parent__isnull=False).values_list("pk", "default_team_id"))
    if not categories:
        raise SystemExit("no subcategories: run `atende seed` (the demo desk) before the bulk seed")
    rng = random.Random(seed)
    rows = Ticket.objects.filter(status__in=LEARNED_STATUSES).values_list("pk", "subject")
    by_pair: dict[tuple[int, int | None], list[int]] = {}
    for pk, subject in rows.iterator(chunk_size=5000):
        digest = int(hashlib.sha256(subject.encode()).hexdigest(), 16)
        pair = rng.choice(categories) if rng.random() < noise else categories[digest % len(categories)]
        by_pair.setdefault(pair, []).append(pk)
    with transaction.atomic():
        for (category, team), ids in by_pair.items():
            for start in range(0, len(ids), 900):
                Ticket.objects.filter(pk__in=ids[start:start + 900]).update(category_id=category, team_id=team)
    return sum(len(ids) for ids in by_pair.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--relabel", action="store_true")
    args = parser.parse_args()
    if args.relabel:
        print(json.dumps({"relabelled": relabel()}), file=sys.stderr)
    started = time.perf_counter()
    row = triage_train(actor=Actor.system())
    print(json.dumps({"version": row.version, "tickets": row.tickets, "seconds": round(time.perf_counter() - started, 1),
                      "fields": {name: {k: v for k, v in f.items() if k not in ("classes", "left_out")}
                                 for name, f in row.fields.items()}}, indent=2))


if __name__ == "__main__":
    main()
