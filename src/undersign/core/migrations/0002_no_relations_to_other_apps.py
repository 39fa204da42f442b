"""``core`` is the ground floor and knows no app above it: the data key loses its petition (the
petition points at its key instead, petitions 0004) and the outbox names its signature and
petition by id only. The outbox's columns and their data stay as they are: only the foreign-key
constraints go, then Django's state learns plain integer fields of the same columns."""

import django.db.models.deletion
from django.db import migrations, models


def link_keys_to_petitions(apps, schema_editor):
    """Backwards only: give each data key its petition again, from the petition's own column."""
    DataKey = apps.get_model("core", "DataKey")
    Petition = apps.get_model("petitions", "Petition")
    for petition_id, key_id in Petition.objects.values_list("pk", "data_key_id"):
        DataKey.objects.filter(key_id=key_id).update(petition_id=petition_id)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
    ]

    operations = [
        # Nullable first, so that going back can re-add the column to a populated table and
        # fill it (link_keys_to_petitions) before making it required again.
        migrations.AlterField(
            model_name="datakey",
            name="petition",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="data_keys",
                to="petitions.petition",
            ),
        ),
        migrations.RunPython(migrations.RunPython.noop, link_keys_to_petitions),
        migrations.RemoveField(model_name="datakey", name="petition"),
        migrations.AlterField(
            model_name="outboundemail",
            name="signature",
            field=models.ForeignKey(
                blank=True,
                null=True,
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="signatures.signature",
            ),
        ),
        migrations.AlterField(
            model_name="outboundemail",
            name="petition",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="petitions.petition",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="outboundemail", name="signature"),
                migrations.RemoveField(model_name="outboundemail", name="petition"),
                migrations.AddField(
                    model_name="outboundemail",
                    name="signature_id",
                    field=models.BigIntegerField(blank=True, db_index=True, null=True),
                ),
                migrations.AddField(
                    model_name="outboundemail",
                    name="petition_id",
                    field=models.BigIntegerField(db_index=True),
                ),
            ],
        ),
    ]
