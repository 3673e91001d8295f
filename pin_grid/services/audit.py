"""The audit trail: who changed what, when, from which value to which. Append-only."""
from __future__ import annotations

import json

from sqlalchemy import select

from ..extensions import db
from ..models import AuditEvent
from ..transactions import write_transaction

SYSTEM = "système"  # the actor of changes made by the command line


def add_audit(actor: str, action: str, assessment_id: int | None = None, *, item_id: str | None = None,
                field: str | None = None, old=None, new=None, detail: str = "") -> None:
    """Add a line to the audit trail, in the same transaction as the change it records."""
    def text(value):
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value, default=str, ensure_ascii=False)

    db.session.add(AuditEvent(actor=actor, action=action, assessment_id=assessment_id, item_id=item_id,
                              field=field, old_value=text(old), new_value=text(new), detail=detail))


def audit_trail(assessment_id: int) -> list[AuditEvent]:
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.assessment_id == assessment_id).order_by(AuditEvent.at, AuditEvent.id)
    ))


def record_event(actor: str, action: str, detail: str = "") -> None:
    """Sign-ins, failed sign-ins, refused accesses: recorded at once, whatever the request does next."""
    with write_transaction():
        add_audit(actor, action, detail=detail)
