"""designer data: a TTHC code is unique in the province (the installation), a reduction's exact text fits

Revision ID: 0008_designer
Revises: 0007
Create Date: 2026-12-05 10:00:00

One installation serves one province's TTHC information system (NĐ 367/2025), so "unique per
province" is one unique constraint on procedures.code, replacing (code, agency_id). Existing
duplicates stop the upgrade with their codes named: which of two procedures keeps the code is an
administrator's decision, not a migration's. procedure_versions.reduction holds the cut's exact
text (``1e-300`` is not ``0``, ``0.3000000000000001`` is not ``0.3``), up to 80 characters.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0008_designer'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    duplicates = op.get_bind().execute(sa.text(
        "SELECT upper(code) FROM procedures GROUP BY upper(code) HAVING count(*) > 1 ORDER BY 1"
    )).scalars().all()
    if duplicates:
        raise RuntimeError(
            "procedures: these TTHC codes are used by more than one procedure: "
            + ", ".join(duplicates[:20])
            + ". Give each procedure its own code (or retire the duplicate) before upgrading.")
    with op.batch_alter_table('procedures', schema=None) as batch_op:
        batch_op.drop_constraint('uq_procedure_code_agency', type_='unique')
        batch_op.create_unique_constraint('uq_procedure_code', ['code'])
    with op.batch_alter_table('procedure_versions', schema=None) as batch_op:
        batch_op.alter_column('reduction', existing_type=sa.String(length=12), type_=sa.String(length=80),
                              existing_nullable=False)


def downgrade():
    with op.batch_alter_table('procedure_versions', schema=None) as batch_op:
        batch_op.alter_column('reduction', existing_type=sa.String(length=80), type_=sa.String(length=12),
                              existing_nullable=False)
    with op.batch_alter_table('procedures', schema=None) as batch_op:
        batch_op.drop_constraint('uq_procedure_code', type_='unique')
        batch_op.create_unique_constraint('uq_procedure_code_agency', ['code', 'agency_id'])
