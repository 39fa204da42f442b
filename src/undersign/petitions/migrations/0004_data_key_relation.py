"""A petition's data key becomes a foreign key to it (by ``key_id``, the value the column already
holds), replacing the key's own link to its petition (core 0002): ``core`` knows no app above
it, and the database still refuses a petition whose key does not exist."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_no_relations_to_other_apps"),
        ("petitions", "0003_counted_at_checkpoint"),
    ]

    operations = [
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
