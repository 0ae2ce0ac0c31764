"""imports: saved column mappings and import runs (issue 8.1)

Revision ID: 0012_imports
Revises: 0011_hardening
Create Date: 2026-11-26 17:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0012_imports'
down_revision = '0011_hardening'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_mapping',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('columns', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], name='fk_import_mapping_created_by_id_ab_user'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ux_import_mapping_kind_name', 'import_mapping', ['kind', 'name'], unique=True)
    op.create_table('import_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('policy', sa.String(length=8), nullable=False),
    sa.Column('match_keys', sa.String(length=64), nullable=False),
    sa.Column('mapping', sa.Text(), nullable=True),
    sa.Column('choices', sa.Text(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('processed', sa.Integer(), nullable=False),
    sa.Column('created_count', sa.Integer(), nullable=False),
    sa.Column('updated_count', sa.Integer(), nullable=False),
    sa.Column('skipped_count', sa.Integer(), nullable=False),
    sa.Column('failed_count', sa.Integer(), nullable=False),
    sa.Column('errors', sa.Text(), nullable=True),
    sa.Column('changes', sa.Text(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('payload', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], name='fk_import_run_user_id_ab_user'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_import_run_user_created', 'import_run', ['user_id', 'created_at'])


def downgrade():
    op.drop_index('ix_import_run_user_created', table_name='import_run')
    op.drop_table('import_run')
    op.drop_index('ux_import_mapping_kind_name', table_name='import_mapping')
    op.drop_table('import_mapping')
