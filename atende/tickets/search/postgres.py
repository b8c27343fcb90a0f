"""PostgreSQL backend: table ``ticket_search`` (one row per ticket) with a ``tsvector`` under a GIN index.

The document holds each text twice, stemmed in English (``atende_en``) and in Portuguese (``atende_pt``), so a
ticket is found whatever language it is written in; both configurations fold accents with ``unaccent`` when the
extension is available. Weights: A subject, B requester, C public replies, D internal notes (customers' searches
filter D out with ``ts_filter``).
"""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from atende.tickets.search.text import Term

TABLE = "ticket_search"
OPEN, CLOSE = "\x02", "\x03"
_CHUNK = 1000
_MAX_TEXT = 200_000  # PostgreSQL caps a tsvector at 1 MB; very long threads keep their first 200k characters


def _vector(column: str, weight: str) -> str:
    return (f"setweight(to_tsvector('atende_en', {column}), '{weight}') || "
            f"setweight(to_tsvector('atende_pt', {column}), '{weight}')")


_UPSERT = f"""
INSERT INTO {TABLE} (ticket_id, subject, body, notes, people, document)
SELECT x.id, x.subject, x.body, x.notes, x.people,
       {_vector("x.subject", "A")} || {_vector("x.people", "B")} || {_vector("x.body", "C")} || {_vector("x.notes", "D")}
FROM (
  SELECT t.id, t.subject,
    left(COALESCE((SELECT string_agg(m.body_text, E'\\n' ORDER BY m.id) FROM tickets_message m
                   WHERE m.ticket_id = t.id AND m.kind = 'reply'), ''), {_MAX_TEXT}) AS body,
    left(COALESCE((SELECT string_agg(m.body_text, E'\\n' ORDER BY m.id) FROM tickets_message m
                   WHERE m.ticket_id = t.id AND m.kind = 'note'), ''), {_MAX_TEXT}) AS notes,
    COALESCE(u.name, '') || ' ' || COALESCE(u.email, '') AS people
  FROM tickets_ticket t JOIN accounts_user u ON u.id = t.requester_id
  WHERE t.id = ANY(%s)
) x
ON CONFLICT (ticket_id) DO UPDATE SET subject = EXCLUDED.subject, body = EXCLUDED.body, notes = EXCLUDED.notes,
  people = EXCLUDED.people, document = EXCLUDED.document
"""


def reindex(ticket_ids: list[int], *, new: frozenset[int] = frozenset()) -> None:
    with connection.cursor() as cursor:
        for start in range(0, len(ticket_ids), _CHUNK):
            chunk = ticket_ids[start:start + _CHUNK]
            cursor.execute(_UPSERT, [chunk])
            if all(pk in new for pk in chunk):
                continue  # created in this transaction: not deleted meanwhile
            # tickets deleted meanwhile
            cursor.execute(f"DELETE FROM {TABLE} s WHERE s.ticket_id = ANY(%s) AND NOT EXISTS "
                           f"(SELECT 1 FROM tickets_ticket t WHERE t.id = s.ticket_id)", [chunk])


_APPEND = f"""
UPDATE {TABLE} s SET
  body = CASE WHEN x.kind <> 'reply' THEN s.body WHEN s.body = '' THEN x.body_text
         ELSE s.body || E'\\n' || x.body_text END,
  notes = CASE WHEN x.kind <> 'note' THEN s.notes WHEN s.notes = '' THEN x.body_text
          ELSE s.notes || E'\\n' || x.body_text END,
  document = s.document || CASE WHEN x.kind = 'reply' THEN {_vector("x.body_text", "C")}
                                ELSE {_vector("x.body_text", "D")} END
FROM (SELECT m.ticket_id, m.kind, m.body_text FROM tickets_message m
      JOIN unnest(%s::bigint[], %s::bigint[], %s::text[]) AS b(message_id, ticket_id, kind)
        ON m.id = b.message_id AND m.ticket_id = b.ticket_id AND m.kind = b.kind) x
WHERE s.ticket_id = x.ticket_id
  AND length(CASE WHEN x.kind = 'reply' THEN s.body ELSE s.notes END) + 1 + length(x.body_text) <= {_MAX_TEXT}
RETURNING s.ticket_id
"""


def append(messages: list[tuple[int, int, str]]) -> set[int]:
    """One UPDATE for the batch (at most one message per ticket): each column gets its message's text after a
    newline, the document the message's own vector (only the new text is parsed). A thread that would pass
    ``_MAX_TEXT`` is left to ``reindex``."""
    if not messages:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(_APPEND, [[m for _t, m, _k in messages], [t for t, _m, _k in messages],
                                 [k for _t, _m, k in messages]])
        return {row[0] for row in cursor.fetchall()}


def _term_sql(term: Term) -> tuple[str, list[str]]:
    if term.phrase:
        return "(phraseto_tsquery('atende_en', %s) || phraseto_tsquery('atende_pt', %s))", [term.text, term.text]
    if term.prefix:
        word = "".join(c for c in term.text if c.isalnum())
        if word:
            literal = f"'{word}':*"
            return "(to_tsquery('atende_en', %s) || to_tsquery('atende_pt', %s))", [literal, literal]
    return "(plainto_tsquery('atende_en', %s) || plainto_tsquery('atende_pt', %s))", [term.text, term.text]


def build_tsquery(terms: list[Term]) -> str:
    """The tsquery text for ``terms`` (stemmed by PostgreSQL itself); '' when only stop words remain."""
    parts, params = [], []
    for term in terms:
        sql, term_params = _term_sql(term)
        parts.append(f"!!{sql}" if term.negated else sql)
        params.extend(term_params)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({' && '.join(parts)})::text", params)
        return cursor.fetchone()[0] or ""


def _matching(qs: QuerySet, tsquery: str, *, include_notes: bool) -> QuerySet:
    where = [f"{TABLE}.ticket_id = tickets_ticket.id", f"{TABLE}.document @@ %s::tsquery"]
    params = [tsquery]
    if not include_notes:
        where.append(f"ts_filter({TABLE}.document, '{{a,b,c}}') @@ %s::tsquery")
        params.append(tsquery)
    return qs.extra(tables=[TABLE], where=where, params=params)


def ranked_ids(qs: QuerySet, terms: list[Term], *, include_notes: bool, offset: int, limit: int,
               window: int) -> tuple[list[tuple[int, float]], bool]:
    tsquery = build_tsquery(terms)
    if not tsquery or not any(not t.negated for t in terms):
        return [], False
    matching = _matching(qs.order_by(), tsquery, include_notes=include_notes)
    floor = list(matching.order_by("-id").values_list("id", flat=True)[window - 1:window])
    if floor:
        matching = matching.filter(id__gte=floor[0])
    rows = list(matching.extra(select={"score": f"ts_rank({TABLE}.document, %s::tsquery)"}, select_params=[tsquery],
                               order_by=["-score", "-id"]).values_list("id", "score")[offset:offset + limit])
    return [(pk, float(score)) for pk, score in rows], bool(floor)


def index_ranked(terms: list[Term], *, include_notes: bool, count: int, window: int
                 ) -> tuple[list[tuple[int, float]], bool]:
    """The best ``count`` (ticket id, score) among the newest ``window`` matches, read from the index alone."""
    tsquery = build_tsquery(terms)
    if not tsquery or not any(not t.negated for t in terms):
        return [], False
    match = "document @@ %s::tsquery" + ("" if include_notes else " AND ts_filter(document, '{a,b,c}') @@ %s::tsquery")
    params = [tsquery] if include_notes else [tsquery, tsquery]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ticket_id FROM {TABLE} WHERE {match} ORDER BY ticket_id DESC OFFSET %s LIMIT 1",
                       [*params, window - 1])
        floor = cursor.fetchone()
        cursor.execute(f"SELECT ticket_id, ts_rank(document, %s::tsquery) AS score FROM {TABLE} "
                       f"WHERE {match} AND ticket_id >= %s ORDER BY score DESC, ticket_id DESC LIMIT %s",
                       [tsquery, *params, floor[0] if floor else 0, count])
        return [(pk, float(score)) for pk, score in cursor.fetchall()], floor is not None


_HEADLINE = "StartSel=\x02, StopSel=\x03, MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=\" … \""


def highlights(ticket_ids: list[int], terms: list[Term], *, include_notes: bool) -> dict[int, dict[str, str]]:
    if not ticket_ids:
        return {}
    tsquery = build_tsquery(terms)
    if not tsquery:
        return {}
    # Headlines parse the stored text again (in Portuguese: the query always holds the Portuguese stems).
    sql = (
        f"SELECT ticket_id, ts_headline('atende_pt', subject, q, 'HighlightAll=true, StartSel=\x02, StopSel=\x03'), "
        f"ts_headline('atende_pt', body, q, %s), "
        f"CASE WHEN %s THEN ts_headline('atende_pt', notes, q, %s) ELSE '' END, "
        f"ts_headline('atende_pt', people, q, 'HighlightAll=true, StartSel=\x02, StopSel=\x03') "
        f"FROM {TABLE}, CAST(%s AS tsquery) q WHERE ticket_id = ANY(%s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_HEADLINE, include_notes, _HEADLINE, tsquery, list(ticket_ids)])
        return {row[0]: {"subject": row[1], "body": row[2], "notes": row[3] or "", "people": row[4]}
                for row in cursor.fetchall()}


CREATE_SQL = [
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        ticket_id bigint PRIMARY KEY,
        subject text NOT NULL DEFAULT '',
        body text NOT NULL DEFAULT '',
        notes text NOT NULL DEFAULT '',
        people text NOT NULL DEFAULT '',
        document tsvector NOT NULL
    )""",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_document ON {TABLE} USING GIN (document)",
]
DROP_SQL = [f"DROP TABLE IF EXISTS {TABLE}", "DROP TEXT SEARCH CONFIGURATION IF EXISTS atende_en",
            "DROP TEXT SEARCH CONFIGURATION IF EXISTS atende_pt"]


def create_configurations(cursor) -> None:
    """``atende_en``/``atende_pt``: the built-in English/Portuguese configurations, plus ``unaccent`` if the
    extension can be created (it ships with PostgreSQL's contrib package and is trusted since PostgreSQL 13)."""
    cursor.execute("SAVEPOINT atende_unaccent")
    try:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        cursor.execute("RELEASE SAVEPOINT atende_unaccent")
        has_unaccent = True
    except Exception:
        cursor.execute("ROLLBACK TO SAVEPOINT atende_unaccent")
        has_unaccent = False
    for name, base, stem in (("atende_en", "english", "english_stem"), ("atende_pt", "portuguese", "portuguese_stem")):
        cursor.execute("SELECT 1 FROM pg_ts_config WHERE cfgname = %s", [name])
        if cursor.fetchone():
            continue
        cursor.execute(f"CREATE TEXT SEARCH CONFIGURATION {name} (COPY = pg_catalog.{base})")
        if has_unaccent:
            cursor.execute(f"ALTER TEXT SEARCH CONFIGURATION {name} ALTER MAPPING FOR hword, hword_part, word "
                           f"WITH unaccent, {stem}")
