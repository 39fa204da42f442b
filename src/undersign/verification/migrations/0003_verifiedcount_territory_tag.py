"""The counters keep their territory as a keyed tag instead of its code (see
``verification.member_ref.territory_tag``): a dump no longer joins a petition's counters to
the members of a small territory. Backfilled both ways: backwards, a tag is mapped to a code
through the territory codes of all registries' members (a tag no code matches is dropped)."""

import hashlib
import hmac

from django.conf import settings
from django.db import migrations, models


def _tag(petition_uuid, code: str) -> bytes:
    # The recipe of ``member_ref.territory_tag``, frozen here as migrations must be.
    raw = code.encode("utf-8")
    message = b"territory/v1\x00" + petition_uuid.bytes + len(raw).to_bytes(2, "big") + raw
    return hmac.new(settings.KEYS.member_tag_key, message, hashlib.sha256).digest()


def codes_to_tags(apps, schema_editor):
    VerifiedCount = apps.get_model("verification", "VerifiedCount")
    for row in VerifiedCount.objects.select_related("petition").iterator():
        VerifiedCount.objects.filter(pk=row.pk).update(territory_tag=_tag(row.petition.uuid, row.territory_code))


def tags_to_codes(apps, schema_editor):
    VerifiedCount = apps.get_model("verification", "VerifiedCount")
    RegistryMember = apps.get_model("verification", "RegistryMember")
    codes = list(RegistryMember.objects.values_list("territory_code", flat=True).distinct().order_by())
    for row in VerifiedCount.objects.select_related("petition").iterator():
        by_tag = {_tag(row.petition.uuid, code): code for code in codes}
        code = by_tag.get(bytes(row.territory_tag))
        if code is None:
            VerifiedCount.objects.filter(pk=row.pk).delete()
        else:
            VerifiedCount.objects.filter(pk=row.pk).update(territory_code=code)


class Migration(migrations.Migration):
    dependencies = [("verification", "0002_claims_unlinkable")]

    operations = [
        migrations.AddField(
            model_name="verifiedcount", name="territory_tag", field=models.BinaryField(max_length=32, null=True)
        ),
        # A default, so that the column can come back (empty) when this migration is reversed.
        migrations.AlterField(
            model_name="verifiedcount", name="territory_code", field=models.CharField(max_length=32, default="")
        ),
        migrations.RemoveConstraint(model_name="verifiedcount", name="verifiedcount_unique_territory"),
        migrations.RunPython(codes_to_tags, tags_to_codes),
        migrations.RemoveField(model_name="verifiedcount", name="territory_code"),
        migrations.AlterField(
            model_name="verifiedcount", name="territory_tag", field=models.BinaryField(max_length=32)
        ),
        migrations.AddConstraint(
            model_name="verifiedcount",
            constraint=models.UniqueConstraint(
                fields=("petition", "territory_tag"), name="verifiedcount_unique_territory_tag"
            ),
        ),
    ]
