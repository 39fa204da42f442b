"""Registry members' names folded for search (case, ё/е, accents): filled for every member
already imported, with a frozen copy of ``core.text.fold_name``."""

import unicodedata

from django.db import migrations, models


def fold_name(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold().replace("ё", "е")


def fill(apps, schema_editor):
    RegistryMember = apps.get_model("verification", "RegistryMember")
    members = list(RegistryMember.objects.only("pk", "name"))
    for member in members:
        member.name_folded = fold_name(member.name)
    RegistryMember.objects.bulk_update(members, ["name_folded"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("verification", "0004_groups")]
    operations = [
        migrations.AddField(
            model_name="registrymember", name="name_folded", field=models.CharField(default="", max_length=200)
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
