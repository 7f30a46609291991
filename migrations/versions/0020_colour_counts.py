"""colour counts: a partial index of the persons who are not green, and the audit rows by time

`GET /admin/health-codes/colour-counts` counts yellow and red persons through the partial index (a
small set beside the green majority) and walks earlier days back through the audit rows of the
period, read by `changed_at`.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 14:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

NOT_GREEN = sa.text("colour <> 'green'")


def upgrade():
    with op.batch_alter_table('health_persons', schema=None) as batch_op:
        batch_op.create_index('ix_health_persons_not_green', ['colour'], unique=False,
                              postgresql_where=NOT_GREEN, sqlite_where=NOT_GREEN)
    with op.batch_alter_table('health_code_colour_changes', schema=None) as batch_op:
        batch_op.create_index('ix_health_code_colour_changes_changed_at', ['changed_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('health_code_colour_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_health_code_colour_changes_changed_at')
    with op.batch_alter_table('health_persons', schema=None) as batch_op:
        batch_op.drop_index('ix_health_persons_not_green')
