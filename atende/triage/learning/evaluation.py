"""Scoring a model: on a separate test set, or by stratified k-fold cross-validation.

Macro-F1 is taken over every class present in the true labels, so a class the model left out (too few
examples) or never predicts counts as a miss. Training time is wall-clock seconds of ``fit`` (the mean over the
folds under cross-validation); prediction latency is measured one record at a time, as a new ticket arrives."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from atende.triage.learning.model import DEFAULT_OPTIONS, ModelOptions, Record, TextClassifier

LATENCY_SAMPLE = 300  # single-record predictions timed per evaluation (per fold under cross-validation)
CATEGORY_MAX_UNIQUE_SHARE = 0.6
CATEGORY_MIN_SHORT_SHARE = 0.9

Progress = Callable[[int, int], None]


def category_columns(records: Sequence[Record], columns: Sequence[str]) -> list[str]:
    """The columns holding short repeated values (a caller, a channel): most values are at most 4 words and
    40 characters, and at most 60% of them are distinct. Those are matched whole instead of read as text."""
    found = []
    for column in columns:
        values = [str(r.get(column) or "").strip() for r in records]
        values = [v for v in values if v]
        if not values:
            continue
        short = sum(1 for v in values if len(v) <= 40 and len(v.split()) <= 4) / len(values)
        if short >= CATEGORY_MIN_SHORT_SHARE and len(set(values)) / len(values) <= CATEGORY_MAX_UNIQUE_SHARE:
            found.append(column)
    return found


def scores(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    labels = sorted(set(truth))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "accuracy": float(accuracy_score(truth, predicted)),
            "macro_f1": float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)),
            "weighted_f1": float(f1_score(truth, predicted, labels=labels, average="weighted", zero_division=0)),
        }


def _latencies_ms(model: TextClassifier, records: Sequence[Record], sample: int) -> list[float]:
    step = max(1, len(records) // sample)
    for record in list(records)[:5]:  # warm-up: a loaded model has built its analysers already
        model.predict([record])
    timings = []
    for record in list(records)[::step][:sample]:
        started = time.perf_counter()
        model.predict([record])
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _run(train: Sequence[Record], train_labels: Sequence[str], test: Sequence[Record], test_labels: Sequence[str],
         *, text_fields, category_fields, options: ModelOptions, latency_sample: int):
    model = TextClassifier(text_fields=text_fields, category_fields=category_fields, options=options)
    started = time.perf_counter()
    model.fit(train, train_labels)
    fit_seconds = time.perf_counter() - started
    predicted, _confidence = model.predict(test)
    return scores(test_labels, predicted), fit_seconds, _latencies_ms(model, test, latency_sample)


def _result(figures: list[dict[str, float]], fit_seconds: list[float], latencies: list[float], **extra) -> dict:
    result = {key: round(float(np.mean([f[key] for f in figures])), 4)
              for key in ("accuracy", "macro_f1", "weighted_f1")}
    result["fit_seconds"] = round(float(np.mean(fit_seconds)), 2)
    result["predict_ms_p50"] = round(float(np.percentile(latencies, 50)), 3) if latencies else None
    result["predict_ms_p99"] = round(float(np.percentile(latencies, 99)), 3) if latencies else None
    result.update(extra)
    return result


def evaluate_holdout(train: Sequence[Record], train_labels: Sequence[str], test: Sequence[Record],
                     test_labels: Sequence[str], *, text_fields: Sequence[str], category_fields: Sequence[str] = (),
                     options: ModelOptions = DEFAULT_OPTIONS, latency_sample: int = LATENCY_SAMPLE) -> dict:
    figures, fit_seconds, latencies = _run(train, train_labels, test, test_labels, text_fields=text_fields,
                                           category_fields=category_fields, options=options,
                                           latency_sample=latency_sample)
    return _result([figures], [fit_seconds], latencies, train_rows=len(train), test_rows=len(test))


def cross_validate(records: Sequence[Record], labels: Sequence[str], *, text_fields: Sequence[str],
                   category_fields: Sequence[str] = (), options: ModelOptions = DEFAULT_OPTIONS, folds: int = 5,
                   seed: int = 0, latency_sample: int = LATENCY_SAMPLE, progress: Progress | None = None) -> dict:
    """Stratified ``folds``-fold cross-validation; figures are the means over the folds. A class with fewer rows
    than folds cannot be in every fold: it is still scored wherever it lands (usually as a miss)."""
    if len(records) < folds * 2:
        raise ValueError(f"{len(records)} rows are too few for {folds}-fold cross-validation")
    y = np.asarray(labels, dtype=object)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    figures, fit_seconds, latencies = [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "the least populated class has only 1 member": expected, see above
        splits = list(splitter.split(np.zeros(len(y)), y))
    records = list(records)
    for done, (train_index, test_index) in enumerate(splits):
        figure, seconds, timings = _run(
            [records[i] for i in train_index], y[train_index].tolist(),
            [records[i] for i in test_index], y[test_index].tolist(),
            text_fields=text_fields, category_fields=category_fields, options=options,
            latency_sample=max(1, latency_sample // folds))
        figures.append(figure)
        fit_seconds.append(seconds)
        latencies.extend(timings)
        if progress:
            progress(done + 1, folds)
    return _result(figures, fit_seconds, latencies, rows=len(records), folds=folds)
