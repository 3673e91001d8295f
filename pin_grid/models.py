"""Typed ORM models. The schema itself is built only by the Alembic migrations."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import false, Boolean, Column, Date, DateTime, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
STATUSES = (DRAFT, FINALIZED)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Territory(db.Model):
    __tablename__ = "territory"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(120))

    assessments: Mapped[list[Assessment]] = relationship(
        back_populates="territory", order_by="Assessment.date.desc(), Assessment.id.desc()"
    )


class Organization(db.Model):
    """A partner organisation: present at a meeting, or the perspective of an assessment."""

    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
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
    grid_version: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # Bumped by every write; a write based on an older read fails instead of overwriting.
    version: Mapped[int] = mapped_column(Integer, default=1)

    territory: Mapped[Territory] = relationship(back_populates="assessments")
    perspective: Mapped[Organization | None] = relationship()
    organizations: Mapped[list[Organization]] = relationship(
        secondary=assessment_organization, order_by="Organization.name"
    )
    participants: Mapped[list[Participant]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="Participant.position"
    )
    answers: Mapped[list[Answer]] = relationship(back_populates="assessment", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

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
    name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200))
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
    action_owner: Mapped[str] = mapped_column(String(200), default="")
    action_due: Mapped[dt.date | None] = mapped_column(Date)
    # Taken over from the previous assessment and not yet confirmed or changed by the team.
    carried_over: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    assessment: Mapped[Assessment] = relationship(back_populates="answers")
