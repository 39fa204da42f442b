"""Put what happened before the log existed into it, as pending entries the integrator appends:
an OPENED for each published petition, a SIGNATURE for each signature ever confirmed (with a
commitment from an r thrown away: no receipt can exist for them), and a REVOCATION for each
of those invalidated since. Signatures the count job had counted get a delta of 0; changes
still in the count queue keep theirs, so every counter ends where COUNT(*) says."""

import hashlib
import secrets
import struct

from django.db import migrations
from django.utils import timezone

OPENED, SIGNATURE, REVOCATION = 1, 2, 3
COMMIT_PREFIX = b"undersign/v1/commit"
TEXT_PREFIX = b"undersign/v1/petition-text\x00"


def _entry(kind, petition_uuid, body):
    # Frozen here on purpose: a migration must not change when undersign_verify does.
    return struct.pack(">BB", 1, kind) + petition_uuid.bytes + body


def _text_digest(p):
    out = bytearray(TEXT_PREFIX)
    for part in (p.action, p.background, p.additional_details):
        encoded = part.encode()
        out += struct.pack(">I", len(encoded)) + encoded
    return hashlib.sha256(bytes(out)).digest()


def backfill(apps, schema_editor):
    Petition = apps.get_model("petitions", "Petition")
    Signature = apps.get_model("signatures", "Signature")
    CountQueue = apps.get_model("signatures", "CountQueue")
    LogEntry = apps.get_model("transparency", "LogEntry")
    now = timezone.now()
    queued: dict[int, int] = {}
    for signature_id, delta in CountQueue.objects.values_list("signature_id", "delta"):
        queued[signature_id] = queued.get(signature_id, 0) + delta
    rows = []
    for p in Petition.objects.filter(state__in=["open", "closed", "rejected", "hidden"], opened_at__isnull=False):
        rows.append(
            LogEntry(kind=OPENED, petition_id=p.pk, body=_entry(OPENED, p.uuid, _text_digest(p)), created_at=now)
        )
    signatures = (
        Signature.objects.filter(confirmed_at__isnull=False).select_related("petition").order_by("confirmed_at")
    )
    for s in signatures.iterator():
        c = hashlib.sha256(COMMIT_PREFIX + s.petition.uuid.bytes + secrets.token_bytes(32)).digest()
        Signature.objects.filter(pk=s.pk).update(commitment=c)
        pending = queued.get(s.pk, 0)
        common = {"petition_id": s.petition_id, "signature_id": s.pk, "commitment": c, "region": s.region}
        rows.append(
            LogEntry(
                kind=SIGNATURE,
                body=_entry(SIGNATURE, s.petition.uuid, c),
                delta=1 if pending > 0 and s.status == "confirmed" else 0,
                created_at=s.confirmed_at,
                **common,
            )
        )
        if s.status == "invalidated":
            rows.append(
                LogEntry(
                    kind=REVOCATION,
                    body=_entry(REVOCATION, s.petition.uuid, c + b"\x00"),
                    delta=-1 if pending < 0 else 0,  # counted, its -1 not yet applied
                    created_at=s.invalidated_at or now,
                    **common,
                )
            )
    LogEntry.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("transparency", "0001_initial"),
        ("signatures", "0002_signature_commitment"),
        ("petitions", "0003_counted_at_checkpoint"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
