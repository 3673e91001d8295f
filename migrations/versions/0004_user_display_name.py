"""accounts get a display name

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 21:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_name', sa.String(length=200), server_default=sa.text("''"), nullable=False))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('display_name')
