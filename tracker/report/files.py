"""The report set on disk: YYYY-MM.html, YYYY-MM.json and index.html under reports/, and the
previous reports read back (for the changes since last month and the index).

Everything is rendered in memory first, then written to temporary files in the same directory
and renamed over the old ones, so a crash while rendering or writing leaves the previous
reports and the index untouched.
"""

import json
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from tracker.domain.model import Observation, TargetsModel
from tracker.domain.periods import PLAN_TZ
from tracker.domain.regions import Regions
from tracker.domain.series import SeriesSet
from tracker.report.build import Limits, ReportFiles, build_context
from tracker.report.render import render_index, render_report
from tracker.status.engine import Status

REPORT_NAME = re.compile(r"^(\d{4}-\d{2})\.json$")


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
    return json.dumps(context, ensure_ascii=False, indent=1, sort_keys=False)


def report_periods(reports_dir: Path) -> list[str]:
    """The YYYY-MM of every report written in `reports_dir`, oldest first."""
    if not reports_dir.is_dir():
        return []
    return sorted(m.group(1) for p in reports_dir.iterdir() if (m := REPORT_NAME.match(p.name)))


def read_report(reports_dir: Path, period: str) -> dict[str, Any] | None:
    path = Path(reports_dir) / f"{period}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_previous(reports_dir: Path, period: str) -> dict[str, Any] | None:
    """The latest report before `period` (a re-run of a month compares with the month before)."""
    earlier = [p for p in report_periods(Path(reports_dir)) if p < period]
    for p in reversed(earlier):
        found = read_report(reports_dir, p)
        if found is not None:
            return found
    return None


def _index_entries(reports_dir: Path, current: dict[str, Any]) -> list[dict[str, Any]]:
    entries = {current["period"]: headline(current)}
    for p in report_periods(reports_dir):
        if p in entries:
            continue
        found = read_report(reports_dir, p)
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


def write_report(context: dict[str, Any], reports_dir: str | Path, *, late_run: bool | None = None,
                 note: str | None = None) -> ReportFiles:
    """Write YYYY-MM.html, YYYY-MM.json and index.html into `reports_dir`, all or nothing.

    Everything is rendered in memory first, then written to temporary files in the same
    directory and renamed over the old ones: a crash while rendering or writing leaves the
    previous reports and the index untouched and no partial file. `late_run`/`note` let the
    scheduler say the run came late (they override the context's run block)."""
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
    outputs = [
        (directory / f"{period}.json", to_json(context)),
        (directory / f"{period}.html", render_report(context)),
        (directory / "index.html", render_index(_index_entries(directory, context), context["lang"])),
    ]
    temps: list[tuple[Path, Path]] = []
    try:
        for final, text in outputs:
            temps.append((_write_temp(directory, final.name, text), final))
        for tmp, final in temps:
            os.replace(tmp, final)
    finally:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
    _fsync_dir(directory)
    return ReportFiles(html=outputs[1][0], json=outputs[0][0], index=outputs[2][0])


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
                    completeness: Sequence[Any] | None = None) -> ReportFiles:
    """Build this month's report against the previous one in `reports_dir` and write it
    (tracker.service's write_report calls this with the evaluation's figures)."""
    period = f"{as_of.year}-{as_of.month:02d}"
    previous = read_previous(Path(reports_dir), period)
    context = build_context(model, statuses, observations, regions, as_of, previous, lang=lang,
                            generated_at=generated_at.astimezone(PLAN_TZ), late_run=late_run, note=note,
                            grace_days=grace_days, new_values=new_values, sample=sample, limits=limits, plans=plans,
                            kind=kind, approval=approval, completeness=completeness)
    return write_report(context, reports_dir)
