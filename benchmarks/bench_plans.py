"""Benchmark: plans as data — what a second plan and a successor plan cost.

    python -m benchmarks.bench_plans            # best of 5 runs of each step

Against the project's targets.yaml (Hainan's 十四五 plan and the national one) with the SAMPLE
values and progress imported (what `tracker demo` loads) into a SQLite database in a temporary
folder, times: parsing targets.yaml alone (the baseline) and with the two fixture plans of
tests/fixtures/plans included (Guangdong, with its own coverage, and Hainan's 十五五 plan
following the 十四五 one); evaluating every plan's items as of 2026-11-30 (a fresh tracker, so
nothing is cached) with and without those plans; and looking up 1,000 region names for entry
through the home plan's regions and through every loaded plan's.
"""

import argparse
import shutil
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from benchmarks.bench_regions import best

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    from tracker import store
    from tracker.config import Settings
    from tracker.service import Tracker
    from tracker.targets.file import load_targets

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench-plans-"))
    try:
        (work / "alone").mkdir()
        shutil.copy(ROOT / "targets.yaml", work / "alone" / "targets.yaml")
        (work / "plans").mkdir()
        for name in ("guangdong.yaml", "hainan-15.yaml"):
            shutil.copy(ROOT / "tests" / "fixtures" / "plans" / name, work / "plans" / name)
        text = (ROOT / "targets.yaml").read_text(encoding="utf-8")
        (work / "targets.yaml").write_text(text.replace(
            "version: 1\n", "version: 1\ninclude: [plans/guangdong.yaml, plans/hainan-15.yaml]\n", 1), encoding="utf-8")
        url = f"sqlite:///{work / 'tracker.db'}"
        engine = store.get_engine(url)
        clock = lambda: datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # noqa: E731

        def tracker(targets: Path) -> Tracker:
            return Tracker(Settings(database_url=url, targets_path=targets, reports_dir=work / "reports"),
                           engine=engine, clock=clock)

        loader = tracker(work / "alone" / "targets.yaml")
        loader.mark_sample_database()
        for name in ("hainan-sample-values.csv", "hainan-sample-progress.csv"):
            loader.import_file(ROOT / "examples" / name, entered_by="bench")
        day = date(2026, 11, 30)
        one, three = tracker(work / "alone" / "targets.yaml"), tracker(work / "targets.yaml")
        names = ["海口", "儋州", "琼海市", "469099", "Wenchang", "广州", "深圳市", "东莞", "440300", "韶关"] * 100
        home = one.entry_regions()
        loaded = three.entry_regions()
        steps = [
            ("baseline: parse targets.yaml (national + Hainan)", lambda: load_targets(work / "alone" / "targets.yaml")),
            ("parse targets.yaml + 2 included plans", lambda: load_targets(work / "targets.yaml")),
            ("evaluate 2 plans (fresh tracker)",
             lambda: tracker(work / "alone" / "targets.yaml").evaluate(day)),
            ("evaluate 4 plans, each with its regions", lambda: tracker(work / "targets.yaml").evaluate(day)),
            ("1,000 entry lookups: Hainan names, 2 plans",
             lambda: [home.lookup(n) for n in names[:5] * 200]),
            ("1,000 entry lookups: half Guangdong, 4 plans", lambda: [loaded.lookup(n) for n in names]),
        ]
        three.evaluate(day)  # the targets synced once before timing
        base = None
        for label, fn in steps:
            seconds = best(fn, args.runs)
            base = base or seconds
            print(f"{label:<50} {seconds * 1000:9.1f} ms  {seconds / base:6.2f}x")
        evaluation = three.evaluate(day)
        print(f"items evaluated with 4 plans: {len(evaluation.statuses)}; tracked: "
              f"{', '.join(p.id for p in evaluation.plans)}")
    finally:
        store.dispose_engine(url)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
