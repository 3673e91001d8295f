"""Typed ORM models. The schema itself is built only by the Alembic migrations."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (false, Boolean, CheckConstraint, Column, Date, DateTime, ForeignKey, Index, Integer, String, Table,
                        Text, UniqueConstraint, func)
from flask_login import UserMixin
from sqlalchemy import text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import limits
from .extensions import db

SECTOR_CODES = (
    "cisss",
    "pediatrie_sociale",
    "communautaire",
    "scolaire",
    "garde_educative",
    "parent_partenaire",
    "autre",
)
DRAFT = "draft"
FINALIZED = "finalized"
SUPERSEDED = "superseded"  # a finalised version replaced by a finalised revision; still readable
STATUSES = (DRAFT, FINALIZED)  # what the exchange format carries
ROLES = ("admin", "gestionnaire", "coordonnateur", "membre")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Territory(db.Model):
    __tablename__ = "territory"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(limits.TERRITORY_CODE_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(limits.NAME))
    region: Mapped[str] = mapped_column(String(limits.REGION))
    # How the PIN is run here (RLS, CLSC, MRC…): free text, decided by the team first.
    territorial_unit: Mapped[str] = mapped_column(String(limits.NAME), default="", server_default=text("''"))

    assessments: Mapped[list[Assessment]] = relationship(
        back_populates="territory", order_by="Assessment.date.desc(), Assessment.id.desc()"
    )


class Region(db.Model):
    """The managed list of regions (the 17 administrative regions of Québec to start with);
    territories and gestionnaires refer to a region by its name."""

    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str | None] = mapped_column(String(10))  # the official number, e.g. 05 for Estrie
    name: Mapped[str] = mapped_column(String(limits.REGION), unique=True)


class Organization(db.Model):
    """A partner organisation: present at a meeting, or the perspective of an assessment."""

    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(limits.NAME), unique=True)
    # The name regardless of accents, case and spacing (services.name_key): unique, so that
    # « Maison de la famille » is one organisation however it is typed, even by two people at once.
    name_key: Mapped[str] = mapped_column(String(limits.NAME), unique=True)
    sector: Mapped[str] = mapped_column(String(30))


assessment_organization = Table(
    "assessment_organization",
    db.metadata,
    Column("assessment_id", ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True),
    Column("organization_id", ForeignKey("organization.id"), primary_key=True),
)


class Assessment(db.Model):
    """One territory's rating of the grid at one meeting, from one perspective."""

    __tablename__ = "assessment"

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id"), index=True)
    date: Mapped[dt.date] = mapped_column(Date)
    # None: the collective view of the territory; else the view of one partner organisation.
    perspective_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    status: Mapped[str] = mapped_column(String(20), default=DRAFT)
    grid_version: Mapped[str] = mapped_column(String(limits.GRID_VERSION))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # Bumped by every write; a write based on an older read fails instead of overwriting.
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Revisions: a correction of a finalised assessment is a new assessment that supersedes it.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("assessment.id"))
    revision_reason: Mapped[str] = mapped_column(Text, default="", server_default=text("''"))

    territory: Mapped[Territory] = relationship(back_populates="assessments")
    perspective: Mapped[Organization | None] = relationship()
    organizations: Mapped[list[Organization]] = relationship(
        secondary=assessment_organization, order_by="Organization.name"
    )
    participants: Mapped[list[Participant]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="Participant.position"
    )
    answers: Mapped[list[Answer]] = relationship(back_populates="assessment", cascade="all, delete-orphan")
    supersedes: Mapped[Assessment | None] = relationship(remote_side=[id])

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # One assessment per meeting (territory, date, point of view) and revision; NULL, the
        # collective view, counts as 0 so that two collective views collide too.
        Index("uq_assessment_meeting", "territory_id", "date", func.coalesce(perspective_id, 0), "revision",
              unique=True),
        # Never reuse the id of a deleted assessment: the audit trail refers to ids.
        {"sqlite_autoincrement": True},
    )

    @property
    def is_draft(self) -> bool:
        return self.status == DRAFT

    @property
    def answers_by_item(self) -> dict[str, Answer]:
        return {a.item_id: a for a in self.answers}


class Participant(db.Model):
    __tablename__ = "participant"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str | None] = mapped_column(String(limits.NAME))
    role: Mapped[str] = mapped_column(String(limits.NAME))
    sector: Mapped[str] = mapped_column(String(30))

    assessment: Mapped[Assessment] = relationship(back_populates="participants")


class Answer(db.Model):
    """The team's rating of one statement; stores the item id, never a position."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("assessment_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(String(20))
    level: Mapped[str | None] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[bool] = mapped_column(Boolean, default=False)
    action: Mapped[str] = mapped_column(Text, default="")
    action_owner: Mapped[str] = mapped_column(String(limits.NAME), default="")
    action_due: Mapped[dt.date | None] = mapped_column(Date)
    # Taken over from the previous assessment and not yet confirmed or changed by the team.
    carried_over: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The level the team aims for by the next assessment (« cible »), a scored level code.
    target: Mapped[str | None] = mapped_column(String(20))

    assessment: Mapped[Assessment] = relationship(back_populates="answers")


user_territory = Table(
    "user_territory",
    db.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("territory_id", ForeignKey("territory.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, db.Model):
    """A person who signs in. Territories scope coordonnateurs and membres; regions, gestionnaires."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(limits.EMAIL), unique=True)
    # How the person is called on screen (the e-mail address when empty).
    display_name: Mapped[str] = mapped_column(String(limits.NAME), default="", server_default=text("''"))
    # None after a restore without credentials: the person must be given a new password.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    territories: Mapped[list[Territory]] = relationship(secondary=user_territory, order_by="Territory.name")
    regions: Mapped[list[UserRegion]] = relationship(cascade="all, delete-orphan", order_by="UserRegion.region")

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def shown_name(self) -> str:
        return self.display_name or self.email

    @property
    def region_names(self) -> set[str]:
        return {r.region for r in self.regions}


class UserRegion(db.Model):
    __tablename__ = "user_region"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    region: Mapped[str] = mapped_column(String(limits.REGION), primary_key=True)


class UserSession(db.Model):
    """A signed-in browser. The cookie holds a random token; only its hash is stored. Signing
    out, disabling the account or changing the password deletes the row, which ends the
    session at once, on every worker."""

    __tablename__ = "user_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LoginThrottle(db.Model):
    """Failed sign-ins per account or per address, in the database so that every worker
    process sees the same counts."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AuditEvent(db.Model):
    """Who changed what, when, from which value to which. Written by the services; never
    changed or deleted by the app."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40))
    # Kept as plain numbers (no foreign key): the trail outlives what it describes.
    assessment_id: Mapped[int | None] = mapped_column(Integer, index=True)
    item_id: Mapped[str | None] = mapped_column(String(20))
    field: Mapped[str | None] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text, default="")


class Installation(db.Model):
    """One row, once the first administrator exists: the set-up page creates it, and the
    database refuses a second one, however many people submit that page at once."""

    __tablename__ = "installation"
    __table_args__ = (CheckConstraint("id = 1", name="ck_installation_once"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    first_admin_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PendingForm(db.Model):
    """What someone had typed when their session expired, kept until they sign in again."""

    __tablename__ = "pending_form"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(300))
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
