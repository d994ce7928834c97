"""The report set on disk is switched as a whole: a reader at any point of a write, and after a
kill -9 at any point, sees the old set or the new one, never a mix; the next write removes
what a killed writer left (generations never switched to, temporary files, dangling links)."""

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from faultrun import kill9, tree

from tracker import faults
from tracker.report.files import CURRENT, GENERATIONS, WRITE_POINTS, cleanup, set_dir, write_report

NAMES = ("index.html", "2026-10.html", "2026-10.json", "2026-09.json")
WRITER = ("import json, sys\nfrom tracker.report.files import write_report\n"
          "write_report(json.load(open(sys.argv[1], encoding='utf-8')), sys.argv[2])\n")


def context(period: str, note: str) -> dict:
    """A report context as build_context makes it (a small model), told apart by its note."""
    from datetime import date, timedelta

    from conftest import make_small_model

    from tracker.domain.regions import load_regions
    from tracker.report.build import build_context

    year, month = (int(x) for x in period.split("-"))
    as_of = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1))
    return build_context(make_small_model(), [], [], load_regions(), as_of, lang="zh",
                         generated_at="2026-11-11T08:00:00+08:00", late_run=note == "new", note=note)


def read_names(directory: Path) -> tuple[bytes | None, ...]:
    """What a person (or a web server) opening the set's names one after the other reads."""
    out = []
    for name in NAMES:
        try:
            out.append((directory / name).read_bytes())
        except FileNotFoundError:
            out.append(None)
    return tuple(out)


def read_resolved(directory: Path) -> tuple[bytes | None, ...]:
    """What a reader that resolves the set once (tracker.report.files.set_dir) reads."""
    return read_names(set_dir(directory))


@pytest.fixture
def sets(tmp_path):
    """An old set (September and October) in reports/, and the bytes of the set that writing
    October again ("new") gives: made once in a copy, by the same code."""
    reports = tmp_path / "reports"
    write_report(context("2026-09", "old"), reports)
    write_report(context("2026-10", "old"), reports)
    old = read_names(reports)
    copy = tmp_path / "copy"
    shutil.copytree(reports, copy, symlinks=True)
    new_ctx = tmp_path / "new.json"
    new_ctx.write_text(json.dumps(context("2026-10", "new"), ensure_ascii=False), encoding="utf-8")
    write_report(json.loads(new_ctx.read_text(encoding="utf-8")), copy)
    new = read_names(copy)
    assert old != new and None not in old and None not in new
    return reports, new_ctx, old, new


def _writer(tmp_path: Path, ctx: Path, reports: Path, point: str) -> subprocess.Popen:
    env = {**os.environ, **faults.environment(point, tmp_path)}
    return subprocess.Popen([sys.executable, "-c", WRITER, str(ctx), str(reports)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("point", WRITE_POINTS)
def test_a_reader_at_every_point_of_a_write_and_after_a_kill_sees_one_whole_set(tmp_path, sets, point):
    reports, new_ctx, old, new = sets
    writer = _writer(tmp_path, new_ctx, reports, point)
    faults.wait_reached(tmp_path, point, writer)
    assert read_names(reports) in (old, new)
    assert read_resolved(reports) in (old, new)
    kill9(writer)
    after_kill = read_names(reports)
    assert after_kill in (old, new) and read_resolved(reports) == after_kill
    # the next write cleans up what the killed one left
    write_report(context("2026-11", "later"), reports)
    gens = sorted(p.name for p in (reports / GENERATIONS).iterdir())
    assert os.readlink(reports / CURRENT) == f"{GENERATIONS}/{gens[-1]}"  # none beyond the current: no orphan
    assert len(gens) == len(set(gens)) and all((reports / GENERATIONS / g / "manifest.json").exists() for g in gens)
    leftovers = [name for name in tree(reports) if name.endswith(".tmp")]
    dangling = [p.name for p in reports.iterdir() if p.is_symlink() and not p.exists()]
    assert leftovers == [] and dangling == []
    assert read_names(reports)[:3] != (None, None, None)


def test_a_reader_looping_beside_writes_never_sees_a_mix(tmp_path, sets):
    reports, _ctx, old, new = sets
    seen: list[tuple] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            seen.append(read_resolved(reports))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(15):
            write_report(context("2026-10", "new"), reports)
            write_report(context("2026-10", "old"), reports)
    finally:
        stop.set()
        thread.join()
    assert len(seen) > 10
    assert {s for s in seen} <= {old, new}


def test_a_set_written_before_generations_is_adopted_without_a_visible_change(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "2026-09.json").write_text(json.dumps(context("2026-09", "old")), encoding="utf-8")
    (reports / "2026-09.html").write_text("<p>old</p>", encoding="utf-8")
    (reports / ".2026-09.json.abc123.tmp").write_bytes(b"")  # a truncated temp file a killed run left
    write_report(context("2026-10", "new"), reports)
    assert (reports / "2026-09.html").read_text(encoding="utf-8") == "<p>old</p>"
    assert (reports / "2026-09.html").is_symlink()
    assert not (reports / ".2026-09.json.abc123.tmp").exists()
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert "2026-09" in index and "2026-10" in index


def test_cleanup_keeps_the_current_the_previous_and_recent_generations(tmp_path):
    reports = tmp_path / "reports"
    for month in range(1, 6):
        write_report(context(f"2026-{month:02d}", "x"), reports)
    (reports / GENERATIONS / "g00000099").mkdir()  # a generation a killed writer never switched to
    assert cleanup(reports) == [f"{GENERATIONS}/g00000099"]  # the others are recent: readers may be in them
    assert len(list((reports / GENERATIONS).iterdir())) == 5
    assert sorted(cleanup(reports, retain_seconds=0)) == [f"{GENERATIONS}/g0000000{n}" for n in (1, 2, 3)]
    assert sorted(p.name for p in (reports / GENERATIONS).iterdir()) == ["g00000004", "g00000005"]
