"""The Portuguese catalogues are complete: every marked string translated, none fuzzy, every
placeholder kept, and no string in the code that the catalogue has not caught up with."""

import re
import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale" / "pt_BR" / "LC_MESSAGES"
CATALOGUES = sorted(LOCALE.glob("*.po"))
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdfi]|%[sdfi]|\{\w*\}")


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text) or [m.group(0) for m in PLACEHOLDER.finditer(text)])


def test_there_is_a_portuguese_catalogue_for_the_pages_and_for_javascript():
    assert {path.name for path in CATALOGUES} >= {"django.po", "djangojs.po"}


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.name)
def test_every_string_is_translated_and_none_is_fuzzy(path):
    catalogue = polib.pofile(str(path))
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert untranslated == [], (
        f"{len(untranslated)} untranslated in {path.name}: {untranslated[:20]}"
    )
    assert fuzzy == [], f"{len(fuzzy)} fuzzy in {path.name}: {fuzzy[:20]}"
    assert catalogue.percent_translated() == 100


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.name)
def test_every_translation_keeps_the_placeholders_of_its_source(path):
    wrong = []
    for entry in polib.pofile(str(path)).translated_entries():
        if entry.msgid_plural:
            pairs = [(entry.msgid_plural, text) for text in entry.msgstr_plural.values()]
            # The singular form may say "one" where English says %(count)s.
            pairs = pairs[1:]
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        for source, translation in pairs:
            if _placeholders(source) != _placeholders(translation):
                wrong.append(f"{source!r} -> {translation!r}")
    assert wrong == []


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext is not installed")
@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.name)
def test_msgfmt_accepts_each_catalogue(path, tmp_path):
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", str(tmp_path / "out.mo"), str(path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


IGNORED = [".venv", ".tools", "var", "node_modules", "static/vendor", "tests", ".git"]


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_the_catalogue_holds_every_string_marked_in_the_code(domain, tmp_path, settings):
    """`make messages` ran after the last string was marked: extracting again, into a copy of
    the catalogues beside links to the sources, finds no msgid the catalogue lacks."""
    import os

    from django.core.management import call_command

    base = Path(settings.BASE_DIR)
    for entry in base.iterdir():
        if entry.name not in {"locale", *IGNORED}:
            (tmp_path / entry.name).symlink_to(entry)
    shutil.copytree(base / "locale", tmp_path / "locale")
    catalogue = tmp_path / "locale" / "pt_BR" / "LC_MESSAGES" / f"{domain}.po"
    before = {entry.msgid for entry in polib.pofile(str(catalogue))}
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        call_command(
            "makemessages",
            locale=["pt_BR"],
            domain=domain,
            symlinks=True,
            ignore_patterns=IGNORED,
            no_obsolete=True,
            verbosity=0,
        )
    finally:
        os.chdir(here)
    after = {entry.msgid for entry in polib.pofile(str(catalogue))}
    assert sorted(after - before) == [], "run `make messages` and translate the new strings"
