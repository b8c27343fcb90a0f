"""Characters that must not reach one-line text people read to decide (subjects, names, file names).

A subject or a name is shown in lists, in notifications and in mail headers, where a control character breaks
the layout or the protocol and an invisible one can make text read as something else:

- C0 and C1 controls (NUL, ESC, DEL…): never printable; NUL cannot even be stored in PostgreSQL text.
- Bidirectional overrides, embeddings and isolates (U+202A–U+202E, U+2066–U+2069) and the direction marks
  (U+200E, U+200F, U+061C): ``invoice‮fdp.exe`` reads as ``invoiceexe.pdf`` (CVE-2021-42574, "Trojan Source").
- Zero-width characters: U+200B, U+2060, U+FEFF always; the joiners U+200C/U+200D only next to ASCII, where they
  hide inside a word (``pay‍pal``), and kept between other characters, where scripts (Persian, Indic) and emoji
  sequences need them.

Message bodies keep everything except NUL and the other C0 controls (``clean_body``): they are escaped when
shown, and a message should arrive as it was written.
"""

from __future__ import annotations

import re
import unicodedata

CONTROLS = "\x00-\x1f\x7f-\x9f"
BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
ZERO_WIDTH = "\u200b\u2060\ufeff\u180e"
_UNSAFE = re.compile(f"[{CONTROLS}{BIDI}{ZERO_WIDTH}]")
_JOINER_NEXT_TO_ASCII = re.compile(r"[\u200c\u200d]+(?=[\x00-\x7f]|$)|(?:(?<=[\x00-\x7f])|^)[\u200c\u200d]+")
_BODY_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WINDOWS_INVALID = re.compile(r'[<>:"|?*]')
_LINE_BREAKS = re.compile("[\t\n\r\x0b\x0c\x1c-\x1f\x85\u2028\u2029]")

# Names Windows reserves for devices, whatever the extension ("CON.txt" opens the console there).
RESERVED_FILE_NAMES = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                                 *(f"lpt{i}" for i in range(10)), "conin$", "conout$"})
MAX_FILENAME = 200


def clean_line(value: str | None, max_length: int | None = None) -> str:
    """One line of readable text: line breaks and tabs become spaces, controls and invisible direction or
    zero-width characters go, runs of spaces collapse, and the result is cut at ``max_length``."""
    text = _LINE_BREAKS.sub(" ", value or "")
    text = _UNSAFE.sub("", text)
    text = " ".join(text.split())
    return _without_exposed_joiners(text[:max_length].rstrip() if max_length else text)


def _without_exposed_joiners(text: str) -> str:
    """Joiners next to ASCII or at an end go, last, and the spaces around them collapse: every step before
    (collapsing Unicode spaces such as U+00A0, cutting, replacing characters) can leave a joiner that was between
    two letters next to ASCII or at an end."""
    while True:
        cleaned = " ".join(_JOINER_NEXT_TO_ASCII.sub("", text).split())
        if cleaned == text:
            return text
        text = cleaned


def clean_body(value: str | None) -> str:
    """A message body: NUL and the other C0 controls out (tab, line feed and carriage return stay)."""
    return _BODY_CONTROLS.sub("", value or "")


def clean_filename(value: str | None, default: str = "attachment") -> str:
    """A file name safe to store, show and hand to any operating system: the last path segment only, no
    controls or invisible characters, none of ``<>:"|?*``, spaces as underscores, no leading dots (hidden
    files, ``..``), no trailing dots, never a reserved device name, at most ``MAX_FILENAME`` characters with the extension kept."""
    name = unicodedata.normalize("NFC", value or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _WINDOWS_INVALID.sub("_", clean_line(name)).strip(". ")
    name = name.replace(" ", "_")  # no spaces: simpler to quote and to type
    if not name:
        return default
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    if stem.split(".")[0].lower() in RESERVED_FILE_NAMES:
        stem = f"_{stem}"
    extension = extension[:20]
    stem = stem[: MAX_FILENAME - len(extension) - 1 if extension else MAX_FILENAME].rstrip(". ")
    return _without_exposed_joiners(f"{stem}.{extension}" if extension and stem else (stem or default)) or default
