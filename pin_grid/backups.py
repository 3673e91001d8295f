"""Backup and restore of the whole database as one JSON document (`pin-backup/1`).

Every table is written row by row, ids included, so that a restore into an empty database
gives back exactly the same assessments, versions, accounts and audit trail.
"""
from __future__ import annotations

import datetime as dt
import json

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, DateTime, func, insert, inspect, select, text

from .extensions import db
from .transactions import write_transaction

FORMAT = "pin-backup/1"
# Transient tables: nothing there is worth restoring.
SKIPPED = {"login_throttle", "pending_form", "user_session", "alembic_version"}
# Filled by the migrations (the list of regions): an empty database has them, and a restore
# replaces them with the backup's.
SEEDED = {"region"}


class BackupError(Exception):
    """Why a restore was refused, in the reader's language (said after « Rien n'a été restauré : »)."""


def _tables():
    return [t for t in db.metadata.sorted_tables if t.name not in SKIPPED]


def _plain(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def dump(*, with_credentials: bool = False) -> dict:
    tables = {}
    for table in _tables():
        rows = []
        for row in db.session.execute(select(table).order_by(*table.primary_key.columns)).mappings():
            record = {key: _plain(value) for key, value in row.items()}
            if table.name == "user_account" and not with_credentials:
                record["password_hash"] = None
            rows.append(record)
        tables[table.name] = rows
    version = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return {"format": FORMAT, "schema": version, "with_credentials": with_credentials, "tables": tables}


def _parse(column, value):
    if value is None:
        return None
    if isinstance(column.type, DateTime):
        moment = dt.datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    if isinstance(column.type, Date):
        return dt.date.fromisoformat(value)
    return value


def load(content: bytes | str) -> dict[str, int]:
    """Restore a backup (the file's content) into an empty database, in one transaction; the row
    count per table."""
    try:
        document = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BackupError(_l("JSON invalide : %(error)s", error=str(exc))) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BackupError(_l("ce fichier n'est pas une sauvegarde « %(format)s »", format=FORMAT))
    if not isinstance(document.get("tables"), dict) or not all(
            isinstance(rows, list) and all(isinstance(r, dict) for r in rows) for rows in document["tables"].values()):
        raise BackupError(_l("« tables » doit donner, pour chaque table, une liste de lignes"))
    if not inspect(db.engine).has_table("alembic_version"):
        raise BackupError(_l("cette base de données n'a pas encore de schéma : lancez d'abord flask db upgrade "
                             "(.venv/bin/flask --app app db upgrade)"))
    try:
        with write_transaction():
            return _load_tables(document)
    except BackupError:
        raise
    except Exception as exc:
        # The database's own words (its language, not ours), after ours.
        raise BackupError(_l("la base de données a refusé une ligne : %(error)s",
                             error=str(exc).splitlines()[0])) from exc


def _load_tables(document: dict) -> dict[str, int]:
    version = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if document.get("schema") != version:
        raise BackupError(_l("la sauvegarde est au schéma %(backup)s, cette base de données au schéma "
                             "%(database)s : restaurez-la dans une base de la même version",
                             backup=document.get("schema"), database=version))
    tables = {t.name: t for t in _tables()}
    unknown = set(document.get("tables", {})) - set(tables)
    if unknown:
        raise BackupError(_l("tables inconnues : %(tables)s", tables=", ".join(sorted(unknown))))
    for table in tables.values():
        if table.name not in SEEDED and db.session.scalar(select(func.count()).select_from(table)):
            raise BackupError(_l("la base de données n'est pas vide (table %(table)s) : "
                                 "restaurez seulement dans une base vide", table=table.name))
    for name in SEEDED & set(document["tables"]):
        db.session.execute(tables[name].delete())
    counts = {}
    for name, table in tables.items():
        rows = document["tables"].get(name, [])
        if rows:
            columns = table.columns
            db.session.execute(insert(table), [
                {key: _parse(columns[key], value) for key, value in row.items() if key in columns}
                for row in rows
            ])
        counts[name] = len(rows)
    if db.engine.dialect.name == "postgresql":
        # Rows came with their ids: move each sequence past the largest one.
        for table in tables.values():
            pk = list(table.primary_key.columns)
            if len(pk) == 1 and pk[0].autoincrement and str(pk[0].type) == "INTEGER":
                db.session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                    f"COALESCE((SELECT MAX({pk[0].name}) FROM {table.name}), 0) + 1, false)"))
    return counts
