"""The migrations build exactly the schema the models describe."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import exc

from app.common.migrations import include_object
from app.extensions import db


def test_models_and_migrations_agree(app):
    # The session fixture built this database with `flask db upgrade`; autogenerate must find nothing to add.
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True,
                                                            "include_object": include_object})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_every_foreign_key_finds_its_table(app):
    # Foreign keys name their tables as strings (patrols' to volunteers.id, every domain's to users.id), so no
    # models module imports another domain's: the app's metadata must still hold every table they name, or
    # create_all and autogenerate could not order the tables.
    unresolved = []
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            try:
                fk.column
            except (exc.NoReferencedTableError, exc.NoReferencedColumnError):
                unresolved.append(f"{table.name} -> {fk.target_fullname}")
    assert unresolved == []
    assert {"volunteers", "patrol_signups", "points_summaries"} <= set(db.metadata.tables)
