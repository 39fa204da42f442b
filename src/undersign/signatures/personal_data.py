"""A signer's personal data: the one place where it is sealed and opened.

A security reviewer can read this module alone to know how names, e-mail addresses, IP
addresses and the language a signer used are kept: each value is sealed (AES-256-GCM,
``core.crypto``) under its petition's data key, bound by associated data to its signature
(through the unique dedup tag) and to its field, so a sealed value cannot be moved to another
row or column. Nothing else calls ``seal``/``open_sealed`` on a signature's fields; claim
evidence has its own module (``verification.evidence``) built the same way.
"""

from __future__ import annotations

from typing import Literal

from django.conf import settings
from django.utils import translation

from undersign.core.crypto import DecryptionError, open_sealed, reseal, seal
from undersign.signatures.models import Signature

Field = Literal["name", "email", "ip", "language"]
# A language code is sealed padded to this many characters: the sealed value is as long as
# its plaintext, and a code's length ("ru", "pt-br", "zh-hans") would otherwise tell which
# language a dump's row holds.
LANGUAGE_WIDTH = 16
# What an erased signature's NOT NULL sealed columns hold: no value at all. It opens as nothing
# does (``DecryptionError``, as after the petition's key is destroyed), so every reader that
# copes with a destroyed key copes with an erased signature.
ERASED = b""
__all__ = [
    "ERASED",
    "DecryptionError",
    "pii_context",
    "signer_email",
    "signer_fields_erased",
    "signer_fields_reseal",
    "signer_fields_seal",
    "signer_ip",
    "signer_language",
    "signer_name",
    "signer_name_seal",
]


def pii_context(tag: bytes, field: Field) -> bytes:
    """Associated data binding a sealed value to its signature (via the unique dedup tag) and
    field, so sealed values cannot be swapped between rows or columns."""
    return b"undersign/pii/v1\x00" + tag + b"\x00" + field.encode("ascii")


def supported_language(code: str | None) -> str:
    """``code`` as one of the site's languages (``settings.LANGUAGES``): its closest supported
    variant, or the site's own language for none or one the site does not offer (any more)."""
    try:
        return translation.get_supported_language_variant(code or settings.LANGUAGE_CODE)
    except LookupError:
        return translation.get_supported_language_variant(settings.LANGUAGE_CODE)


def signer_fields_seal(
    *, key_id: str, tag: bytes, name: str, email: str, ip_address: str | None, language: str
) -> dict[str, object]:
    """The sealed columns of a signature (``name_sealed``, ``email_sealed``, ``ip_sealed``,
    ``language_sealed``)."""
    return {
        "name_sealed": seal(key_id, name, context=pii_context(tag, "name")),
        "email_sealed": seal(key_id, email, context=pii_context(tag, "email")),
        "ip_sealed": seal(key_id, ip_address, context=pii_context(tag, "ip")) if ip_address else None,
        "language_sealed": seal(
            key_id, supported_language(language).ljust(LANGUAGE_WIDTH), context=pii_context(tag, "language")
        ),
    }


def signer_fields_reseal(signature: Signature, *, new_tag: bytes) -> dict[str, object]:
    """The sealed columns of ``signature`` sealed afresh, bound to ``new_tag``, its dedup tag
    from now on (a withdrawal replaces it). Raises ``DecryptionError`` once the petition's key
    is destroyed (then there is nothing left to bind)."""
    old_tag = bytes(signature.dedup_tag)

    def again(sealed: bytes | memoryview, field: Field) -> bytes:
        return reseal(sealed, context=pii_context(old_tag, field), new_context=pii_context(new_tag, field))

    return {
        "name_sealed": again(signature.name_sealed, "name"),
        "email_sealed": again(signature.email_sealed, "email"),
        "ip_sealed": None if signature.ip_sealed is None else again(signature.ip_sealed, "ip"),
        "language_sealed": None if signature.language_sealed is None else again(signature.language_sealed, "language"),
    }


def signer_fields_erased() -> dict[str, object]:
    """The sealed columns of an erased signature: nothing left to open, with any key."""
    return {"name_sealed": ERASED, "email_sealed": ERASED, "ip_sealed": None, "language_sealed": None}


def signer_name_seal(*, key_id: str, tag: bytes, name: str) -> bytes:
    """``name_sealed`` for a name corrected on the confirmation page."""
    return seal(key_id, name, context=pii_context(tag, "name"))


def _open(signature: Signature, field: Literal["name", "email"]) -> str:
    sealed = signature.name_sealed if field == "name" else signature.email_sealed
    return open_sealed(sealed, context=pii_context(bytes(signature.dedup_tag), field))


def signer_name(signature: Signature) -> str:
    """The signer's name. Raises ``DecryptionError`` once the petition's key is destroyed."""
    return _open(signature, "name")


def signer_email(signature: Signature) -> str:
    """The signer's address, for sending mail and checking a claim only. Raises
    ``DecryptionError`` once the petition's key is destroyed."""
    return _open(signature, "email")


def signer_ip(signature: Signature) -> str | None:
    """The address the signature came from (None: not kept), for a moderator's search by
    network only. Raises ``DecryptionError`` once the petition's key is destroyed."""
    if signature.ip_sealed is None:
        return None
    return open_sealed(signature.ip_sealed, context=pii_context(bytes(signature.dedup_tag), "ip"))


def signer_language(signature: Signature) -> str:
    """The language the signer used, one of the site's: every mail to them is written in it.
    The site's own language for a signature signed before it was kept, an erased one, or one
    whose petition's key is destroyed (no mail goes to those)."""
    if signature.language_sealed is None:
        return supported_language(None)
    try:
        code = open_sealed(signature.language_sealed, context=pii_context(bytes(signature.dedup_tag), "language"))
    except DecryptionError:
        return supported_language(None)
    return supported_language(code.strip())
