"""Recurring problems (read only): the last 7 or 30 days of tickets grouped into topics.

Tickets of the window (subject and the start of the first message) are turned into TF-IDF vectors fitted on the
window itself, so the words that stand out are this period's, and grouped by average-linkage agglomerative
clustering on cosine distance (on a 100-dimension SVD projection when the vocabulary is large): tickets join a
group only when they are on average close enough, so one-off tickets stay alone instead of being forced into a
topic. A topic is a cluster of at least ``MIN_TOPIC_TICKETS`` tickets: its top terms (the heaviest words of
its centre), its count, the count of the previous period of the same length (previous tickets matched to their
nearest centre, when close enough), and the teams its tickets went to."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Substr
from django.utils import timezone
from sklearn.cluster import AgglomerativeClustering
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from atende.accounts.models import User
from atende.tickets.choices import MessageKind
from atende.tickets.models import Message
from atende.tickets.selectors import ticket_list_for_user
from atende.triage.learning.text import normalise

MIN_TOPIC_TICKETS = 3
MAX_WINDOW_TICKETS = 3_000  # the most recent ones; clustering cost grows with the square of the count
MAX_DISTANCE = 0.75  # average cosine distance under which tickets are one topic (similarity above 0.25)
SVD_DIMENSIONS = 100
BODY_CHARS = 1_000
MATCH_SIMILARITY = 0.2  # a previous-period ticket counts for a topic only when at least this close to its centre
TOP_TERMS = 5
# Words every ticket has say nothing about its topic (English and Portuguese greetings and fillers).
STOP_WORDS = sorted({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "for", "from", "has", "have", "hello", "hi",
    "i", "in", "is", "it", "me", "my", "not", "of", "on", "or", "please", "since", "thanks", "thank", "that",
    "the", "this", "to", "we", "with", "you", "your", "o", "os", "um", "uma", "de", "do", "da", "dos", "das",
    "e", "em", "no", "na", "nos", "nas", "por", "para", "com", "que", "não", "se", "ao", "olá", "oi", "obrigado",
    "obrigada", "favor", "meu", "minha", "é", "está", "estou",
})


@dataclass
class Topic:
    terms: list[str]
    count: int
    previous_count: int
    teams: list[tuple[str, int]]  # (team name, tickets), most first; "" for tickets without a team
    ticket_ids: list[int] = field(default_factory=list)

    @property
    def trend(self) -> int:
        """Tickets more (positive) or fewer than in the previous period."""
        return self.count - self.previous_count


def _rows(user: User, start: datetime.datetime, end: datetime.datetime) -> list[tuple]:
    first_body = Subquery(Message.objects.filter(ticket_id=OuterRef("pk"), kind=MessageKind.REPLY)
                          .order_by("created_at", "id").annotate(head=Substr("body_text", 1, BODY_CHARS))
                          .values("head")[:1])
    qs = ticket_list_for_user(user=user).filter(created_at__gte=start, created_at__lt=end, merged_into__isnull=True,
                                                is_spam=False)
    return list(qs.order_by("-created_at", "-id").annotate(first_body=first_body)
                .values_list("id", "subject", "first_body", "team__name")[:MAX_WINDOW_TICKETS])


def _text(subject: str, body: str | None) -> str:
    return normalise(f"{subject} {subject} {body or ''}")  # the subject counts twice: it names the problem


def recurring_topics(*, user: User, days: int = 7, now: datetime.datetime | None = None) -> list[Topic]:
    """Topics of the tickets ``user`` may see created in the last ``days`` days, largest first."""
    now = now or timezone.now()
    period = datetime.timedelta(days=days)
    current = _rows(user, now - period, now)
    if len(current) < MIN_TOPIC_TICKETS * 2:
        return []
    # A word in most tickets names no topic; in a small window a real topic can be half the tickets, though.
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_df=0.5 if len(current) >= 50 else 0.9,
                                 sublinear_tf=True,
                                 stop_words=STOP_WORDS, token_pattern=r"(?u)\b[^\W\d_][\w-]+\b")
    try:
        X = normalize(vectorizer.fit_transform([_text(subject, body) for _pk, subject, body, _team in current]))
    except ValueError:  # no word is shared by two tickets: no topic
        return []
    worded = np.flatnonzero(X.getnnz(axis=1))  # tickets sharing no word with another are one-offs
    if len(worded) < MIN_TOPIC_TICKETS:
        return []
    dense = X[worded].toarray() if X.shape[1] <= SVD_DIMENSIONS * 3 else \
        normalize(TruncatedSVD(SVD_DIMENSIONS, random_state=0).fit_transform(X[worded]))
    labels = np.full(X.shape[0], -1)
    labels[worded] = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                             distance_threshold=MAX_DISTANCE).fit_predict(dense)
    clusters = int(labels.max()) + 1
    centres = normalize(np.vstack([np.asarray(X[labels == c].mean(axis=0)) for c in range(clusters)]))
    previous = _rows(user, now - 2 * period, now - period)
    previous_counts: Counter[int] = Counter()
    if previous:
        P = normalize(vectorizer.transform([_text(subject, body) for _pk, subject, body, _team in previous]))
        sims = np.asarray(P @ centres.T)
        best = sims.argmax(axis=1)
        for row, cluster in enumerate(best):
            if sims[row, cluster] >= MATCH_SIMILARITY:
                previous_counts[int(cluster)] += 1
    terms = np.asarray(vectorizer.get_feature_names_out())
    topics = []
    for cluster in range(clusters):
        members = np.flatnonzero(labels == cluster)
        if len(members) < MIN_TOPIC_TICKETS or not X[members].nnz:
            continue
        weights = centres[cluster]
        top = [str(terms[i]) for i in np.argsort(-weights)[:TOP_TERMS] if weights[i] > 0]
        teams = Counter(current[i][3] or "" for i in members)
        topics.append(Topic(terms=top, count=len(members), previous_count=previous_counts[cluster],
                            teams=teams.most_common(), ticket_ids=[current[i][0] for i in members]))
    topics.sort(key=lambda t: (-t.count, t.terms))
    return topics
