"""client description, contacts and access-token lifetime; last use of a secret

Revision ID: a11c1e47a001
Revises: a13d0b5e0001
Create Date: 2026-12-06 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import authserver.models._base


# revision identifiers, used by Alembic.
revision = 'a11c1e47a001'
down_revision = 'a13d0b5e0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('description', sa.String(length=500), server_default='', nullable=False))
        batch_op.add_column(sa.Column('contacts', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('access_token_lifetime', sa.Integer(), nullable=True))

    with op.batch_alter_table('client_secrets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_at', authserver.models._base.UTCDateTime(timezone=True), nullable=True))

    # a partner client without a name gets the default one
    op.execute(
        "UPDATE clients SET name = 'API client' WHERE kind = 'partner' AND name = ''"
    )


def downgrade():
    with op.batch_alter_table('client_secrets', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')

    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('access_token_lifetime')
        batch_op.drop_column('contacts')
        batch_op.drop_column('description')
