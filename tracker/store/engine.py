"""The engine and schema migrations.

SQLite is the default (one file, WAL so that a long scheduled run and a person entering
values do not fail each other); PostgreSQL works through the same URL
(`postgresql+psycopg://...`). The schema is created and evolved only by the Alembic
migrations in `tracker/store/migrations/`, run when an engine is opened, so a database made
by an older version is upgraded in place.
"""

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
WAIT_NOTICE_MS = 1_000  # a writer waiting this long for the lock says so (stderr), then waits on
WAITING = ("数据库正由另一进程写入（例如导入大文件），本命令等待其完成后继续 / waiting for the database: another process "
           "(an import?) is writing; this command goes on when it has finished")

log = logging.getLogger("tracker.store")

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(url: str | None = None) -> Engine:
    """The engine for `url` (default: the settings' database URL), migrated to the latest
    schema; one per URL per process, so connection pools are shared."""
    if url is None:
        from tracker.config import load_settings

        url = load_settings().database_url
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _create_engine(url)
            migrate(engine)
            _engines[url] = engine
        return engine


def dispose_engine(url: str) -> None:
    """Close and forget the cached engine for `url` (tests, before dropping a database)."""
    with _engines_lock:
        engine = _engines.pop(url, None)
    if engine is not None:
        engine.dispose()


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin, so that
        # write transactions can say BEGIN IMMEDIATE (see `_on_begin`).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")  # safe in WAL; fsync at checkpoints
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # busy_timeout does not cover a reader upgrading to a writer: a deferred transaction
        # that reads and then writes fails with "database is locked" at once. Writers take
        # the write lock up front and wait their turn instead.
        if conn.get_execution_options().get("tracker_write", False):
            _begin_immediate(conn.connection.dbapi_connection)
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def _begin_immediate(raw: Any) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock as long as another writer holds it (a long
    import), instead of failing with "database is locked" after the busy timeout; after
    WAIT_NOTICE_MS it says that it waits, and again every busy timeout."""
    started = time.monotonic()
    noticed = False
    raw.execute(f"PRAGMA busy_timeout = {WAIT_NOTICE_MS}")
    try:
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                log.warning("%s (%.0f s)", WAITING, time.monotonic() - started)
                noticed = True
                raw.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        raw.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    if noticed:
        log.warning("数据库已可写入 / got the database after %.1f s", time.monotonic() - started)


VALUES_LOCK = 4634002  # PostgreSQL advisory lock: one writer of reported values at a time …
_VALUES_KEY = f"{VALUES_LOCK}, hashtext(current_schema())"  # … per schema (advisory locks span the database)


@contextmanager
def write_transaction(engine: Engine, values: bool = False) -> Iterator[Connection]:
    """A connection in a write transaction: committed when the block ends, rolled back on
    any exception. On SQLite it holds the write lock from the start (BEGIN IMMEDIATE). With
    `values` (a transaction that reads the stored revisions, then writes the next ones), on
    PostgreSQL it also takes a transaction-scoped advisory lock, so two people correcting
    one cell at once queue as they do on SQLite, instead of both claiming the same revision.
    Either way a writer behind another (a long import) waits as long as it takes and says
    so (a warning on the tracker.store logger: stderr at the command line)."""
    with engine.connect() as conn:
        conn.execution_options(tracker_write=True)
        with conn.begin():
            if values and conn.dialect.name == "postgresql" and not conn.exec_driver_sql(
                    f"SELECT pg_try_advisory_xact_lock({_VALUES_KEY})").scalar():
                started = time.monotonic()
                log.warning("%s", WAITING)
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_VALUES_KEY})")
                log.warning("数据库已可写入 / got the database after %.1f s", time.monotonic() - started)
            yield conn


@contextmanager
def writing(bind: Engine | Connection) -> Iterator[Connection]:
    """`bind` itself when it is a connection already in a write transaction (several steps
    committed together), else a new write transaction on the engine."""
    if isinstance(bind, Connection):
        yield bind
    else:
        with write_transaction(bind) as conn:
            yield conn


def _alembic_config(conn: Connection) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    cfg.attributes["connection"] = conn
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (Alembic), serialised against other processes doing
    the same: SQLite by its write lock, PostgreSQL by an advisory lock. A database already at
    the head is only read (no write lock, no Alembic import): opening the database must not
    queue behind a long import holding the write lock."""
    if revision == "head" and _current_revision(engine) == head_revision():
        return
    from alembic import command

    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(4634001)")
        if revision == "head" and schema_revision(conn) == head_revision():
            return
        command.upgrade(_alembic_config(conn), revision)


def _current_revision(engine: Engine) -> str | None:
    """The revision in alembic_version, read plainly (None when the table is missing)."""
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to `revision` ("base": empty). For tests of the migration
    chain and for undoing a bad deployment; data in dropped tables is lost."""
    from alembic import command

    with write_transaction(engine) as conn:
        command.downgrade(_alembic_config(conn), revision)


_HEAD: list[str] = []


def head_revision() -> str:
    """The newest migration's revision, read from the files' `revision =` and
    `down_revision =` lines (the head is the one no other revises), without importing Alembic."""
    if not _HEAD:
        import re

        revisions, parents = set(), set()
        for path in (Path(__file__).with_name("migrations") / "versions").glob("*.py"):
            text = path.read_text(encoding="utf-8")
            rev = re.search(r'^revision = "([^"]+)"', text, re.M)
            down = re.search(r'^down_revision = "([^"]+)"', text, re.M)
            if rev:
                revisions.add(rev.group(1))
            if down:
                parents.add(down.group(1))
        heads = sorted(revisions - parents)
        if len(heads) != 1:
            raise RuntimeError(f"the migrations must have one head, found {heads}")
        _HEAD.append(heads[0])
    return _HEAD[0]


def schema_revision(conn_or_engine: Connection | Engine) -> str | None:
    """The Alembic revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    return MigrationContext.configure(conn_or_engine).get_current_revision()
