"""The report set on disk: YYYY-MM.html, YYYY-MM.json and index.html under reports/, and the
previous reports read back (for the changes since last month and the index).

The set is written as a whole, so a reader sees the old set or the new one, never a mix:
every write makes a new generation directory (`.generations/gNNNNNNNN/`: the new files, and
hard links to the unchanged ones), then switches one symlink, `.current`, to it: the one
atomic step. The names people and web servers open (reports/2026-11.html, index.html) are
symlinks through `.current`, created once; a reader that wants several files of one set
resolves `.current` once (`set_dir`) and reads them from there. Writers take a lock
(`.lock`, flock) from reading the current set to the switch, so two writers never lose each
other's month; whatever a killed writer left (a generation never switched to, temporary
files, links to files that never arrived) is removed by the next write. The generation
before the current one, and any switched away from in the last minutes, are kept for readers
still reading them.
"""

import fcntl
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from tracker import faults
from tracker.domain.model import Observation, TargetsModel
from tracker.domain.periods import PLAN_TZ
from tracker.domain.regions import Regions
from tracker.domain.series import SeriesSet
from tracker.report.build import Limits, ReportFiles, build_context
from tracker.report.render import render_index, render_report
from tracker.status.engine import Status

REPORT_NAME = re.compile(r"^(\d{4}-\d{2})\.json$")
SET_FILE = re.compile(r"^(\d{4}-\d{2}\.(html|json)|index\.html)$")
GENERATIONS, CURRENT, LOCK, MANIFEST = ".generations", ".current", ".lock", "manifest.json"
GENERATION = re.compile(r"^g(\d{8})$")
LOCK_WAIT_SECONDS = 120.0
RETAIN_SECONDS = 300.0  # a generation switched away from is kept this long for readers still in it
# The named points of a write, in order, where a fault trial may stop the writer.
WRITE_POINTS = ("report:locked", "report:generation-written", "report:linked", "report:switched")


class ReportBusy(OSError):
    """Another process has been writing this report set for too long (it may be stopped)."""


def headline(context: dict[str, Any]) -> dict[str, Any]:
    """What the index shows for one report: its month, the date it is as of and how it was made
    (the scheduled monthly run, as of the month's last day, or on demand, as of the day asked
    for), so two reports of a month that look alike are told apart; whether it is a sample."""
    run = context.get("run") or {}
    return {"period": context["period"], "as_of": context["as_of"], "generated_at": context.get("generated_at", ""),
            "generated_text": context.get("generated_text", ""), "kind": run.get("kind", ""),
            "sample": bool(context.get("sample")),
            "late": bool(run.get("late")), "total": context.get("total", 0),
            "lights": {x["light"]: x["count"] for x in context.get("lights", [])},
            "href": f"{context['period']}.html"}


def to_json(context: dict[str, Any]) -> str:
    """One line: with an indent `json` falls back to its pure-Python encoder, several times
    slower on a national report (a reader who wants it laid out runs `python -m json.tool`)."""
    return json.dumps(context, ensure_ascii=False, separators=(",", ":"))


def set_dir(reports_dir: str | Path) -> Path:
    """The directory holding the report set readers see now, resolved once: read several
    files from it and they are of one set. (A directory written before generations existed
    is its own set.)"""
    directory = Path(reports_dir)
    try:
        return directory / os.readlink(directory / CURRENT)
    except OSError:
        return directory


def report_periods(reports_dir: str | Path, *, in_set: Path | None = None) -> list[str]:
    """The YYYY-MM of every report in the current set of `reports_dir`, oldest first."""
    where = in_set or set_dir(reports_dir)
    if not where.is_dir():
        return []
    return sorted(m.group(1) for p in where.iterdir() if (m := REPORT_NAME.match(p.name)))


def read_report(reports_dir: str | Path, period: str, *, in_set: Path | None = None) -> dict[str, Any] | None:
    path = (in_set or set_dir(reports_dir)) / f"{period}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_previous(reports_dir: str | Path, period: str) -> dict[str, Any] | None:
    """The latest report before `period` (a re-run of a month compares with the month before)."""
    where = set_dir(reports_dir)
    earlier = [p for p in report_periods(reports_dir, in_set=where) if p < period]
    for p in reversed(earlier):
        found = read_report(reports_dir, p, in_set=where)
        if found is not None:
            return found
    return None


def report_file(reports_dir: str | Path, name: str) -> Path:
    """The file behind a name of the set (2026-11.html), resolved into its generation, so a
    server that stats it and then streams it reads one file even if a write switches the
    set in between."""
    return set_dir(reports_dir) / name


def _index_entries(where: Path, current: dict[str, Any]) -> list[dict[str, Any]]:
    entries = {current["period"]: headline(current)}
    for p in report_periods(where, in_set=where):
        if p in entries:
            continue
        found = read_report(where, p, in_set=where)
        if found is not None and "period" in found:
            entries[p] = headline(found)
    return [entries[p] for p in sorted(entries, reverse=True)]


def _write_temp(directory: Path, name: str, text: str) -> Path:
    """A temporary file beside the target, with the permissions a plain open() would give
    (mkstemp makes it 0600, and a web server serving the reports could not read it)."""
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


@contextmanager
def _locked(directory: Path, wait: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
    """The set's write lock (flock on .lock; the kernel drops it when a writer dies)."""
    with open(directory / LOCK, "a+b") as fh:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ReportBusy(f"{directory}: another process has been writing the reports for over "
                                     f"{wait:.0f} s (is it stopped?); try again later") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _generations(directory: Path) -> dict[int, Path]:
    root = directory / GENERATIONS
    if not root.is_dir():
        return {}
    return {int(m.group(1)): p for p in root.iterdir() if (m := GENERATION.match(p.name))}


def _current_number(directory: Path) -> int | None:
    try:
        m = GENERATION.match(Path(os.readlink(directory / CURRENT)).name)
    except OSError:
        return None
    return int(m.group(1)) if m else None


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # a filesystem without hard links
        shutil.copy2(source, target)


def _symlink(directory: Path, name: str, target: str) -> None:
    """`directory/name` -> `target`, put in place by one rename (never missing meanwhile)."""
    path = directory / name
    try:
        if os.readlink(path) == target:
            return
    except OSError:
        pass
    tmp = directory / f".{name}.{os.getpid()}.link.tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, path)


def _switch(directory: Path, generation: Path) -> None:
    _symlink(directory, CURRENT, f"{GENERATIONS}/{generation.name}")
    _fsync_dir(directory)


def _link_names(directory: Path, names: Iterable[str]) -> list[str]:
    """The names people open, as symlinks through .current (a new one dangles until the switch
    makes its file appear, with the rest of its set); returns the names that were new."""
    made = []
    for name in names:
        if not (directory / name).is_symlink():
            made.append(name)
        _symlink(directory, name, f"{CURRENT}/{name}")
    return made


def _adopt_plain_files(directory: Path) -> None:
    """A set written before generations (plain files): make it generation 1 and the names
    symlinks to it, each pointing at the same content it had, so no reader sees a change."""
    plain = [p for p in directory.iterdir() if SET_FILE.match(p.name) and p.is_file() and not p.is_symlink()]
    if not plain:
        return
    first = directory / GENERATIONS / f"g{1:08d}"
    shutil.rmtree(first, ignore_errors=True)
    first.mkdir(parents=True)
    for p in plain:
        _link_or_copy(p, first / p.name)
    _write_manifest(first, 1)
    _switch(directory, first)
    _link_names(directory, [p.name for p in plain])


def _write_manifest(generation: Path, number: int) -> None:
    files = sorted(p.name for p in generation.iterdir() if SET_FILE.match(p.name))
    text = json.dumps({"generation": number, "files": files}, ensure_ascii=False, indent=1)
    os.replace(_write_temp(generation, MANIFEST, text), generation / MANIFEST)
    _fsync_dir(generation)


def cleanup(reports_dir: str | Path, retain_seconds: float = RETAIN_SECONDS) -> list[str]:
    """Remove what killed writers left: generations never switched to, temporary files, links
    to names the current set does not have; and generations superseded more than
    `retain_seconds` ago, except the one before the current (a reader that resolved the set
    a moment before a switch still finds its files). Call it holding the lock (write_report
    does); returns what was removed."""
    directory = Path(reports_dir)
    removed: list[str] = []
    current = _current_number(directory)
    gens = _generations(directory)
    keep = {current} if current is not None else set()
    if current is not None:
        older = [n for n in gens if n < current]
        if older:
            keep.add(max(older))
        young = time.time() - retain_seconds
        keep.update(n for n in older if _mtime(gens[n]) > young)
    for number, path in gens.items():
        if number not in keep:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(str(path.relative_to(directory)))
    for folder in [directory, *(gens[n] for n in keep if n in gens)]:
        for p in folder.iterdir():
            if p.name.startswith(".") and p.name.endswith(".tmp"):
                p.unlink(missing_ok=True)
                removed.append(str(p.relative_to(directory)))
    if current is not None:
        have = set(os.listdir(set_dir(directory)))
        for p in directory.iterdir():
            if p.is_symlink() and SET_FILE.match(p.name) and p.name not in have:
                p.unlink(missing_ok=True)
                removed.append(p.name)
    return removed


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def write_report(context: dict[str, Any], reports_dir: str | Path, *, late_run: bool | None = None,
                 note: str | None = None, fence: Callable[[], None] | None = None,
                 fragments: Any = None) -> ReportFiles:
    """Write YYYY-MM.html, YYYY-MM.json and index.html into `reports_dir` as a new generation
    of the set (see the module docstring): readers see the old set or the new one.

    `fence` is called before the set is switched (a scheduled run checks it still holds its
    lease, and raises if not: nothing is switched). `late_run`/`note` let the scheduler say
    the run came late (they override the context's run block). `fragments`: the memo the
    context was built with (tracker.report.fragments), whose HTML pieces are reused."""
    directory = Path(reports_dir)
    directory.mkdir(parents=True, exist_ok=True)
    if late_run is not None or note is not None:
        run = dict(context.get("run") or {})
        if late_run is not None:
            run["late"] = bool(late_run)
        if note is not None:
            run["note"] = note
        context = {**context, "run": run}
    period = context["period"]
    page, data = render_report(context, fragments), to_json(context)
    with _locked(directory):
        faults.point("report:locked")
        if fence:
            fence()
        if _current_number(directory) is None:
            _adopt_plain_files(directory)
        cleanup(directory)
        current = set_dir(directory) if _current_number(directory) is not None else None
        index = render_index(_index_entries(current or directory, context), context["lang"])
        number = max(_generations(directory), default=0) + 1
        new = directory / GENERATIONS / f"g{number:08d}"
        new.mkdir(parents=True)
        outputs = {f"{period}.json": data, f"{period}.html": page, "index.html": index}
        linked: list[str] = []
        try:
            if current is not None:
                for p in current.iterdir():
                    if SET_FILE.match(p.name) and p.name not in outputs:
                        _link_or_copy(p, new / p.name)
            for name, text in outputs.items():
                os.replace(_write_temp(new, name, text), new / name)
            _write_manifest(new, number)
            faults.point("report:generation-written")
            linked = _link_names(directory, sorted(outputs))
            faults.point("report:linked")
            if fence:
                fence()
            _switch(directory, new)
        except BaseException:
            # Nothing was switched: readers still see the old set; leave nothing behind.
            shutil.rmtree(new, ignore_errors=True)
            for name in linked:
                (directory / name).unlink(missing_ok=True)
            raise
        faults.point("report:switched")
        cleanup(directory)
    return ReportFiles(html=directory / f"{period}.html", json=directory / f"{period}.json",
                       index=directory / "index.html")


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def generate_report(model: TargetsModel, statuses: Sequence[Status],
                    observations: "Iterable[Observation] | SeriesSet",
                    regions: Regions, as_of: date, reports_dir: str | Path, *, lang: str = "zh",
                    late_run: bool = False, note: str = "", grace_days: int = 30,
                    generated_at: datetime, new_values: Iterable[Observation] | None = None,
                    sample: bool | None = None, limits: Limits = Limits(),
                    plans: Sequence[str] | None = None, kind: str = "on_demand", approval: dict[str, Any] | None = None,
                    completeness: Sequence[Any] | None = None, known_at: datetime | None = None,
                    submission_day: int = 10, fence: Callable[[], None] | None = None,
                    previous: dict[str, Any] | None = None, rollup: dict[str, Any] | None = None,
                    resolver: Any = None, completeness_below: Sequence[Any] | None = None,
                    fragments: Any = None) -> ReportFiles:
    """Build this month's report against the previous one in `reports_dir` (or `previous`,
    already read) and write it (tracker.service's write_report calls this with the
    evaluation's figures). `known_at`, `submission_day`: see build_context; `fence`: see
    write_report; `fragments`: pieces kept from the reports before (tracker.report.fragments)."""
    period = f"{as_of.year}-{as_of.month:02d}"
    if previous is None:
        previous = read_previous(Path(reports_dir), period)
    context = build_context(model, statuses, observations, regions, as_of, previous, lang=lang,
                            generated_at=generated_at.astimezone(PLAN_TZ), late_run=late_run, note=note,
                            grace_days=grace_days, new_values=new_values, sample=sample, limits=limits, plans=plans,
                            kind=kind, approval=approval, completeness=completeness, known_at=known_at,
                            submission_day=submission_day, rollup=rollup, resolver=resolver,
                            completeness_below=completeness_below, fragments=fragments)
    return write_report(context, reports_dir, fence=fence, fragments=fragments)
