"""The titles of the bundled claim rejection reasons (``data/claim_rejection_reasons.json``),
named here so that ``makemessages`` puts them in the catalogue: the file is data, read at run
time, and ``forms.claim_rejection_title`` translates a title when it is shown. A site's own
reasons file is shown as written. ``tests/verification/test_russian.py`` keeps this list equal
to the file's titles."""

from __future__ import annotations

from django.utils.translation import gettext_noop

BUNDLED_TITLES = (
    gettext_noop("The signer is not this member"),
    gettext_noop("Not enough evidence"),
    gettext_noop("The member confirmed another signature"),
    gettext_noop("No longer in office"),
)
