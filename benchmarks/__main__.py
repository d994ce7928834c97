"""Run every benchmark and print its figures: `python -m benchmarks` (quick sizes) or
`python -m benchmarks --full` (the sizes the issues set: 1,000,000 imported rows, the
national-scale status set of 2,850 regions x 40 indicators x 60 months, the report on it,
and the web app under 50 concurrent reporters for a minute). Each benchmark prints its own
figure next to a baseline measured in the same run (raw sqlite3, a raw SQL query,
json.dumps, a static page), so the ratios hold on any machine."""

import argparse
import importlib
import time

QUICK = {
    "bench_import": ["--rows", "200000"],
    "bench_status": ["--regions", "300"],
    "bench_report": [],
    "bench_web": ["--seconds", "10"],
    "bench_regions": [],
    "bench_plans": [],
    "bench_cli": ["--repeat", "3"],
    "bench_faults": [],
    "bench_rollup": [],
}
FULL = {
    "bench_import": ["--rows", "1000000"],
    "bench_status": ["--regions", "2850"],
    "bench_report": ["--national"],
    "bench_web": ["--seconds", "60"],
    "bench_regions": [],
    "bench_plans": [],
    "bench_cli": ["--repeat", "7"],
    "bench_faults": ["--trials", "20", "--rows", "500000", "--months", "12"],
    "bench_rollup": ["--full"],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="the sizes the issues set (minutes, not seconds)")
    ap.add_argument("only", nargs="*", help="run only these (e.g. bench_status)")
    args = ap.parse_args()
    plan = FULL if args.full else QUICK
    for name, argv in plan.items():
        if args.only and name not in args.only:
            continue
        try:
            module = importlib.import_module(f"benchmarks.{name}")
        except ModuleNotFoundError as exc:
            print(f"== {name}: not available ({exc})")
            continue
        print(f"== {name} {' '.join(argv)}", flush=True)
        start = time.perf_counter()
        module.main(argv)
        print(f"   ({time.perf_counter() - start:.0f} s)\n", flush=True)


if __name__ == "__main__":
    main()
