"""Benchmark: the validated import of a big CSV against a raw sqlite3 executemany.

Generates a long-shape CSV (指标, 地区, 期间, 数值) of at least --rows rows of distinct cells
(synthetic monthly indicators x every region x months), imports it through
tracker.actuals.entry.import_file (encoding sniffing, header detection, every check, unit
conversion, one transaction), then streams the same file with csv.reader into an equivalent
table through sqlite3's executemany with no checks at all, and prints both rates, their
ratio (goal: >= 40%) and the process's peak memory before and after the import (it must not
grow with the file: the import streams).

    python -m benchmarks.bench_import --rows 1000000
"""

import argparse
import csv
import math
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REGION_NAMES: list[str] = []
MONTHS = [(y, m) for y in range(2015, 2025) for m in range(1, 13)]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_model(n_indicators: int):  # -> TargetsModel
    from tracker.domain.model import Indicator, TargetsModel

    return TargetsModel(indicators=[
        Indicator(f"bench_{i:04d}", f"基准指标{i:04d}", "bed", "count", "monthly", "省民政厅")
        for i in range(n_indicators)])


def write_csv(path: Path, rows: int, regions: list[str]) -> int:
    """Write at least `rows` distinct cells; returns the number written."""
    per_indicator = len(regions) * len(MONTHS)
    n_indicators = math.ceil(rows / per_indicator)
    written = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["指标", "地区", "期间", "数值"])
        for i in range(n_indicators):
            name = f"bench_{i:04d}"
            for region in regions:
                for k, (y, m) in enumerate(MONTHS):
                    value = (i * 7 + k * 13 + len(region)) % 900 + 100
                    out.writerow([name, region, f"{y}-{m:02d}", value if k % 10 else f"{value:,}"])
                    written += 1
    return written


def raw_import(csv_path: Path, db_path: Path) -> int:
    """The same rows into an equivalent table with plain sqlite3, no validation."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("""CREATE TABLE observation (id INTEGER PRIMARY KEY, indicator VARCHAR NOT NULL,
        region VARCHAR NOT NULL, period VARCHAR NOT NULL, period_end DATE NOT NULL, value FLOAT NOT NULL,
        revision INTEGER NOT NULL, entered_by VARCHAR NOT NULL, entered_at DATETIME NOT NULL,
        source VARCHAR NOT NULL, note VARCHAR NOT NULL, batch_id INTEGER,
        CONSTRAINT uq UNIQUE (indicator, region, period, revision))""")
    conn.execute("CREATE INDEX ix_observation_entered_at ON observation (entered_at)")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    n = 0
    conn.execute("BEGIN IMMEDIATE")
    with csv_path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        chunk = []
        for row_number, (ind, region, period, value) in enumerate(reader, start=2):
            chunk.append((ind, region, period, period, float(value.replace(",", "")), 1, "bench", now,
                          f"bench.csv:{row_number}:D", "", 1))
            if len(chunk) >= 5000:
                conn.executemany("INSERT INTO observation (indicator, region, period, period_end, value, "
                                 "revision, entered_by, entered_at, source, note, batch_id) VALUES "
                                 "(?,?,?,?,?,?,?,?,?,?,?)", chunk)
                n += len(chunk)
                chunk = []
        conn.executemany("INSERT INTO observation (indicator, region, period, period_end, value, revision, "
                         "entered_by, entered_at, source, note, batch_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)", chunk)
        n += len(chunk)
    conn.execute("COMMIT")
    conn.close()
    return n


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows to generate (default 1,000,000)")
    parser.add_argument("--dir", default=None, help="work directory (default: a temporary one)")
    args = parser.parse_args(argv)

    from tracker import store as db
    from tracker.actuals import entry as actuals
    from tracker.domain.regions import load_regions

    work = Path(args.dir or tempfile.mkdtemp(prefix="tracker-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    regions = [r.name for r in load_regions().all]
    csv_path = work / "bench.csv"
    t = time.perf_counter()
    rows = write_csv(csv_path, args.rows, regions)
    print(f"generated {rows:,} rows ({csv_path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s")

    model = bench_model(math.ceil(rows / (len(regions) * len(MONTHS))))
    url = f"sqlite:///{work / 'tracker.db'}"
    engine = db.get_engine(url)
    db.sync_targets(engine, model, now=datetime.now(UTC))
    rss_before = peak_rss_mb()
    t = time.perf_counter()
    result = actuals.import_file(engine, csv_path, model, entered_by="bench",
                                 now=datetime(2025, 6, 1, tzinfo=UTC))
    validated_s = time.perf_counter() - t
    rss_after = peak_rss_mb()
    assert result.written == rows, (result.written, rows)

    t = time.perf_counter()
    raw_rows = raw_import(csv_path, work / "raw.db")
    raw_s = time.perf_counter() - t
    assert raw_rows == rows

    validated_rate, raw_rate = rows / validated_s, rows / raw_s
    ratio = validated_rate / raw_rate
    print(f"validated import : {validated_rate:>10,.0f} rows/s  ({validated_s:.1f} s)")
    print(f"raw sqlite3      : {raw_rate:>10,.0f} rows/s  ({raw_s:.1f} s)")
    print(f"ratio            : {ratio:.0%} of raw (goal >= 40%)")
    print(f"peak memory      : {rss_before:.0f} MB before the import, {rss_after:.0f} MB after "
          f"(+{rss_after - rss_before:.0f} MB for {rows:,} rows)")
    return {"rows": rows, "validated_rate": validated_rate, "raw_rate": raw_rate, "ratio": ratio,
            "rss_before_mb": rss_before, "rss_after_mb": rss_after}


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
