"""The record of staff access to personal data (``StaffAccess``): every app that shows staff
decrypted personal data, or searches by it, writes one row here first."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User

from undersign.core.batches import batches_delete
from undersign.core.models import StaffAccess


def staff_access_record(
    *, actor: User, action: str, subject: str, reason: str = "", approved_by: User | None = None
) -> StaffAccess:
    """Record that ``actor`` opened ``subject`` (``petition:12``, ``claim:5``) for ``reason``.
    ``subject`` and ``reason`` must name no personal data: a search's terms are never passed."""
    return StaffAccess.objects.create(
        actor=actor, action=action, subject=subject[:100], reason=reason.strip(), approved_by=approved_by
    )


def staff_access_delete_expired(now: datetime) -> int:
    """A retention job: delete the records older than ``STAFF_AUDIT_RETENTION_DAYS``, in
    batches. Each names a staff member, a petition or claim and a reason: kept long enough for
    an auditor to read, not forever. Returns how many."""
    cutoff = now - timedelta(days=settings.STAFF_AUDIT_RETENTION_DAYS)
    return batches_delete(StaffAccess.objects.filter(created_at__lte=cutoff))
