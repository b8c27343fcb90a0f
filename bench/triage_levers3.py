#!/usr/bin/env python
"""Third round of levers on the triage model, each measured alone against the default, on the same folds.

    nice -n 10 .venv/bin/python bench/triage_levers3.py ../shared/data/triage/itsm-ticket-assignment/dev.csv \\
        --text short_description,description,caller --label assignment_group [--grouped] [--only NAME,…]

The folds are those of ``atende triage evaluate`` (stratified 5-fold, seed 0). With ``--grouped`` rows with an
identical text (all text columns but the short ones, lower-cased) are kept in one fold (``StratifiedGroupKFold``,
seed 0), as the held-out part of the data was split: a lever that only remembers exact copies gains there nothing.
Per fold, the default model's features are computed once and the SVM (C = 1, 30 passes, classes under 3 examples
left out, prior correction τ = 0.05) is fitted once on the training part and once per inner fold (5-fold on the
training part: out-of-fold scores, from which the temperature, the stacking model and the hierarchical threshold
are learned, never from the test part). Levers:

- ``knn`` — near-duplicate memory: cosine similarity of the default features (L2-normalised), the k nearest
  training tickets vote with similarity^2; blended with the SVM's calibrated probabilities (weight w), or the
  nearest ticket's group overrides the SVM when its similarity is at least θ;
- ``sender`` — the address in "received from: x@y" (removed from the text by ``normalise``) as a whole-value token,
  and its domain;
- ``language`` — a "German" token when German function words make up a share of the words;
- ``stack`` — out-of-fold probabilities of the SVM, a complement naive Bayes and the k-NN vote, combined by a
  multinomial logistic regression;
- ``clean`` — text cleaning before the features: greeting, signature and disclaimer lines dropped, umlauts
  folded (ä → ae …); the encoder is refitted;
- ``hier`` — the majority class against the rest first (a binary SVM, threshold chosen on the out-of-fold scores
  for accuracy), then the group among the others.

Prints one JSON object per lever line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atende.config.settings.test")
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")  # one core: the machine is shared, and threads only wait for each other

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold  # noqa: E402
from sklearn.naive_bayes import ComplementNB  # noqa: E402
from sklearn.preprocessing import normalize  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

import atende.triage.learning.model as model_module  # noqa: E402
from atende.triage.learning.csvdata import read_labelled_csv  # noqa: E402
from atende.triage.learning.evaluation import category_columns, scores  # noqa: E402
from atende.triage.learning.model import (  # noqa: E402
    DEFAULT_OPTIONS,
    MAX_ITER,
    FeatureEncoder,
    _softmax,
    best_temperature,
)
from atende.triage.learning.text import normalise  # noqa: E402

TAU = DEFAULT_OPTIONS.prior_correction
SENDER = re.compile(r"received from:\s*([^\s@]+)@(\S+)", re.I)
GERMAN = {"und", "nicht", "ich", "ist", "der", "die", "das", "bitte", "mit", "auf", "für", "sie", "wir", "kann",
          "werden", "wird", "ein", "eine", "zu", "von", "im", "den", "dem", "gruß", "grüße", "hallo", "danke"}
BOILERPLATE = re.compile(
    r"^\s*(hi|hello|dear|hallo|guten tag|thanks?|thank you|many thanks|best|regards|best regards|kind regards|"
    r"mit freundlichen grüßen|freundliche grüße|viele grüße|gruß|br|cheers|sent from my \w+|"
    r"this (e-?mail|message) (and any|is|may).*|confidential.*|disclaimer.*|please consider the environment.*|"
    r"\[cid:.*|from:.*|sent:.*|to:.*|cc:.*|subject:.*|importance:.*)\s*[,.!]*\s*$", re.I)
UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def clean(value: object) -> str:
    text = "" if value is None else str(value)
    lines = [line for line in text.splitlines() if line.strip() and not BOILERPLATE.match(line)]
    return normalise("\n".join(lines).translate(UMLAUTS))


def is_german(record, texts) -> bool:
    words = re.findall(r"\w+", " ".join(str(record.get(f) or "") for f in texts).lower())
    return bool(words) and sum(w in GERMAN for w in words) / len(words) >= 0.08


def extra_tokens(records, texts, kind):
    docs = []
    for r in records:
        tokens = []
        if kind == "sender":
            m = SENDER.search(str(r.get("description") or ""))
            if m:
                tokens += [f"sender={m.group(1).lower()}", f"domain={m.group(2).lower()}"]
        elif kind == "domain":
            m = SENDER.search(str(r.get("description") or ""))
            if m:
                tokens.append(f"domain={m.group(2).lower()}")
        elif kind == "language":
            tokens.append("lang=de" if is_german(r, texts) else "lang=other")
        docs.append(tokens)
    return docs


def one_hot(train_docs, test_docs):
    vocab = {t: i for i, t in enumerate(sorted({t for d in train_docs for t in d}))}

    def matrix(docs):
        rows, cols = [], []
        for i, d in enumerate(docs):
            for t in d:
                if t in vocab:
                    rows.append(i)
                    cols.append(vocab[t])
        return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(docs), max(len(vocab), 1)))
    return matrix(train_docs), matrix(test_docs)


def splits(y, groups, grouped):
    if grouped:
        return StratifiedGroupKFold(5, shuffle=True, random_state=0).split(np.zeros(len(y)), y, groups)
    return StratifiedKFold(5, shuffle=True, random_state=0).split(np.zeros(len(y)), y)


def encode(records, train, test, texts, categories, cleaned=False):
    original = model_module.normalise
    if cleaned:
        model_module.normalise = clean
    try:
        encoder = FeatureEncoder(texts, categories, DEFAULT_OPTIONS)
        X_train = encoder.fit_transform([records[i] for i in train])
        X_test = encoder.transform([records[i] for i in test])
    finally:
        model_module.normalise = original
    return X_train.tocsr(), X_test.tocsr()


class Svm:
    """The product's SVM level: LinearSVC on class codes, prior correction."""

    def __init__(self, X, codes, n_classes):
        counts = np.bincount(codes, minlength=n_classes).astype(float)
        self.adjust = -TAU * np.log(np.maximum(counts, 1) / counts.sum())
        self.model = LinearSVC(C=1.0, max_iter=MAX_ITER).fit(X, codes)
        self.n = n_classes

    def scores(self, X):
        raw = np.asarray(X @ self.model.coef_.T) + self.model.intercept_
        out = np.full((X.shape[0], self.n), -10.0)
        out[:, self.model.classes_] = raw
        return out + self.adjust


def knn_votes(X_test, X_train, codes, n_classes, k, exclude_self=False):
    sims = (normalize(X_test) @ normalize(X_train).T).toarray()
    if exclude_self:
        np.fill_diagonal(sims, -1)
    nearest = np.argpartition(-sims, k, axis=1)[:, :k]
    votes = np.zeros((X_test.shape[0], n_classes))
    for row, columns in enumerate(nearest):
        np.add.at(votes[row], codes[columns], np.maximum(sims[row, columns], 0) ** 2)
    totals = votes.sum(1, keepdims=True)
    best = sims.argmax(1)
    return np.divide(votes, totals, out=np.full_like(votes, 1 / n_classes), where=totals > 0), sims[
        np.arange(len(best)), best], codes[best]


def fold_state(records, y, train, test, texts, categories, cleaned=False):
    X_train, X_test = encode(records, train, test, texts, categories, cleaned)
    counts = Counter(y[train].tolist())
    keep = np.array([counts[label] >= DEFAULT_OPTIONS.min_examples for label in y[train]])
    classes = np.array(sorted(set(y[train][keep].tolist())), dtype=object)
    X_train, codes = X_train[keep], np.searchsorted(classes, y[train][keep])
    return {"X_train": X_train, "X_test": X_test, "codes": codes, "classes": classes, "truth": y[test].tolist(),
            "train_records": [records[i] for i in np.asarray(train)[keep]],
            "test_records": [records[i] for i in test]}


def out_of_fold(state, with_models=True):
    """Inner 5-fold on the training part: out-of-fold SVM scores (and NB / kNN probabilities)."""
    X, codes, n = state["X_train"], state["codes"], len(state["classes"])
    svm_oof, nb_oof = np.zeros((len(codes), n)), np.zeros((len(codes), n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inner = list(StratifiedKFold(5, shuffle=True, random_state=1).split(np.zeros(len(codes)), codes))
    for tr, te in inner:
        svm_oof[te] = Svm(X[tr], codes[tr], n).scores(X[te])
        if with_models:
            nb = ComplementNB(alpha=0.3).fit(X[tr], codes[tr])
            nb_oof[np.ix_(te, nb.classes_)] = nb.predict_proba(X[te])
    state["svm_oof"], state["nb_oof"] = svm_oof, nb_oof
    state["temperature"] = best_temperature([(svm_oof, codes)])


def evaluate(state, predicted_codes):
    return scores(state["truth"], state["classes"][predicted_codes].tolist())


def mean(found):
    return {key: round(float(np.mean([f[key] for f in found])), 4) for key in found[0]}


def run_main(folds_states, names):
    """Levers on the default features (one encoding per fold)."""
    results: dict[str, list] = {}
    cpu: dict[str, float] = Counter()

    def add(name, figure, seconds=0.0):
        results.setdefault(name, []).append(figure)
        cpu[name] += seconds

    for number, state in enumerate(folds_states):
        print(f"fold {number + 1}/{len(folds_states)}", file=sys.stderr, flush=True)
        X_train, X_test, codes, n = state["X_train"], state["X_test"], state["codes"], len(state["classes"])
        started = time.process_time()
        svm = Svm(X_train, codes, n)
        S = svm.scores(X_test)
        base_seconds = time.process_time() - started
        add("default", evaluate(state, S.argmax(1)), base_seconds)
        P = _softmax(S.copy(), state["temperature"]) if "temperature" in state else None
        if "knn" in names or "stack" in names:
            knn = {k: knn_votes(X_test, X_train, codes, n, k) for k in (1, 3, 5, 10)}
        if "knn" in names:
            for k in (3, 5, 10):
                votes = knn[k][0]
                for w in (0.1, 0.2, 0.3, 0.5):
                    add(f"knn blend k={k} w={w}", evaluate(state, ((1 - w) * P + w * votes).argmax(1)))
            votes, top_sim, top_code = knn[1]
            for theta in (0.8, 0.9, 0.95, 0.99):
                predicted = np.where(top_sim >= theta, top_code, S.argmax(1))
                add(f"knn override nearest sim >= {theta}", evaluate(state, predicted))
            add("knn vote alone k=5", evaluate(state, knn[5][0].argmax(1)))
        for kind in ("sender", "domain", "language"):
            if kind not in names:
                continue
            extra_train, extra_test = one_hot(extra_tokens(state["train_records"], None, kind) if kind != "language"
                                              else extra_tokens(state["train_records"], TEXTS, kind),
                                              extra_tokens(state["test_records"], TEXTS, kind))
            for weight in (0.5, 1.0):
                started = time.process_time()
                s = Svm(sp.hstack([X_train, extra_train * weight], format="csr"), codes, n)
                S2 = s.scores(sp.hstack([X_test, extra_test * weight], format="csr"))
                add(f"+ {kind} token ×{weight}", evaluate(state, S2.argmax(1)), time.process_time() - started)
        if "stack" in names:
            nb = ComplementNB(alpha=0.3).fit(X_train, codes)
            NB = np.zeros((X_test.shape[0], n))
            NB[:, nb.classes_] = nb.predict_proba(X_test)
            knn_oof = knn_votes(X_train, X_train, codes, n, 5, exclude_self=True)[0]
            P_oof = _softmax(state["svm_oof"].copy(), state["temperature"])
            for label, train_parts, test_parts in (
                    ("stack: SVM + NB + kNN → logistic regression", (P_oof, state["nb_oof"], knn_oof),
                     (P, NB, knn[5][0])),
                    ("stack: SVM + kNN → logistic regression", (P_oof, knn_oof), (P, knn[5][0]))):
                Z_train = np.log(np.hstack(train_parts) + 1e-4)
                Z_test = np.log(np.hstack(test_parts) + 1e-4)
                started = time.process_time()
                lr = LogisticRegression(C=1.0, max_iter=100).fit(Z_train, codes)
                Q = np.zeros((X_test.shape[0], n))
                Q[:, lr.classes_] = lr.predict_proba(Z_test)
                add(label, evaluate(state, Q.argmax(1)), time.process_time() - started)
        if "hier" in names:
            major = int(np.bincount(codes).argmax())
            is_major = (codes == major).astype(int)
            started = time.process_time()
            binary = LinearSVC(C=1.0, max_iter=MAX_ITER).fit(X_train, is_major)
            b_test = X_test @ binary.coef_.ravel() + binary.intercept_[0]
            # threshold on out-of-fold binary scores, for the accuracy of the whole two-step prediction
            b_oof = np.zeros(len(codes))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                inner = StratifiedKFold(5, shuffle=True, random_state=1).split(np.zeros(len(codes)), codes)
                for tr, te in inner:
                    m = LinearSVC(C=1.0, max_iter=MAX_ITER).fit(X_train[tr], is_major[tr])
                    b_oof[te] = X_train[te] @ m.coef_.ravel() + m.intercept_[0]
            rest_oof = state["svm_oof"].copy()
            rest_oof[:, major] = -np.inf
            rest_oof_pred = rest_oof.argmax(1)
            thresholds = np.linspace(-1.0, 1.0, 41)
            accuracy = [np.mean(np.where(b_oof >= t, major, rest_oof_pred) == codes) for t in thresholds]
            t = thresholds[int(np.argmax(accuracy))]
            rest = S.copy()
            rest[:, major] = -np.inf
            seconds = time.process_time() - started
            THRESHOLDS.append(round(float(t), 2))
            add("hierarchical: majority vs rest, threshold tuned on inner folds",
                evaluate(state, np.where(b_test >= t, major, rest.argmax(1))), seconds)
            add("hierarchical: majority vs rest, threshold 0",
                evaluate(state, np.where(b_test >= 0, major, rest.argmax(1))), seconds)
    return results, cpu


TEXTS: list[str] = []
THRESHOLDS: list[float] = []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("train")
    parser.add_argument("--text", required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--grouped", action="store_true")
    parser.add_argument("--only", default="knn,sender,domain,language,stack,hier,clean")
    args = parser.parse_args()
    names = set(args.only.split(","))
    columns = [c.strip() for c in args.text.split(",") if c.strip()]
    data = read_labelled_csv(args.train, text_columns=columns, label_column=args.label)
    categories = category_columns(data.records, columns)
    TEXTS[:] = [c for c in columns if c not in categories]
    y = np.asarray(data.labels, dtype=object)
    groups = np.unique([" | ".join(str(r.get(c) or "").strip().lower() for c in TEXTS) for r in data.records],
                       return_inverse=True)[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fold_list = list(splits(y, groups, args.grouped))
        states = []
        for train, test in fold_list:
            state = fold_state(data.records, y, train, test, TEXTS, categories)
            if names & {"knn", "stack", "hier"}:
                out_of_fold(state, with_models="stack" in names)
            states.append(state)
        results, cpu = run_main(states, names)
        for name, found in results.items():
            print(json.dumps({"lever": name, "grouped": args.grouped, **mean(found),
                              "cpu_seconds": round(cpu[name], 1)}, ensure_ascii=False), flush=True)
        if THRESHOLDS:
            print(json.dumps({"hierarchical thresholds per fold": THRESHOLDS}), flush=True)
        if "clean" in names:
            found = []
            for train, test in fold_list:
                state = fold_state(data.records, y, train, test, TEXTS, categories, cleaned=True)
                S = Svm(state["X_train"], state["codes"], len(state["classes"])).scores(state["X_test"])
                found.append(evaluate(state, S.argmax(1)))
            print(json.dumps({"lever": "text cleaning: boilerplate lines dropped, umlauts folded",
                              "grouped": args.grouped, **mean(found)}, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
