"""A GIN index for full-text search, on PostgreSQL only (SQLite searches by LIKE instead).
The expression must match the SearchVector built in petitions.selectors._search."""

from django.db import migrations

VECTOR = (
    "setweight(to_tsvector('english'::regconfig, COALESCE(action, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, COALESCE(background, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, COALESCE(additional_details, '')), 'C')"
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS petition_fulltext ON petitions_petition USING GIN (({VECTOR}))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS petition_fulltext")


class Migration(migrations.Migration):
    dependencies = [("petitions", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
