"""The log stands below the signatures app, so an entry names its signature by id only: the
foreign-key constraint goes, the column and its data stay, and Django's state learns a plain
integer field of the same column."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("transparency", "0002_backfill"),
    ]

    operations = [
        migrations.AlterField(
            model_name="logentry",
            name="signature",
            field=models.ForeignKey(
                null=True,
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="signatures.signature",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="logentry", name="signature"),
                migrations.AddField(
                    model_name="logentry",
                    name="signature_id",
                    field=models.BigIntegerField(db_index=True, null=True),
                ),
            ],
        ),
    ]
