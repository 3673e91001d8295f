"""Field limits and patterns, in one place: models, forms, the exchange format and templates read them."""

COMMENT = 5000  # characters of a statement's comment
ACTION = 2000  # characters of an action idea, and of a revision's reason
NAME = 200  # a person's or organisation's name, a role, a territory's name, an action's owner
REGION = 120
EMAIL = 254
PASSWORD = 200
GRID_VERSION = 40
PARTICIPANTS = 100  # per assessment
ORGANIZATIONS = 50  # per assessment
TERRITORY_CODE_LENGTH = 20
# Capital letters without accents, digits and hyphens, e.g. MTL-NORD.
TERRITORY_CODE = rf"^[A-Z0-9][A-Z0-9-]{{0,{TERRITORY_CODE_LENGTH - 1}}}$"
# The largest id a route accepts: PostgreSQL's `integer` (SQLite's is larger); beyond, a 404.
ID_MAX = 2**31 - 1
