from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("signatures", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="signature",
            name="commitment",
            field=models.BinaryField(max_length=32, null=True),
        ),
    ]
