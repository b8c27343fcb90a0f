"""Compile the translation catalogs (.po → .mo) in pure Python, so a fresh machine needs no GNU gettext."""

from pathlib import Path

import polib

LOCALE_ROOTS = [Path(__file__).resolve().parents[1] / "locale"]


def compile_catalogs() -> int:
    count = 0
    for root in LOCALE_ROOTS:
        for po_path in root.rglob("*.po"):
            mo_path = po_path.with_suffix(".mo")
            if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                continue
            polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
            count += 1
    return count


if __name__ == "__main__":
    print(f"i18n: compiled {compile_catalogs()} catalog(s)")
