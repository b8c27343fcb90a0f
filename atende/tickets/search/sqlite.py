"""SQLite FTS5 backend: one row per ticket in the virtual table ``ticket_search`` (rowid = ticket id).

Columns: subject, body (public replies), notes (internal notes), people (requester name and email). Tokenizer
``porter unicode61 remove_diacritics 2``: English stemming, accents folded. FTS5 has no Portuguese stemmer, so
``search.text.pt_stem`` expands each query word with a stripped-stem prefix.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from atende.tickets.search.text import Term, pt_stem

TABLE = "ticket_search"
OPEN, CLOSE = "\x02", "\x03"
PUBLIC_COLUMNS = "{subject body people}"
# bm25 weights per column (subject, body, notes, people): a match in the subject counts most.
BM25 = f"bm25({TABLE}, 8.0, 1.0, 0.5, 4.0)"
_CHUNK = 500

CREATE_SQL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
    "subject, body, notes, people, tokenize = 'porter unicode61 remove_diacritics 2')"
)
DROP_SQL = f"DROP TABLE IF EXISTS {TABLE}"

_TEXT_SELECT = f"""
INSERT INTO {TABLE} (rowid, subject, body, notes, people)
SELECT t.id, t.subject,
  COALESCE((SELECT group_concat(m.body_text, char(10)) FROM tickets_message m
            WHERE m.ticket_id = t.id AND m.kind = 'reply'), ''),
  COALESCE((SELECT group_concat(m.body_text, char(10)) FROM tickets_message m
            WHERE m.ticket_id = t.id AND m.kind = 'note'), ''),
  COALESCE(u.name, '') || ' ' || COALESCE(u.email, '')
FROM tickets_ticket t JOIN accounts_user u ON u.id = t.requester_id
WHERE t.id IN ({{placeholders}})
"""


def reindex(ticket_ids: list[int], *, new: frozenset[int] = frozenset()) -> None:
    with connection.cursor() as cursor:
        for start in range(0, len(ticket_ids), _CHUNK):
            chunk = ticket_ids[start:start + _CHUNK]
            old = [pk for pk in chunk if pk not in new]  # a new ticket has no row yet (ids are never reused)
            if old:
                cursor.execute(f"DELETE FROM {TABLE} WHERE rowid IN ({','.join(['%s'] * len(old))})", old)
            cursor.execute(_TEXT_SELECT.replace("{placeholders}", ",".join(["%s"] * len(chunk))), chunk)


# The batch's messages (one per ticket), each checked to be of its ticket and kind, read by primary key.
_BATCH = """SELECT m.ticket_id, m.kind, m.body_text FROM tickets_message m
  JOIN (VALUES {rows}) AS b ON m.id = b.column1 AND m.ticket_id = b.column2 AND m.kind = b.column3"""
_APPEND = f"""
UPDATE {TABLE} SET
  body = CASE WHEN x.kind = 'reply' THEN body || CASE WHEN body = '' THEN '' ELSE char(10) END || x.body_text
         ELSE body END,
  notes = CASE WHEN x.kind = 'note' THEN notes || CASE WHEN notes = '' THEN '' ELSE char(10) END || x.body_text
          ELSE notes END
FROM ({_BATCH}) AS x
WHERE {TABLE}.rowid = x.ticket_id
"""
_APPENDED = f"SELECT x.ticket_id FROM ({_BATCH}) AS x WHERE EXISTS (SELECT 1 FROM {TABLE} WHERE rowid = x.ticket_id)"


def append(messages: list[tuple[int, int, str]]) -> set[int]:
    """One UPDATE for the batch (at most one message per ticket): each column gets its message's text after a
    newline (as ``reindex`` joins them). FTS5 re-tokenizes each row, but no other message is read. FTS5 has no
    RETURNING: when fewer rows than messages changed, one more query tells which tickets were done."""
    if not messages:
        return set()
    rows = ",".join(["(%s, %s, %s)"] * len(messages))
    params = [value for ticket_id, message_id, kind in messages for value in (message_id, ticket_id, kind)]
    with connection.cursor() as cursor:
        cursor.execute(_APPEND.replace("{rows}", rows), params)
        if cursor.rowcount == len(messages):
            return {ticket_id for ticket_id, _message_id, _kind in messages}
        cursor.execute(_APPENDED.replace("{rows}", rows), params)
        return {row[0] for row in cursor.fetchall()}


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _term_expr(term: Term) -> str:
    if term.phrase:
        return _quote(term.text)
    if term.prefix:
        return _quote(term.text) + "*"
    stem = pt_stem(term.text)
    if stem != term.text:
        return f"({_quote(term.text)} OR {_quote(stem)}*)"
    return _quote(term.text)


def match_expression(terms: list[Term], *, include_notes: bool) -> str:
    positive = [t for t in terms if not t.negated]
    negative = [t for t in terms if t.negated]
    expr = " AND ".join(_term_expr(t) for t in positive)
    if negative:
        expr = f"({expr}) NOT ({' OR '.join(_term_expr(t) for t in negative)})"
    if not include_notes:
        expr = f"{PUBLIC_COLUMNS} : ({expr})"
    return expr


def _matching(qs: QuerySet, expr: str) -> QuerySet:
    # A join with the virtual table; SQLite drives it from the FTS index (MATCH) and looks tickets up by id.
    return qs.extra(tables=[TABLE], where=[f"{TABLE}.rowid = tickets_ticket.id", f"{TABLE} MATCH %s"],
                    params=[expr])


def ranked_ids(qs: QuerySet, terms: list[Term], *, include_notes: bool, offset: int, limit: int,
               window: int) -> tuple[list[tuple[int, float]], bool]:
    """(ticket id, score) best first, among the newest ``window`` matches; and whether the window was full."""
    expr = match_expression(terms, include_notes=include_notes)
    matching = _matching(qs.order_by(), expr)
    floor = list(matching.extra(select={"fts_rowid": f"{TABLE}.rowid"}, order_by=["-fts_rowid"])
                 .values_list("id", flat=True)[window - 1:window])
    if floor:
        # On the virtual table's rowid (not tickets.id) so FTS5 itself only visits the window's rows.
        matching = matching.extra(where=[f"{TABLE}.rowid >= %s"], params=[floor[0]])
    rows = list(matching.extra(select={"score": BM25}, order_by=["score", "-id"])
                .values_list("id", "score")[offset:offset + limit])
    return [(pk, float(score)) for pk, score in rows], bool(floor)


def index_ranked(terms: list[Term], *, include_notes: bool, count: int, window: int
                 ) -> tuple[list[tuple[int, float]], bool]:
    """The best ``count`` (ticket id, score) among the newest ``window`` matches, read from the index alone."""
    expr = match_expression(terms, include_notes=include_notes)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s ORDER BY rowid DESC LIMIT 1 OFFSET %s",
                       [expr, window - 1])
        floor = cursor.fetchone()
        cursor.execute(f"SELECT rowid, {BM25} AS score FROM {TABLE} WHERE {TABLE} MATCH %s AND rowid >= %s "
                       f"ORDER BY score, rowid DESC LIMIT %s", [expr, floor[0] if floor else 0, count])
        return [(pk, float(score)) for pk, score in cursor.fetchall()], floor is not None


def highlights(ticket_ids: list[int], terms: list[Term], *, include_notes: bool) -> dict[int, dict[str, str]]:
    """Marked-up subject and excerpts (``\\x02``/``\\x03`` around matches; callers escape and turn them into
    ``<mark>``)."""
    if not ticket_ids:
        return {}
    expr = match_expression(terms, include_notes=include_notes)
    placeholders = ",".join(["%s"] * len(ticket_ids))
    sql = (
        f"SELECT rowid, highlight({TABLE}, 0, %s, %s), snippet({TABLE}, 1, %s, %s, '…', 24), "
        f"snippet({TABLE}, 2, %s, %s, '…', 24), snippet({TABLE}, 3, %s, %s, '…', 12) "
        f"FROM {TABLE} WHERE {TABLE} MATCH %s AND rowid IN ({placeholders})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [OPEN, CLOSE] * 4 + [expr, *ticket_ids])
        return {row[0]: {"subject": row[1], "body": row[2], "notes": row[3] if include_notes else "",
                         "people": row[4]} for row in cursor.fetchall()}
