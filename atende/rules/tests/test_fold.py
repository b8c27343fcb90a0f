"""``fold``, the case- and accent-insensitive form conditions compare, is the same for any text as the plain
definition (NFKD, combining marks dropped, casefolded) its fast paths stand for."""

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from atende.rules.fields import fold


def plain_fold(text) -> str:
    normalized = unicodedata.normalize("NFKD", str(text or ""))
    return "".join(c for c in normalized if not unicodedata.combining(c)).casefold()


@given(st.text())
def test_fold_is_the_plain_definition(text):
    assert fold(text) == plain_fold(text)


def test_fold_examples():
    for text in ("Não consigo", "ÇA VA", "Export to Excel fails", "ﬁle", "straße", "", None, 42, "Ǆ", "e\u0301"):
        assert fold(text) == plain_fold(text)
    assert fold("Não Ação") == "nao acao"
