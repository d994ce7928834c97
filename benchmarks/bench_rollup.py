"""Benchmark: the monthly run for every plan of a national set, through the service.

    python -m benchmarks.bench_rollup                 # quick: 31 provinces, 40 indicators, 12 months
    python -m benchmarks.bench_rollup --full          # the issue's size: 60 months (about 6.8 M values)

The set: the national plan over 31 provincial plans, each province's plan covering every
county-level division under it (the country's data: 2,850 in all), the 40 indicators of
benchmarks/bench_status.py (ratios from components, flows, counts; each province with its own
targets on every one, the national plan with its own whole-country targets, each provincial
task implementing the national one), monthly values for every county. Built once into /tmp in
a child process (its memory is not counted).

Timed, in one process, through `Tracker` as the scheduler calls it: evaluate every plan's
targets with its own regions, the national roll-up, and the reports (national with its roll-up
section, and 31 provincial), written. Beside it, in the same run, the raw SQL baseline (the
latest value per indicator and region) and the peak RSS. Goals (SQLite): <= 15 s, <= 1 GB.
With --postgres URL, the same run on PostgreSQL (a fresh schema, dropped afterwards), as a ratio
to SQLite's (goal <= 1.5x). Then a re-run in the same process after 1% of the series got a new value (a
correction of their latest month, entered on the as-of day): the evaluation reads again only the series written
since the first run (by observation id: tracker.store.series.changed_series) and judges again only the figures they
feed (tracker.status.incremental); the reports reuse the cards and rows made from kept statuses
(tracker.report.fragments). Printed with its parts and as a ratio to the first run (goal <= 2 s).
"""

import argparse
import multiprocessing
import random
import resource
import sqlite3
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

AS_OF = date(2025, 11, 20)


def plan_set(n_provinces: int, n_indicators: int):
    """The targets model (national + provinces) and the county codes that report."""
    import bench_status as bs

    from tracker.domain.model import Plan, ResponsibleUnit, TargetsModel, Task
    from tracker.domain.regions import NATION_CODE, Coverage, load_country

    country = load_country()
    provinces = country.provinces()[:n_provinces]
    template = bs.synthetic_model(n_indicators)
    start, end = bs.PLAN_START, bs.DEADLINE
    unit = (ResponsibleUnit("民政部", "lead"),)
    plans = [replace(Plan("national", "国家方案（基准）", "国务院办公厅", "national", "", start, end, ""),
                     coverage=Coverage(NATION_CODE))]
    tasks, targets = [], []
    numbers = sorted({t.task for t in template.targets})
    tasks += [Task("national", n, f"国家任务{n}", unit) for n in numbers]
    targets += [replace(t, id=f"national-{t.id}", plan="national", value=t.value * 300 if t.indicator[0] != "r" else t.value)
                for t in template.targets if t.scope == "whole"]
    counties: list[str] = []
    for p in provinces:
        pid = f"p{p.code[:2]}"
        plans.append(replace(Plan(pid, f"{p.name}方案（基准）", f"{p.name}人民政府", "province", p.code, start, end, ""),
                             coverage=Coverage(p.code, "counties")))
        tasks += [Task(pid, n, f"{p.short}任务{n}", unit, implements=(f"national#{n}",)) for n in numbers]
        n_counties = len(country.counties(p.code))
        for t in template.targets:
            value = t.value * n_counties / 300 if t.scope == "whole" and t.indicator[0] != "r" else t.value
            targets.append(replace(t, id=f"{pid}-{t.id}", plan=pid, value=value))
        counties += [d.code for d in country.counties(p.code)]
    model = TargetsModel(plans, template.indicators, tasks, targets)
    return model, counties


def months_to(last: date, n: int) -> list[tuple[str, date]]:
    """The n months ending with `last`'s (the plan's last two are entered after the as-of date)."""
    from tracker.domain.periods import period_containing

    out, day = [], last
    for _ in range(n):
        p = period_containing(day, "month")
        out.append((p.label, p.end))
        day = p.start - timedelta(days=1)
    return out[::-1]


def build(path: Path, n_provinces: int, n_indicators: int, n_months: int) -> int:

    from tracker import store as db

    url = f"sqlite:///{path}"
    db.get_engine(url)
    db.dispose_engine(url)
    model, counties = plan_set(n_provinces, n_indicators)
    rng = random.Random(7)
    periods = months_to(date(2025, 12, 31), n_months)
    reported = [ind for ind in model.indicators if ind.kind != "ratio"]

    def rows():
        for ind in reported:
            for code in counties:
                level, growth = rng.uniform(100, 400), rng.uniform(-0.5, 6.0)
                for m, (label, end) in enumerate(periods):
                    entered = datetime.combine(end + timedelta(days=10), datetime.min.time(), UTC)
                    yield (ind.id, code, label, end.isoformat(), max(0.0, level + growth * m + rng.uniform(-3, 3)), 1,
                           "bench", entered.strftime("%Y-%m-%d %H:%M:%S.%f"), "bench", "")

    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous = OFF")
    con.executemany("INSERT INTO observation (indicator, region, period, period_end, value, revision, entered_by, "
                    "entered_at, source, note) VALUES (?,?,?,?,?,?,?,?,?,?)", rows())
    con.commit()
    count = con.execute("SELECT count(*) FROM observation").fetchone()[0]
    con.execute("ANALYZE")
    con.close()
    return count


def change_one_percent(path: Path, as_of: date) -> int:
    """A new revision of the latest month known as of `as_of` for 1% of the series (a correction),
    entered on `as_of`."""
    con = sqlite3.connect(path)
    last = date(as_of.year, as_of.month, 1) - timedelta(days=1)  # the month before as_of's
    keys = con.execute("SELECT indicator, region, period, period_end FROM observation WHERE period_end = ? "
                       "AND revision = 1", (last.isoformat(),)).fetchall()
    rng = random.Random(11)
    chosen = rng.sample(keys, max(1, len(keys) // 100))
    entered = datetime.combine(as_of, datetime.min.time(), UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    con.executemany("INSERT INTO observation (indicator, region, period, period_end, value, revision, entered_by, "
                    "entered_at, source, note) VALUES (?,?,?,?,?,2,'bench',?,'bench','')",
                    [(i, r, p, e, rng.uniform(100, 400), entered) for i, r, p, e in chosen])
    con.commit()
    con.close()
    return len(chosen)


def change_one_percent_postgres(url: str, as_of: date) -> int:
    """change_one_percent on the PostgreSQL copy: the same share of the series, chosen by a hash."""
    import sqlalchemy as sa

    last = date(as_of.year, as_of.month, 1) - timedelta(days=1)
    entered = datetime.combine(as_of, datetime.min.time(), UTC)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM observation WHERE period_end = :d AND revision = 1"),
                         {"d": last}).scalar() // 100
        conn.execute(sa.text(
            "INSERT INTO observation (indicator, region, period, period_end, value, revision, entered_by, entered_at, "
            "source, note) SELECT indicator, region, period, period_end, value + 1, 2, 'bench', :e, 'bench', '' "
            "FROM observation WHERE period_end = :d AND revision = 1 ORDER BY md5(indicator || region) LIMIT :n"),
            {"d": last, "e": entered, "n": n})
    engine.dispose()
    return n


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def monthly_run(tracker, plans, reports: Path) -> dict[str, float]:
    """What the scheduler does for every plan: evaluate, roll up, write each plan's report."""
    times = {}
    start = time.perf_counter()
    evaluation = tracker.evaluate(AS_OF)
    times["evaluate"] = time.perf_counter() - start
    t = time.perf_counter()
    rollup = tracker.rollup("national", AS_OF)
    times["rollup"] = time.perf_counter() - t
    t = time.perf_counter()
    for p in plans:
        tracker.write_report(AS_OF, plan=p.id, reports_dir=reports / p.id)
    times["reports"] = time.perf_counter() - t
    times["total"] = time.perf_counter() - start
    times["statuses"] = len(evaluation.statuses)
    times["incremental"] = evaluation.incremental  # None: read and judged in full
    times["indicators"] = len(rollup.indicators)
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="60 months (about 6.8 M values); default 12")
    ap.add_argument("--provinces", type=int, default=31)
    ap.add_argument("--indicators", type=int, default=40)
    ap.add_argument("--months", type=int, default=None)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--postgres", default=None, metavar="URL",
                    help="also the same run on PostgreSQL (a fresh schema in URL's database, filled from the built set), "
                         "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = ap.parse_args(argv)
    months = args.months or (60 if args.full else 12)
    path = Path(f"/tmp/bench_rollup_{args.provinces}_{args.indicators}_{months}.db")
    if args.rebuild or not path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        start = time.perf_counter()
        child = multiprocessing.get_context("fork").Process(target=build, args=(path, args.provinces,
                                                                              args.indicators, months))
        child.start()
        child.join()
        if child.exitcode:
            return child.exitcode
        print(f"built {path} in {time.perf_counter() - start:.1f} s")
    import bench_status as bs


    model, counties = plan_set(args.provinces, args.indicators)
    with tempfile.TemporaryDirectory() as tmp:
        import shutil

        built, path = path, Path(tmp) / "run.db"  # a copy: the 1% change below stays out of the built set
        shutil.copy(built, path)
        times, again, rss, base_rss, load, changed = timed_runs(model, f"sqlite:///{path}", Path(tmp),
                                                                 lambda: change_one_percent(path, AS_OF))
        raw, raw_rows = bs.raw_latest(built)
    con = sqlite3.connect(built)
    n_values = con.execute("SELECT count(*) FROM observation").fetchone()[0]
    con.close()
    print(f"data: {len(model.plans) - 1} provinces + national, {len(counties):,} counties x {args.indicators} "
          f"indicators x {months} months = {n_values:,} values; {len(model.targets):,} targets")
    print_times("SQLite", times, load)
    print(f"raw latest SQL         {raw:7.2f} s   ({raw_rows:,} rows); run / raw = {times['total'] / raw:.1f}x")
    print(f"peak RSS               {rss:7.0f} MB  (before the run {base_rss:.0f} MB; goal <= 1024 MB)")
    print(f"re-run after {changed:,} series (1%) changed: {again['total']:.2f} s = {again['total'] / times['total']:.2f}x "
          f"the first run (goal <= 2 s): evaluate {again['evaluate']:.2f} s ({again['incremental']}), "
          f"roll-up {again['rollup']:.2f} s, reports {again['reports']:.2f} s")
    if args.postgres:
        url, schema = postgres_copy(built, args.postgres)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                pg, pg_again, pg_rss, _, pg_load, pg_changed = timed_runs(
                    model, url, Path(tmp), lambda: change_one_percent_postgres(url, AS_OF))
        finally:
            import sqlalchemy as sa

            admin = sa.create_engine(args.postgres, poolclass=sa.pool.NullPool)
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()
        print_times("PostgreSQL", pg, pg_load)
        print(f"PostgreSQL / SQLite    {pg['total'] / times['total']:7.2f}x  (goal <= 1.5x); peak RSS {pg_rss:.0f} MB")
        print(f"PostgreSQL re-run after {pg_changed:,} series (1%) changed: {pg_again['total']:.2f} s = "
              f"{pg_again['total'] / pg['total']:.2f}x its first run, {pg_again['total'] / again['total']:.2f}x SQLite's "
              f"re-run: evaluate {pg_again['evaluate']:.2f} s, roll-up {pg_again['rollup']:.2f} s, "
              f"reports {pg_again['reports']:.2f} s")
    return 0 if times["total"] <= 15 and rss <= 1024 else 1


def timed_runs(model, url: str, tmp: Path, change):
    """The monthly run on `url`, timed; then, if `change` is given, changed and run again."""
    from tracker import store
    from tracker.config import Settings
    from tracker.service import Tracker
    from tracker.status.figures import indicators_needed

    engine = store.get_engine(url)
    tracker = Tracker(Settings(database_url=url, reports_dir=tmp), engine=engine, model=model,
                      clock=lambda: datetime(2025, 11, 21, 2, 0, tzinfo=UTC))
    tracker.sync()  # synced once, before the clock starts (a monthly run finds it synced)
    for p in model.plans:
        tracker.plan_regions(p.id)  # the country's data read, as a running scheduler has it
    base_rss = peak_rss_mb()
    times = monthly_run(tracker, model.plans, tmp / "run1")
    rss = peak_rss_mb()
    start = time.perf_counter()
    store.load_series(engine, AS_OF, indicators_needed(model))
    load = time.perf_counter() - start
    again, changed = None, 0
    if change is not None:
        changed = change()
        again = monthly_run(tracker, model.plans, tmp / "run2")
    store.dispose_engine(url)
    return times, again, rss, base_rss, load, changed


def print_times(name: str, times: dict, load: float) -> None:
    print(f"{name}:")
    print(f"  evaluate (every plan)  {times['evaluate']:7.2f} s   ({times['statuses']:,} statuses; reading the "
          f"series, timed alone: {load:.2f} s)")
    print(f"  national roll-up       {times['rollup']:7.2f} s   ({times['indicators']} shared indicators)")
    print(f"  reports, written       {times['reports']:7.2f} s")
    print(f"  monthly run, total     {times['total']:7.2f} s   (goal <= 15 s)")


def postgres_copy(built: Path, base: str) -> tuple[str, str]:
    """A fresh schema in `base`'s database, migrated, with the built set's rows copied in."""
    from urllib.parse import quote

    import sqlalchemy as sa

    from tracker import store

    schema = f"bench_rollup_{int(time.time())}"
    admin = sa.create_engine(base, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    admin.dispose()
    url = f"{base}{'&' if '?' in base else '?'}options={quote(f'-csearch_path={schema}')}"
    engine = store.get_engine(url)
    start = time.perf_counter()
    src = sqlite3.connect(built)
    rows = src.execute("SELECT indicator, region, period, period_end, value, revision, entered_by, entered_at, "
                       "source, note FROM observation")
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy("COPY observation (indicator, region, period, period_end, value, revision, entered_by, "
                      "entered_at, source, note) FROM STDIN") as copy:
            for r in rows:
                copy.write_row((*r[:7], r[7] + "+00", *r[8:]))
        raw.commit()
        cur.execute("ANALYZE observation")
        raw.commit()
    finally:
        raw.close()
        src.close()
    print(f"copied into PostgreSQL schema {schema} in {time.perf_counter() - start:.1f} s")
    return url, schema


if __name__ == "__main__":
    sys.exit(main())
