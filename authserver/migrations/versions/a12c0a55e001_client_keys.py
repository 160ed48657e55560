"""client keys (private_key_jwt), used assertions, secret authentication switch, jwks_uri

Revision ID: a12c0a55e001
Revises: a11c1e47a001
Create Date: 2026-12-06 03:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import authserver.models._base


# revision identifiers, used by Alembic.
revision = 'a12c0a55e001'
down_revision = 'a11c1e47a001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('client_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_pk', sa.Integer(), nullable=False),
    sa.Column('thumbprint', sa.String(length=64), nullable=False),
    sa.Column('kid', sa.String(length=200), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('public_jwk', sa.Text(), nullable=False),
    sa.Column('created_at', authserver.models._base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_pk'], ['clients.id'], name=op.f('fk_client_keys_client_pk_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_keys')),
    sa.UniqueConstraint('client_pk', 'thumbprint', name='uq_client_keys_client_pk_thumbprint')
    )
    with op.batch_alter_table('client_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_keys_client_pk'), ['client_pk'], unique=False)

    op.create_table('used_assertions',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('expires_at', authserver.models._base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_used_assertions'))
    )
    with op.batch_alter_table('used_assertions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_used_assertions_expires_at'), ['expires_at'], unique=False)

    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secret_auth_enabled', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('jwks_uri', sa.String(length=2000), nullable=True))


def downgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('jwks_uri')
        batch_op.drop_column('secret_auth_enabled')

    with op.batch_alter_table('used_assertions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_used_assertions_expires_at'))

    op.drop_table('used_assertions')
    with op.batch_alter_table('client_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_keys_client_pk'))

    op.drop_table('client_keys')
