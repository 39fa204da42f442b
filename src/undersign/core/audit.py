"""The record of staff access to personal data (``StaffAccess``): every app that shows staff
decrypted personal data, or searches by it, writes one row here first."""

from __future__ import annotations

from django.contrib.auth.models import User

from undersign.core.models import StaffAccess


def staff_access_record(
    *, actor: User, action: str, subject: str, reason: str = "", approved_by: User | None = None
) -> StaffAccess:
    """Record that ``actor`` opened ``subject`` (``petition:12``, ``claim:5``) for ``reason``.
    ``subject`` and ``reason`` must name no personal data: a search's terms are never passed."""
    return StaffAccess.objects.create(
        actor=actor, action=action, subject=subject[:100], reason=reason.strip(), approved_by=approved_by
    )
