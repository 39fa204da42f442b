from datetime import UTC

from django.db import migrations
from django.db.models.functions import TruncDay


def round_appended(apps, schema_editor):
    """Entries appended before the integrator rounded their times get the same treatment."""
    apps.get_model("transparency", "LogEntry").objects.filter(leaf_index__isnull=False).update(
        created_at=TruncDay("created_at", tzinfo=UTC)
    )


class Migration(migrations.Migration):
    dependencies = [("transparency", "0003_signature_by_id")]

    operations = [migrations.RunPython(round_appended, migrations.RunPython.noop)]
