"""Quoted history and signatures stripped from replies.

Two passes. ``mail-parser-reply`` splits a body at reply headers it knows in many languages (English "On … wrote:",
Portuguese "Em … escreveu:", Outlook "From:/Sent:" blocks) and drops mobile signatures. Then a line classifier
handles what it misses: headers wrapped over several lines, quote blocks ("> …") after the reply, "-- " signature
blocks, forwarded-message markers and delimiter lines. Every line is classified as empty (e), delimiter (d),
mobile signature (s), reply header (b), header field (h), quote (q) or text (t); the trimming rules work on
that pattern string.

The full original is always kept (the raw message), so stripping errs on the side of removing history.
"""

from __future__ import annotations

import re
from functools import cache

from mailparser_reply import EmailReplyParser

_LANGUAGES = ["en", "pt", "es", "fr", "de", "it", "nl", "pl", "sv", "da", "no", "fi", "ja", "zh", "ru"]

_BLANK = r"[ \t\u00a0]"
_DELIMITER = re.compile(r"^[ \t\u00a0]*[-_,=+~#*ᐧ—]+[ \t\u00a0]*$")
_MOBILE_SIGNATURE = [re.compile(p, re.IGNORECASE) for p in (
    r"^\s*[(<]*sent (?:from|via|with|by) .+",
    r"^\s*\w+ from mobile",
    r"^\s*from my .{1,20}",
    r"^\s*get outlook for ",
    r"^\s*enviado (?:do|de|desde) (?:meu|mi|o) ",  # Portuguese / Spanish
    r"^\s*envoyé depuis (?:mon|yahoo mail)",
    r"^\s*von meinem .+ gesendet",
    r"^\s*diese nachricht wurde von .+ gesendet",
    r"^\s*inviato da ",
    r"^\s*sendt fra min ",
    r"^\s*verzonden met ",
    r"^\s*verstuurd vanaf mijn ",
    r"^\s*från min ",
    r"^\s*從我的 iphone 傳送",
)]
# "On <date>, <someone> wrote:" in the languages our customers and the corpus use. Matched on one line after
# wrapped headers are joined (see _join_wrapped_headers).
_ON_DATE_PAIRS = (
    (r"(?:On|At)", r"(?:wrote|writes|says|said)"),
    (r"In message", r"writes"),
    (r"Em", r"escreveu"),
    (r"El", r"escribió"),
    (r"Le", r"(?:a\s+écrit|nous\sa\sdit)"),
    (r"Am", r"(?:schrieben\sSie|geschrieben|schrieb[^:]+)"),
    (r"Il", r"ha\sscritto"),
    (r"(?:Dnia|Dňa)", r"napisał(?:\(a\))?"),
    (r"Op", r"(?:het\svolgende\sgeschreven|schreef[^:]+)"),
    (r"在", r"写道"),
)
_ON_DATE_WROTE = [re.compile(rf"^[ \t<>-]*{start} .+?{end}[ \t.:>-]*$", re.IGNORECASE)
                  for start, end in _ON_DATE_PAIRS]
# The same, allowed to cross line breaks but not another opening word ("On this day … I wrote something").
_ON_DATE_WROTE_WRAPPED = [
    re.compile(rf"^[ \t<>-]*{start} (?:(?!(?-i:\b{start}\b))(?:.|\n)){{1,200}}?{end}[ \t.:>-]*$",
               re.IGNORECASE | re.MULTILINE)
    for start, end in _ON_DATE_PAIRS
]
_REPLY_HEADERS = [
    *_ON_DATE_WROTE,
    *[re.compile(rf"^[ \t>]*{start}\s.+\s{end}\s[^:]+:") for start, end in (
        ("Op", "schreef"), ("Am", "schrieb"), ("Den", "skrev"), (r"\w+\.", "skrev"))],
    re.compile(r"\d{4}.{1,80}пользователь.{0,80}\n?.{0,80}?написал:"),
    re.compile(r"\d{4}.{1,80}\n?.{0,80}?napisał\(a\):"),
    re.compile(r"\d{4}.{1,80}\n?.{0,80}?пише:"),
    re.compile(r"^.+\bwrote\b\s+\bon\b.+[^:]+:"),
    re.compile(r"^.+\bschrieb\b\s+\bam\b.+[^:]+:"),
    re.compile(r"^.+\bescreveu\b\s+\bem\b.+[^:]+:", re.IGNORECASE),
    re.compile(r"^[ \t>]*20\d\d-\d\d-\d\d \d\d:\d\d GMT\+\d\d:\d\d [\w \t]+$"),
    re.compile(r"\d{4}.{1,80}\s?<[^@<>]+@[^@<>.]+\.[^@<>]+>:?$"),
    re.compile(r"^.+ via .+ (?:wrote|schrieb|escreveu):?[ \t]*$"),
    re.compile(r"^.+\b[\w.+-]+@[\w.-]+\.\w{2,}\b.+(?:wrote|escreveu):?$"),
    re.compile(r"^[ \t>]*Posted by .+ on \d{2}/\d{2}/\d{4}$", re.IGNORECASE),
    re.compile(r"^[ \t>]*(?:Begin forwarded message|Início da mensagem encaminhada|Début du message transféré) ?:",
               re.IGNORECASE),
    re.compile(r"^[ \t>*]*-{2,}[ \t]*(?:Forwarded|Original|Reply|Mensagem original|Mensagem encaminhada|"
               r"Message transféré|Ursprüngliche Nachricht|Mensaje original|原始邮件)(?: Message)?[ \t]*-{2,}",
               re.IGNORECASE),
]
_HEADER_WITH_DATE = re.compile(
    r"^[ \t*]*(?:Sendt|Sent|Date|Le|Gesendet|Enviada em|Enviado|Fecha|Data|Datum|Skickat|发送时间)[ \t*]*:.*\d+")
_HEADER_WITH_TEXT = re.compile(
    r"^[ \t*]*(?:Fra|Til|Emne|From|To|Cc|Reply-To|Subject|De|Expéditeur|À|Destinataire|Répondre à|Objet|Von|An|"
    r"Betreff|Para|Assunto|Asunto|Da|Risposta|A|Oggetto|Van|Beantwoorden - Aan|Aan|Onderwerp|Från|Till|Ämne|"
    r"发件人|收件人|主题)[ \t*]*:.*\w+", re.IGNORECASE)
_QUOTE = re.compile(r"^[ \t]*>")
_MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")


@cache
def _parser() -> EmailReplyParser:
    return EmailReplyParser(languages=_LANGUAGES)


def _classify(line: str) -> str:
    if not line.strip():
        return "e"
    if _DELIMITER.match(line):
        return "d"
    plain = _MARKDOWN_LINK.sub(r"\1", line)
    if any(r.match(plain) for r in _MOBILE_SIGNATURE):
        return "s"
    if any(r.search(line) for r in _REPLY_HEADERS):
        return "b"
    if _HEADER_WITH_DATE.match(line) or _HEADER_WITH_TEXT.match(line):
        return "h"
    if _QUOTE.match(line):
        return "q"
    return "t"


def _join_wrapped_headers(text: str) -> str:
    """A reply header that the sender's client wrapped ("On Thu, … Some One\\n<mail>\\n> wrote:") on one line."""
    for spanning in _ON_DATE_WROTE_WRAPPED:
        for match in list(spanning.finditer(text))[::-1]:
            if "\n" in match.group(0) and match.group(0).count("\n") <= 6:
                joined = re.sub(r"\n[\s>\-]*", " ", match.group(0))
                text = text[: match.start()] + joined + text[match.end():]
    return text


def _pattern(lines: list[str]) -> str:
    kinds = []
    in_code = False
    for line in lines:
        if line.strip().startswith("```"):
            in_code = not in_code
            kinds.append("t")
        else:
            kinds.append("t" if in_code and line.strip() else _classify(line))
    # A reply header wrapped over two or three lines ("2017-02-05 13:29 GMT+02:00 Someone <\\nsomeone@x>:").
    for index in range(len(lines) - 1):
        if kinds[index] != "t":
            continue
        for width in (2, 3):
            window = lines[index: index + width]
            if len(window) == width and all(w.strip() for w in window) and \
                    _classify(" ".join(w.strip() for w in window)) == "b":
                kinds[index: index + width] = ["b"] * width
                break
    return "".join(kinds)


def _cut(pattern: str, lines: list[str], index: int) -> tuple[str, list[str]]:
    return pattern[:index], lines[:index]


def _drop(pattern: str, lines: list[str], kinds: str) -> tuple[str, list[str]]:
    kept = [(p, line) for p, line in zip(pattern, lines, strict=True) if p not in kinds]
    return "".join(p for p, _l in kept), [line for _p, line in kept]


def trim_lines(text: str, *, remove_signatures: bool = True) -> str:
    """The line-classifier pass alone (no library)."""
    if not text or not text.strip():
        return ""
    text = _join_wrapped_headers(text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = text.split("\n")
    pattern = _pattern(lines)
    # A "-- " line opens the sender's signature block: everything after it goes.
    for index, line in enumerate(lines):
        if remove_signatures and line in ("-- ", "--") and "t" in pattern[:index]:
            pattern, lines = _cut(pattern, lines, index)
            break
    pattern, lines = _drop(pattern, lines, "ds" if remove_signatures else "")
    # A reply header after text, followed by anything but quotes: the reply ends at the header.
    for rule in (r"te*b[^q]*$", r"te*b[eqbh]*[te]*$"):
        match = re.search(rule, pattern)
        if match:
            end = match.start() + 1
            pattern, lines = pattern[:end], lines[:end]
    lines = ["" if p == "b" else line for p, line in zip(pattern, lines, strict=True)]  # remaining markers become blank
    pattern = pattern.replace("b", "e")
    # Outlook-style header blocks ("From: …", "Sent: …", "To: …") that wrap over several lines.
    match = re.search(r"h+[hte]+h+e", pattern)
    if match:
        pattern = pattern[: match.start()] + "h" * (match.end() - match.start()) + pattern[match.end():]
    match = re.search(r"t[eq]*h{3,}", pattern)
    if match:
        end = match.start() + 1
        pattern, lines = pattern[:end], lines[:end]
    pattern, lines = _drop(pattern, lines, "h")
    match = re.search(r"[eq]+$", pattern)
    if "t" in pattern and match:
        pattern, lines = pattern[: match.start()], lines[: match.start()]
    return "\n".join(lines).strip()


def _cut_where_library_ends(trimmed: str, latest: str) -> str:
    """Apply the library's verdict without its whitespace normalisation: keep ``trimmed`` up to the line where
    the library's latest reply ends (only when that reply is a line-by-line prefix of ``trimmed``)."""
    wanted = [line.strip() for line in latest.strip().split("\n")]
    kept: list[str] = []
    lines = trimmed.split("\n")
    position = 0
    for line in lines:
        if position == len(wanted):
            break
        if line.strip() == wanted[position]:
            position += 1
        elif line.strip():
            return trimmed  # not a prefix: the library rearranged the text; trust the classifier
        kept.append(line)
    return "\n".join(kept).strip() if position == len(wanted) else trimmed


def strip_reply(text: str, *, remove_signatures: bool = True) -> str:
    """The new part of a reply: quoted history (and, unless told otherwise, signatures) removed. Falls back to
    the whole text rather than return nothing (a reply that is only a quote stays as it was)."""
    if not text or not text.strip():
        return ""
    normalized = text.replace("\r\n", "\n").replace("\r", "\n")
    trimmed = trim_lines(normalized, remove_signatures=remove_signatures)
    if remove_signatures and trimmed:
        try:
            latest = _parser().parse_reply(trimmed) or ""
        except Exception:  # noqa: BLE001 - the library's regexes must never stop a message
            latest = ""
        if latest.strip():
            trimmed = _cut_where_library_ends(trimmed, latest)
    return trimmed or normalized.strip()
