"""Who may do what, by role and territory (issue: accounts and roles). Pure rules: they take a
user (role, territories, regions) and a territory, never a request or a database session.

| role          | may                                                                          |
|---------------|------------------------------------------------------------------------------|
| admin         | everything, including users, territories, organisations                      |
| gestionnaire  | read everything of the territories of their regions; change nothing          |
| coordonnateur | for their territories: create, edit, finalise, revise, delete drafts, read,  |
|               | audit; compare                                                               |
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
DELETE = "delete"  # delete a draft started by mistake

_IN_SCOPE = {
    "admin": {READ, CREATE, EDIT, FINALIZE, REVISE, AUDIT, DELETE},
    "gestionnaire": {READ},
    "coordonnateur": {READ, CREATE, EDIT, FINALIZE, REVISE, AUDIT, DELETE},
    "membre": {READ, CREATE, EDIT},
}


def in_scope(user, territory) -> bool:
    """Whether the territory is one the user works with at all."""
    kind = scope_kind(user)
    if kind == "all":
        return True
    if kind == "regions":
        return territory.region in user.region_names
    return any(t.id == territory.id for t in user.territories)


def scope_kind(user) -> str:
    """What an account's scope is made of: « all », « regions » (gestionnaire) or « territories »."""
    return {"admin": "all", "gestionnaire": "regions"}.get(user.role, "territories")


def can(user, action: str, territory) -> bool:
    return in_scope(user, territory) and action in _IN_SCOPE.get(user.role, set())


def may_start_assessments(user) -> bool:
    """Whether the role starts assessments at all (in its own territories)."""
    return CREATE in _IN_SCOPE.get(user.role, set())


def may_compare(user) -> bool:
    return user.role in ("admin", "gestionnaire", "coordonnateur")


def may_see_regional_dashboard(user) -> bool:
    """Administrators and gestionnaires, whose scope is the province or regions: the regional
    dashboard (and its PDF report) is a regional steering tool. Coordonnateurs see their territory
    against the cohort on its own dashboard and in the comparison."""
    return scope_kind(user) in ("all", "regions")


def may_export_exchange(user) -> bool:
    """The `pin-grid/1` document carries everything (participants, every version, the answers
    still to confirm): for the roles that manage the assessments of their territories."""
    return user.role in ("admin", "coordonnateur")


def may_manage(user) -> bool:
    """Users, territories, organisations."""
    return user.role == "admin"


def sees_names_in_comparison(user, territory) -> bool:
    """Outside their scope, people see territories under anonymous labels (as INESSS published
    its table): administrators see every name; gestionnaires the territories of their regions;
    coordonnateurs and membres their own territories."""
    return user.role == "admin" or in_scope(user, territory)


def anonymous_label(territory_id: int, secret: str) -> str:
    """A stable label for a territory one may not name: the same on every page and every year."""
    digest = hmac.new(secret.encode(), f"territory:{territory_id}".encode(), hashlib.sha256).hexdigest()
    return digest[:6].upper()
