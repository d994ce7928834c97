"""Benchmark: loading the country's divisions and building plans' regions from them.

    python -m benchmarks.bench_regions             # best of 20 runs of each step

Times, from the packaged text of tracker/domain/data/china-regions.csv (read once, so disk
is not measured): parsing it into the country's 3,215 divisions (what `load_country()` does),
building its name index (done at the first lookup by name), and `regions_for` the Hainan plan,
Zhejiang by its cities, and the whole country by its 2,854 counties. The baseline, in the same
run, is `json.loads` of the same rows as a JSON array of arrays. Goal: the country loaded and
indexed in well under 0.3 s.
"""

import argparse
import csv
import io
import json
import sys
import time
from collections.abc import Callable
from importlib import resources
from typing import Any


def best(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    from tracker.domain import regions as R

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args(argv)
    text = resources.files("tracker.domain").joinpath("data", R.COUNTRY_FILE).read_text(encoding="utf-8")
    as_json = json.dumps(list(csv.reader(io.StringIO("".join(line for line in io.StringIO(text) if not line.startswith("#"))))),
                         ensure_ascii=False)
    country = R._read_country(text)
    hainan, zhejiang = R.hainan_coverage(), R.Coverage("330000")
    nation = R.Coverage(R.NATION_CODE, units="counties", each_region="units")

    def index() -> None:
        R._read_country(text)._names  # noqa: B018 - building it is the point

    steps = [
        ("baseline: json.loads of the same rows", lambda: json.loads(as_json)),
        ("parse the country (load_country)", lambda: R._read_country(text)),
        ("parse + name index (first lookup)", index),
        ("regions_for Hainan's plan", lambda: R.regions_for(hainan, country)),
        ("regions_for Zhejiang by its cities", lambda: R.regions_for(zhejiang, country)),
        ("regions_for the country by its counties", lambda: R.regions_for(nation, country)),
    ]
    base = None
    for label, fn in steps:
        seconds = best(fn, args.runs)
        base = base or seconds
        print(f"   {label:<42} {seconds * 1000:8.1f} ms   {seconds / base:6.1f}x baseline")
    total = best(index, args.runs)
    ok = total < 0.3
    print(f"   country loaded and indexed: {total * 1000:.0f} ms (goal < 300 ms): {'ok' if ok else 'TOO SLOW'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
