"""team hierarchy: teams with leads, department heads, users' teams (issue 8.3)

Revision ID: 0014_teams
Revises: 0013_bulk_views
Create Date: 2026-11-26 17:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0014_teams'
down_revision = '0013_bulk_views'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'team',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('lead_user_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['department_id'], ['department.id'], name='fk_team_department_id'),
        sa.ForeignKeyConstraint(['lead_user_id'], ['ab_user.id'], name='fk_team_lead_user_id',
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name', name='uq_team_name'),
    )
    op.create_index('ix_team_department_id', 'team', ['department_id'], unique=False)
    op.create_index('ix_team_lead_user_id', 'team', ['lead_user_id'], unique=False)
    # Existing tables: batch mode (SQLite copies the table; PostgreSQL gets plain ALTERs).
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('team_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_ab_user_team_id', 'team', ['team_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_ab_user_team_id', ['team_id'], unique=False)
    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.add_column(sa.Column('head_user_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_department_head_user_id', 'ab_user', ['head_user_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index('ix_department_head_user_id', ['head_user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.drop_index('ix_department_head_user_id')
        batch_op.drop_constraint('fk_department_head_user_id', type_='foreignkey')
        batch_op.drop_column('head_user_id')
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.drop_index('ix_ab_user_team_id')
        batch_op.drop_constraint('fk_ab_user_team_id', type_='foreignkey')
        batch_op.drop_column('team_id')
    op.drop_index('ix_team_lead_user_id', table_name='team')
    op.drop_index('ix_team_department_id', table_name='team')
    op.drop_table('team')
