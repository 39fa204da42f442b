from django.db import migrations, models


class Migration(migrations.Migration):
    """Petitions that exist already made their signatures' dedup tags with version 1 and keep it
    (added with default 1, so every existing row gets 1); new ones take version 2."""

    dependencies = [
        ("petitions", "0006_attack_mode"),
    ]

    operations = [
        migrations.AddField(
            model_name="petition",
            name="dedup_version",
            field=models.PositiveSmallIntegerField(default=1),
        ),
        migrations.AlterField(
            model_name="petition",
            name="dedup_version",
            field=models.PositiveSmallIntegerField(default=2),
        ),
        migrations.AddConstraint(
            model_name="petition",
            constraint=models.CheckConstraint(
                condition=models.Q(("dedup_version__in", (1, 2))), name="petition_dedup_version_known"
            ),
        ),
    ]
