"""Claims no longer name their member in the clear (issue 10): the member reference is sealed
under the petition's data key and kept as a keyed member tag; decision notes are sealed; claim
and decision times are kept to the day; the public verified figures get their counters.
Reversible: going back opens the sealed references and notes again (with the keys).

A petition whose data key was destroyed has nothing to seal under, and its signers' personal
data must not outlive the key in the clear: its claims keep their status and are counted in
the figures (the territory is read here, once), but get no readable reference, a random member
tag (unique, as after ``retention``'s destruction) and lose their decision notes. Going back
cannot name their members again, and says so."""

import json
import secrets

import django.db.models.deletion
from django.db import migrations, models

import undersign.verification.models


def _day(moment):
    return moment.replace(hour=0, minute=0, second=0, microsecond=0) if moment else moment


def _counted_as(claim, signature):
    # As ``verification.selectors.claim_counted_as`` (a migration keeps its own copy).
    if claim.status == "rejected":
        return "rejected" if signature.confirmed_at is not None else ""
    if signature.status != "confirmed":
        return ""
    if claim.status == "pending":
        return "pending"
    return "validated_named" if signature.display == "named" else "validated_other"


def seal_member_refs(apps, schema_editor):
    from undersign.core.crypto import seal
    from undersign.verification.evidence import decision_note_context
    from undersign.verification.member_ref import member_context, member_tag

    Claim = apps.get_model("verification", "Claim")
    ClaimDecision = apps.get_model("verification", "ClaimDecision")
    VerifiedCount = apps.get_model("verification", "VerifiedCount")
    destroyed = _destroyed_keys(apps)
    counts: dict[tuple[int, str], dict[str, int]] = {}
    for claim in Claim.objects.select_related("member", "petition", "signature").iterator():
        member, petition, signature = claim.member, claim.petition, claim.signature
        tag = bytes(signature.dedup_tag)
        shredded = petition.data_key_id in destroyed
        if shredded:
            # Unreadable by design: it opens as no sealed value does (``DecryptionError``).
            sealed_member, tagged = b"", secrets.token_bytes(32)
        else:
            text = json.dumps([member.registry_id, member.pk, member.territory_code], separators=(",", ":"))
            sealed_member = seal(petition.data_key_id, text, context=member_context(tag))
            tagged = member_tag(petition_uuid=petition.uuid, registry_id=member.registry_id, member_id=member.pk)
        counted_as = _counted_as(claim, signature)
        Claim.objects.filter(pk=claim.pk).update(
            member_sealed=sealed_member,
            member_tag=tagged,
            counted_as=counted_as,
            created_at=_day(claim.created_at),
            decided_at=_day(claim.decided_at),
            evidence_deleted_at=_day(claim.evidence_deleted_at),
        )
        if counted_as:
            cell = counts.setdefault((petition.pk, member.territory_code), {})
            cell[counted_as] = cell.get(counted_as, 0) + 1
        for decision in ClaimDecision.objects.filter(claim=claim):
            sealed = (
                seal(petition.data_key_id, decision.note, context=decision_note_context(tag))
                if decision.note and not shredded
                else None
            )
            ClaimDecision.objects.filter(pk=decision.pk).update(
                note_sealed=sealed, created_at=_day(decision.created_at)
            )
    VerifiedCount.objects.bulk_create(
        VerifiedCount(petition_id=petition_id, territory_code=territory, **cell)
        for (petition_id, territory), cell in counts.items()
    )


def _destroyed_keys(apps) -> set[str]:
    DataKey = apps.get_model("core", "DataKey")
    return set(DataKey.objects.filter(destroyed_at__isnull=False).values_list("key_id", flat=True))


def open_member_refs(apps, schema_editor):
    from undersign.core.crypto import open_sealed
    from undersign.verification.evidence import decision_note_context
    from undersign.verification.member_ref import member_context

    Claim = apps.get_model("verification", "Claim")
    ClaimDecision = apps.get_model("verification", "ClaimDecision")
    shredded = list(
        Claim.objects.filter(petition__data_key_id__in=_destroyed_keys(apps)).values_list("pk", flat=True)[:10]
    )
    if shredded:
        # The schema before needs a member on every claim; these named theirs under a key
        # that is gone. The migration's transaction undoes the steps already taken back.
        raise RuntimeError(
            "Cannot go back before verification 0002: the personal data of the petitions of claims "
            f"{', '.join(map(str, shredded))} (and maybe more) was destroyed, so the members they name "
            "cannot be restored."
        )
    for claim in Claim.objects.select_related("signature").iterator():
        tag = bytes(claim.signature.dedup_tag)
        _, member_id, _ = json.loads(open_sealed(claim.member_sealed, context=member_context(tag)))
        Claim.objects.filter(pk=claim.pk).update(member_id=member_id)
        for decision in ClaimDecision.objects.filter(claim=claim, note_sealed__isnull=False):
            note = open_sealed(decision.note_sealed, context=decision_note_context(tag))
            ClaimDecision.objects.filter(pk=decision.pk).update(note=note)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_staff_access"),
        ("petitions", "0004_data_key_relation"),
        ("signatures", "0003_count_queue_replaced_by_log"),
        ("verification", "0001_initial"),
    ]

    operations = [
        migrations.AddField(model_name="claim", name="member_sealed", field=models.BinaryField(null=True)),
        migrations.AddField(model_name="claim", name="member_tag", field=models.BinaryField(max_length=32, null=True)),
        migrations.AddField(
            model_name="claim",
            name="counted_as",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "Not counted"),
                    ("validated_named", "Verified, named by the signer's choice"),
                    ("validated_other", "Verified, not named"),
                    ("pending", "Awaiting validation"),
                    ("rejected", "Rejected"),
                ],
                default="",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="claimdecision", name="note_sealed", field=models.BinaryField(blank=True, null=True)
        ),
        migrations.CreateModel(
            name="VerifiedCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("territory_code", models.CharField(max_length=32)),
                ("validated_named", models.PositiveIntegerField(default=0)),
                ("validated_other", models.PositiveIntegerField(default=0)),
                ("pending", models.PositiveIntegerField(default=0)),
                ("rejected", models.PositiveIntegerField(default=0)),
                (
                    "petition",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="verified_counts",
                        to="petitions.petition",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("petition", "territory_code"), name="verifiedcount_unique_territory"
                    )
                ],
            },
        ),
        # Nullable first, so that going back can add the column again before refilling it.
        migrations.AlterField(
            model_name="claim",
            name="member",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="claims",
                to="verification.registrymember",
            ),
        ),
        migrations.RunPython(seal_member_refs, open_member_refs, elidable=False),
        migrations.RemoveConstraint(model_name="claim", name="claim_one_validated_per_member"),
        migrations.RemoveField(model_name="claim", name="member"),
        migrations.RemoveField(model_name="claimdecision", name="note"),
        migrations.AlterField(model_name="claim", name="member_sealed", field=models.BinaryField()),
        migrations.AlterField(model_name="claim", name="member_tag", field=models.BinaryField(max_length=32)),
        migrations.AddConstraint(
            model_name="claim",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "validated")),
                fields=("petition", "member_tag"),
                name="claim_one_validated_per_member",
            ),
        ),
        migrations.AddConstraint(
            model_name="claim",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("counted_as__in", ["", "validated_named", "validated_other", "pending", "rejected"])
                ),
                name="claim_counted_as_valid",
            ),
        ),
        migrations.AddIndex(
            model_name="claim", index=models.Index(fields=["petition", "member_tag"], name="claim_by_member_tag")
        ),
        migrations.AlterField(
            model_name="claimdecision",
            name="created_at",
            field=models.DateTimeField(db_index=True, default=undersign.verification.models.day_start),
        ),
        migrations.AlterField(
            model_name="claimdecision",
            name="kind",
            field=models.CharField(
                choices=[
                    ("validate", "Validate"),
                    ("reject", "Reject"),
                    ("reverse", "Reverse the decision"),
                    ("override", "Overridden by the member's official address"),
                ],
                max_length=8,
            ),
        ),
        migrations.RemoveConstraint(model_name="claimdecision", name="claimdecision_kind_valid"),
        migrations.AddConstraint(
            model_name="claimdecision",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind__in", ["validate", "reject", "reverse", "override"])),
                name="claimdecision_kind_valid",
            ),
        ),
        migrations.RemoveConstraint(model_name="claimdecision", name="claimdecision_reject_has_reason"),
        migrations.AddConstraint(
            model_name="claimdecision",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind__in", ["reject", "override"]), _negated=True),
                    models.Q(("reason_code", ""), _negated=True),
                    _connector="OR",
                ),
                name="claimdecision_reject_has_reason",
            ),
        ),
    ]
