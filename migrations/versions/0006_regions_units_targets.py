"""regions as a managed list, a territory's territorial unit, each answer's target level

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 02:00:00

"""
import warnings

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# The 17 administrative regions of Québec, with their official numbers.
REGIONS = [
    ('01', 'Bas-Saint-Laurent'), ('02', 'Saguenay–Lac-Saint-Jean'), ('03', 'Capitale-Nationale'),
    ('04', 'Mauricie'), ('05', 'Estrie'), ('06', 'Montréal'), ('07', 'Outaouais'),
    ('08', 'Abitibi-Témiscamingue'), ('09', 'Côte-Nord'), ('10', 'Nord-du-Québec'),
    ('11', 'Gaspésie–Îles-de-la-Madeleine'), ('12', 'Chaudière-Appalaches'), ('13', 'Laval'),
    ('14', 'Lanaudière'), ('15', 'Laurentides'), ('16', 'Montérégie'), ('17', 'Centre-du-Québec'),
]


def upgrade():
    region = op.create_table(
        'region',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=10), nullable=True),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_region')),
        sa.UniqueConstraint('name', name=op.f('uq_region_name')),
    )
    op.bulk_insert(region, [{'code': code, 'name': name} for code, name in REGIONS])
    # Regions already typed by hand stay as they are, added to the list (nothing is renamed).
    for table in ('territory', 'user_region'):
        op.execute(f"INSERT INTO region (name) SELECT DISTINCT region FROM {table} "
                   f"WHERE region NOT IN (SELECT name FROM region)")
    with op.batch_alter_table('territory', schema=None) as batch_op:
        batch_op.add_column(sa.Column('territorial_unit', sa.String(length=200), server_default=sa.text("''"),
                                      nullable=False))
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target', sa.String(length=20), nullable=True))


def downgrade():
    # Rebuilding `answer` reflects `assessment`, whose expression index SQLite cannot reflect
    # (and the rebuilt `answer` does not need).
    with warnings.catch_warnings(), op.batch_alter_table('answer', schema=None) as batch_op:
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
        batch_op.drop_column('target')
    with op.batch_alter_table('territory', schema=None) as batch_op:
        batch_op.drop_column('territorial_unit')
    op.drop_table('region')
