"""Commands beside a long import, with real processes: reads never wait for it; a writer waits
as long as the import writes, says so on stderr, and succeeds; the import checks its file
without the write lock and re-checks, under it, the cells someone wrote meanwhile."""

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from faultrun import finish, run, start, write_config
from sqlalchemy import func, select

from tracker import faults
from tracker import store as db
from tracker.actuals.entry import CHUNK_ROWS, import_file
from tracker.domain.regions import load_regions
from tracker.targets.file import load_targets

ROOT = Path(__file__).resolve().parent.parent
TRAININGS = "elderly_care_worker_trainings"  # monthly, reported by 省民政厅
WAITING = "waiting for the database"


def _csv(path: Path, months: list[str]) -> Path:
    counties = [r.code for r in load_regions().counties()]
    rows = [f"{TRAININGS},{code},{month},{30 + n}" for month in months for n, code in enumerate(counties)]
    path.write_text("indicator,region,period,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(db.observation_table)).scalar()


class Lines:
    """A child's stderr, read as it comes (the child is still running)."""

    def __init__(self, proc) -> None:
        self.text = ""
        self.thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self.thread.start()

    def _read(self, proc) -> None:
        for line in proc.stderr:
            self.text += line

    def wait_for(self, needle: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            assert time.monotonic() < deadline, f"never said {needle!r}: {self.text}"
            time.sleep(0.05)


def test_reads_do_not_wait_for_an_import_and_a_record_waits_for_it_and_succeeds(tmp_path, db_url, engine):
    config = write_config(tmp_path)
    path = _csv(tmp_path / "big.csv", ["2026-09", "2026-10"])
    importer = start(["import", str(path)], config, db_url, points="import:locked")
    faults.wait_reached(tmp_path, "import:locked", importer)  # holding the write lock
    started = time.monotonic()
    status = run(["status", "--json"], config, db_url)
    assert status.returncode in (0, 3), status.stderr  # 3: something is overdue
    assert WAITING not in status.stderr and time.monotonic() - started < 20
    record = start(["record", TRAININGS, "海口", "2026-08", "30"], config, db_url)
    err = Lines(record)
    err.wait_for(WAITING)  # it says it waits …
    time.sleep(1.0)
    assert record.poll() is None  # … and waits, instead of failing with "database is locked"
    faults.release(tmp_path, "import:locked")
    assert finish(importer)[0] == 0
    code = record.wait(timeout=60)
    err.thread.join(timeout=10)
    assert code == 0, err.text
    assert "got the database after" in err.text
    assert len(db.observation_history(engine, TRAININGS, "460100", "2026-08")) == 1
    assert _count(engine) == 2 * 19 + 1


def test_an_import_checks_without_the_lock_and_refuses_a_cell_changed_meanwhile(tmp_path, db_url, engine):
    config = write_config(tmp_path)
    path = _csv(tmp_path / "big.csv", ["2026-09"])
    importer = start(["import", str(path)], config, db_url, points="import:checked")
    faults.wait_reached(tmp_path, "import:checked", importer)  # every cell checked; no lock held
    record = run(["record", TRAININGS, "海口", "2026-09", "99"], config, db_url)  # the import is still stopped
    assert record.returncode == 0, record.stderr
    faults.release(tmp_path, "import:checked")
    code, _out, err = finish(importer)
    assert code != 0
    assert "while the file was being checked" in err or "校验本文件期间" in err
    assert _count(engine) == 1  # all or nothing: only the value recorded meanwhile


def test_a_file_of_several_chunks_is_spilled_and_written_whole(tmp_path, engine):
    model = load_targets(ROOT / "targets.yaml")
    months = [f"{y}-{m:02d}" for y in range(2000, 2026) for m in range(1, 13)]  # 312 months x 19 counties
    path = _csv(tmp_path / "long.csv", months)
    assert 19 * len(months) > CHUNK_ROWS
    result = import_file(engine, path, model, entered_by="t", now=datetime(2026, 12, 1, tzinfo=UTC))
    assert result.written == 19 * len(months) == _count(engine)
    assert db.observation_history(engine, TRAININGS, "460100", "2013-05")[0]["value"] == 30
