#!/usr/bin/env python
"""Levers on top of the triage model, each measured alone against the default, on the same 5 folds.

    .venv/bin/python bench/triage_levers.py ../shared/data/triage/itsm-ticket-assignment/dev.csv \\
        --text short_description,description,caller --label assignment_group

The default model's feature blocks (word 1–2-grams, title words, character 2–5-grams, the caller as a whole-value
token) are computed once per fold (stratified 5-fold, seed 0, as ``atende triage evaluate``); each lever changes one
thing and refits the SVM (C = 1, 30 passes, classes under 3 examples left out, prior correction τ = 0.05), so
its line differs from the "default" line by that lever alone. Prints one JSON object per lever (figures and the
CPU seconds of the 5 SVM fits). The levers that do not help stay out of the product (docs/triage.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atende.config.settings.test")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.naive_bayes import ComplementNB  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from atende.triage.learning.csvdata import read_labelled_csv  # noqa: E402
from atende.triage.learning.evaluation import category_columns, scores  # noqa: E402
from atende.triage.learning.model import DEFAULT_OPTIONS, MAX_ITER, FeatureEncoder, _softmax  # noqa: E402
from atende.triage.learning.text import category_token  # noqa: E402


def fold_blocks(records, y, texts, categories):
    splits = StratifiedKFold(5, shuffle=True, random_state=0).split(np.zeros(len(y)), y)
    for train, test in splits:
        encoder = FeatureEncoder(texts, categories, DEFAULT_OPTIONS)
        encoder.fit_transform([records[i] for i in train])
        views = encoder._views([records[i] for i in train]), encoder._views([records[i] for i in test])
        yield train, test, {name: tuple(block.transform(v[encoder._view_of(name)]).tocsr() for v in views)
                            for name, block in encoder.blocks.items()}


def backoff(blocks, k):
    """The caller token only for callers with at least ``k`` training tickets."""
    train, test = blocks["categories"]
    keep = sp.diags((np.asarray((train > 0).sum(0)).ravel() >= k).astype(np.float32))
    return {**blocks, "categories": (train @ keep, test @ keep)}


def run(folds, y, callers, *, weights=None, C=1.0, power=0.0, caller_prior=0.0, alpha=10.0, blend=0.0,
        caller_min=1):
    weights = weights or {}
    found, cpu = [], 0.0
    for train, test, blocks in folds:
        if caller_min > 1:
            blocks = backoff(blocks, caller_min)
        X_train, X_test = (sp.hstack([b[side] * weights.get(name, 1.0) for name, b in blocks.items()
                                      if weights.get(name, 1.0)], format="csr") for side in (0, 1))
        counts_all = Counter(y[train].tolist())
        keep = np.array([counts_all[label] >= DEFAULT_OPTIONS.min_examples for label in y[train]])
        classes = np.array(sorted(set(y[train][keep].tolist())), dtype=object)
        codes = np.searchsorted(classes, y[train][keep])
        counts = np.bincount(codes, minlength=len(classes)).astype(float)
        prior = counts / counts.sum()
        class_weight = {i: (counts.max() / n) ** power for i, n in enumerate(counts)} if power else None
        started = time.process_time()
        svm = LinearSVC(C=C, max_iter=MAX_ITER, class_weight=class_weight).fit(X_train[keep], codes)
        cpu += time.process_time() - started
        S = np.asarray(X_test @ svm.coef_.T) + svm.intercept_ - DEFAULT_OPTIONS.prior_correction * np.log(prior)
        if caller_prior:  # + λ · log(P(group | caller) / P(group)), smoothed towards the prior; 0 for unseen callers
            table: dict[str, np.ndarray] = {}
            for caller, code in zip(callers[train][keep], codes, strict=True):
                table.setdefault(caller, np.zeros(len(classes)))[code] += 1
            for row, i in enumerate(test):
                if callers[i] in table:
                    n = table[callers[i]]
                    S[row] += caller_prior * np.log((n + alpha * prior) / (n.sum() + alpha) / prior)
        if blend:  # SVM softmax blended with complement naive Bayes on the same features
            nb = ComplementNB(alpha=0.3).fit(X_train[keep], codes)
            S = np.log(np.maximum((1 - blend) * _softmax(S.copy(), 0.1) + blend * nb.predict_proba(X_test), 1e-12))
        found.append(scores(y[test].tolist(), classes[S.argmax(1)].tolist()))
    result = {key: round(float(np.mean([f[key] for f in found])), 4) for key in found[0]}
    return {**result, "svm_cpu_seconds": round(cpu, 1)}


LEVERS = {
    "default": {},
    "no caller token": {"weights": {"categories": 0.0}},
    "caller token ×0.7": {"weights": {"categories": 0.7}},
    "caller token only for callers with ≥ 2 training tickets (back-off)": {"caller_min": 2},
    "caller token only for callers with ≥ 3 training tickets (back-off)": {"caller_min": 3},
    "caller token only for callers with ≥ 5 training tickets (back-off)": {"caller_min": 5},
    "+ per-caller prior λ = 0.02, α = 1": {"caller_prior": 0.02, "alpha": 1.0},
    "+ per-caller prior λ = 0.05, α = 10": {"caller_prior": 0.05},
    "+ per-caller prior λ = 0.5, α = 1": {"caller_prior": 0.5, "alpha": 1.0},
    "no caller token, + per-caller prior λ = 1, α = 1": {"weights": {"categories": 0.0}, "caller_prior": 1.0,
                                                         "alpha": 1.0},
    "class weights (n_max / n_c)^0.25": {"power": 0.25},
    "C = 0.5": {"C": 0.5},
    "ensemble: 0.9 SVM + 0.1 complement NB": {"blend": 0.1},
    "ensemble: 0.75 SVM + 0.25 complement NB": {"blend": 0.25},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train")
    parser.add_argument("--text", required=True)
    parser.add_argument("--label", required=True)
    args = parser.parse_args()
    columns = [c.strip() for c in args.text.split(",") if c.strip()]
    data = read_labelled_csv(args.train, text_columns=columns, label_column=args.label)
    categories = category_columns(data.records, columns)
    texts = [c for c in columns if c not in categories]
    y = np.asarray(data.labels, dtype=object)
    callers = np.array([" ".join(category_token(r.get(c)) for c in categories) for r in data.records], dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folds = list(fold_blocks(data.records, y, texts, categories))
        for name, lever in LEVERS.items():
            print(json.dumps({"lever": name, **run(folds, y, callers, **lever)}, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
