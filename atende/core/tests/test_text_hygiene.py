"""Subjects, names and file names never carry control, bidirectional-override or hiding zero-width characters,
whatever arrives; bodies keep all but NUL and the C0 controls. Checked on the functions and on the one write
path of each (ticket create and update, message add, attachment store, customer, user and organisation)."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atende.accounts.services import customer_get_or_create, organization_create, user_update_profile
from atende.core.actor import Actor
from atende.core.text_hygiene import BIDI, CONTROLS, ZERO_WIDTH, clean_body, clean_filename, clean_line
from atende.tickets.services import IncomingFile, message_add_reply, ticket_create, ticket_update

FORBIDDEN_IN_LINES = re.compile(f"[{CONTROLS}{BIDI}{ZERO_WIDTH}]")
JOINERS_NEXT_TO_ASCII = re.compile(r"[\u200c\u200d](?=[\x00-\x7f]|$)|(?:(?<=[\x00-\x7f])|^)[\u200c\u200d]")
# Unicode spaces (U+00A0, U+3000) and dots matter too: collapsing or stripping them moves a joiner next to ASCII.
HOSTILE = ["\x00", "\x1b[31m", "\u202e", "\u2066", "\u2069", "\u200b", "\u200d", "\u200c", "\ufeff", "\r\n", "\x7f",
           "\x85", "\xa0", "\u3000", " ", "."]
# Text biased towards the characters that matter, mixed with any Unicode.
hostile_text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=5),
                                  st.characters(codec="utf-8")), max_size=40).map("".join)


def assert_clean_line(text: str, max_length: int | None = None):
    assert not FORBIDDEN_IN_LINES.search(text), repr(text)
    assert not JOINERS_NEXT_TO_ASCII.search(text), repr(text)
    assert text == text.strip() and "  " not in text
    if max_length:
        assert len(text) <= max_length


@given(hostile_text, st.sampled_from([5, 20, 255]))
def test_clean_line_leaves_no_unsafe_character_and_is_idempotent(text, limit):
    cleaned = clean_line(text, limit)
    assert_clean_line(cleaned, limit)
    assert clean_line(cleaned, limit) == cleaned


@given(hostile_text)
def test_clean_body_drops_only_nul_and_c0_controls(text):
    cleaned = clean_body(text)
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", cleaned)
    assert cleaned == "".join(c for c in text if c in "\t\n\r" or not re.match("[\x00-\x1f\x7f]", c))


@given(hostile_text.map(lambda t: t + "." + t[:7]))
def test_clean_filename_is_one_safe_segment(name):
    cleaned = clean_filename(name)
    assert cleaned and len(cleaned) <= 200
    assert_clean_line(cleaned)
    assert not re.search(r'[/\\<>:"|?*]', cleaned)
    assert not cleaned.startswith(".") and not cleaned.endswith((".", " ")) and " " not in cleaned
    assert cleaned.split(".")[0].lower() not in {"con", "nul", "aux", "prn", "com1", "lpt1"}
    assert clean_filename(cleaned) == cleaned
    assert unicodedata.is_normalized("NFC", cleaned)


@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd", "passwd"), ("..\\..\\boot.ini", "boot.ini"), ("..", "attachment"), ("", "attachment"),
    ("invoice\u202efdp.exe", "invoicefdp.exe"), ("CON.txt", "_CON.txt"), ("nul", "_nul"), ("a\x00b.pdf", "ab.pdf"),
    ("report.pdf.", "report.pdf"), (".htaccess", "htaccess"), ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
    ("résumé (1).pdf", "résumé_(1).pdf"), ("../../etc/screen shot.png", "screen_shot.png"), ('a:b"c.txt', "a_b_c.txt"),
    ("\xa0\u200d\xa0.txt", "txt"), ("é\u200d" * 150 + "é.pdf", "é\u200d" * 97 + "é.pdf"),  # the cut ended on a joiner
])
def test_file_names(name, expected):
    assert clean_filename(name) == expected


@pytest.mark.parametrize("text, expected", [
    ("Pay\u200dPal invoice", "PayPal invoice"),  # a joiner hiding inside an ASCII word goes
    ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"),  # Persian keeps ZWNJ
    ("\U0001f468\u200d\U0001f469\u200d\U0001f467 family", "\U0001f468\u200d\U0001f469\u200d\U0001f467 family"),
    ("Re: \u202eTotal\u202c due", "Re: Total due"), ("a\r\nBcc: x@y", "a Bcc: x@y"),
    ("\xa0\u200d\xa0x", "x"),  # the joiner was between two no-break spaces, which collapse away
    ("0\r\n\u200d\r\n.", "0 ."),  # removing the joiner leaves two spaces side by side
])
def test_lines(text, expected):
    assert clean_line(text) == expected


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(subject=hostile_text, name=hostile_text, filename=hostile_text)
def test_every_write_path_stores_clean_subjects_names_and_file_names(customer, agent, subject, name, filename):
    actor = Actor.for_user(customer)
    ticket = ticket_create(actor=actor, requester=customer, subject=("S " + subject), body_text="a\x00b\u202ec",
                           attachments=[IncomingFile(filename + ".txt", b"data", "text/plain")])
    ticket.refresh_from_db()
    assert_clean_line(ticket.subject, 255)
    first = ticket.messages.get()
    assert first.body_text == "ab\u202ec"  # bodies keep bidi characters (escaped when shown), never NUL
    assert_clean_line(ticket.attachments.get().filename)
    reply = message_add_reply(ticket=ticket, actor=actor, body_text="r\x00\x1b" + subject,
                              attachments=[IncomingFile("x/" + filename, b"more", "text/plain")])
    assert "\x00" not in reply.body_text and "\x1b" not in reply.body_text
    assert_clean_line(reply.attachments.get().filename)
    updated = ticket_update(ticket=ticket, actor=Actor.for_user(agent), changes={"subject": "U " + subject})
    assert_clean_line(updated.subject, 255)
    user = user_update_profile(user=customer, name=name)
    user.refresh_from_db()
    assert_clean_line(user.name, 200)
    stranger = customer_get_or_create(email=f"n{abs(hash(name)) % 10**9}@example.com", name=name)
    assert_clean_line(stranger.name, 200)


def test_organisation_names(db):
    assert organization_create(name="\u202eACME\u202c\x00 Ltd").name == "ACME Ltd"
