"""A charset named by the sender (a part's ``charset=`` or an encoded word's) is any text at all: every name decodes
to text, never to an error. The codec registry answers an unknown name with LookupError, but a name holding a NUL
with ValueError and one holding a lone surrogate with UnicodeEncodeError (``Content-Type: text/plain; charset=\\0``
made a mailbox message "not stored")."""

import encodings.aliases

from hypothesis import example, given, settings
from hypothesis import strategies as st

from atende.email_channel.services.parsing import decode_bytes, lookup_codec, parse_email

KNOWN_NAMES = sorted(set(encodings.aliases.aliases) | set(encodings.aliases.aliases.values()))
charsets = st.one_of(st.text(max_size=30), st.sampled_from(KNOWN_NAMES),
                     st.builds(lambda a, b: a + b, st.sampled_from(KNOWN_NAMES), st.sampled_from(["\x00", "\ud800", " "])))
payloads = st.one_of(st.binary(max_size=200), st.sampled_from([b"caf\xc3\xa9", b"caf\xe9", b"\xff\xfe\x00a", b"+AGEA-"]))


@settings(deadline=None)
@given(charset=charsets, data=payloads)
@example(charset="\x00", data=b"x")
@example(charset="\ud800", data=b"x")
@example(charset="utf-8\x00", data=b"caf\xc3\xa9")
@example(charset="base64", data=b"not base64")  # a bytes-to-bytes codec, not a text encoding
def test_any_charset_name_decodes_to_text(charset, data):
    assert isinstance(lookup_codec(charset), str)
    assert isinstance(decode_bytes(data, charset), str)


@settings(deadline=None)
@given(charset=charsets.filter(lambda name: "\n" not in name and "\r" not in name))
@example(charset="\x00")
@example(charset="")
def test_a_message_whose_parts_and_words_name_any_charset_parses(charset):
    header = charset.encode("utf-8", "surrogateescape") if charset.isascii() else charset.encode("utf-8", "replace")
    raw = (b"From: Ana <ana@customer.example>\r\nTo: support@atende.test\r\nSubject: =?" + header
           + b"?Q?caf=C3=A9?=\r\nMessage-ID: <c@customer.example>\r\nContent-Type: text/plain; charset=\"" + header
           + b"\"\r\n\r\ncaf\xc3\xa9 body\r\n")
    parsed = parse_email(raw)  # the body as the named charset reads it (EBCDIC's "037" makes other letters)
    assert isinstance(parsed.text, str) and parsed.text.strip()
    assert isinstance(parsed.subject, str) and parsed.subject
