"""Accounts: creating people, checking passwords, signing in with throttling, disabling.

Passwords are hashed with scrypt (memory-hard), through Werkzeug.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db
from .models import ROLES, Installation, LoginThrottle, PendingForm, User, UserRegion, UserSession, utcnow
from .passwords import MIN_PASSWORD_LENGTH, password_problems  # noqa: F401 (accounts.password_problems is called)
from .services import SYSTEM, Conflict, NotFound, ServiceError, add_audit, check_region, territory_by_code
from .transactions import retrying, write_transaction

HASH_METHOD = "scrypt"  # Werkzeug's scrypt: N=32768, r=8, p=1 (the PASSWORD_HASH_METHOD setting)
# Checked against when the account does not exist, so that the answer takes as long either way.
_DUMMY_HASH = generate_password_hash("not a real password, only for timing", method=HASH_METHOD)


class Throttled(ServiceError):
    status = 429


def normalize_email(email: str) -> str:
    return email.strip().lower()


def user_count() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0


def needs_first_admin() -> bool:
    return user_count() == 0


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("Ce compte n'existe pas."))
    return user


def administrators() -> list[User]:
    """The active administrators: whom to ask for a territory or a new password."""
    return list(db.session.scalars(select(User).where(User.role == "admin", User.active.is_(True)).order_by(User.email)))


def all_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.email)))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(user: User) -> str:
    """A new session for this user; the returned token goes in the cookie, its hash in the table."""
    token = secrets.token_urlsafe(32)
    with write_transaction():
        # Sessions abandoned long ago (never signed out) are cleared as new ones open.
        db.session.execute(delete(UserSession).where(UserSession.last_seen_at < utcnow() - dt.timedelta(days=2)))
        db.session.add(UserSession(token_hash=_token_hash(token), user_id=user.id))
    return token


def close_session(token: str | None) -> None:
    if token:
        with write_transaction():
            db.session.execute(delete(UserSession).where(UserSession.token_hash == _token_hash(token)))


def session_user(user_id: str, token: str | None, idle_minutes: int) -> tuple[User | None, bool]:
    """The user of a session, and whether the session just expired. A session is valid while
    its row exists, the account is active and it was used within `idle_minutes`."""
    if not token:
        return None, False
    token_hash = _token_hash(token)
    found = db.session.execute(_SESSION_AND_ACCOUNT, {"token_hash": token_hash}).first()
    if found is None or str(found[0].id) != str(user_id):
        return None, True
    user, last_seen_at = found[0], _aware(found[1])
    now = dt.datetime.now(dt.timezone.utc)
    if not user.active or not user.password_hash:
        return None, True
    if last_seen_at + dt.timedelta(minutes=idle_minutes) < now:
        # The row stays (until the next sign-in, or two days): what this person goes on typing
        # is kept for them while it is there (see ended_session_owner).
        return None, True
    if now - last_seen_at > dt.timedelta(seconds=30):  # one write a half-minute at most
        with write_transaction():
            db.session.execute(update(UserSession).where(UserSession.token_hash == token_hash)
                               .values(last_seen_at=now))
    return user, False


# The session and its account in one statement, read on every request: built once (SQLAlchemy
# then also keeps its cache key), the account as an object, the session as the one column needed.
_SESSION_AND_ACCOUNT = (select(User, UserSession.last_seen_at)
                        .join(UserSession, UserSession.user_id == User.id)
                        .where(UserSession.token_hash == bindparam("token_hash")))


def ended_session_owner(token: str | None, idle_minutes: int) -> int | None:
    """The account whose session of this token ended by inactivity, if that account is still
    active: whom what this browser sends is kept for. None after signing out, a password
    change or disabling the account (the row is gone), or for a session still going."""
    if not isinstance(token, str) or not token:
        return None
    row = db.session.get(UserSession, _token_hash(token))
    if row is None or _aware(row.last_seen_at) + dt.timedelta(minutes=idle_minutes) >= utcnow():
        return None
    user = db.session.get(User, row.user_id)
    return user.id if user is not None and user.active and user.password_hash else None


def _end_sessions(user_id: int) -> None:
    db.session.execute(delete(UserSession).where(UserSession.user_id == user_id))


def discard_pending_forms(user_id: int) -> None:
    """Forget what was kept of this person's typing after a session ended (signing out, disabled)."""
    with write_transaction():
        db.session.execute(delete(PendingForm).where(PendingForm.user_id == user_id))


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ServiceError(_l("Rôle inconnu : « %(role)s ».", role=role), field="role")


def _territories(codes) -> list:
    """The territories of these codes, each once (a form may send a code twice); an unknown code
    is refused, naming it."""
    found = []
    for code in dict.fromkeys(codes):
        territory = territory_by_code(code)
        if territory is None:
            raise ServiceError(_l("Territoire inconnu : « %(code)s ».", code=code), field="territories")
        found.append(territory)
    return found


def _region_rows(regions) -> list[UserRegion]:
    """The regions of a gestionnaire, each once; an unknown one is refused, naming it (a typo
    would give an account that sees nothing, and nobody would say why)."""
    names = list(dict.fromkeys(r.strip() for r in regions if r.strip()))
    for name in names:
        check_region(name, field="regions")
    return [UserRegion(region=name) for name in names]


def _scope_of(user: User) -> dict:
    return {"display_name": user.display_name, "role": user.role, "territories": [t.code for t in user.territories], "regions": sorted(user.region_names)}


def _hashed(password: str) -> str:
    # The test suite lowers scrypt's cost (TestConfig): thousands of accounts made and signed in.
    return generate_password_hash(password, method=current_app.config.get("PASSWORD_HASH_METHOD", HASH_METHOD))


def create_user(email: str, password: str | None, role: str, *, territories: list[str] = (), regions: list[str] = (),
                display_name: str = "",
                actor: str = SYSTEM, first_admin: bool = False) -> User:
    email = normalize_email(email)
    _check_role(role)
    if "@" not in email or len(email) > 254:
        raise ServiceError(_l("Adresse courriel invalide."), field="email")
    if password is not None:
        problems = password_problems(password, email)
        if problems:
            raise ServiceError(problems[0], field="password")
    password_hash = _hashed(password) if password else None

    def operation() -> User:
        if first_admin and user_count():
            raise Conflict(_l("Un compte administrateur existe déjà : connectez-vous."))
        if db.session.scalar(select(User.id).where(User.email == email)) is not None:
            raise Conflict(_l("Un compte existe déjà pour cette adresse."), field="email")
        user = User(email=email, display_name=" ".join(display_name.split()), password_hash=password_hash,
                    role=role, territories=_territories(territories), regions=_region_rows(regions))
        db.session.add(user)
        db.session.flush()
        if first_admin:  # the database holds one installation only: a second one at the same time fails
            db.session.add(Installation(id=1, first_admin_id=user.id))
            db.session.flush()
        add_audit(actor, "user_create", detail=f"{email} ({role})")
        return user

    return retrying(operation)


def update_user(user_id: int, role: str, *, territories: list[str] = (), regions: list[str] = (), display_name: str = "",
                actor: str = SYSTEM) -> User:
    """Change an account's role and scope; it applies from the person's next request."""
    _check_role(role)
    with write_transaction():
        user = get_user(user_id)
        if role != "admin":
            _keep_an_administrator(user, field="role")
        scope = _territories(territories)
        before = _scope_of(user)
        user.display_name = " ".join(display_name.split())
        user.role = role
        user.territories = scope
        user.regions = _region_rows(regions)
        db.session.flush()
        after = _scope_of(user)
        if before != after:
            add_audit(actor, "user_update", old=before, new=after, detail=user.email)
    return user


def _throttle_keys(email: str, address: str) -> list[str]:
    return [f"account:{normalize_email(email)}"[:300], f"address:{address}"[:300]]


def _limits(config) -> dict[str, int]:
    return {"account": config["LOGIN_MAX_FAILURES_PER_ACCOUNT"], "address": config["LOGIN_MAX_FAILURES_PER_ADDRESS"]}


def authenticate(email: str, password: str, address: str, config) -> User | None:
    """The user whose e-mail and password these are, or None. Too many failures for the
    account or for the address refuse every attempt for a while, whether the account exists
    or not, so the answer never tells which accounts exist.

    The two counters are locked for the whole attempt, so attempts on the same account or
    from the same address, on any worker, are counted one after the other: none is lost."""
    window = dt.timedelta(minutes=config["LOGIN_WINDOW_MINUTES"])
    now = dt.datetime.now(dt.timezone.utc)
    limits = _limits(config)
    with write_transaction():
        counters = [_locked_counter(key, now, window) for key in _throttle_keys(email, address)]
        blocked = next((c for c in counters if c.failures >= limits[c.key.split(":")[0]]), None)
        if blocked is not None:
            add_audit(normalize_email(email)[:254], "login_throttled",
                      detail=f"{blocked.key.split(':')[0]} from {address}")
            signed_in = None
        else:
            signed_in = _check_credentials(email, password, address, counters)
    if blocked is not None:  # recorded (committed) before the refusal
        raise Throttled(_l("Trop de tentatives de connexion : réessayez dans %(minutes)d minutes.",
                           minutes=config["LOGIN_WINDOW_MINUTES"]))
    return signed_in


def _check_credentials(email: str, password: str, address: str, counters: list[LoginThrottle]) -> User | None:
    user = db.session.scalars(select(User).where(User.email == normalize_email(email))).first()
    valid = check_password_hash(user.password_hash if user and user.password_hash else _DUMMY_HASH, password)
    if user is not None and valid and user.active:
        counters[0].failures = 0  # the account's counter; the address keeps its count
        add_audit(user.email, "login", detail=f"from {address}")
        return user
    for counter in counters:
        counter.failures += 1
    add_audit(normalize_email(email)[:254], "login_failed", detail=f"from {address}")
    return None


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _locked_counter(key: str, now: dt.datetime, window: dt.timedelta) -> LoginThrottle:
    """The failure counter of `key`, created if missing, locked until the transaction ends
    (FOR UPDATE on PostgreSQL; SQLite's write lock is already held), its window restarted
    when the previous one is over."""
    upsert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    db.session.execute(upsert(LoginThrottle).values(key=key, failures=0, window_start=now)
                       .on_conflict_do_nothing(index_elements=["key"]))
    counter = db.session.scalars(
        select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if _aware(counter.window_start) + window <= now:
        counter.failures, counter.window_start = 0, now
    return counter


def change_password(user_id: int, current: str, new: str, *, actor: str) -> User:
    user = get_user(user_id)
    if not check_password_hash(user.password_hash or _DUMMY_HASH, current):
        raise ServiceError(_l("Le mot de passe actuel n'est pas le bon."), field="current")
    return set_password(user_id, new, actor=actor)


def set_password(user_id: int, new: str, *, actor: str) -> User:
    user = get_user(user_id)
    problems = password_problems(new, user.email)
    if problems:
        raise ServiceError(problems[0], field="password")
    with write_transaction():
        user = get_user(user_id)
        user.password_hash = _hashed(new)
        _end_sessions(user.id)  # every session of this account ends (the caller may open a new one)
        add_audit(actor, "password_change", detail=user.email)
    return user


def _keep_an_administrator(user: User, field: str | None = None) -> None:
    """Refuse to demote or disable the last active administrator: nobody could manage accounts
    any more. The administrators' rows stay locked until the change commits, so that two of
    them demoting each other at the same moment cannot both succeed."""
    if user.role != "admin" or not user.active:
        return
    admins = db.session.scalars(select(User.id).where(User.role == "admin", User.active.is_(True))
                                .with_for_update()).all()
    if set(admins) <= {user.id}:
        raise Conflict(_l("Ce compte est le seul compte administrateur actif : Grille PIN doit en garder au moins un. "
                          "Donnez d'abord le rôle d'administration à une autre personne."), field=field)


def set_active(user_id: int, active: bool, *, actor: str) -> User:
    with write_transaction():
        user = get_user(user_id)
        if not active:
            _keep_an_administrator(user)
        user.active = active
        _end_sessions(user.id)  # disabling ends the account's sessions at once
        if not active:  # and nothing typed before is kept for it any more
            discard_pending_forms(user.id)
        add_audit(actor, "user_enable" if active else "user_disable", detail=user.email)
    return user
