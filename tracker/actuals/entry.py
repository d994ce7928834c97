"""Entering reported values (实际值填报): one at a time, or from CSV and Excel files.

The path of a value: a file is read as rows (`read_sheets`: encodings of Chinese Excel, .xlsx
streamed), its header says which shape it is (`Layout`: long, or wide with indicators or
periods as columns), each cell is checked by a `Validator` that knows the targets model, the
regions and today's date but not the database, without holding the write lock, and only then
written, in one short transaction with every other cell of the file (re-checked first against
what others wrote meanwhile). Anything wrong anywhere: nothing is written and every problem is
listed with its file, row, column, value, what is accepted and, for near misses, what was
probably meant.

Corrections are new revisions, never updates, and only when asked for (`correct=True`). A
value far from the region's earlier ones is accepted with a warning.

Speed matters for big files: parsed periods, regions, indicators and unit factors are cached
per distinct text, values convert by one float factor per unit pair, rows are written with
executemany in chunks, and memory does not grow with the file (checked rows are spilled to a
temporary file, duplicate cells are tracked in per-(indicator, region) bitmaps, problems are
capped).
"""


import hashlib
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Self

from tracker import faults
from tracker.actuals.files import FileRefused, read_sheets
from tracker.actuals.layouts import Layout, column_letter, find_layout, layout_cells
from tracker.actuals.problems import (
    EntryError,
    EntryResult,
    Locked,
    Permit,
    Problem,
    ProblemLog,
    _now,
    forbidden_problem,
    refused_as_locked,
)
from tracker.actuals.progress import _import_progress
from tracker.actuals.validate import Accepted, IndicatorIndex, Validator, _norm
from tracker.domain.model import Indicator, TargetsModel
from tracker.domain.periods import today_in_plan_tz
from tracker.domain.regions import Region, RegionError, Regions, load_regions

CHUNK_ROWS = 5_000  # rows per executemany




def _row(a: Accepted, batch_id: int | None, entered_by: str, entered_at: datetime) -> tuple[Any, ...]:
    return (*a, entered_by, entered_at, batch_id)  # db.OBSERVATION_COLUMNS order


def _db_lookups(conn: Any) -> tuple[Callable, Callable]:
    from tracker import store as db
    def stored(indicator: str) -> dict[tuple[str, str], tuple[int, float]]:
        return {(r, p): v for (_i, r, p), v in db.current_cells(conn, [indicator]).items()}

    def history(indicator: str) -> dict[str, list[tuple[date, float]]]:
        return {r: v for (_i, r), v in db.region_history(conn, [indicator]).items()}

    return stored, history


def record_value(engine: Any, model: TargetsModel, indicator: str, region: str, period: str,
                 value: str | float, unit: str | None = None, *, entered_by: str, note: str = "",
                 source: str = "command", correct: bool = False, now: datetime,
                 regions: Regions | None = None, allow_sample: bool = False,
                 locked: "Locked | None" = None) -> EntryResult:
    """Enter one value (`tracker record`): checked like a file's cell, stored as a new cell or,
    with `correct=True`, as a new revision of an existing one. Raises EntryError."""
    cell = CellEntry(indicator, region, period, value, unit, note, correct)
    return record_values(engine, model, [cell], entered_by=entered_by, source=source, now=now, regions=regions,
                         allow_sample=allow_sample, locked=locked)


def find_cell(model: TargetsModel, regions: Regions, today: date, indicator: Any, region: Any,
              period: Any) -> tuple[Indicator, Region, str]:
    """The cell a person names, read as entry reads it (an indicator by id or name, a region
    by any of its names, a date as its period): (indicator, region, period label). Raises
    EntryError naming what is wrong."""
    v = Validator(model, regions, today, in_file=False)
    ind = v.indicator(indicator, None, "")
    reg = v.region(region, None, "")
    found = v.period(period, ind, None, "") if ind is not None else None
    if ind is None or reg is None or found is None:
        raise EntryError(v.log.errors())
    return ind, reg, found[0]


@dataclass
class CellEntry:
    """One value typed into a form or a command, before it is checked. `column` and
    `columns` (indicator, region, period, unit) name the fields in problems, so a form can
    show each problem next to the field it is about."""

    indicator: str
    region: str
    period: str
    value: str | float
    unit: str | None = None
    note: str = ""
    correct: bool = False  # a changed value is stored as a new revision (else refused)
    column: str = "数值 value"
    columns: tuple[str, str, str, str] = ("指标 indicator", "地区 region", "期间 period", "单位 unit")


def record_values(engine: Any, model: TargetsModel, cells: Iterable[CellEntry], *, entered_by: str,
                  source: str = "command", now: datetime,
                  regions: Regions | None = None, allow_sample: bool = False,
                  locked: "Locked | None" = None,
                  also: "Callable[[Any, EntryResult], None] | None" = None) -> EntryResult:
    """Enter several values at once (a web form), all or nothing: every cell is checked like
    a file's cell, and if any is wrong nothing is written and EntryError lists every problem.
    The problems name the field (数值, 期间), not a file's row and column; the result's
    `recorded` holds the values as stored (in the indicator's unit)."""
    from tracker import store as db
    entered_at = _now(now)
    log = ProblemLog()
    regions = regions or load_regions()
    cells = list(cells)
    # A form is about a region or two and a few indicators: read what is stored for just
    # those, in two queries, however big the database (this runs holding the write lock).
    index = IndicatorIndex(model)
    ids = {ind.id for cell in cells if (ind := index.get(cell.indicator)) is not None}
    codes = set()
    for cell in cells:
        try:
            codes.add(regions.lookup(_norm(cell.region)).code)
        except RegionError:
            pass  # the validator says so
    with db.write_transaction(engine, values=True) as conn:
        stored_cells: dict[str, dict[tuple[str, str], tuple[int, float]]] = {}
        for (i, r, p), value in db.current_cells(conn, ids, codes).items():
            stored_cells.setdefault(i, {})[(r, p)] = value
        earlier: dict[str, dict[str, list[tuple[date, float]]]] = {}
        for (i, r), values in db.region_history(conn, ids, codes).items():
            earlier.setdefault(i, {})[r] = values
        v = Validator(model, regions, today_in_plan_tz(entered_at), log=log, in_file=False,
                      allow_sample=allow_sample, stored=lambda i: stored_cells.get(i, {}),
                      history=lambda i: earlier.get(i, {}))
        v.sample(source, None, "", "source")
        accepted = []
        for cell in cells:
            v.correct = cell.correct
            a = v.check(None, cell.column, cell.indicator, cell.region, cell.period, cell.value, cell.unit,
                        cell.note, source, columns=cell.columns)
            if a is not None and not refused_as_locked(locked, a, log, None, cell.column):
                accepted.append(a)
        if log.has_errors():
            raise EntryError(log.errors(), log.dropped, log.warnings())
        result = EntryResult(source, warnings=log.warnings(), unchanged=v.unchanged, recorded=accepted)
        if accepted:
            result.batch_id = db.new_batch(conn, source, entered_by, entered_at)
            db.ObservationWriter(conn).write([_row(a, result.batch_id, entered_by, entered_at) for a in accepted])
            db.finish_batch(conn, result.batch_id, len(accepted))
            result.written, result.corrections = len(accepted), v.corrections
        if also is not None:  # e.g. the web's audit row: in the values' transaction, not one more
            also(conn, result)
    return result


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def import_file(engine: Any, path: str | Path, model: TargetsModel, *, entered_by: str,
                correct: bool = False, period: str | None = None, indicator: str | None = None,
                now: datetime, regions: Regions | None = None,
                dry_run: bool = False, permit: "Permit | None" = None, allow_sample: bool = False,
                locked: "Locked | None" = None) -> EntryResult:
    """Import a CSV or .xlsx file of values (and milestone progress sheets), all or nothing.

    Two steps, so a long import blocks no one: every cell is read and checked against what is
    stored without the write lock (other commands read and write meanwhile), the accepted rows
    spilled to a temporary file (memory does not grow with the file); then the lock is held
    only to write them, after re-checking that no cell the file writes was changed in
    between (if one was, nothing is written and the problem names it). If any cell is wrong,
    nothing is written and EntryError lists every problem. `period` and `indicator` fill in
    for a wide sheet that has no such column. `permit` (the web app's permissions) refuses
    cells the person uploading may not write, as problems with code "forbidden"; `locked`
    (periods under review or closed) refuses cells with code "locked". Rows marked as sample
    data (示例数据 / SAMPLE in the note, or in the file's name) are refused unless `allow_sample`.
    """
    from tracker import store as db
    path = Path(path)
    entered_at = _now(now)
    regions = regions or load_regions()
    log = ProblemLog(path.name)
    result = EntryResult(str(path), dry_run=dry_run)
    try:
        with _Spill() as spill:
            version = db.data_version(engine)  # before anything stored is read
            progress = _check_file(engine, path, model, regions, entered_at, correct, period, indicator, permit,
                                   log, result, spill, allow_sample=allow_sample, locked=locked)
            if not dry_run:
                faults.point("import:checked")
                _write_checked(engine, path, version, spill, progress, result, log, entered_by, entered_at)
    except FileRefused as exc:
        raise EntryError([Problem(exc.zh, exc.en, file=path.name,
                                  accepted_zh="CSV（UTF-8 或 GBK）或 Excel .xlsx 文件",
                                  accepted_en="a CSV (UTF-8 or GBK) or Excel .xlsx file")]) from exc
    return result


def _check_file(engine: Any, path: Path, model: TargetsModel, regions: Regions, entered_at: datetime,
                correct: bool, period: str | None, indicator: str | None, permit: "Permit | None",
                log: ProblemLog, result: EntryResult, spill: "_Spill", *, allow_sample: bool = False,
                locked: "Locked | None" = None) -> list[dict[str, Any]]:
    """The first step, without the write lock: every cell checked, accepted values spilled,
    new progress reports returned; raises EntryError listing every problem."""
    progress: list[dict[str, Any]] = []
    with engine.connect() as conn:
        stored, history = _db_lookups(conn)
        validator = Validator(model, regions, today_in_plan_tz(entered_at), correct=correct,
                              stored=stored, history=history, log=log, allow_sample=allow_sample)
        validator.sample(path.name, None, "", "source")
        saw_values = False
        progress_repeats = 0
        for sheet_name, rows in read_sheets(path):
            source_prefix = path.name if sheet_name == path.name else f"{path.name}[{sheet_name}]"
            head = _head(rows)
            layout = find_layout(head, validator.indicators, log, period, indicator)
            if layout is None:
                if any(any(c not in (None, "") for c in cells) for _, cells in head):
                    log.add(Problem("找不到表头（需要「地区」等列）", "no header row found (it needs a region "
                                    "column, or indicator/period/value columns)", column="", value=sheet_name,
                                    accepted_zh="指标、地区、期间、数值列（长表）；或地区列加指标列/月份列（宽表）",
                                    accepted_en="indicator, region, period, value columns (long); or a region "
                                                "column with indicator or period columns (wide)"))
                continue
            all_rows = _chain(head, rows)
            if layout.shape == "progress":
                n, repeats = _import_progress(conn, layout, all_rows, model, regions, validator.today, log,
                                              source_prefix, None, "", entered_at, write=False, permit=permit,
                                              sample=validator.sample, collect=progress)
                result.progress_written += n
                progress_repeats += repeats
                saw_values = saw_values or n + repeats > 0
                continue
            accepted, seen = _check_values(validator, layout, all_rows, period, indicator, log, source_prefix,
                                           spill, permit, locked)
            result.written += accepted
            saw_values = saw_values or seen
    if validator.duplicates:
        _name_first_rows(path, validator, log, period, indicator)
    if not saw_values and not log.has_errors() and validator.unchanged == 0:
        log.add(Problem("文件中没有任何数值", "the file holds no values",
                        accepted_zh="至少一行数据", accepted_en="at least one row of values"))
    if log.has_errors():
        raise EntryError(log.errors(), log.dropped, log.warnings())
    result.corrections, result.unchanged = validator.corrections, validator.unchanged + progress_repeats
    result.warnings = log.warnings()
    return progress


def _write_checked(engine: Any, path: Path, version: tuple[int, int, int], spill: "_Spill",
                   progress: list[dict[str, Any]], result: EntryResult, log: ProblemLog, entered_by: str,
                   entered_at: datetime) -> None:
    """The second step, holding the write lock only to write: the checked rows, if no cell
    among them was changed since `version` (the data the first step checked against)."""
    from tracker import store as db
    digest = _file_digest(path) if path.exists() else ""
    with db.write_transaction(engine, values=True) as conn:
        faults.point("import:locked")
        if db.data_version(conn)[0] != version[0]:
            _recheck(conn, version[0], spill, log)
            if log.has_errors():
                raise EntryError(log.errors(), log.dropped, log.warnings())
        batch_id = db.new_batch(conn, str(path), entered_by, entered_at, sha256=digest)
        result.batch_id = batch_id
        writer = db.ObservationWriter(conn)
        tail = (entered_by, entered_at, batch_id)
        for chunk in spill.chunks():
            writer.write([row + tail for row in chunk])
        if progress:
            db.insert_progress(conn, [{**row, "entered_by": entered_by, "batch_id": batch_id} for row in progress])
        db.finish_batch(conn, batch_id, result.written + result.progress_written)
        faults.point("import:written")


def _recheck(conn: Any, since: int, spill: "_Spill", log: ProblemLog) -> None:
    """Cells written by someone else while the file was checked: their revision (and so the
    correction or the refusal decided for them) is stale; each becomes a problem."""
    from tracker import store as db
    changed = db.cells_added_since(conn, since)
    for chunk in spill.chunks():
        for row in chunk:
            found = changed.get((row[0], row[1], row[2]))
            if found is None:
                continue
            revision, value, who = found
            _prefix, number, letter = row[7].rsplit(":", 2)
            log.add(Problem(f"校验本文件期间，该单元格已由 {who} 录入为 {value:g}（第{revision}版）；请重新导入",
                            f"this cell was entered as {value:g} (revision {revision}) by {who} while the file was "
                            "being checked; import the file again",
                            row=int(number), column=letter, value=f"{row[4]:g}", code="changed",
                            accepted_zh="重新导入本文件（将按最新版本校验）",
                            accepted_en="the same file again (it is checked against the latest revision)"))


class _Spill:
    """The checked rows of a big file, pickled in chunks to an anonymous temporary file
    (gone with the process, even after kill -9): memory stays at one chunk."""

    def __init__(self) -> None:
        self._file: Any = None
        self._chunk: list[tuple[Any, ...]] = []
        self.rows = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()

    def add(self, row: tuple[Any, ...]) -> None:
        self._chunk.append(row)
        self.rows += 1
        if len(self._chunk) >= CHUNK_ROWS:
            if self._file is None:
                self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by __exit__
            pickle.dump(self._chunk, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._chunk = []

    def chunks(self) -> Iterator[list[tuple[Any, ...]]]:
        if self._file is not None:
            self._file.seek(0)
            while True:
                try:
                    yield pickle.load(self._file)  # our own file, written just now
                except EOFError:
                    break
        if self._chunk:
            yield self._chunk


def _head(rows: Iterator, n: int = 10) -> list:
    """The first rows of a sheet, where its header (after any title rows) must be."""
    return [item for _, item in zip(range(n), rows)]


def _chain(head: list, rest: Iterator) -> Iterator:
    yield from head
    yield from rest


def _check_values(validator: Validator, layout: Layout, rows: Iterator, period: str | None,
                  indicator: str | None, log: ProblemLog, source_prefix: str, spill: _Spill,
                  permit: "Permit | None" = None, locked: "Locked | None" = None) -> tuple[int, bool]:
    """Check one sheet's values, spilling the accepted ones; stops spilling (not checking) at
    the first problem, since nothing will be written anyway. Returns (accepted, any cell seen)."""
    accepted_n, seen = 0, False
    check, labels = validator.check, layout.labels
    letters = [column_letter(i) for i in range(len(labels))]
    cols = (layout.label("indicator"), layout.label("region"), layout.label("period"), layout.label("unit"),
            layout.label("note"))
    failed = False
    for n, col, ind, region, per, value, unit, note in layout_cells(layout, rows, period, indicator, log):
        seen = True
        accepted = check(n, labels[col], ind, region, per, value, unit, note,
                         f"{source_prefix}:{n}:{letters[col]}", cols)
        if accepted is None:
            failed = failed or log.has_errors()
            continue
        if permit is not None and not permit("value", accepted.indicator, accepted.region):
            log.add(forbidden_problem(n, labels[col], f"{accepted.indicator} / {accepted.region}"))
            failed = True
            continue
        if refused_as_locked(locked, accepted, log, n, labels[col]):
            failed = True
            continue
        if failed:
            continue
        spill.add(tuple(accepted))
        accepted_n += 1
    return accepted_n, seen


def _name_first_rows(path: Path, validator: Validator, log: ProblemLog, period: str | None,
                     indicator: str | None) -> None:
    """A duplicate is reported where it repeats; this second pass (only when there are
    duplicates) says where each first appeared, without having kept every row in memory."""
    firsts: dict[tuple[str, str, str], int] = {}
    scratch = Validator(validator.model, validator.regions, validator.today, log=ProblemLog())
    for _sheet, rows in read_sheets(path):
        head = _head(rows)
        layout = find_layout(head, scratch.indicators, ProblemLog(), period, indicator)
        if layout is None or layout.shape == "progress":
            continue
        for n, _col, ind, region, per, _value, _unit, _note in layout_cells(
                layout, _chain(head, rows), period, indicator, ProblemLog()):
            i = scratch.indicator(ind, n, "")
            r = scratch.region(region, n, "")
            p = scratch.period(per, i, n, "") if i else None
            if i and r and p and (i.id, r.code, p[0]) in validator.duplicates:
                firsts.setdefault((i.id, r.code, p[0]), n)
    for key, problem in validator.duplicates.items():
        if problem is not None and key in firsts and "首次" not in problem.zh:
            problem.zh += f"（首次出现在第{firsts[key]}行）"
            problem.en += f" (first on row {firsts[key]})"
