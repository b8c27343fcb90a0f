"""The triage model: TF-IDF features from a ticket's text fields, and one linear classifier per predicted field.

``FeatureEncoder`` turns records (plain dicts of field → text) into one sparse matrix: word 1–2-grams of all the
text, word 1–2-grams of the title on their own, character 2–5-grams (robust to typos, German compounds and
identifiers), and short fields (caller, channel, organisation) as whole-value tokens. ``LabelHead`` is one
field's classifier on those features: a linear SVM; classes with too few examples are left out rather than
guessed; each class's score is lowered by a small multiple of the log of its share (prior correction), so the
majority class does not take every ambiguous ticket; confidences are those scores turned into probabilities by a
temperature fitted on held-out data.
Softened class weights, a second level for rare classes and a nearest-neighbour ensemble are options, off by
default because they did not help on the measured data (docs/triage.md). ``MultiFieldModel`` is one encoder with several heads (team, category, urgency…), so a ticket is encoded
once and each field costs a matrix-vector product.

``ModelOptions`` switches every step on and off so that ``bench/triage_ablation.py`` can measure what each gives.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from atende.triage.learning.text import category_token, normalise

Record = Mapping[str, object]
RARE = "\x00rare"  # the shared slot of the rare classes in the first-level model; never a real label
CHAR_VIEW_CHARS = 1000  # character n-grams are taken from the start of the text only (prediction speed)
# Dual coordinate descent passes. With misfiled tickets in a large history the solver never converges and each
# pass costs a pass over the whole matrix; its predictions stop changing long before (30 and 200 passes give the
# same figures on the ITSM data and on a 100,000-ticket desk; docs/triage.md), so the cap bounds training time.
MAX_ITER = 30
TEMPERATURES = np.geomspace(0.02, 5.0, 60)


class NotEnoughData(ValueError):
    """The data cannot train a model (fewer than two classes with enough examples)."""


@dataclass(frozen=True)
class ModelOptions:
    kind: str = "linear"  # "linear" (the product's model), "plain" (TF-IDF + logistic regression), "majority"
    word: bool = True  # word 1–2-grams of all text fields
    title: bool = True  # word 1–2-grams of the first text field on its own
    char: bool = True  # character 2–5-grams (within words) of all text fields
    categories: bool = True  # short fields as whole-value tokens
    class_weight_power: float = 0.0  # weight of class c = (n_largest / n_c) ** power: 0 none, 1 fully balanced
    calibrate: bool = True  # temperature fitted on a held-out fifth; otherwise softmax of the raw scores
    ensemble: bool = False  # blend the nearest training tickets' votes into the SVM's probabilities
    fallback: bool = False  # rare classes share one slot; a second-level model picks among them
    min_examples: int = 3  # classes with fewer training examples are left out (see docs/triage.md)
    rare_below: int = 20  # classes with fewer examples than this go to the second level
    C: float = 1.0
    # Logit adjustment: tau * log(share of the class) is taken off each class's score, so a class is not picked
    # only for being common (the majority class takes the ambiguous tickets otherwise); 0 turns it off.
    prior_correction: float = 0.05
    char_max_features: int = 60_000


DEFAULT_OPTIONS = ModelOptions()
PRESETS: dict[str, ModelOptions] = {
    "default": DEFAULT_OPTIONS,
    "plain": ModelOptions(kind="plain"),
    "majority": ModelOptions(kind="majority"),
}


def _as_is(tokens):
    """Analyzer of the whole-value block: the record already holds its tokens (module level, so it pickles)."""
    return tokens


class _Block:
    """One vectoriser over one view of the records; a view with no usable text (all empty) gives no columns."""

    def __init__(self, vectorizer: TfidfVectorizer, weight: float = 1.0):
        self.vectorizer = vectorizer
        self.weight = weight
        self.empty = False
        self._fast = None

    def fit_transform(self, docs: list) -> sp.csr_matrix:
        try:
            matrix = self.vectorizer.fit_transform(docs)
        except ValueError:  # empty vocabulary: every document is empty or pruned away
            self.empty = True
            return sp.csr_matrix((len(docs), 0), dtype=np.float32)
        return matrix * self.weight if self.weight != 1.0 else matrix

    def transform(self, docs: list) -> sp.csr_matrix:
        if self.empty:
            return sp.csr_matrix((len(docs), 0), dtype=np.float32)
        if len(docs) == 1:
            return self._transform_one(docs[0])
        matrix = self.vectorizer.transform(docs)
        return matrix * self.weight if self.weight != 1.0 else matrix

    def _transform_one(self, doc) -> sp.csr_matrix:
        """What ``vectorizer.transform([doc])`` gives, without scikit-learn's input checks, which cost several
        times the arithmetic for one short document (a new ticket is predicted alone)."""
        vectorizer = self.vectorizer
        if self._fast is None:
            idf = vectorizer.idf_.astype(np.float32) if vectorizer.use_idf else None
            self._fast = (vectorizer.build_analyzer(), vectorizer.vocabulary_, idf)
        analyzer, vocabulary, idf = self._fast
        counts: dict[int, int] = {}
        for token in analyzer(doc):
            column = vocabulary.get(token)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        width = len(vocabulary)
        if not counts:
            return sp.csr_matrix((1, width), dtype=np.float32)
        columns = np.fromiter(sorted(counts), dtype=np.int32, count=len(counts))
        values = np.array([counts[c] for c in columns], dtype=np.float32)
        if vectorizer.sublinear_tf:
            values = np.log(values) + 1
        if idf is not None:
            values *= idf[columns]
        if vectorizer.norm == "l2":
            values /= np.sqrt((values * values).sum())
        if self.weight != 1.0:
            values *= self.weight
        return sp.csr_matrix((values, columns, np.array([0, len(columns)], dtype=np.int32)), shape=(1, width))

    def __getstate__(self):
        return {**self.__dict__, "_fast": None}


@dataclass
class FeatureEncoder:
    """Records → one sparse matrix. ``text_fields`` are free text (the first is the title); ``category_fields``
    are short values matched whole."""

    text_fields: Sequence[str]
    category_fields: Sequence[str] = ()
    options: ModelOptions = DEFAULT_OPTIONS
    blocks: dict[str, _Block] = field(default_factory=dict)

    def _views(self, records: Sequence[Record]) -> dict[str, list]:
        views: dict[str, list] = {}
        texts = [[normalise(r.get(f)) for f in self.text_fields] for r in records]
        if self.options.word or self.options.char:
            views["body"] = [" | ".join(t) for t in texts]
        if self.options.char:  # character n-grams cost one string per character: the start is enough
            views["chars"] = [body[:CHAR_VIEW_CHARS] for body in views["body"]]
        if self.options.title and len(self.text_fields) > 1:
            views["title"] = [t[0] for t in texts]
        if self.options.categories and self.category_fields:
            views["categories"] = [[f"{f}={category_token(r.get(f))}" for f in self.category_fields
                                    if category_token(r.get(f))] for r in records]
        return views

    def _new_blocks(self, n: int) -> dict[str, _Block]:
        small = n < 200  # a few dozen records: keep every word, or nothing is left to learn from
        min_df, max_df = (1, 1.0) if small else (2, 0.5)
        words = dict(sublinear_tf=True, ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b", dtype=np.float32)
        blocks = {}
        if self.options.word:
            blocks["word"] = _Block(TfidfVectorizer(min_df=min_df, max_df=max_df, **words))
        if self.options.title and len(self.text_fields) > 1:
            blocks["title"] = _Block(TfidfVectorizer(min_df=1, **words))
        if self.options.char:
            blocks["char"] = _Block(TfidfVectorizer(
                analyzer="char_wb", ngram_range=(2, 5), min_df=min_df, sublinear_tf=True,
                max_features=self.options.char_max_features, dtype=np.float32))
        if self.options.categories and self.category_fields:
            blocks["categories"] = _Block(TfidfVectorizer(analyzer=_as_is, use_idf=False, norm=None,
                                                          dtype=np.float32))
        return blocks

    @staticmethod
    def _view_of(name: str) -> str:
        return {"word": "body", "char": "chars", "title": "title", "categories": "categories"}[name]

    def fit_transform(self, records: Sequence[Record]) -> sp.csr_matrix:
        views = self._views(records)
        self.blocks = self._new_blocks(len(records))
        parts = [block.fit_transform(views[self._view_of(name)]) for name, block in self.blocks.items()]
        return _stack(parts, len(records))

    def transform(self, records: Sequence[Record]) -> sp.csr_matrix:
        views = self._views(records)
        parts = [block.transform(views[self._view_of(name)]) for name, block in self.blocks.items()]
        return _stack(parts, len(records))


def _stack(parts: list[sp.spmatrix], n: int) -> sp.csr_matrix:
    if not parts:
        return sp.csr_matrix((n, 0), dtype=np.float32)
    if n == 1:  # one record: join the rows by hand, scipy's hstack costs more than the rest of the prediction
        offsets = np.cumsum([0] + [p.shape[1] for p in parts])
        columns = np.concatenate([p.indices + offset for p, offset in zip(parts, offsets, strict=False)])
        values = np.concatenate([p.data for p in parts]).astype(np.float32, copy=False)
        return sp.csr_matrix((values, columns.astype(np.int32), np.array([0, len(columns)], dtype=np.int32)),
                             shape=(1, int(offsets[-1])))
    return sp.hstack(parts, format="csr", dtype=np.float32)


def _softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores / temperature
    z -= z.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def temperature_losses(scores: np.ndarray, truth: np.ndarray, smoothing: float = 0.0) -> np.ndarray:
    """Summed log-loss of held-out ``scores`` (rows; ``truth`` the right column) at each of ``TEMPERATURES``,
    against targets that give ``smoothing`` of the weight to the other classes."""
    losses = np.empty(len(TEMPERATURES))
    rows = np.arange(len(truth))
    others = max(scores.shape[1] - 1, 1)
    for i, temperature in enumerate(TEMPERATURES):
        logs = np.log(np.maximum(_softmax(scores.copy(), temperature), 1e-12))
        right = logs[rows, truth]
        losses[i] = -((1 - smoothing) * right + smoothing * (logs.sum(axis=1) - right) / others).sum()
    return losses


def best_temperature(held_out: Sequence[tuple[np.ndarray, np.ndarray]]) -> float:
    """The temperature with the lowest log-loss over blocks of held-out (scores, truth); 1 without any.

    The targets are smoothed by 1/(n + 2) for n held-out rows (Laplace's rule): a small history classified
    without a single held-out error would otherwise drive the temperature to its minimum and every confidence,
    even of a ticket with words of two teams, to 1.0 (and auto-apply thresholds would mean nothing)."""
    blocks = [(s, t) for s, t in held_out if len(t)]
    if not blocks:
        return 1.0
    smoothing = 1 / (sum(len(t) for _s, t in blocks) + 2)
    total = sum(temperature_losses(s, t, smoothing) for s, t in blocks)
    return float(TEMPERATURES[int(np.argmin(total))])


def _scores(model: LinearSVC, X) -> np.ndarray:
    """``model.decision_function(X)`` as one matrix product (no input checks: see ``_Block._transform_one``)."""
    scores = np.asarray(X @ model.coef_.T, dtype=np.float64) + model.intercept_
    if scores.shape[1] == 1:  # two classes: one score, positive for classes_[1]
        scores = np.column_stack([-scores[:, 0] / 2, scores[:, 0] / 2])
    return scores


class _LinearLevel:
    """One LinearSVC over some classes, with its temperature."""

    def __init__(self, options: ModelOptions):
        self.options = options
        self.classes: np.ndarray = np.array([])
        self.model: LinearSVC | None = None
        self.temperature = 1.0
        self.adjust: np.ndarray | float = 0.0  # added to the scores: the prior correction, one value per class

    def _svm(self, y: np.ndarray) -> LinearSVC:
        counts = Counter(y.tolist())
        largest = max(counts.values())
        power = self.options.class_weight_power
        weights = {c: (largest / n) ** power for c, n in counts.items()} if power else None
        # Labels the text cannot predict (drawn at random) never converge: the iteration cap bounds their cost;
        # fields like that are caught by the no-signal check before the final fit (desk_model).
        return LinearSVC(C=self.options.C, class_weight=weights, max_iter=MAX_ITER)

    def _prior_adjust(self, y: np.ndarray) -> np.ndarray | float:
        tau = self.options.prior_correction
        if not tau:
            return 0.0
        counts = np.bincount(y, minlength=len(self.classes)).astype(np.float64)
        return -tau * np.log(np.maximum(counts, 1) / counts.sum())

    def scores(self, X) -> np.ndarray:
        """The SVM's scores with the prior correction: what the probabilities and the temperature are fitted on."""
        return _scores(self.model, X) + getattr(self, "adjust", 0.0)

    def fit(self, X, y: np.ndarray, *, temperature: float | None = None) -> _LinearLevel:
        """``temperature``: one already fitted on held-out scores (cross-validation), which saves the extra fit."""
        self.classes = np.array(sorted(set(y.tolist())), dtype=object)
        if len(self.classes) == 1:
            return self
        # The SVM sees class numbers: scikit-learn reads labels such as "3" as integers in places (class weights).
        codes = np.searchsorted(self.classes, y).astype(np.int64)
        self.adjust = self._prior_adjust(codes)
        if temperature is not None:
            self.temperature = temperature
        elif self.options.calibrate:
            self.temperature = self._fit_temperature(X, codes)
        self.model = self._svm(codes).fit(X, codes)
        return self

    def _fit_temperature(self, X, y: np.ndarray) -> float:
        """The temperature that makes held-out confidences honest (lowest log-loss on a stratified fifth)."""
        counts = Counter(y.tolist())
        if len(y) < 50 or min(counts.values()) < 2:
            return 1.0
        split = StratifiedShuffleSplit(n_splits=1, test_size=0.2, random_state=0)
        train, test = next(split.split(np.zeros(len(y)), y))
        if len(set(y[train].tolist())) < 2:
            return 1.0
        model = self._svm(y[train]).fit(X[train], y[train])
        adjust = self.adjust[model.classes_] if isinstance(self.adjust, np.ndarray) else self.adjust
        scores = _scores(model, X[test]) + adjust
        index = {c: i for i, c in enumerate(model.classes_)}
        known = np.array([label in index for label in y[test]])
        if not known.any():
            return 1.0
        truth = np.array([index[label] for label in y[test][known]])
        return best_temperature([(scores[known], truth)])

    def probabilities(self, X) -> np.ndarray:
        if self.model is None:
            return np.ones((X.shape[0], 1))
        temperature = self.temperature if self.options.calibrate else 1.0
        return _softmax(self.scores(X), temperature)


class LabelHead:
    """One field's classifier over the encoder's features."""

    def __init__(self, options: ModelOptions = DEFAULT_OPTIONS):
        self.options = options
        self.left_out: dict[str, int] = {}
        self.classes: np.ndarray = np.array([])
        self.top: _LinearLevel | None = None
        self.rare: _LinearLevel | None = None
        self.neighbours: tuple[sp.csr_matrix, np.ndarray] | None = None

    def fit(self, X, labels: Sequence[str], *, temperature: float | None = None) -> LabelHead:
        """``temperature`` (one level only): fitted beforehand on cross-validated scores; see ``held_out_scores``."""
        y = np.asarray([str(label) for label in labels], dtype=object)
        counts = Counter(y.tolist())
        self.left_out = {c: n for c, n in counts.items() if n < self.options.min_examples}
        keep = np.array([label not in self.left_out for label in y])
        X, y = X[keep], y[keep]
        kept = Counter(y.tolist())
        if len(kept) < 2:
            raise NotEnoughData(f"{len(kept)} class(es) with at least {self.options.min_examples} examples")
        self.classes = np.array(sorted(kept), dtype=object)
        rare = {c for c, n in kept.items() if n < self.options.rare_below} if self.options.fallback else set()
        if len(rare) < 2 or len(rare) == len(kept):
            rare = set()
        top_y = np.array([RARE if label in rare else label for label in y], dtype=object)
        self.top = _LinearLevel(self.options).fit(X, top_y, temperature=None if rare else temperature)
        if rare:
            in_rare = np.array([label in rare for label in y])
            self.rare = _LinearLevel(self.options).fit(X[in_rare], y[in_rare])
        if self.options.ensemble:
            self.neighbours = (normalize(X).astype(np.float32), y)
        return self

    def probabilities(self, X) -> np.ndarray:
        """Rows of probabilities over ``self.classes``."""
        index = {c: i for i, c in enumerate(self.classes)}
        out = np.zeros((X.shape[0], len(self.classes)))
        top = self.top.probabilities(X)
        for j, label in enumerate(self.top.classes):
            if label != RARE:
                out[:, index[label]] = top[:, j]
        if self.rare is not None:
            share = top[:, list(self.top.classes).index(RARE)][:, None]
            sub = self.rare.probabilities(X)
            columns = [index[c] for c in self.rare.classes]
            out[:, columns] = share * sub
        if self.neighbours is not None:
            out = 0.7 * out + 0.3 * self._neighbour_votes(X, index)
        return out

    def _neighbour_votes(self, X, index: dict[str, int], k: int = 10) -> np.ndarray:
        train, labels = self.neighbours
        sims = (normalize(X) @ train.T).toarray()
        votes = np.zeros((X.shape[0], len(index)))
        top = np.argsort(-sims, axis=1)[:, :k]
        for row, nearest in enumerate(top):
            for j in nearest:
                votes[row, index[labels[j]]] += sims[row, j] ** 2
        totals = votes.sum(axis=1, keepdims=True)
        return np.divide(votes, totals, out=np.zeros_like(votes), where=totals > 0)

    def held_out_scores(self, X, labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Raw scores of the (single-level) SVM for rows of ``X`` whose label it knows, and the right column of
        each: what ``best_temperature`` reads. Empty with a second level or an ensemble (they calibrate alone)."""
        level = self.top
        if self.rare is not None or self.neighbours is not None or level is None or level.model is None:
            return np.zeros((0, 1)), np.zeros(0, dtype=int)
        index = {c: i for i, c in enumerate(level.classes)}
        rows = [r for r, label in enumerate(labels) if str(label) in index]
        truth = np.array([index[str(labels[r])] for r in rows], dtype=int)
        return level.scores(X[rows]), truth

    def predict(self, X) -> tuple[list[str], list[float]]:
        probs = self.probabilities(X)
        best = probs.argmax(axis=1)
        return [str(self.classes[i]) for i in best], [float(probs[r, i]) for r, i in enumerate(best)]


class _MajorityClassifier:
    def fit(self, records: Sequence[Record], labels: Sequence[str]) -> _MajorityClassifier:
        counts = Counter(str(label) for label in labels)
        self.label, n = counts.most_common(1)[0]
        self.share = n / len(labels)
        return self

    def predict(self, records: Sequence[Record]) -> tuple[list[str], list[float]]:
        return [self.label] * len(records), [self.share] * len(records)


class _PlainClassifier:
    """The reference: scikit-learn's TfidfVectorizer and LogisticRegression with their defaults, over the text
    fields joined by spaces."""

    def __init__(self, fields: Sequence[str]):
        self.fields = list(fields)

    def _docs(self, records: Sequence[Record]) -> list[str]:
        return [" ".join(str(r.get(f) or "") for f in self.fields) for r in records]

    def fit(self, records: Sequence[Record], labels: Sequence[str]) -> _PlainClassifier:
        self.vectorizer = TfidfVectorizer()
        self.model = LogisticRegression(max_iter=1000).fit(self.vectorizer.fit_transform(self._docs(records)),
                                                           [str(label) for label in labels])
        return self

    def predict(self, records: Sequence[Record]) -> tuple[list[str], list[float]]:
        probs = self.model.predict_proba(self.vectorizer.transform(self._docs(records)))
        best = probs.argmax(axis=1)
        return [str(self.model.classes_[i]) for i in best], [float(probs[r, i]) for r, i in enumerate(best)]


class TextClassifier:
    """One label from records: what ``atende triage evaluate`` trains and scores."""

    def __init__(self, *, text_fields: Sequence[str], category_fields: Sequence[str] = (),
                 options: ModelOptions = DEFAULT_OPTIONS):
        self.options = options
        if options.kind == "majority":
            self.inner = _MajorityClassifier()
        elif options.kind == "plain":
            self.inner = _PlainClassifier([*text_fields, *category_fields])
        else:
            self.inner = None
            self.encoder = FeatureEncoder(text_fields, category_fields, options)
            self.head = LabelHead(options)

    def fit(self, records: Sequence[Record], labels: Sequence[str]) -> TextClassifier:
        if self.inner is not None:
            self.inner.fit(records, labels)
        else:
            self.head.fit(self.encoder.fit_transform(records), labels)
        return self

    def predict(self, records: Sequence[Record]) -> tuple[list[str], list[float]]:
        if self.inner is not None:
            return self.inner.predict(records)
        return self.head.predict(self.encoder.transform(records))


def options_with(base: ModelOptions = DEFAULT_OPTIONS, **changes) -> ModelOptions:
    return replace(base, **changes)
