"""Backend-independent handling of the free text of a search: terms, accents and a light Portuguese stemmer.

The user's text is split into terms (bare words, ``"quoted phrases"``, ``prefix*`` and ``-excluded`` words);
each backend turns terms into its own query language, so nothing the user types reaches the engine's syntax
unquoted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_TERM = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')
# Characters kept inside a word; everything else separates words (``ana@x.com`` stays one term).
_WORD_CHARS = re.compile(r"[^\w@.+'-]+", re.UNICODE)

MAX_TERMS = 12


@dataclass(frozen=True)
class Term:
    text: str  # lowercased, accents removed; a phrase keeps its inner spaces
    phrase: bool = False
    prefix: bool = False
    negated: bool = False


def unaccent(value: str) -> str:
    """``ação`` → ``acao``: what FTS5's ``remove_diacritics`` and PostgreSQL's ``unaccent`` do at index time."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def parse_terms(text: str) -> list[Term]:
    terms: list[Term] = []
    for neg_phrase, phrase, neg_word, word in _TERM.findall(text or ""):
        if phrase:
            cleaned = " ".join(_WORD_CHARS.sub(" ", unaccent(phrase.lower())).split())
            if cleaned:
                terms.append(Term(cleaned, phrase=True, negated=bool(neg_phrase)))
            continue
        prefix = word.endswith("*")
        for piece in _WORD_CHARS.sub(" ", unaccent(word.lower())).split():
            piece = piece.strip(".'-+")
            if piece:
                terms.append(Term(piece, prefix=prefix, negated=bool(neg_word)))
    positive = [t for t in terms if not t.negated][:MAX_TERMS]
    negative = [t for t in terms if t.negated][:MAX_TERMS]
    return positive + negative if positive else []


# A light Portuguese suffix stripper, in the spirit of RSLP (Orengo & Huyck 2001) but far smaller. SQLite's FTS5
# ships only an English (porter) stemmer, so at query time a Portuguese word also matches words that share its
# stripped stem as a prefix: "impressoras" finds "impressora", "configuração" finds "configurar".
_PT_SUFFIXES = (
    # adverbs, nouns and adjectives
    "amente", "mente", "acoes", "icoes", "coes", "acao", "icao", "cao", "mentos", "mento", "idades", "idade",
    "aveis", "iveis", "avel", "ivel", "ismos", "ismo", "istas", "ista", "arios", "ario", "ancia", "encia",
    "adores", "ador", "osos", "osas", "oso", "osa", "inhos", "inhas", "inho", "inha", "oes", "aes",
    # verbs
    "aram", "eram", "iram", "ando", "endo", "indo", "ados", "adas", "idos", "idas", "ado", "ada", "ido", "ida",
    "avam", "ava", "ar", "er", "ir", "ou", "am", "em",
    # plural and gender
    "es", "as", "os", "s", "a", "o", "e",
)
MIN_STEM = 5


def pt_stem(word: str) -> str:
    """The stem of an unaccented lowercase Portuguese word, or the word itself when too short to strip."""
    if len(word) <= MIN_STEM or not word.isalpha():
        return word
    for suffix in _PT_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM - 1:
            return word[: -len(suffix)]
    return word
