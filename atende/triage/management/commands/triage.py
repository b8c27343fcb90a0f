"""``atende triage evaluate`` scores the triage model on a labelled CSV file; ``atende triage train`` trains the
desk's model from its solved and closed tickets. See docs/triage.md."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from atende.core.actor import Actor
from atende.integrations.management.commands._progress import ProgressBar
from atende.triage.learning.csvdata import CsvError, read_labelled_csv
from atende.triage.learning.evaluation import category_columns, cross_validate, evaluate_holdout
from atende.triage.learning.model import PRESETS
from atende.triage.services import NotEnoughHistory, NothingToLearn, triage_train

FIGURES = (("accuracy", "accuracy"), ("macro_f1", "macro-F1"), ("weighted_f1", "weighted-F1"),
           ("fit_seconds", "training seconds"), ("predict_ms_p50", "prediction p50 ms"),
           ("predict_ms_p99", "prediction p99 ms"))


class Command(BaseCommand):
    help = "Evaluate the triage model on a CSV file, or train it from the desk's history. See docs/triage.md."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        evaluate = sub.add_parser("evaluate", help="Score the model on a labelled CSV file.")
        evaluate.add_argument("--train", required=True, help="CSV file to train on (and cross-validate on alone).")
        evaluate.add_argument("--test", help="CSV file to score; without it, 5-fold cross-validation on --train.")
        evaluate.add_argument("--text", required=True, help="Text column(s), comma-separated.")
        evaluate.add_argument("--label", required=True, help="The column to predict.")
        evaluate.add_argument("--model", choices=sorted(PRESETS), default="default",
                              help="default: the product's model; plain: TF-IDF + logistic regression; "
                                   "majority: the most common class.")
        evaluate.add_argument("--folds", type=int, default=5)
        evaluate.add_argument("--json", action="store_true", help="Print the figures as JSON.")
        train = sub.add_parser("train", help="Train the desk's model from its solved and closed tickets.")
        train.add_argument("--quiet", action="store_true", help="No progress bar.")

    def handle(self, *args, action, **options):
        if action == "evaluate":
            self._evaluate(**options)
        else:
            self._train(quiet=options["quiet"])

    def _evaluate(self, *, train, test, text, label, model, folds, json: bool, **_options):
        columns = [c.strip() for c in text.split(",") if c.strip()]
        if not columns:
            raise CommandError(_("--text needs at least one column name."))
        if label in columns:
            raise CommandError(_("The label column %(label)s cannot also be a text column.") % {"label": label})
        if folds < 2:
            raise CommandError(_("--folds must be at least 2."))
        try:
            train_data = read_labelled_csv(train, text_columns=columns, label_column=label)
            test_data = read_labelled_csv(test, text_columns=columns, label_column=label) if test else None
        except CsvError as exc:
            raise CommandError(str(exc))
        categories = category_columns(train_data.records, columns)
        texts = [c for c in columns if c not in categories]
        options = PRESETS[model]
        if test_data is not None:
            result = evaluate_holdout(train_data.records, train_data.labels, test_data.records, test_data.labels,
                                      text_fields=texts, category_fields=categories, options=options)
        else:
            progress = None if json else ProgressBar(self.stderr._out, label=_("Cross-validating"))
            try:
                result = cross_validate(train_data.records, train_data.labels, text_fields=texts,
                                        category_fields=categories, options=options, folds=folds,
                                        progress=progress)
            except ValueError as exc:
                raise CommandError(str(exc))
        result.update(model=model, text_columns=texts, category_columns=categories)
        if json:
            self.stdout.write(_dumps(result))
            return
        how = (_("trained on %(train)s, tested on %(test)s") % {"train": train, "test": test} if test_data
               else _("%(folds)s-fold cross-validation on %(train)s") % {"folds": folds, "train": train})
        self.stdout.write(f"{label} ({model}): {how}")
        for key, name in FIGURES:
            self.stdout.write(f"  {name:<20} {result[key]}")

    def _train(self, *, quiet: bool):
        bar = None if quiet else ProgressBar(self.stderr._out, label=_("Training"))
        stages = {"read": _("reading tickets"), "cv": _("cross-validating"), "fit": _("fitting")}

        def progress(stage: str, done: int, total: int) -> None:
            if bar is not None:
                bar.label = f"{_('Training')}: {stages.get(stage, stage)}"
                bar._last_decile = -1 if done == 1 else bar._last_decile
                bar(done, total)

        try:
            row = triage_train(actor=Actor.system(), progress=progress)
        except (NotEnoughHistory, NothingToLearn) as exc:
            raise CommandError(str(exc))
        self.stdout.write(self.style.SUCCESS(
            _("Triage model v%(version)s trained on %(tickets)s tickets in %(seconds)s s.") % {
                "version": row.version, "tickets": row.tickets, "seconds": row.fit_seconds}))
        for name, figures in row.fields.items():
            if figures.get("no_signal"):
                self.stdout.write(_("  %(field)s: left out, no better than its most common value (accuracy "
                                    "%(accuracy)s against %(majority)s)") % {
                    "field": name, "accuracy": figures["accuracy"], "majority": figures["majority_accuracy"]})
            elif "accuracy" in figures:
                self.stdout.write(_("  %(field)s: accuracy %(accuracy)s, macro-F1 %(macro_f1)s (%(classes)s classes)") % {
                    "field": name, "accuracy": figures["accuracy"], "macro_f1": figures["macro_f1"],
                    "classes": len(figures.get("classes", []))})


def _dumps(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)
