"""Web accounts, sign-in attempts, generated secrets and the audit log: the SQL behind
tracker.web.auth, which keeps the rules (who may sign in, what a session is)."""

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, func, select
from sqlalchemy.exc import IntegrityError

from tracker.domain.clock import aware
from tracker.store.engine import write_transaction
from tracker.store.tables import attempt_table, audit_table, secret_table, user_table


def insert_user(engine: Engine, row: dict[str, Any]) -> int | None:
    """The new account's id, or None when the user name is taken."""
    try:
        with write_transaction(engine) as conn:
            return int(conn.execute(user_table.insert().returning(user_table.c.id), row).scalar_one())
    except IntegrityError:
        return None


def user_rows(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(user_table).order_by(user_table.c.username)))


_BY_ID = select(user_table).where(user_table.c.id == bindparam("key"))  # built once: every request reads one
_BY_NAME = select(user_table).where(user_table.c.username == bindparam("key"))


def user_row(engine: Engine, *, user_id: int | None = None, username: str | None = None) -> Any:
    """One account's row by id or by name, or None."""
    q, key = (_BY_ID, user_id) if user_id is not None else (_BY_NAME, username)
    with engine.connect() as conn:
        return conn.execute(q, {"key": key}).first()


def update_user(engine: Engine, values: dict[str, Any], *, user_id: int | None = None,
                username: str | None = None) -> bool:
    """Change an account's columns; returns whether it exists."""
    cond = user_table.c.id == user_id if user_id is not None else user_table.c.username == username
    with write_transaction(engine) as conn:
        return conn.execute(user_table.update().where(cond).values(**values)).rowcount == 1


def last_sign_in(engine: Engine, username: str | None = None, *, ip: str | None = None) -> datetime | None:
    """The latest successful sign-in of this user name, or from this address."""
    t = attempt_table
    column, value = (t.c.username, username) if username is not None else (t.c.ip, ip)
    with engine.connect() as conn:
        return aware(conn.execute(select(func.max(t.c.at)).where(column == value, t.c.ok.is_(True))).scalar())


def failed_sign_ins(engine: Engine, *, since: datetime, username: str | None = None, ip: str | None = None) -> int:
    """Failed attempts after `since` for this user name or this address."""
    return len(failed_sign_in_times(engine, since=since, username=username, ip=ip))


def failed_sign_in_times(engine: Engine, *, since: datetime, username: str | None = None,
                         ip: str | None = None) -> list[datetime]:
    """When the failed attempts after `since` for this user name (or this address) were made,
    oldest first: how long a lock lasts is read from them."""
    t = attempt_table
    column, value = (t.c.username, username) if username is not None else (t.c.ip, ip)
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.at).where(column == value, t.c.ok.is_(False), t.c.at > since)
                            .order_by(t.c.at))
        return [aware(r.at) for r in rows]


def record_sign_in(engine: Engine, username: str, ip: str, ok: bool, now: datetime, audit_row: dict[str, Any]) -> None:
    """The attempt (for the rate limit) and its audit entry, in one transaction."""
    with write_transaction(engine) as conn:
        conn.execute(attempt_table.insert(), {"username": username, "ip": ip, "at": now, "ok": ok})
        conn.execute(audit_table.insert(), audit_row)


def secret(engine: Engine, name: str) -> str | None:
    with engine.connect() as conn:
        found = conn.execute(select(secret_table.c.value).where(secret_table.c.name == name)).scalar()
    return str(found) if found else None


def put_secret_once(engine: Engine, name: str, value: str, now: datetime) -> str:
    """Store `value` under `name` unless another process stored one first; returns the one kept."""
    try:
        with write_transaction(engine) as conn:
            conn.execute(secret_table.insert(), {"name": name, "value": value, "created_at": now})
    except IntegrityError:
        pass
    found = secret(engine, name)
    assert found is not None
    return found


def insert_audit_on(conn: Any, row: dict[str, Any]) -> None:
    """The audit row, in the caller's transaction (a write and its audit entry commit together)."""
    conn.execute(audit_table.insert(), row)


def insert_audit(engine: Engine, row: dict[str, Any]) -> None:
    with write_transaction(engine) as conn:
        conn.execute(audit_table.insert(), row)


def audit_rows(engine: Engine, limit: int = 200, actor: str | None = None, outcome: str | None = None) -> list[Any]:
    t = audit_table
    q = select(t).order_by(t.c.id.desc()).limit(limit)
    if actor:
        q = q.where(t.c.actor == actor)
    if outcome:
        q = q.where(t.c.outcome == outcome)
    with engine.connect() as conn:
        return list(conn.execute(q))
