"""Rotation of the PII master keys: re-wrapping data keys under the active one, and knowing
when the next rotation is due.

Each petition's data key is stored wrapped by a master key (``core.crypto``); nothing else is
sealed directly under a master key (every personal value is sealed under a data key, and wizard
drafts under a key only the creator's cookie holds). So a rotation is complete once every live
data key is wrapped under the active master key: the older master keys can then be removed from
every environment, and with them every backup's wrapped copy of a data key destroyed since
becomes unreadable (docs/threat-model.md, "What backups keep").

The master keys themselves live only in the environment (``UNDERSIGN_PII_KEYS``, the first is
active): the site cannot make a new one. It records when it first saw each key id active
(``core.MasterKey``) and says when the next rotation is due: ``undersign rewrap_keys --status``
and a system check (every command's start, ``undersign check --deploy``).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone

from undersign.core.crypto import DecryptionError, unwrap_data_key, wrap_data_key
from undersign.core.models import DataKey, MasterKey

log = logging.getLogger(__name__)

REWRAP_BATCH_SIZE = 500


def _live_data_keys_by_master() -> Counter[str]:
    """Live (not destroyed) data keys per master key id: what each master key still opens."""
    rows = (
        DataKey.objects.filter(destroyed_at__isnull=True)
        .values_list("master_key_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return Counter({kid: n for kid, n in rows})


# --- the record of master keys ----------------------------------------------------------------


def master_keys_record(*, now: datetime) -> None:
    """Record the master key ids in use: the active one and any a data key names, each with the
    time it was first seen active; mark retired those older than the active one that no live
    data key is wrapped under any more. A newer one is another host's active key (this host's
    keys are out of date: ``master_key_replacing``), never one to retire, even with no data key
    under it yet.

    A key id met for the first time is dated by the oldest data key wrapped under it, if any
    (it was active when that key was made: a site that existed before this record did is dated
    from its first petition), else ``now`` (it has just been put first)."""
    active = settings.KEYS.pii_active_key_id
    firsts = dict(DataKey.objects.values_list("master_key_id").annotate(first=Min("created_at")).order_by())
    known = set(MasterKey.objects.values_list("key_id", flat=True))
    MasterKey.objects.bulk_create(
        [MasterKey(key_id=kid, first_active_at=firsts.get(kid, now)) for kid in sorted({*firsts, active} - known)],
        ignore_conflicts=True,  # another run recorded it a moment ago: its time stands
    )
    active_since = MasterKey.objects.filter(key_id=active).values_list("first_active_at", flat=True).get()
    in_use = DataKey.objects.filter(destroyed_at__isnull=True).values("master_key_id")
    MasterKey.objects.filter(retired_at__isnull=True, first_active_at__lt=active_since).exclude(
        key_id__in=in_use
    ).update(retired_at=now)


def master_key_replacing(*, active: str) -> str | None:
    """The newest master key first seen active after ``active`` was, if any. Rotation only goes
    forward (a replaced key is never put first again), so a process whose active key has one is
    running with an out-of-date ``UNDERSIGN_PII_KEYS``: a host left out of a rotation's restart."""
    since = MasterKey.objects.filter(key_id=active).values_list("first_active_at", flat=True).first()
    if since is None:
        return None
    newer = MasterKey.objects.filter(first_active_at__gt=since).exclude(key_id=active).order_by("-first_active_at")
    return newer.values_list("key_id", flat=True).first()


class MasterKeyReplaced(RuntimeError):
    """The active master key of this process was replaced by a newer one: re-wrapping here would
    move every data key back under a key the other hosts may no longer hold."""

    def __init__(self, active: str, newer: str) -> None:
        super().__init__(
            f"The PII master key {active!r}, first in UNDERSIGN_PII_KEYS here, was replaced by {newer!r}: "
            f"this host's keys are out of date, and nothing is re-wrapped here. Put {newer!r} first on this "
            "host, as on the others, and restart it; to rotate again, add a new key rather than an old one."
        )


# --- re-wrapping --------------------------------------------------------------------------------


@dataclass
class RewrapReport:
    """What one re-wrap did, and what is left wrapped under a key other than the active one."""

    active_key_id: str
    rewrapped: Counter[str] = field(default_factory=Counter)  # old master key id -> data keys moved
    unopenable: Counter[str] = field(default_factory=Counter)  # configured, but did not open under it
    remaining: Counter[str] = field(default_factory=Counter)  # afterwards: master key id -> live data keys

    @property
    def moved(self) -> int:
        return sum(self.rewrapped.values())

    @property
    def missing(self) -> dict[str, int]:
        """Live data keys wrapped under master keys that are not configured: unreadable here."""
        return {kid: n for kid, n in self.remaining.items() if kid not in settings.KEYS.pii_keys}


def _rewrap_batch(*, old_keys: list[str], active: str, after: int, limit: int, report: RewrapReport) -> int | None:
    """Re-wrap up to ``limit`` live data keys under ``old_keys`` with a primary key above
    ``after``, in one transaction with their rows locked; returns the last primary key looked
    at (None once there is nothing left). A key destroyed meanwhile is not matched once its
    destroyer commits (the lock waits for it, the filter is looked at again), and the UPDATE
    names live rows only: a destroyed key is never given back a wrapped copy."""
    with transaction.atomic():
        rows = list(
            DataKey.objects.select_for_update()
            .filter(destroyed_at__isnull=True, master_key_id__in=old_keys, pk__gt=after)
            .order_by("pk")
            .values_list("pk", "key_id", "master_key_id", "wrapped_key")[:limit]
        )
        for pk, key_id, master_key_id, wrapped in rows:
            assert wrapped is not None, "kept until destroyed (constraint datakey_wrapped_unless_destroyed)"
            try:
                dek = unwrap_data_key(master_key_id, bytes(wrapped))
            except DecryptionError:
                # Never destroyed here: the right key may yet be configured under this id.
                log.warning("data key %s does not open under master key %s; left as it is", key_id, master_key_id)
                report.unopenable[master_key_id] += 1
                continue
            new_master, blob = wrap_data_key(dek)
            assert new_master == active, "wrap_data_key wraps under the active master key"
            DataKey.objects.filter(pk=pk, destroyed_at__isnull=True).update(master_key_id=new_master, wrapped_key=blob)
            report.rewrapped[master_key_id] += 1
    return rows[-1][0] if rows else None


def data_keys_rewrap(*, now: datetime | None = None, batch_size: int = REWRAP_BATCH_SIZE) -> RewrapReport:
    """Re-wrap every live data key that is wrapped under a configured master key other than the
    active one, under the active one. Bounded batches, each its own transaction with its rows
    locked, so it is safe while the site runs (readers open a data key under either master key
    while both are configured; the data key itself does not change, so cached keys stay right)
    and idempotent (a re-wrapped key no longer matches). Data keys under a master key that is
    not configured, or that do not open under theirs, are reported and left alone, never
    destroyed. Raises ``MasterKeyReplaced``, moving nothing, in a process whose active key
    was replaced by a newer one."""
    now = now or timezone.now()
    active = settings.KEYS.pii_active_key_id
    report = RewrapReport(active_key_id=active)
    master_keys_record(now=now)  # before any data key moves: dates the active key's first use
    if newer := master_key_replacing(active=active):
        raise MasterKeyReplaced(active, newer)
    old_keys = [kid for kid in settings.KEYS.pii_keys if kid != active]
    after: int | None = 0
    while old_keys and after is not None:
        after = _rewrap_batch(old_keys=old_keys, active=active, after=after, limit=batch_size, report=report)
    report.remaining = Counter({k: n for k, n in _live_data_keys_by_master().items() if k != active})
    master_keys_record(now=now)  # the keys nothing needs any more are retired
    return report


def data_keys_rewrap_work(now: datetime) -> int:
    """The hourly retention job: once a new key is first in ``UNDERSIGN_PII_KEYS``, every data
    key moves to it within the hour. Returns how many data keys it re-wrapped."""
    report = data_keys_rewrap(now=now)
    for kid, n in sorted(report.missing.items()):
        log.warning("%d data keys are wrapped under master key %s, which is not configured", n, kid)
    return report.moved


# --- when rotation is due -----------------------------------------------------------------------


@dataclass(frozen=True)
class RotationStatus:
    """The master keys as the site sees them now (``rotation_status``)."""

    active_key_id: str
    active_since: datetime | None  # None until the re-wrap job has recorded the active key
    due_at: datetime | None
    overdue: bool
    live_data_keys: dict[str, int]  # master key id -> live data keys wrapped under it
    removable: list[str]  # configured, once active, no live data key needs them: remove them
    unused: list[str]  # configured but never active (a key being rolled out, or a mistake)
    replaced_by: str | None = None  # a newer key replaced the active one: this process's keys are out of date

    @property
    def still_needed(self) -> dict[str, int]:
        """Live data keys under any master key other than the active one."""
        return {kid: n for kid, n in self.live_data_keys.items() if kid != self.active_key_id and n}

    @property
    def missing(self) -> dict[str, int]:
        return {kid: n for kid, n in self.still_needed.items() if kid not in settings.KEYS.pii_keys}


def rotation_status(*, now: datetime | None = None) -> RotationStatus:
    """Read only: when the active master key was first seen active, when the next rotation is
    due, and which master keys the live data keys still need."""
    now = now or timezone.now()
    active = settings.KEYS.pii_active_key_id
    records = {row.key_id: row for row in MasterKey.objects.all()}
    since = records[active].first_active_at if active in records else None
    due_at = since + timedelta(days=settings.MASTER_KEY_ROTATION_DAYS) if since else None
    live = _live_data_keys_by_master()
    configured_old = [kid for kid in settings.KEYS.pii_keys if kid != active]
    return RotationStatus(
        active_key_id=active,
        active_since=since,
        due_at=due_at,
        overdue=due_at is not None and now >= due_at,
        live_data_keys=dict(live),
        removable=[kid for kid in configured_old if kid in records and not live[kid]],
        unused=[kid for kid in configured_old if kid not in records and not live[kid]],
        replaced_by=master_key_replacing(active=active),
    )
