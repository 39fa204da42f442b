# Registries declare the territories their members are counted in (a bundled set or their own).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("verification", "0005_member_name_folded"),
    ]

    operations = [
        migrations.AddField(
            model_name="registry",
            name="territories",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Its own territories, from a file given at import ([{code, name, time_zone}]); "
                "these win over the set named above.",
            ),
        ),
        migrations.AddField(
            model_name="registry",
            name="territory_set",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "The site's regions"),
                    ("uk", "United Kingdom: ITL1 regions"),
                    ("ru", "Russia: federal subjects"),
                    ("ru-cities", "Russia: cities"),
                ],
                help_text="The bundled territory set its members are counted in (e.g. ru-cities); "
                "empty: the site's regions.",
                max_length=16,
            ),
        ),
    ]
