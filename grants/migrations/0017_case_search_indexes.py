"""Indexes for the staff's case search (workflows.workspace) on PostgreSQL: the Swedish
full-text index of the application's title, in the very expression the search uses
(SearchVector("title", config="swedish")), and a prefix index for case numbers
("KFN 2026/…", matched case-insensitively). SQLite searches with a plain LIKE and gets none."""

from django.db import migrations

INDEXES = [
    (
        "application_title_fts",
        "CREATE INDEX IF NOT EXISTS application_title_fts ON grants_application "
        "USING gin (to_tsvector('swedish'::regconfig, COALESCE(title, '')))",
    ),
    (
        "application_case_number_prefix",
        "CREATE INDEX IF NOT EXISTS application_case_number_prefix ON grants_application "
        "(UPPER(case_number::text) text_pattern_ops)",
    ),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for _name, sql in INDEXES:
            schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, _sql in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("grants", "0016_staff_verbose_names")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
