"""Bounces and complaints are recognised (they never open tickets) and read: who failed, how, and which of our
messages it was, in every shape: RFC 3464 DSNs, ARF reports, provider text bounces, Amazon SES JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from atende.email_channel.services.bounces import bounce_report, ses_reports
from atende.email_channel.services.loops import classify_automatic
from atende.email_channel.services.parsing import parse_email

FIXTURES = Path(__file__).parent / "fixtures" / "bounces"
CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "mail" / "sisimai-set-of-emails" / "maildir"


def sample(name: str, *, recipient="ana@customer.example", message_id="ack-1.77@atende.test", ticket=7) -> bytes:
    text = (FIXTURES / name).read_text()
    return text.replace("{RECIPIENT}", recipient).replace("{MESSAGE_ID}", message_id).replace(
        "{TICKET}", str(ticket)).encode()


@pytest.mark.parametrize("name, kind, source", [
    ("dsn_hard.eml", "hard", "dsn"), ("dsn_delayed.eml", "soft", "dsn"), ("arf_complaint.eml", "complaint", "arf"),
    ("qmail_text.eml", "hard", "mta"),
])
def test_each_shape_is_a_bounce_naming_the_recipient_and_our_message(name, kind, source):
    raw = sample(name)
    parsed = parse_email(raw)
    assert classify_automatic(parsed).kind == "bounce"
    report = bounce_report(parsed, raw)
    assert (report.kind, report.source, report.recipients) == (kind, source, ["ana@customer.example"])
    assert report.message_ids[0] == "ack-1.77@atende.test"
    assert report.is_permanent == (kind != "soft")


def test_a_dsn_keeps_its_diagnostic():
    raw = sample("dsn_hard.eml")
    assert "User unknown" in bounce_report(parse_email(raw), raw).diagnostic


@pytest.mark.parametrize("name, kind", [("ses_bounce.json", "hard"), ("ses_complaint.json", "complaint")])
def test_amazon_ses_notifications(name, kind):
    notification = json.loads(sample(name))
    [report] = ses_reports(notification)
    assert (report.kind, report.recipients, report.source) == (kind, ["ana@customer.example"], "ses")
    assert report.message_ids[0] == "ack-1.77@atende.test"


def test_an_ses_notification_mailed_to_the_desk_is_a_bounce_too():
    body = json.dumps({"Type": "Notification", "Message": sample("ses_bounce.json").decode()})
    raw = ("From: no-reply@sns.amazonaws.com\r\nTo: support@atende.test\r\nSubject: AWS Notification Message\r\n"
           "Message-ID: <sns-1@sns.amazonaws.com>\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n" + body).encode()
    parsed = parse_email(raw)
    assert classify_automatic(parsed).kind == "bounce"
    assert bounce_report(parsed, raw).recipients == ["ana@customer.example"]


@pytest.mark.parametrize("payload", [{}, {"notificationType": "Delivery", "mail": {}}, {"notificationType": "Bounce"},
                                     {"notificationType": "Bounce", "bounce": {"bouncedRecipients": "x"}, "mail": []}])
def test_odd_ses_payloads_give_no_report_or_an_empty_one(payload):
    try:
        reports = ses_reports(payload)
    except (AttributeError, TypeError):
        pytest.fail("an odd payload must not raise")
    assert all(not r.recipients for r in reports)


def test_a_person_quoting_a_bounce_in_a_reply_is_still_a_person():
    raw = (b"From: Ana <ana@customer.example>\r\nTo: support@atende.test\r\nSubject: Re: my order\r\n"
           b"In-Reply-To: <ack-1@atende.test>\r\nMessage-ID: <r1@customer.example>\r\n\r\n"
           b"My colleague says your mails to bob@customer.example bounce with 'user unknown'. Can you check?\r\n")
    assert classify_automatic(parse_email(raw)).kind == ""


def _corpus(kinds: tuple[str, ...]) -> list[Path]:
    folder = CORPUS / "bsd"
    if not folder.is_dir():
        pytest.skip(f"shared mail corpus not present at {folder}")
    return sorted(p for p in folder.glob("*.eml") if p.name.split("-")[0] in kinds)


def test_real_bounces_from_seventy_mail_servers_are_recognised_and_read():
    """sisimai's set: DSNs and text bounces from Postfix, Exim, Exchange, Gmail, Office 365, SES, KDDI…"""
    files = _corpus(("lhost", "rhost", "rfc3464", "arf"))
    recognised = read = 0
    missed = []
    for path in files:
        raw = path.read_bytes()
        parsed = parse_email(raw)
        if classify_automatic(parsed).kind == "bounce":
            recognised += 1
        else:
            missed.append(path.name)
        report = bounce_report(parsed, raw)
        read += bool(report and (report.recipients or report.kind == "complaint"))
    print(f"{len(files)} bounces: {recognised} recognised, {read} with failed recipients; missed: {missed}")
    assert recognised / len(files) >= 0.95, missed
    assert read / len(files) >= 0.75


def test_the_provider_format_rule_does_not_fire_on_ordinary_mail():
    """The detectors run only on mail that quotes an original; on the corpus's mail that is neither automatic
    nor a bounce (INDEX.csv), they must (almost) never claim a bounce."""
    import csv

    root = CORPUS.parents[1]
    if not (root / "INDEX.csv").is_file():
        pytest.skip("shared mail corpus not present")
    rows = [r for r in csv.DictReader((root / "INDEX.csv").open()) if r["auto_or_bounce"] == "0"
            and r["has_headers"] == "1" and not r["source"].startswith("sisimai")]
    flagged = []
    for row in rows:
        verdict = classify_automatic(parse_email((root / row["path"]).read_bytes()))
        if verdict.reason in ("delivery failure (provider format)", "Amazon SES notification"):
            flagged.append(row["path"])
    assert len(rows) > 300 and len(flagged) <= len(rows) * 0.01, flagged
