"""A guard against mistyped addresses: "name@gmial.com" gets "did you mean name@gmail.com?".

A confirmation mail sent to a mistyped domain is lost, and with it the signature. The guard
only compares what was typed with a list of the domains most people use; it looks nothing up
(no DNS, no database), so its answer depends on the typed text alone and tells nobody anything
about anyone. It suggests and never refuses: an address at an unusual domain that happens to
look like a common one is kept with one more press (``signatures.forms.SignerForm``).
``address-hint.js`` gives the same hint in the browser from the same list and distances."""

from __future__ import annotations

# The mail domains most used by this site's signers (Russian and international), most used first:
# a tie goes to the earlier one.
COMMON_MAIL_DOMAINS = (
    "gmail.com",
    "mail.ru",
    "yandex.ru",
    "ya.ru",
    "bk.ru",
    "inbox.ru",
    "list.ru",
    "rambler.ru",
    "outlook.com",
    "hotmail.com",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "live.com",
    "proton.me",
    "protonmail.com",
    "yandex.com",
    "aol.com",
    "gmx.de",
    "web.de",
    "ukr.net",
    "mail.com",
)


def edit_distance(a: str, b: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) that turn ``a`` into ``b``: the
    optimal string alignment distance, which counts "gmial" for "gmail" as one slip, not two."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _close_enough(distance: int, domain: str) -> bool:
    # One slip anywhere; two only in a long name, where two slips still leave it recognisable.
    return distance == 1 or (distance == 2 and len(domain) >= 8)


def address_suggestion(email: str) -> str | None:
    """The address ``email`` was probably meant to be, or None: its domain is one of the
    common ones already, or close to none of them."""
    local, at, domain = email.rpartition("@")
    domain = domain.lower()
    if not at or not local or domain in COMMON_MAIL_DOMAINS:
        return None
    best: tuple[int, str] | None = None
    for candidate in COMMON_MAIL_DOMAINS:
        distance = edit_distance(domain, candidate)
        if _close_enough(distance, candidate) and (best is None or distance < best[0]):
            best = (distance, candidate)
    return None if best is None else f"{local}@{best[1]}"
