"""One key per reporting period: cells that earlier versions stored under a date for a
monthly, quarterly or yearly indicator (2025-12-31 for a quarterly one) are re-keyed to the
period that date stands for (2025Q4), as entry now does.

Where the period already had values, the two sets are one cell again: its revisions are
renumbered in the order they were entered, so the value entered last is the latest (what a
correction would have made of it), and `tracker history` shows both. Each re-keyed row keeps
its value, who entered it, when, and its note; its source says which date it was entered
under. The indicators' frequencies come from the indicator table (the targets model as last
synced, which the values were checked against); flows were never stored under dates, and a
date under an indicator the table does not know stays as it is.

The append-only guard on observations is lifted for this re-keying only, inside the
migration's transaction, and put back as it was. There is no downgrade of the data: the two
keys of one period are not told apart again.

Revision ID: 0011_period_keys
Revises: 0004_meta
Create Date: 2026-12-02
"""

import re
from datetime import date

import sqlalchemy as sa
from alembic import op

from tracker.domain.periods import PeriodError, parse_period, reporting_period

revision = "0011_period_keys"
down_revision = "0004_meta"
branch_labels = None
depends_on = None

DATE_LABEL = re.compile(r"\d{4}-\d{2}-\d{2}")


def upgrade() -> None:
    conn = op.get_bind()
    indicators = {r.id: r for r in conn.execute(sa.text("SELECT id, kind, frequency FROM indicator"))}
    moves: dict[int, tuple[str, date, str]] = {}  # observation id -> (period, period_end, old label)
    for r in conn.execute(sa.text("SELECT id, indicator, period FROM observation WHERE period LIKE '____-__-__'")):
        ind = indicators.get(r.indicator)
        if ind is None or ind.kind == "flow" or not DATE_LABEL.fullmatch(r.period):
            continue
        try:
            p = reporting_period(parse_period(r.period), ind.frequency)
        except PeriodError:
            continue
        moves[r.id] = (p.label, p.end, r.period)
    if not moves:
        return
    cells: dict[tuple[str, str, str], list[int]] = {}
    for r in conn.execute(sa.text("SELECT id, indicator, region FROM observation WHERE id IN :ids")
                          .bindparams(sa.bindparam("ids", expanding=True)), {"ids": list(moves)}):
        cells.setdefault((r.indicator, r.region, moves[r.id][0]), []).append(r.id)
    _lift_guard(conn)
    rekey = sa.text("UPDATE observation SET period = :p, period_end = :e, revision = :rev, source = :s "
                    "WHERE id = :id").bindparams(sa.bindparam("e", type_=sa.Date()))
    renumber = sa.text("UPDATE observation SET revision = :rev WHERE id = :id")
    for (indicator, region, label), moved in sorted(cells.items()):
        rows = conn.execute(sa.text(
            "SELECT id, source FROM observation WHERE indicator = :i AND region = :r "
            "AND (period = :p OR id IN :ids) ORDER BY entered_at, id")
            .bindparams(sa.bindparam("ids", expanding=True)),
            {"i": indicator, "r": region, "p": label, "ids": moved}).all()
        for row in rows:  # out of the way of the unique (cell, revision) first
            conn.execute(renumber, {"rev": -row.id, "id": row.id})
        for n, row in enumerate(rows, start=1):
            if row.id in moves:
                _label, end, old = moves[row.id]
                source = f"{row.source}；原期间 {old}" if row.source else f"原期间 {old}"
                conn.execute(rekey, {"p": label, "e": end, "rev": n, "s": source, "id": row.id})
            else:
                conn.execute(renumber, {"rev": n, "id": row.id})
    _restore_guard(conn)


def _lift_guard(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ALTER TABLE observation DISABLE TRIGGER observation_append_only")
    else:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS observation_no_update")


def _restore_guard(conn: sa.Connection) -> None:
    """The guard exactly as 0001_initial made it."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ALTER TABLE observation ENABLE TRIGGER observation_append_only")
    else:
        conn.exec_driver_sql("CREATE TRIGGER observation_no_update BEFORE UPDATE ON observation "
                             "BEGIN SELECT RAISE(ABORT, 'observation is append-only: enter a correction "
                             "as a new revision'); END")


def downgrade() -> None:
    pass  # see the module docstring: the re-keyed cells stay re-keyed
