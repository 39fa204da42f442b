from django.db import migrations, models


class Migration(migrations.Migration):
    """After the log's backfill (transparency 0002): every confirmed signature has its
    commitment, and the count queue is gone — pending log entries replaced it."""

    dependencies = [
        ("signatures", "0002_signature_commitment"),
        ("transparency", "0002_backfill"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="signature",
            constraint=models.UniqueConstraint(fields=("petition", "commitment"), name="signature_one_commitment"),
        ),
        migrations.AddConstraint(
            model_name="signature",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "confirmed"), _negated=True), ("commitment__isnull", False), _connector="OR"
                ),
                name="signature_confirmed_has_commitment",
            ),
        ),
        migrations.DeleteModel(name="CountQueue"),
    ]
