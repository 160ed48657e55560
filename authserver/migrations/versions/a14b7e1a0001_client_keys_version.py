"""clients: keys_version (the token path keeps a client's parsed keys until it changes)

Revision ID: a14b7e1a0001
Revises: a10e0a11f001
Create Date: 2026-12-06 23:00:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a14b7e1a0001'
down_revision = 'a10e0a11f001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('keys_version', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('keys_version')
