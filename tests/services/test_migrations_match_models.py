"""The migrations build exactly the schema the models declare (else `crm init` and the ORM disagree)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_appbuilder import Model

from app.extensions import db

# PostgreSQL-only search indexes made in migrations with expressions/operator classes the models can't
# declare portably (trigram and character-gram name search, mobile prefix pattern).
POSTGRES_ONLY = {"ix_customer_mobile_pattern", "ix_customer_name_grams", "ix_customer_name_trgm"}


def _index_name(diff: tuple) -> str | None:
    return getattr(diff[1], "name", None) if diff[0] == "remove_index" else None


def test_the_upgraded_database_matches_the_models(ctx):
    import app.models  # noqa: F401 - every table on the metadata

    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Model.metadata)
    unexplained = [d for d in diffs if _index_name(d) not in POSTGRES_ONLY]
    assert unexplained == []
