"""The translation catalogues are kept complete (docs/i18n.md, "The catalogue test").

Each app keeps its own catalogues, ``src/undersign/<app>/locale/<lang>/LC_MESSAGES/django.po``
and the compiled ``django.mo`` beside it. For every language that any app translates into
(Russian at least), this test fails when

- a catalogue holds an untranslated or fuzzy message, or one whose placeholders differ from
  its msgid's (``msgfmt --check-format``, as ``compilemessages`` runs it);
- ``makemessages`` finds a marked string that an app's catalogue lacks, or an app marks
  strings and has no catalogue at all;
- a committed ``.mo`` says something other than its ``.po`` (it was not compiled again).

``msgfmt --check`` alone would not do: it exits 0 on untranslated messages.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.core.management import call_command

SRC = Path(__file__).resolve().parent.parent / "src" / "undersign"
# The language the msgids are written in: it needs no catalogue.
SOURCE_LANGUAGE = "en"
# The languages the issue that brought translation requires, whatever else is there.
REQUIRED_LANGUAGES = {"ru"}
PLURAL_FORMS = {
    "ru": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);",
}
# What makemessages must not walk into when run over a copy of an app.
_NOT_SOURCE = shutil.ignore_patterns("locale", "static", "__pycache__", "*.pyc")

MAKEMESSAGES_TOOLS = ("xgettext", "msguniq", "msgmerge", "msgattrib")

Key = tuple[str | None, str, str]  # msgctxt, msgid, msgid_plural
Entry = polib.POEntry | polib.MOEntry


def app_dirs() -> list[Path]:
    return sorted(path.parent for path in SRC.glob("*/apps.py"))


def catalogue(app: Path, language: str) -> Path:
    return app / "locale" / language / "LC_MESSAGES" / "django.po"


def languages() -> list[str]:
    """Every language some app has a catalogue for, and the required ones: once one app is
    translated into a language, every app must be."""
    found = {path.parent.parent.name for path in SRC.glob("*/locale/*/LC_MESSAGES/django.po")}
    return sorted((found | REQUIRED_LANGUAGES) - {SOURCE_LANGUAGE})


def catalogues() -> list[Path]:
    return sorted(SRC.glob("*/locale/*/LC_MESSAGES/django.po"))


def key(entry: Entry) -> Key:
    return entry.msgctxt, entry.msgid, entry.msgid_plural or ""


def translations(entries: list[Entry]) -> dict[Key, tuple[str, ...]]:
    return {
        key(e): tuple(e.msgstr_plural[i] for i in sorted(e.msgstr_plural)) if e.msgid_plural else (e.msgstr,)
        for e in entries
        if e.msgid  # the header
    }


def name(path: Path) -> str:
    return str(path.relative_to(SRC.parent.parent))


def described(keys: set[Key] | list[Key], limit: int = 10) -> str:
    shown = sorted(keys, key=lambda k: (k[0] or "", k[1]))[:limit]
    more = f" … and {len(keys) - limit} more" if len(keys) > limit else ""
    return "; ".join(repr(msgid if ctxt is None else f"{ctxt}|{msgid}") for ctxt, msgid, _ in shown) + more


def needs_gettext(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        # `make test` installs Debian's gettext (and fails under CI when it cannot).
        pytest.skip(f"{', '.join(missing)} missing: install Debian's gettext package (make test does, as root)")


@pytest.mark.parametrize("po_path", catalogues(), ids=name)
def test_a_catalogue_has_every_message_translated_and_none_fuzzy(po_path: Path) -> None:
    po = polib.pofile(str(po_path))
    untranslated = [key(e) for e in po.untranslated_entries() if not e.obsolete]
    fuzzy = [key(e) for e in po.fuzzy_entries() if not e.obsolete]
    assert not untranslated, f"{name(po_path)}: untranslated: {described(untranslated)}"
    assert not fuzzy, f"{name(po_path)}: fuzzy (check, then remove the flag): {described(fuzzy)}"
    language = po_path.parent.parent.name
    if language in PLURAL_FORMS:
        assert po.metadata.get("Plural-Forms") == PLURAL_FORMS[language], f"{name(po_path)}: Plural-Forms header"


@pytest.mark.parametrize("po_path", catalogues(), ids=name)
def test_a_catalogues_translations_keep_their_placeholders(po_path: Path) -> None:
    needs_gettext("msgfmt")
    result = subprocess.run(  # noqa: S603 - our own file, a fixed program
        ["msgfmt", "--check-format", "--output-file=/dev/null", str(po_path)],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("po_path", catalogues(), ids=name)
def test_a_committed_mo_says_what_its_po_says(po_path: Path) -> None:
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{name(mo_path)} is missing: run compilemessages (docs/i18n.md)"
    po = polib.pofile(str(po_path))
    expected = translations([e for e in po.translated_entries() if not e.obsolete])
    compiled = translations(list(polib.mofile(str(mo_path))))
    assert compiled == expected, f"{name(mo_path)} is stale: run compilemessages (docs/i18n.md)"


@pytest.mark.parametrize("language", languages())
def test_a_message_has_one_translation_across_the_apps(language: str) -> None:
    """Django merges the apps' catalogues, the first app in INSTALLED_APPS winning: the same
    message translated two ways in two apps would read one way on every page, whichever app's
    page it is. Give a message that means something else its own context (pgettext)."""
    seen: dict[Key, dict[tuple[str, ...], list[str]]] = {}
    for po_path in SRC.glob(f"*/locale/{language}/LC_MESSAGES/django.po"):
        for message, translated in translations([e for e in polib.pofile(str(po_path)) if not e.obsolete]).items():
            seen.setdefault(message, {}).setdefault(translated, []).append(po_path.parents[3].name)
    differing = {message: ways for message, ways in seen.items() if len(ways) > 1}
    assert not differing, "translated differently by different apps: " + "; ".join(
        f"{message[1]!r}: " + ", ".join(f"{'/'.join(apps)} {ways[0]!r}" for ways, apps in found.items())
        for message, found in differing.items()
    )


def marked_strings(source: Path | list[Path], workdir: Path, monkeypatch: pytest.MonkeyPatch) -> set[Key]:
    """What makemessages finds marked in ``source`` (an app, or loose modules), run over a copy
    so that nothing is written to the tree."""
    copy = workdir / "copy"
    if isinstance(source, Path):
        shutil.copytree(source, copy, ignore=_NOT_SOURCE)
    else:
        copy.mkdir()
        for module in source:
            shutil.copy(module, copy)
    (copy / "locale").mkdir()
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["xx"], no_obsolete=True, verbosity=0)
    made = copy / "locale" / "xx" / "LC_MESSAGES" / "django.po"
    if not made.exists():
        return set()  # nothing marked: makemessages writes no file
    return {key(e) for e in polib.pofile(str(made)) if e.msgid}


@pytest.mark.parametrize("app", app_dirs(), ids=lambda app: app.name)
def test_makemessages_finds_no_string_missing_from_an_apps_catalogues(
    app: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    needs_gettext(*MAKEMESSAGES_TOOLS)
    marked = marked_strings(app, tmp_path, monkeypatch)
    if not marked:
        return
    for language in languages():
        po_path = catalogue(app, language)
        assert po_path.exists(), (
            f"{app.name} marks {len(marked)} strings ({described(marked, 3)}) but has no {language} catalogue: "
            f"make {name(po_path)} (docs/i18n.md)"
        )
        held = {key(e) for e in polib.pofile(str(po_path)) if not e.obsolete}
        missing = marked - held
        assert not missing, f"{name(po_path)} lacks {len(missing)}: {described(missing)}; run makemessages"


def test_no_string_is_marked_outside_an_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The project's own modules (settings, URLs) have no catalogue: a string marked there
    would never be translated."""
    needs_gettext(*MAKEMESSAGES_TOOLS)
    marked = marked_strings(sorted(SRC.glob("*.py")), tmp_path, monkeypatch)
    assert not marked, f"marked outside an app: {described(marked)}; move them into an app, which has catalogues"
