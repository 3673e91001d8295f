"""uniqueness held by the database: one assessment per meeting and revision, one organisation
per name (regardless of accents, case and spacing), one installation (the first administrator)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 22:30:00

"""
import unicodedata

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def _name_key(name: str) -> str:
    # As pin_grid.services.territories.name_key on the day of this migration (kept here: a
    # migration must not change when the app's code does).
    decomposed = unicodedata.normalize("NFKD", " ".join(name.split()))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()[:200]


def _refuse_duplicates(conn) -> None:
    """Stop, naming them, if duplicates made before this constraint are there: which one to keep
    is for an administrator to decide (delete the draft started twice, then upgrade again)."""
    twice = conn.execute(sa.text(
        "SELECT territory_id, date, perspective_id, revision, count(*) FROM assessment "
        "GROUP BY territory_id, date, perspective_id, revision HAVING count(*) > 1")).all()
    if twice:
        raise RuntimeError(f"assessments of the same territory, date, perspective and revision exist twice: {twice}")


def upgrade():
    conn = op.get_bind()
    _refuse_duplicates(conn)
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=200), nullable=True))
    keys: dict[str, int] = {}
    for org_id, name in conn.execute(sa.text("SELECT id, name FROM organization ORDER BY id")).all():
        key = _name_key(name)
        if key in keys:
            raise RuntimeError(f"organisations {keys[key]} and {org_id} have the same name ({name!r}): merge them first")
        keys[key] = org_id
        conn.execute(sa.text("UPDATE organization SET name_key = :key WHERE id = :id"), {"key": key, "id": org_id})
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.alter_column('name_key', existing_type=sa.String(length=200), nullable=False)
        batch_op.create_unique_constraint('uq_organization_name_key', ['name_key'])
    # The collective view has no perspective (NULL), and NULLs never collide in a unique index:
    # the index reads it as 0, which no organisation id is.
    op.create_index('uq_assessment_meeting', 'assessment',
                    ['territory_id', 'date', sa.text('coalesce(perspective_id, 0)'), 'revision'], unique=True)
    op.create_table(
        'installation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('first_admin_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('id = 1', name='ck_installation_once'),
        sa.ForeignKeyConstraint(['first_admin_id'], ['user_account.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    first = conn.execute(sa.text("SELECT id, created_at FROM user_account ORDER BY id LIMIT 1")).first()
    if first is not None:  # already installed: the page that creates the first administrator stays closed
        conn.execute(sa.text("INSERT INTO installation (id, first_admin_id, at) VALUES (1, :user, :at)"),
                     {"user": first[0], "at": first[1]})


def downgrade():
    op.drop_table('installation')
    op.drop_index('uq_assessment_meeting', table_name='assessment')
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_constraint('uq_organization_name_key', type_='unique')
        batch_op.drop_column('name_key')
