"""Who may do what, by role and territory (issue: accounts and roles). Pure rules: they take a
user (role, territories, regions) and a territory, never a request or a database session.

| role          | may                                                                          |
|---------------|------------------------------------------------------------------------------|
| admin         | everything, including users, territories, organisations                      |
| gestionnaire  | read everything of the territories of their regions; change nothing          |
| coordonnateur | for their territories: create, edit, finalise, revise, read, audit; compare  |
| membre        | for their territories: create and edit drafts, read results                  |
"""
from __future__ import annotations

import hashlib
import hmac

READ = "read"
CREATE = "create"  # start an assessment in the territory
EDIT = "edit"  # change a draft: answers, participants, organisations
FINALIZE = "finalize"
REVISE = "revise"
AUDIT = "audit"  # read the audit trail of an assessment

_IN_SCOPE = {
    "admin": {READ, CREATE, EDIT, FINALIZE, REVISE, AUDIT},
    "gestionnaire": {READ},
    "coordonnateur": {READ, CREATE, EDIT, FINALIZE, REVISE, AUDIT},
    "membre": {READ, CREATE, EDIT},
}


def in_scope(user, territory) -> bool:
    """Whether the territory is one the user works with at all."""
    if user.role == "admin":
        return True
    if user.role == "gestionnaire":
        return territory.region in user.region_names
    return any(t.id == territory.id for t in user.territories)


def can(user, action: str, territory) -> bool:
    return in_scope(user, territory) and action in _IN_SCOPE.get(user.role, set())


def may_compare(user) -> bool:
    return user.role in ("admin", "gestionnaire", "coordonnateur")


def may_manage(user) -> bool:
    """Users, territories, organisations."""
    return user.role == "admin"


def sees_names_in_comparison(user, territory) -> bool:
    """In the comparison table, administrators and gestionnaires see every name; others see
    their own territories by name and the rest under anonymous labels (as INESSS published
    its table)."""
    return user.role in ("admin", "gestionnaire") or in_scope(user, territory)


def anonymous_label(territory_id: int, secret: str) -> str:
    """A stable label for a territory one may not name: the same on every page and every year."""
    digest = hmac.new(secret.encode(), f"territory:{territory_id}".encode(), hashlib.sha256).hexdigest()
    return digest[:6].upper()
