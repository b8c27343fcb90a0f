"""Labelled tickets from a CSV file, for ``atende triage evaluate``: whatever the file's encoding, BOM,
delimiter or field sizes, it is read or refused with a message that says why."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")  # latin-1 decodes any byte: the last resort never fails
MAX_FILE_BYTES = 512 * 1024 * 1024


class CsvError(ValueError):
    """The file cannot be used; the message says why, for the person who gave it."""


@dataclass
class LabelledData:
    records: list[dict[str, str]]
    labels: list[str]
    encoding: str
    skipped_without_label: int = 0
    columns: list[str] = field(default_factory=list)


def _decode(raw: bytes) -> tuple[str, str]:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with its byte-order mark (spreadsheet exports)
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _delimiter(text: str) -> str:
    """The separator of the header line: whichever of , ; tab | it holds most (comma on a tie). Only the header
    is read: csv.Sniffer guesses quoting from the rows too, and misreads long quoted texts full of commas."""
    header = text.split("\n", 1)[0]
    return max(",;\t|", key=lambda candidate: (header.count(candidate), candidate == ","))


def read_labelled_csv(path: str, *, text_columns: list[str], label_column: str) -> LabelledData:
    """Rows of ``path`` as records holding ``text_columns`` and their ``label_column`` values.

    Rows without a label are skipped (and counted); empty texts are kept (the model copes)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise CsvError(_("Cannot read %(path)s: %(reason)s") % {"path": path, "reason": exc.strerror or exc})
    if len(raw) > MAX_FILE_BYTES:
        raise CsvError(_("%(path)s is larger than %(size)s MiB.") % {"path": path, "size": MAX_FILE_BYTES >> 20})
    text, encoding = _decode(raw)
    text = text.replace("\x00", "")
    if not text.strip():
        raise CsvError(_("%(path)s is empty.") % {"path": path})
    csv.field_size_limit(MAX_FILE_BYTES)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = [name.strip().lstrip("\ufeff") for name in next(reader)]
        wanted = [*text_columns, label_column]
        missing = [name for name in wanted if name not in header]
        if missing:
            raise CsvError(_("%(path)s has no column %(missing)s; its columns are: %(columns)s.") % {
                "path": path, "missing": ", ".join(missing), "columns": ", ".join(header)})
        positions = {name: header.index(name) for name in wanted}
        records, labels, skipped = [], [], 0
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            label = row[positions[label_column]].strip() if positions[label_column] < len(row) else ""
            if not label:
                skipped += 1
                continue
            records.append({name: row[positions[name]] if positions[name] < len(row) else ""
                            for name in text_columns})
            labels.append(label)
    except csv.Error as exc:
        raise CsvError(_("%(path)s is not a valid CSV file: %(reason)s") % {"path": path, "reason": exc})
    if not records:
        raise CsvError(_("%(path)s has no rows with a value in %(column)s.") % {"path": path, "column": label_column})
    return LabelledData(records=records, labels=labels, encoding=encoding, skipped_without_label=skipped,
                        columns=header)
