"""bulk actions and saved views: bulk jobs, tags, saved list views (issue 8.2, 8.4)

Revision ID: 0013_bulk_views
Revises: 0012_imports
Create Date: 2026-11-26 17:00:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0013_bulk_views'
down_revision = '0012_imports'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
