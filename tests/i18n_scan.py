"""Find English interface text left on a rendered page.

"English interface text" means the catalogues' own msgids: every string an app marks for
translation is in its Russian catalogue, with the English as msgid. A page rendered in Russian
should show none of them. Looking only for msgids keeps data out of the verdict: a registry's
name, a signer's name or the site's name are English only if someone typed them so, and they
are not in any catalogue.

The needles are chosen so that a real Russian page gives no false positives:

- a msgid is split where the page shows something else than its literal text (placeholders,
  counter samples' ``#``, HTML tags inside the msgid), and each literal fragment is kept only
  when it says something on its own: two words and ten characters at least;
- a whole msgid of one word (a button, a column heading: "Search", "Reason") is kept when the
  word has four letters at least ("No", "Add", "All" are too short to tell anything), and, like
  every needle, matches only as whole words and with its case, so "Search" does not match
  inside "Research" nor "search" inside an e-mail address;
- a needle that some Russian translation itself contains (a field name such as
  ``signature_count``, a command such as ``undersign run``, "304 Not Modified") can appear on
  a correct Russian page, so it is dropped.

The page is read as a visitor reads it (``readable_text``): its text without scripts and
styles, and without the elements that declare a language other than the page's (a petition's
own text, the links to the page in other languages), plus the attributes a visitor reads or
hears and the messages handed to scripts in ``data-*`` attributes.
"""

from __future__ import annotations

import functools
import html
import re
from html.parser import HTMLParser
from pathlib import Path

import polib

SRC = Path(__file__).resolve().parent.parent / "src" / "undersign"

# What the page shows instead of the msgid's literal text: a placeholder (``%(name)s``, ``%s``,
# ``%d``), the counter samples' ``#`` (forms.js puts the number there) and inline HTML tags.
_NOT_LITERAL = re.compile(r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%[sdif]|#|<[^>]*>")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_SPACE = re.compile(r"\s+")

MIN_FRAGMENT_WORDS = 2
MIN_FRAGMENT_CHARS = 10
MIN_SINGLE_WORD_LETTERS = 4

# Attributes a visitor reads or hears (screen readers read aria-label and alt).
_READ_ATTRIBUTES = frozenset({"placeholder", "aria-label", "aria-description", "title", "alt", "label"})
_BUTTON_INPUTS = frozenset({"submit", "button", "reset"})
# Their content is never shown as text. (A <template>'s is, once a script inserts it.)
_UNSHOWN = frozenset({"script", "style"})
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
)


def _normal(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _catalogues() -> list[Path]:
    return sorted(SRC.glob("*/locale/ru/LC_MESSAGES/django.po"))


def _needles_of(source: str) -> list[str]:
    # ``{% translate %}`` doubles a literal percent sign in its msgid; the page shows one.
    source = source.replace("%%", "%")
    if not _NOT_LITERAL.search(source):
        whole = _normal(html.unescape(source))
        words = _WORD.findall(whole)
        if len(words) >= 2 or (len(words) == 1 and len(words[0]) >= MIN_SINGLE_WORD_LETTERS):
            return [whole]
        return []
    pieces = (_normal(html.unescape(piece)) for piece in _NOT_LITERAL.split(source))
    return [
        piece
        for piece in pieces
        if len(_WORD.findall(piece)) >= MIN_FRAGMENT_WORDS and len(piece) >= MIN_FRAGMENT_CHARS
    ]


def _pattern(needle: str) -> re.Pattern[str]:
    # Whole words only: a needle that begins (ends) with a letter must not continue a word.
    before = r"(?<!\w)" if re.match(r"\w", needle) else ""
    after = r"(?!\w)" if re.search(r"\w$", needle) else ""
    return re.compile(before + re.escape(needle) + after)


@functools.cache
def english_needles() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Every English interface string worth looking for, with its pattern (built once)."""
    needles: dict[str, None] = {}
    russian: list[str] = []
    for path in _catalogues():
        for entry in polib.pofile(str(path)):
            if not entry.msgid or entry.obsolete:
                continue
            translated = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
            russian.extend(_normal(text.replace("%%", "%")) for text in translated)
            for source in (entry.msgid, entry.msgid_plural):
                if source and source not in translated:
                    needles.update(dict.fromkeys(_needles_of(source)))
    russian_text = "\n".join(russian)
    return tuple(
        (needle, pattern)
        for needle, pattern in ((needle, _pattern(needle)) for needle in needles)
        # The substring test first: a regular expression over all the catalogues is slow.
        if needle not in russian_text or not pattern.search(russian_text)
    )


class _ReadText(HTMLParser):
    """Collects what a visitor reads: text nodes and the attributes listed above, each as its
    own chunk, so that no needle is found across two of them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.page_language: str | None = None
        self._skipping: tuple[str, int] | None = None  # (tag, nesting) of the skipped element

    def _other_language(self, attributes: dict[str, str | None]) -> bool:
        if "lang" not in attributes or self.page_language is None:
            return False
        declared = (attributes["lang"] or "").strip().lower().split("-")[0]
        return declared != self.page_language

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if self._skipping is not None:
            skipped, depth = self._skipping
            if tag == skipped and tag not in _VOID:
                self._skipping = (skipped, depth + 1)
            return
        if tag == "html" and self.page_language is None:
            # The root's language is the page's, the one under test; an element that declares
            # another holds text in that language by design (a petition's text, the links to
            # the page in other languages).
            self.page_language = (attributes.get("lang") or "").strip().lower().split("-")[0]
            return
        if tag in _UNSHOWN or self._other_language(attributes):
            if tag not in _VOID:
                self._skipping = (tag, 1)
            return
        for name, value in attributes.items():
            if not value:
                continue
            if (
                name in _READ_ATTRIBUTES
                or (name == "value" and tag == "input" and (attributes.get("type") or "").lower() in _BUTTON_INPUTS)
                # Messages handed to scripts (data-no-match, data-left-one, …); a value without
                # a space is an address, an id or a number, never a message.
                or (name.startswith("data-") and " " in value.strip())
            ):
                self.chunks.append(value)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skipping is not None:
            return
        self.handle_starttag(tag, attrs)
        self._skipping = None  # self-closed: nothing inside it to skip

    def handle_endtag(self, tag: str) -> None:
        if self._skipping is None:
            return
        skipped, depth = self._skipping
        if tag == skipped:
            self._skipping = None if depth == 1 else (skipped, depth - 1)

    def handle_data(self, data: str) -> None:
        if self._skipping is None:
            self.chunks.append(data)


def readable_text(page: str) -> str:
    """The page's visible text and read attributes, one chunk a line, whitespace normalised."""
    reader = _ReadText()
    reader.feed(page)
    reader.close()
    return "\n".join(chunk for chunk in (_normal(c) for c in reader.chunks) if chunk)


def english_leftovers(page: str) -> list[str]:
    """The English interface strings a rendered page shows, in the order they first appear.
    A string shown only as part of a longer one found ("Search" in "Search petitions") is not
    named again."""
    text = readable_text(page)
    spans = [
        (match.start(), match.end(), needle)
        for needle, pattern in english_needles()
        if needle in text
        for match in pattern.finditer(text)
    ]
    first: dict[str, int] = {}
    for start, end, needle in sorted(spans):
        inside = any(s <= start and end <= e and (e - s) > (end - start) for s, e, _ in spans)
        if not inside:
            first.setdefault(needle, start)
    return sorted(first, key=first.__getitem__)
