"""The titles and descriptions of the bundled rejection reasons (``data/rejection_reasons.json``),
named here so that ``makemessages`` puts them in the catalogue: the file is data, read at run
time, and pages and e-mails translate a reason's text when they show it (``{% translate
reason.title %}``). A site's own reasons file is shown as written. ``tests/moderation/
test_russian.py`` keeps this list equal to the file's texts."""

from __future__ import annotations

from django.utils.translation import gettext_noop

BUNDLED_TEXTS = (
    gettext_noop("Duplicate"),
    gettext_noop(
        "There's already a petition about this issue. We cannot accept a new petition when we already have one "
        "about a very similar issue."
    ),
    gettext_noop("No clear action"),
    gettext_noop("It did not ask for a clear action that the addressee can take."),
    gettext_noop("Outside our remit"),
    gettext_noop("It's about something the addressee of this site is not responsible for."),
    gettext_noop("Not a real name"),
    gettext_noop("The creator did not use their real name."),
    gettext_noop("Freedom of information request"),
    gettext_noop("It's a request for information, which should be made as a freedom of information request."),
    gettext_noop("Potentially defamatory"),
    gettext_noop("It included potentially defamatory statements."),
    gettext_noop("Offensive or abusive"),
    gettext_noop("It included language that is offensive, abusive or provocative."),
    gettext_noop("Confidential or personal information"),
    gettext_noop("It included confidential or personal information about someone."),
    gettext_noop("Advertising or spam"),
    gettext_noop("It was advertising, spam, or a commercial message."),
)
