"""Per-ward indexes for the staff pages of dossiers and ratings

The console lists a ward's dossiers newest first and its ratings oldest first, and a province
admin looks a dossier code up across wards; bookings already have (oa_id, slot_start).

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-02 14:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = (
    ("ix_dossiers_oa_updated", "dossiers", ["oa_id", "updated_at"]),
    ("ix_dossiers_code", "dossiers", ["code"]),
    ("ix_service_ratings_oa_rated", "service_ratings", ["oa_id", "rated_at"]),
)


def upgrade() -> None:
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
