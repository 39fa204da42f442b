"""A petition's language, and the full-text index over its own language's text-search
configuration plus ``simple``, with ё folded to е (PostgreSQL only; SQLite scans folded text).
Existing petitions were all written for the English site: they become "en". The expression is a
frozen copy of ``petitions.search.document_sql``'s output at this migration; the two must stay
equal or searches stop using the index (tests/petitions/test_search.py checks the plan)."""

from django.db import migrations, models

# Frozen copy of petitions.search.SEARCH_CONFIGS.
CONFIGS = {
    "ar": "arabic", "ca": "catalan", "da": "danish", "de": "german", "el": "greek", "en": "english",
    "es": "spanish", "eu": "basque", "fi": "finnish", "fr": "french", "ga": "irish", "hi": "hindi",
    "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian", "lt": "lithuanian",
    "nb": "norwegian", "ne": "nepali", "nl": "dutch", "pt": "portuguese", "ro": "romanian",
    "ru": "russian", "sr": "serbian", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}  # fmt: skip
CONFIG = (
    "CASE language "
    + " ".join(f"WHEN '{code}' THEN '{name}'::regconfig" for code, name in sorted(CONFIGS.items()))
    + " ELSE 'simple'::regconfig END"
)
DOCUMENT = " || ".join(
    f"setweight(to_tsvector({CONFIG}, translate(COALESCE({column}, ''), 'Ёё', 'Ее')) || "
    f"to_tsvector('simple'::regconfig, translate(COALESCE({column}, ''), 'Ёё', 'Ее')), '{weight}')"
    for column, weight in (("action", "A"), ("background", "B"), ("additional_details", "C"))
)
ENGLISH = (
    "setweight(to_tsvector('english'::regconfig, COALESCE(action, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, COALESCE(background, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, COALESCE(additional_details, '')), 'C')"
)


def index_replace(expression: str):
    def replace(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute("DROP INDEX IF EXISTS petition_fulltext")
            schema_editor.execute(f"CREATE INDEX petition_fulltext ON petitions_petition USING GIN (({expression}))")

    return replace


class Migration(migrations.Migration):
    dependencies = [("petitions", "0007_dedup_version")]
    operations = [
        migrations.AddField(
            model_name="petition", name="language", field=models.CharField(default="en", max_length=12)
        ),
        migrations.RunPython(index_replace(DOCUMENT), index_replace(ENGLISH)),
    ]
