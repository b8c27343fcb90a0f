"""The Brazilian Portuguese catalog: complete, well-formed, compiled without GNU gettext, and used by the pages.

Everything here reads the catalog with polib, so it runs on a machine without GNU gettext installed.
"""

import ast
import collections
import gettext
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.urls import reverse

import atende
from atende.accounts.services import user_update_profile
from atende.core import i18n

PACKAGE_DIR = Path(atende.__file__).resolve().parent
LOCALE_DIR = PACKAGE_DIR / "locale"
PO_PATH = LOCALE_DIR / "pt_BR" / "LC_MESSAGES" / "django.po"

# printf-style (%(name)s, %s, %d, %%), str.format-style ({name}), template variables ({{ x }}) and HTML tags.
PLACEHOLDER = re.compile(r"%\([^)]+\)[sdif]|%[sdif%]|\{\{.*?\}\}|\{[A-Za-z_][A-Za-z0-9_.]*\}|<[^>]+>")
GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy"}
TEMPLATE_TRANSLATE = re.compile(r"""\{%\s*(?:translate|trans)\s+(?P<q>["'])(?P<msgid>.*?)(?P=q)(?P<rest>[^%]*)%\}""")


@pytest.fixture(scope="module")
def catalog() -> polib.POFile:
    return polib.pofile(str(PO_PATH))


def _live_entries(catalog: polib.POFile) -> list[polib.POEntry]:
    return [entry for entry in catalog if not entry.obsolete]


def _placeholders(text: str) -> collections.Counter:
    return collections.Counter(PLACEHOLDER.findall(text))


def test_catalog_declares_brazilian_portuguese_and_its_plural_rule(catalog):
    assert catalog.metadata["Language"] == "pt_BR"
    assert catalog.metadata["Plural-Forms"] == "nplurals=2; plural=(n > 1);"
    assert catalog.metadata["Content-Type"] == "text/plain; charset=UTF-8"
    assert not catalog.metadata_is_fuzzy


def test_every_entry_is_translated_and_none_is_fuzzy(catalog):
    entries = _live_entries(catalog)
    assert len(entries) > 1000  # the whole interface, not a sample

    untranslated = [entry.msgid for entry in entries if not entry.translated()]
    fuzzy = [entry.msgid for entry in entries if "fuzzy" in entry.flags]

    assert untranslated == []
    assert fuzzy == []


def test_no_message_is_listed_twice(catalog):
    """Entries appended by parallel changes can repeat a msgid; GNU msgfmt refuses such a catalog."""
    counts = collections.Counter((e.msgctxt, e.msgid) for e in catalog)
    assert [key for key, n in counts.items() if n > 1] == []


def test_plural_entries_have_both_portuguese_forms(catalog):
    plurals = [entry for entry in _live_entries(catalog) if entry.msgid_plural]
    assert plurals

    incomplete = [entry.msgid for entry in plurals
                  if sorted(entry.msgstr_plural) != [0, 1] or not all(entry.msgstr_plural.values())]
    assert incomplete == []


def test_placeholders_and_html_tags_match_between_msgid_and_msgstr(catalog):
    mismatches = []
    for entry in _live_entries(catalog):
        if entry.msgid_plural:
            pairs = [(entry.msgid, entry.msgstr_plural[0]), (entry.msgid_plural, entry.msgstr_plural[1])]
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        for source, translation in pairs:
            if _placeholders(source) != _placeholders(translation):
                mismatches.append((source, translation))

    assert mismatches == []


def _python_msgids() -> set[str]:
    """Literal msgids of gettext calls in the package's Python code (what makemessages extracts)."""
    msgids = set()
    for path in PACKAGE_DIR.rglob("*.py"):
        if {"tests", "migrations", "locale"} & set(path.relative_to(PACKAGE_DIR).parts):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in GETTEXT_NAMES
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                msgids.add(node.args[0].value)
    return msgids


def _template_msgids() -> set[str]:
    """Literal msgids of {% translate "…" %} tags (templatize doubles % signs, and so do we)."""
    msgids = set()
    for path in PACKAGE_DIR.rglob("templates/**/*"):
        if path.suffix not in {".html", ".txt"}:
            continue
        for match in TEMPLATE_TRANSLATE.finditer(path.read_text(encoding="utf-8")):
            if "context" not in match["rest"]:
                msgids.add(match["msgid"].replace("%", "%%"))
    return msgids


def test_catalog_has_every_literal_string_of_the_code_and_templates(catalog):
    """Fails when new strings were wrapped but `make messages` was not run and translated afterwards."""
    known = {entry.msgid for entry in _live_entries(catalog)}
    wrapped = _python_msgids() | _template_msgids()
    assert len(wrapped) > 500

    assert sorted(wrapped - known - {""}) == []


def test_catalog_compiles_with_polib_into_a_catalog_python_can_read(catalog, tmp_path):
    mo_path = tmp_path / "django.mo"
    catalog.save_as_mofile(str(mo_path))

    with mo_path.open("rb") as handle:
        translations = gettext.GNUTranslations(handle)
    assert translations.gettext("Log in") == "Entrar"
    assert translations.gettext("On hold") == "Em espera"
    assert translations.ngettext("%(counter)s ticket updated.", "%(counter)s tickets updated.", 1) \
        == "%(counter)s chamado atualizado."
    assert translations.ngettext("%(counter)s ticket updated.", "%(counter)s tickets updated.", 3) \
        == "%(counter)s chamados atualizados."
    # Brazilian Portuguese uses the singular for zero.
    assert translations.ngettext("%(counter)s ticket updated.", "%(counter)s tickets updated.", 0) \
        == "%(counter)s chamado atualizado."


def test_compile_catalogs_writes_mo_files_next_to_po_files_and_skips_up_to_date_ones(tmp_path, monkeypatch):
    locale_copy = tmp_path / "locale"
    shutil.copytree(LOCALE_DIR, locale_copy, ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.setattr(i18n, "LOCALE_ROOTS", [locale_copy])

    assert i18n.compile_catalogs() == 1
    mo_path = locale_copy / "pt_BR" / "LC_MESSAGES" / "django.mo"
    assert polib.mofile(str(mo_path)).find("Log out").msgstr == "Sair"
    assert i18n.compile_catalogs() == 0


@pytest.fixture
def portuguese_catalog(settings, tmp_path, catalog):
    """Serve the current .po, compiled here with polib, whether or not the developer compiled it."""
    target = tmp_path / "locale" / "pt_BR" / "LC_MESSAGES"
    target.mkdir(parents=True)
    catalog.save_as_mofile(str(target / "django.mo"))
    # Changing LOCALE_PATHS also makes Django drop the catalogs and language checks it cached.
    settings.LOCALE_PATHS = [tmp_path / "locale"]


@pytest.mark.django_db  # the page shell reads the branding row when its cache is cold
def test_login_page_follows_the_browser_language(client, portuguese_catalog):
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9,en;q=0.5")

    assert response.status_code == 200
    content = response.content.decode()
    assert 'lang="pt-br"' in content
    for text in ("Entrar", "Senha", "Esqueceu sua senha?", "Criar uma conta"):
        assert text in content
    assert "Forgot your password?" not in content


@pytest.mark.django_db  # the page shell reads the branding row when its cache is cold
def test_login_page_stays_english_for_an_english_browser(client, portuguese_catalog):
    response = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    content = response.content.decode()
    assert "Forgot your password?" in content
    assert "Esqueceu sua senha?" not in content


def test_profile_language_wins_over_the_browser_in_the_console(client, portuguese_catalog, agent, team_ticket):
    user_update_profile(user=agent, locale="pt-br")
    client.force_login(agent)

    queues = client.get(reverse("console:queues"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    ticket_page = client.get(reverse("console:ticket", args=[team_ticket.number]), HTTP_ACCEPT_LANGUAGE="en")

    assert queues.status_code == ticket_page.status_code == 200
    queues_html = queues.content.decode()
    assert "Meus chamados abertos" in queues_html
    assert "Aguardando o cliente" in queues_html
    assert "My open tickets" not in queues_html
    ticket_html = ticket_page.content.decode()
    for text in ("Campos do chamado", "Resposta pública", "Nota interna", "Atribuir a mim", "Em espera"):
        assert text in ticket_html
    assert "Ticket fields" not in ticket_html


def test_customer_with_portuguese_profile_sees_the_portal_in_portuguese(client, portuguese_catalog, customer):
    user_update_profile(user=customer, locale="pt-br")
    client.force_login(customer)

    response = client.get(reverse("portal:home"), HTTP_ACCEPT_LANGUAGE="en")

    content = response.content.decode()
    assert "Como podemos ajudar?" in content
    assert "Pesquisar na base de conhecimento" in content
    assert "How can we help?" not in content
