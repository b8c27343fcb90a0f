#!/usr/bin/env python
"""What each step of the triage model gives: 5-fold cross-validation of the model built up one step at a time.

    .venv/bin/python bench/triage_ablation.py ../shared/data/triage/itsm-ticket-assignment/dev.csv \\
        --text short_description,description,caller --label assignment_group

Each line adds one step to the line before; the line marked "the default model" is ``--model default``, and the
lines after it add the options the default leaves off (they did not help on the ITSM data; docs/triage.md). Prints one JSON object per step and a Markdown table at the end (docs/triage.md).
One process, one core: scikit-learn's linear models here are single-threaded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atende.config.settings.test")

import django  # noqa: E402

django.setup()

from atende.triage.learning.csvdata import read_labelled_csv  # noqa: E402
from atende.triage.learning.evaluation import category_columns, cross_validate  # noqa: E402
from atende.triage.learning.model import DEFAULT_OPTIONS, ModelOptions, options_with  # noqa: E402

BARE = options_with(DEFAULT_OPTIONS, word=True, title=False, char=False, categories=False, class_weight_power=0.0,
                    calibrate=False, fallback=False, ensemble=False, min_examples=1,
                    prior_correction=0.0)
STEPS: list[tuple[str, dict]] = [
    ("majority class", {"kind": "majority"}),
    ("plain TF-IDF + logistic regression", {"kind": "plain"}),
    ("linear SVM, word 1–2-grams", {}),
    ("+ character 2–5-grams", {"char": True}),
    ("+ title words on their own", {"title": True}),
    ("+ caller / short fields as tokens", {"categories": True}),
    ("+ classes under 3 examples left out", {"min_examples": DEFAULT_OPTIONS.min_examples}),
    ("+ calibrated confidences", {"calibrate": True}),
    ("+ prior correction, tau = 0.05 (the default model)", {"prior_correction": DEFAULT_OPTIONS.prior_correction}),
    ("+ softened class weights (option)", {"class_weight_power": 0.5}),
    ("+ fallback level for rare classes (option)", {"fallback": True}),
    ("+ nearest-neighbour ensemble (option)", {"ensemble": True}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train")
    parser.add_argument("--text", required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--only", help="comma-separated step numbers (0-based) to run")
    args = parser.parse_args()
    columns = [c.strip() for c in args.text.split(",") if c.strip()]
    data = read_labelled_csv(args.train, text_columns=columns, label_column=args.label)
    categories = category_columns(data.records, columns)
    texts = [c for c in columns if c not in categories]
    only = {int(i) for i in args.only.split(",")} if args.only else None
    options: ModelOptions = BARE
    rows = []
    for number, (name, change) in enumerate(STEPS):
        if change.get("kind"):
            step_options = options_with(BARE, **change)
        else:
            options = options_with(options, **change)
            step_options = options
        if only is not None and number not in only:
            continue
        result = cross_validate(data.records, data.labels, text_fields=texts, category_fields=categories,
                                options=step_options, latency_sample=100)
        rows.append((name, result))
        print(json.dumps({"step": name, **result}), flush=True)
    print("\n| step | accuracy | macro-F1 | weighted-F1 | fit s (per fold) |\n|---|---|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | {r['weighted_f1']:.3f} | {r['fit_seconds']} |")


if __name__ == "__main__":
    main()
