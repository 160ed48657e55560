"""audit events: index on created_at (export and retention select by age)

Revision ID: a13d0b5e0001
Revises: 63136343dc30
Create Date: 2026-12-06 03:05:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a13d0b5e0001'
down_revision = '63136343dc30'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_created_at', ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_created_at')
