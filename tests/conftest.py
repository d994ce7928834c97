"""Shared fixtures: a fresh, migrated database per test.

SQLite in the test's tmp_path by default. When $TRACKER_TEST_DATABASE_URL names a PostgreSQL
database (CI: postgresql+psycopg://postgres@127.0.0.1:5432/test), each test gets its own
schema there, put first on the search_path through the URL, and dropped afterwards: tests
never see each other's rows, and a URL handed to a subprocess or the CLI reaches the same
schema.
"""

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest

PG_ENV = "TRACKER_TEST_DATABASE_URL"


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def db_url(tmp_path, monkeypatch) -> Iterator[str]:
    """A database URL no other test uses; also exported as $TRACKER_DATABASE_URL so that
    code reading the settings (the CLI) finds it."""
    base = os.environ.get(PG_ENV)
    if not base:
        url = f"sqlite:///{tmp_path / 'tracker.db'}"
        monkeypatch.setenv("TRACKER_DATABASE_URL", url)
        yield url
        from tracker import db

        db.dispose_engine(url)
        return

    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(base, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = _pg_schema_url(base, schema)
    monkeypatch.setenv("TRACKER_DATABASE_URL", url)
    try:
        yield url
    finally:
        from tracker import db

        db.dispose_engine(url)
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def engine(db_url):
    """The migrated engine for `db_url` (tracker.db.get_engine)."""
    from tracker import db

    return db.get_engine(db_url)
