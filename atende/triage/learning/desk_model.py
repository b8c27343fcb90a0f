"""The desk's model: one encoder, one head per predicted field, and an index of the tickets it learned from
(for similar-ticket look-ups). Training, cross-validated figures per field, saving and loading; no database."""

from __future__ import annotations

import hashlib
import io
import time
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import joblib
import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import normalize

from atende.triage.learning.evaluation import scores
from atende.triage.learning.model import (
    DEFAULT_OPTIONS,
    FeatureEncoder,
    LabelHead,
    ModelOptions,
    NotEnoughData,
    best_temperature,
)

FORMAT = 1  # bumped when the saved layout changes; older files are refused, not misread
TEXT_FIELDS = ("subject", "body")
CATEGORY_FIELDS = ("channel", "organization", "requester")
CV_FOLDS = 3
CV_MAX_ROWS = 10_000  # figures on larger histories come from a random sample of this size (the final fit uses all)
NO_SIGNAL_MARGIN = 0.01  # a field must beat its majority class by this much in the first fold to be learned

Progress = Callable[[str, int, int], None]


class NoSignal(NotEnoughData):
    """Every learnable field is predicted no better than by its most common value."""


class ModelFileError(Exception):
    """The model file is missing, unreadable, altered or of another format."""


@dataclass
class DeskModel:
    encoder: FeatureEncoder
    heads: dict[str, LabelHead]
    figures: dict[str, dict] = field(default_factory=dict)
    neighbour_ids: np.ndarray | None = None
    neighbour_matrix: sp.csr_matrix | None = None
    format: int = FORMAT

    def predict(self, record: Mapping[str, object]) -> dict[str, tuple[str, float]]:
        X = self.encoder.transform([record])
        out = {}
        for name, head in self.heads.items():
            labels, confidences = head.predict(X)
            out[name] = (labels[0], confidences[0])
        return out

    def nearest(self, record: Mapping[str, object], *, limit: int = 50) -> list[tuple[int, float]]:
        """Ids of the learned tickets most like ``record``, with their cosine similarity, best first."""
        if self.neighbour_matrix is None or self.neighbour_matrix.shape[0] == 0:
            return []
        query = normalize(self.encoder.transform([record]))
        sims = (self.neighbour_matrix @ query.T).toarray().ravel()
        if not sims.any():
            return []
        count = min(limit, len(sims))
        best = np.argpartition(-sims, count - 1)[:count]
        best = best[np.argsort(-sims[best])]
        return [(int(self.neighbour_ids[i]), float(sims[i])) for i in best if sims[i] > 0]


def _field_labels(records: Sequence[Mapping], name: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows that have a value for ``name`` (their indexes) and those values as strings."""
    rows = [i for i, r in enumerate(records) if r.get(name) not in (None, "")]
    return np.array(rows, dtype=int), np.array([str(records[i][name]) for i in rows], dtype=object)


def _usable(labels: np.ndarray, options: ModelOptions) -> bool:
    counts = Counter(labels.tolist())
    return sum(1 for n in counts.values() if n >= options.min_examples) >= 2


def _majority_accuracy(train_labels: np.ndarray, test_labels: np.ndarray) -> float:
    """Accuracy of always answering the training folds' most common value."""
    majority = Counter(train_labels.tolist()).most_common(1)[0][0]
    return float(np.mean(test_labels == majority))


def cross_validated_figures(records: Sequence[Mapping], fields: Sequence[str], *,
                            options: ModelOptions = DEFAULT_OPTIONS, seed: int = 0,
                            progress: Progress | None = None) -> dict[str, dict]:
    """Per field, the mean accuracy, macro-F1 and weighted-F1 over ``CV_FOLDS`` folds (the encoder is refitted
    in every fold, as training would), the majority-class accuracy on the same folds, and the confidence
    temperature fitted on the out-of-fold scores (``"temperature"``; the final fit reuses it instead of
    fitting again). Histories over ``CV_MAX_ROWS`` are scored on a random sample that size.

    A field whose first fold is no more accurate than always answering its most common value (plus
    ``NO_SIGNAL_MARGIN``) is not scored further and is marked ``"no_signal": True``: the text does not predict
    it, so it is left out of the model rather than suggested at random."""
    rng = np.random.default_rng(seed)
    index = np.arange(len(records))
    if len(index) > CV_MAX_ROWS:
        index = np.sort(rng.choice(index, CV_MAX_ROWS, replace=False))
    sample = [records[i] for i in index]
    figures: dict[str, list[dict]] = {name: [] for name in fields}
    held_out: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {name: [] for name in fields}
    no_signal: set[str] = set()
    splitter = StratifiedKFold(n_splits=CV_FOLDS, shuffle=True, random_state=seed)
    # Folds stratified on the first field (the team): every field is scored on the same folds, one encoder each.
    rows, first = _field_labels(sample, fields[0]) if fields else (np.array([]), np.array([]))
    strata = np.array(["-"] * len(sample), dtype=object)
    strata[rows] = first
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        splits = list(splitter.split(np.zeros(len(sample)), strata))
    fold_options = replace(options, calibrate=False)  # the temperature comes from the out-of-fold scores
    for fold, (train, test) in enumerate(splits):
        encoder = FeatureEncoder(TEXT_FIELDS, CATEGORY_FIELDS, options)
        X_train = encoder.fit_transform([sample[i] for i in train])
        X_test = encoder.transform([sample[i] for i in test])
        for name in fields:
            if name in no_signal:
                continue
            train_rows, train_labels = _field_labels([sample[i] for i in train], name)
            test_rows, test_labels = _field_labels([sample[i] for i in test], name)
            if not len(test_rows) or not _usable(train_labels, options):
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # ConvergenceWarning on labels the text cannot predict
                head = LabelHead(fold_options).fit(X_train[train_rows], train_labels)
            predicted, _confidence = head.predict(X_test[test_rows])
            found = scores(test_labels.tolist(), predicted)
            found["majority_accuracy"] = _majority_accuracy(train_labels, test_labels)
            figures[name].append(found)
            held_out[name].append(head.held_out_scores(X_test[test_rows], test_labels.tolist()))
            if fold == 0 and found["accuracy"] <= found["majority_accuracy"] + NO_SIGNAL_MARGIN:
                no_signal.add(name)
        if progress:
            progress("cv", fold + 1, CV_FOLDS)
    out = {}
    for name, found in figures.items():
        if not found:
            continue
        out[name] = {key: round(float(np.mean([f[key] for f in found])), 4) for key in found[0]}
        out[name]["folds"] = len(found)
        # The first fold alone can beat the majority by luck on a small history: the mean over the folds decides.
        if out[name]["accuracy"] <= out[name]["majority_accuracy"] + NO_SIGNAL_MARGIN:
            no_signal.add(name)
        if name in no_signal:
            out[name]["no_signal"] = True
        elif options.calibrate and not options.fallback and not options.ensemble:
            out[name]["temperature"] = best_temperature(held_out[name])
    return out


def train_desk_model(records: Sequence[Mapping], fields: Sequence[str], *, ticket_ids: Sequence[int] = (),
                     options: ModelOptions = DEFAULT_OPTIONS, with_figures: bool = True,
                     progress: Progress | None = None) -> DeskModel:
    """Heads for every field in ``fields`` that has at least two classes with enough examples and, when figures
    are computed, shows more signal than its majority class; raises ``NotEnoughData`` when none has. Fields
    left out for lack of signal keep their figures (``"no_signal": True``) and get no head."""
    started = time.perf_counter()
    trainable = [name for name in fields if _usable(_field_labels(records, name)[1], options)]
    if not trainable:
        raise NotEnoughData("no field has two classes with enough examples")
    figures = cross_validated_figures(records, trainable, options=options, progress=progress) if with_figures else {}
    learned = [name for name in trainable if not figures.get(name, {}).get("no_signal")]
    if not learned:
        raise NoSignal("no field is predicted better than by its most common value")
    encoder = FeatureEncoder(TEXT_FIELDS, CATEGORY_FIELDS, options)
    X = encoder.fit_transform(records)
    heads = {}
    for done, name in enumerate(learned):
        rows, labels = _field_labels(records, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            heads[name] = LabelHead(options).fit(X[rows], labels, temperature=figures.get(name, {}).get("temperature"))
        figures.setdefault(name, {})
        figures[name].update(examples=len(rows), classes=[str(c) for c in heads[name].classes],
                             left_out=heads[name].left_out)
        if progress:
            progress("fit", done + 1, len(learned))
    for name in trainable:
        if name not in heads:
            figures[name]["examples"] = len(_field_labels(records, name)[0])
    neighbours = normalize(encoder.blocks["word"].transform(encoder._views(records)["body"])) \
        if "word" in encoder.blocks and not encoder.blocks["word"].empty else None
    model = DeskModel(encoder=encoder, heads=heads, figures=figures)
    if ticket_ids and neighbours is not None:
        model.neighbour_ids = np.asarray(ticket_ids, dtype=np.int64)
        model.neighbour_matrix = _word_padded(neighbours, X.shape[1]).astype(np.float32)
    model.figures["_fit_seconds"] = round(time.perf_counter() - started, 2)
    return model


def _word_padded(word_matrix: sp.csr_matrix, width: int) -> sp.csr_matrix:
    """The word block in the full feature space's columns (it comes first), so a transformed record can be
    compared with it directly; the other blocks' columns are zero."""
    word_matrix = word_matrix.tocsr()
    return sp.csr_matrix((word_matrix.data, word_matrix.indices, word_matrix.indptr), shape=(word_matrix.shape[0], width))


def save(model: DeskModel, path: Path) -> str:
    """Write the model to ``path`` (atomically) and return its SHA-256."""
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    data = buffer.getvalue()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_bytes(data)
    partial.replace(path)
    return hashlib.sha256(data).hexdigest()


def load(path: Path, *, sha256: str) -> DeskModel:
    """The model saved at ``path``, refused unless its bytes still have the SHA-256 recorded at training (a file
    changed or cut short is never unpickled)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"cannot read {path}: {exc}") from exc
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ModelFileError(f"{path} does not match its recorded SHA-256")
    try:
        model = joblib.load(io.BytesIO(data))
    except Exception as exc:  # a file that matches its hash but fails to load: another library version
        raise ModelFileError(f"cannot load {path}: {exc}") from exc
    if not isinstance(model, DeskModel) or getattr(model, "format", None) != FORMAT:
        raise ModelFileError(f"{path} is not a triage model of format {FORMAT}")
    return model
