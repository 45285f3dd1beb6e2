"""The seven public languages: catalogues complete, placeholders intact, compiled files current."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

LOCALE = Path(__file__).resolve().parent.parent / "src" / "csas" / "locale"
LANGUAGES = [code for code, _ in settings.LANGUAGES if code != "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_ui_string_is_translated(code: str) -> None:
    catalogue = polib.pofile(str(LOCALE / code / "LC_MESSAGES" / "django.po"))
    assert catalogue.untranslated_entries() == []
    assert catalogue.fuzzy_entries() == []
    assert len(catalogue.translated_entries()) > 100


@pytest.mark.parametrize("code", LANGUAGES)
def test_translations_keep_every_placeholder(code: str) -> None:
    catalogue = polib.pofile(str(LOCALE / code / "LC_MESSAGES" / "django.po"))
    for entry in catalogue:
        expected = set(PLACEHOLDER.findall(entry.msgid))
        texts = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for text in texts:
            assert set(PLACEHOLDER.findall(text)) == expected, (code, entry.msgid, text)


@pytest.mark.parametrize("code", LANGUAGES)
def test_compiled_catalogue_matches_its_source(code: str) -> None:
    folder = LOCALE / code / "LC_MESSAGES"
    source = {
        (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural
        for e in polib.pofile(str(folder / "django.po"))
        if e.translated()
    }
    compiled = {
        (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural
        for e in polib.mofile(str(folder / "django.mo"))
        if e.msgid
    }
    assert compiled == source, "run: python scripts/compile_messages.py"


def test_the_catalogue_covers_every_string_marked_in_templates() -> None:
    marked = set()
    pattern = re.compile(r'{%\s*translate\s+"([^"]+)"')
    for template in (LOCALE.parent).rglob("*.html"):
        # makemessages writes a literal % in {% translate %} as %% in the catalogue.
        marked |= {text.replace("%", "%%") for text in pattern.findall(template.read_text())}
    known = {entry.msgid for entry in polib.pofile(str(LOCALE / "es/LC_MESSAGES/django.po"))}
    assert marked - known == set(), "run: make messages, then translate the new strings"


def test_spanish_ui_is_served(db: object) -> None:
    from django.test import Client

    with translation.override("es"):
        home = translation.gettext("Home")
    assert home != "Home"
    assert f">{home}</a>" in Client().get("/es/").content.decode()
