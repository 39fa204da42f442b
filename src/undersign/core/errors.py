"""One base exception for refusals: a request the application will not carry out, for a reason
fit to show to whoever asked. Services raise it (or a subclass naming the case); views turn it
into a page with ``core.http.refusal_page``, never into a 500."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy


class Refusal(Exception):
    """``message`` is safe to show; a subclass sets the page's ``title`` and HTTP ``status``."""

    title: str | Promise = gettext_lazy("This cannot be done")
    status = 409

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
