"""A petition's data key becomes a foreign key to it (by ``key_id``, the value the column already
holds), replacing the key's own link to its petition (core 0002): ``core`` knows no app above
it, and the database still refuses a petition whose key does not exist."""

import django.db.models.deletion
from django.db import migrations, models


def check_every_petition_has_its_key(apps, schema_editor):
    """The foreign key below would refuse a petition whose data key row is missing; say which,
    rather than fail on a constraint name. Such a petition's personal data is unreadable anyway."""
    Petition = apps.get_model("petitions", "Petition")
    DataKey = apps.get_model("core", "DataKey")
    keys = DataKey.objects.values("key_id")
    missing = list(Petition.objects.exclude(data_key_id__in=keys).values_list("pk", flat=True)[:20])
    if missing:
        raise RuntimeError(f"petitions without their data key row in core_datakey: {missing}")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_no_relations_to_other_apps"),
        ("petitions", "0003_counted_at_checkpoint"),
    ]

    operations = [
        migrations.RunPython(check_every_petition_has_its_key, migrations.RunPython.noop),
        migrations.RenameField(model_name="petition", old_name="data_key_id", new_name="data_key"),
        migrations.AlterField(
            model_name="petition",
            name="data_key",
            field=models.ForeignKey(
                help_text="data key new personal data is sealed under",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="core.datakey",
                to_field="key_id",
            ),
        ),
    ]
