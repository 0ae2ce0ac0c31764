"""hardening: sign-in attempts (lockout), signed audit checkpoint, field-key check

Revision ID: 0011_hardening
Revises: 0010_analytics
Create Date: 2026-11-26 13:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0011_hardening'
down_revision = '0010_analytics'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_login_attempt_username_created', 'login_attempt', ['username', 'created_at'])
    op.create_index('ix_login_attempt_ip_created', 'login_attempt', ['ip', 'created_at'])
    op.create_table('audit_checkpoint',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('signature', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('field_key_check',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('check_value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade():
    op.drop_table('field_key_check')
    op.drop_table('audit_checkpoint')
    op.drop_index('ix_login_attempt_ip_created', table_name='login_attempt')
    op.drop_index('ix_login_attempt_username_created', table_name='login_attempt')
    op.drop_table('login_attempt')
