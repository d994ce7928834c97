"""Benchmark: the status engine on a national-scale synthetic set.

    python benchmarks/bench_status.py                      # quick: 300 regions
    python benchmarks/bench_status.py --regions 2850 --indicators 40 --months 60

Builds (once, in a child process so its memory is not counted) a SQLite database in the
table layout tracker/db.py migrates to, then times end to end: load the series as known at
--as-of (tracker.store.series) and evaluate every target (tracker.status.engine.evaluate). Beside it,
the time of a raw SQL query fetching the latest value per (indicator, region) from the same
database, and the peak memory (RSS) of this process. Goal at full scale: <= 15 s, <= 1 GB.
"""

import argparse
import multiprocessing
import random
import resource
import sqlite3
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from tracker.config import StatusSettings
from tracker.domain.model import Indicator, Plan, Target, TargetsModel
from tracker.domain.periods import period_containing
from tracker.domain.regions import Region, Regions

PROVINCE = "100000"
PLAN_START = date(2021, 1, 1)
DEADLINE = date(2025, 12, 31)


def synthetic_regions(n: int) -> Regions:
    """A province and n county-level regions reporting directly to it."""
    counties = [Region(f"{200000 + i}", f"县{i}", f"County {i}", "county", PROVINCE, "county")
                for i in range(n)]
    return Regions([Region(PROVINCE, "全国", "Nation", "province", None, "province"), *counties])


def synthetic_model(n_indicators: int) -> TargetsModel:
    """Reported indicators i00…; every fourth pair of them are the components of a ratio
    judged at province level (summed components) and in every region; a few are flows with
    cumulative targets; the rest are counts, alternately judged as a whole and per region."""
    plan = Plan("bench", "基准", "bench", "province", PROVINCE, PLAN_START, DEADLINE, "")
    indicators, targets = [], []
    i = 0
    while i < n_indicators:
        iid = f"i{i:02d}"
        if i % 8 == 4 and i + 1 < n_indicators:  # a ratio from this pair
            num, den = iid, f"i{i + 1:02d}"
            indicators += [Indicator(num, "分子", "bed", "count", "monthly"),
                           Indicator(den, "分母", "kiloperson", "count", "monthly")]
            rid = f"r{i:02d}"
            indicators.append(Indicator(rid, "比率", "bed / kiloperson", "ratio", "monthly",
                                        numerator=num, denominator=den))
            for scope in ("whole", "each_region"):
                targets.append(Target(f"t{rid}_{scope}", "bench", i, rid, ">=", 6.0,
                                      "bed / kiloperson", DEADLINE, scope))
            i += 2
            continue
        if i % 8 == 0:
            indicators.append(Indicator(iid, "培训", "person_time", "flow", "monthly"))
            targets.append(Target(f"t{iid}", "bench", i, iid, ">=", 5_000_000.0, "person_time",
                                  DEADLINE, "whole", cumulative=True))
        else:
            indicators.append(Indicator(iid, "床位", "bed", "count", "monthly"))
            scope = "whole" if i % 2 else "each_region"
            value = 1_000_000.0 if scope == "whole" else 400.0
            comparator = "<=" if i % 8 == 7 else ">="
            if comparator == "<=":
                value = 150.0 if scope == "each_region" else 300_000.0
            targets.append(Target(f"t{iid}", "bench", i, iid, comparator, value, "bed",
                                  DEADLINE, scope, soft=i % 5 == 0))
        i += 1
    return TargetsModel(plans=[plan], indicators=indicators, targets=targets)


def months(n: int) -> list[tuple[str, date]]:
    out, day = [], PLAN_START
    for _ in range(n):
        p = period_containing(day, "month")
        out.append((p.label, p.end))
        day = p.end + timedelta(days=1)
    return out


def build(path: Path, n_regions: int, n_indicators: int, n_months: int, by_period: bool = False) -> int:
    """Create the schema with the store's migrations, then write the rows with sqlite3."""
    from tracker import store as db
    url = f"sqlite:///{path}"
    db.get_engine(url)
    db.dispose_engine(url)
    rng = random.Random(4)
    periods = months(n_months)
    regions = [f"{200000 + i}" for i in range(n_regions)]
    model = synthetic_model(n_indicators)
    reported = [ind for ind in model.indicators if ind.kind != "ratio"]

    shapes = {(ind.id, code): (rng.uniform(100, 400), rng.uniform(-0.5, 6.0))
              for ind in reported for code in regions}

    def row(iid: str, code: str, m: int, label: str, end: date) -> tuple:
        level, growth = shapes[(iid, code)]
        entered = datetime.combine(end + timedelta(days=10), datetime.min.time(), UTC)
        value = max(0.0, level + growth * m + rng.uniform(-3, 3))
        return (iid, code, label, end.isoformat(), value, 1, "bench",
                entered.strftime("%Y-%m-%d %H:%M:%S.%f"), "bench", "")

    def rows():
        if by_period:  # as monthly imports write them: every series interleaved
            for m, (label, end) in enumerate(periods):
                for ind in reported:
                    for code in regions:
                        yield row(ind.id, code, m, label, end)
            return
        for ind in reported:
            for code in regions:
                for m, (label, end) in enumerate(periods):
                    yield row(ind.id, code, m, label, end)

    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA journal_mode = WAL")
    con.executemany("INSERT INTO observation (indicator, region, period, period_end, value, "
                    "revision, entered_by, entered_at, source, note) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    rows())
    con.commit()
    count = con.execute("SELECT count(*) FROM observation").fetchone()[0]
    con.execute("ANALYZE")
    con.close()
    return count


def raw_latest(path: Path) -> tuple[float, int]:
    """The raw SQL baseline: latest value per (indicator, region)."""
    con = sqlite3.connect(path)
    start = time.perf_counter()
    rows = con.execute("SELECT indicator, region, MAX(period_end), value FROM observation "
                       "GROUP BY indicator, region").fetchall()
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed, len(rows)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regions", type=int, default=300)
    ap.add_argument("--indicators", type=int, default=40)
    ap.add_argument("--months", type=int, default=60)
    ap.add_argument("--as-of", default="2025-11-20", help="evaluation date (default mid-trend)")
    ap.add_argument("--db", default=None, help="database file (default: /tmp, by size)")
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--by-period", action="store_true",
                    help="write rows month by month, as imports do (default: series by series)")
    args = ap.parse_args(argv)
    path = Path(args.db or f"/tmp/bench_status_{args.regions}_{args.indicators}_{args.months}"
                                f"{'_by_period' if args.by_period else ''}.db")
    if args.rebuild or not path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        start = time.perf_counter()
        ctx = multiprocessing.get_context("fork")
        child = ctx.Process(target=build, args=(path, args.regions, args.indicators, args.months,
                                                     args.by_period))
        child.start()
        child.join()
        if child.exitcode:
            return child.exitcode
        print(f"built {path} in {time.perf_counter() - start:.1f} s")

    from sqlalchemy import create_engine

    from tracker.status.engine import evaluate
    from tracker.store.series import load_series

    as_of = date.fromisoformat(args.as_of)
    model = synthetic_model(args.indicators)
    regions = synthetic_regions(args.regions)
    engine = create_engine(f"sqlite:///{path}")
    base_rss = peak_rss_mb()

    start = time.perf_counter()
    series = load_series(engine, as_of)
    loaded = time.perf_counter()
    statuses = evaluate(model, series, [], regions, as_of, StatusSettings())
    done = time.perf_counter()
    values = sum(len(s) for s in series.by_key.values())
    raw, raw_rows = raw_latest(path)

    total = done - start
    by_code: dict[str, int] = {}
    for s in statuses:
        for item in s.regions or [s]:
            by_code[item.code] = by_code.get(item.code, 0) + 1
    print(f"data: {args.regions} regions x {args.indicators} indicators x {args.months} months = "
          f"{values:,} values in {len(series):,} series (as of {as_of})")
    print(f"targets: {len(statuses)}, judgments: {sum(by_code.values()):,} {by_code}")
    print(f"load series      {loaded - start:7.2f} s")
    print(f"evaluate         {done - loaded:7.2f} s")
    print(f"end to end       {total:7.2f} s   (goal <= 15 s)")
    print(f"raw latest SQL   {raw:7.2f} s   ({raw_rows:,} rows); end to end / raw = {total / raw:.1f}x")
    print(f"peak RSS         {peak_rss_mb():7.0f} MB  (before loading {base_rss:.0f} MB; goal <= 1024 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
