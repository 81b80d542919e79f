"""Enable PostGIS.

On the private cluster the superuser has already installed it (PostGIS is not a trusted
extension), so this is a no-op there; on a database where the owner may create extensions it
does the work.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def downgrade() -> None:
    # Drop it only if we installed it: an extension the superuser provisioned is not ours.
    op.execute(
        """
        DO $$ BEGIN
          IF EXISTS (SELECT 1 FROM pg_extension
                     WHERE extname = 'postgis' AND extowner = current_user::regrole) THEN
            DROP EXTENSION postgis;
          END IF;
        END $$;
        """
    )
