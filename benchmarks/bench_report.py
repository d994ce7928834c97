"""Benchmark: building and rendering the monthly report.

    python benchmarks/bench_report.py                     # Hainan scale
    python benchmarks/bench_report.py --national          # and the status benchmark's national set
    python benchmarks/bench_report.py --national --regions 300   # a quicker national-shaped run

Hainan scale: targets.yaml (every target and milestone), the 19 市县 and the districts of
Haikou and Sanya, five years of monthly values for every indicator the targets use. Goal:
the report (context + HTML + JSON + index, written) in at most 1 s.

National scale: the synthetic database of benchmarks/bench_status.py (2,850 regions x 40
indicators x 60 months, about 6.8 million values). Goal: load, evaluate and report in at
most 15 s in total, with a file a browser opens comfortably.

Figures are printed beside a baseline measured in the same run, `json.dumps` of the same
context, so they can be compared across machines.
"""

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def hainan_observations(model, regions, months: int = 60):
    """Monthly values for five years, for every region that reports each indicator."""
    from tracker.domain.model import Observation
    from tracker.domain.periods import period_containing

    rng = random.Random(5)
    wanted = {t.indicator for t in model.targets}
    for ind in model.indicators:
        if ind.id in wanted and ind.numerator and ind.denominator:
            wanted |= {ind.numerator, ind.denominator}
    per_region = {t.indicator for t in model.targets if t.scope == "each_region"}
    out = []
    day = date(2021, 1, 1)
    ends = []
    for _ in range(months):
        p = period_containing(day, "month")
        ends.append(p)
        day = p.end + timedelta(days=1)
    for ind_id in sorted(wanted):
        ind = model.indicator(ind_id)
        if ind.numerator and ind.denominator:
            continue  # entered as its components
        codes = [r.code for r in (regions.judged_regions() if ind_id in per_region else regions.counties())]
        for code in codes:
            level, growth = rng.uniform(100, 400), rng.uniform(0.1, 3.0)
            for m, p in enumerate(ends):
                entered = datetime.combine(p.end + timedelta(days=10), datetime.min.time(), UTC)
                out.append(Observation(ind_id, code, p.end, level + growth * m, entered, p.label,
                                       note="bench" if m else "<b>bench</b>"))
    return out


def timed(fn, repeat: int = 3):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def hainan() -> bool:
    from tracker.domain.regions import load_regions
    from tracker.report import build as report
    from tracker.report import files, render
    from tracker.status.engine import evaluate
    from tracker.targets.file import load_targets

    model = load_targets(ROOT / "targets.yaml")
    regions = load_regions()
    as_of = date(2025, 11, 20)
    observations = hainan_observations(model, regions)
    t_eval, statuses = timed(lambda: evaluate(model, observations, [], regions, as_of))
    t_ctx, ctx = timed(lambda: report.build_context(model, statuses, observations, regions, as_of))
    t_html, html = timed(lambda: render.render_report(ctx))
    t_json, text = timed(lambda: json.dumps(ctx, ensure_ascii=False))
    with tempfile.TemporaryDirectory() as tmp:
        previous = report.build_context(model, statuses, observations, regions, date(2025, 10, 20))
        files.write_report(previous, tmp)
        t_all, files = timed(lambda: files.generate_report(model, statuses, observations, regions, as_of, tmp, generated_at=datetime.now(UTC)))
        size = files.html.stat().st_size
    report_time = t_all
    print(f"Hainan: {len(observations):,} values, {len(statuses)} statuses, {len(model.targets)} targets")
    print(f"  evaluate            {t_eval:7.3f} s")
    print(f"  build context       {t_ctx:7.3f} s   {t_ctx / t_json:6.1f}x json.dumps")
    print(f"  render HTML         {t_html:7.3f} s   {t_html / t_json:6.1f}x json.dumps")
    print(f"  json.dumps baseline {t_json:7.3f} s   ({len(text):,} chars)")
    print(f"  report, written     {report_time:7.3f} s   {report_time / t_json:6.1f}x json.dumps   (goal <= 1 s)")
    print(f"  HTML size           {size / 1024:7.0f} KB")
    return report_time <= 1.0


def national(n_regions: int, n_indicators: int, n_months: int) -> bool:
    sys.path.insert(0, str(HERE))
    import bench_status as bs  # the status benchmark's data set, built once and kept in /tmp
    from sqlalchemy import create_engine

    from tracker.config import StatusSettings
    from tracker.report import files
    from tracker.status.engine import evaluate
    from tracker.store.series import load_series

    path = Path(f"/tmp/bench_status_{n_regions}_{n_indicators}_{n_months}.db")
    if not path.exists():
        import multiprocessing

        start = time.perf_counter()
        child = multiprocessing.get_context("fork").Process(
            target=bs.build, args=(path, n_regions, n_indicators, n_months))
        child.start()
        child.join()
        if child.exitcode:
            raise SystemExit(child.exitcode)
        print(f"built {path} in {time.perf_counter() - start:.1f} s")
    model = bs.synthetic_model(n_indicators)
    regions = bs.synthetic_regions(n_regions)
    as_of = date(2025, 11, 20)
    engine = create_engine(f"sqlite:///{path}")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        series = load_series(engine, as_of)
        loaded = time.perf_counter()
        statuses = evaluate(model, series, [], regions, as_of, StatusSettings())
        evaluated = time.perf_counter()
        files = files.generate_report(model, statuses, series, regions, as_of, tmp, generated_at=datetime.now(UTC))
        done = time.perf_counter()
        ctx = json.loads(files.json.read_text(encoding="utf-8"))
        size = files.html.stat().st_size
    t_json, _ = timed(lambda: json.dumps(ctx, ensure_ascii=False))
    values = sum(len(s) for s in series.by_key.values())
    total = done - start
    print(f"National: {n_regions} regions x {n_indicators} indicators x {n_months} months = {values:,} values")
    print(f"  load series         {loaded - start:7.2f} s")
    print(f"  evaluate            {evaluated - loaded:7.2f} s")
    print(f"  report, written     {done - evaluated:7.2f} s   {(done - evaluated) / t_json:6.1f}x json.dumps")
    print(f"  end to end          {total:7.2f} s   (goal <= 15 s)")
    print(f"  HTML size           {size / 1024:7.0f} KB  (region matrix rows: {len(ctx['by_region']['rows'])}, "
          f"{ctx['by_region']['omitted']} summarised)")
    return total <= 15.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--national", action="store_true", help="also the national-scale set")
    ap.add_argument("--regions", type=int, default=2850)
    ap.add_argument("--indicators", type=int, default=40)
    ap.add_argument("--months", type=int, default=60)
    args = ap.parse_args(argv)
    ok = hainan()
    if args.national:
        ok = national(args.regions, args.indicators, args.months) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
