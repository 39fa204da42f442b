from django.db import migrations, models
from django.db.models import F


def level_where_nothing_is_logged(apps, schema_editor):
    """Claims of petitions that are not registry-only never have DECISION entries: their
    decisions are all logged (as nothing). Those of registry-only petitions stay "pending" in
    the log, so their petitions' next snapshots log the decisions taken before this migration
    (``claim_decisions_release``)."""
    Claim = apps.get_model("verification", "Claim")
    Claim.objects.exclude(petition__verification__policy="registry_only").update(logged_status=F("status"))


class Migration(migrations.Migration):
    dependencies = [
        ("verification", "0006_registry_territories"),
    ]

    operations = [
        migrations.AddField(
            model_name="claim",
            name="logged_status",
            field=models.CharField(
                choices=[("pending", "Awaiting validation"), ("validated", "Validated"), ("rejected", "Rejected")],
                default="pending",
                max_length=12,
            ),
        ),
        migrations.AddConstraint(
            model_name="claim",
            constraint=models.CheckConstraint(
                condition=models.Q(("logged_status__in", ["pending", "validated", "rejected"])),
                name="claim_logged_status_valid",
            ),
        ),
        migrations.RunPython(level_where_nothing_is_logged, migrations.RunPython.noop),
    ]
