"""Benchmark: the wall time of everyday commands on the Hainan sample, against the cost of
starting Python itself in the same run.

Loads the SAMPLE figures (examples/) into a fresh SQLite database once (`tracker demo`), then
times each command as a new process, the way a person runs it, best of --repeat runs:
`tracker --help`, `tracker history`, `tracker status`, `tracker record` (a correction, so it
writes). The baselines are `python -c pass`, `python -c "import sqlalchemy"` and
`python -c "import sqlmodel"` (the floor every command that opens the database pays, since the
store's tables are SQLModel classes). The issue's goals on the Hainan sample: --help ≤ 0.25 s,
record and history ≤ 0.6 s, status ≤ 1.0 s.

    python -m benchmarks.bench_cli [--repeat 5]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOALS = {"--help": 0.25, "history": 0.6, "record": 0.6, "status": 1.0}


def _best(cmd: list[str], env: dict[str, str], cwd: Path, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="tracker-bench-cli-") as tmp:
        work = Path(tmp)
        env = {**os.environ, "TRACKER_DATABASE_URL": f"sqlite:///{work / 'sample.db'}",
               "XDG_CACHE_HOME": str(work / "cache"), "TRACKER_CONFIG": str(work / "none.toml")}
        (work / "none.toml").write_text(f'[tracker]\ntargets_path = "{ROOT / "targets.yaml"}"\n'
                                        f'reports_dir = "{work / "reports"}"\n', encoding="utf-8")
        tracker = [py, "-m", "tracker"]
        subprocess.run([*tracker, "demo", "--database-url", env["TRACKER_DATABASE_URL"], "--examples",
                        str(ROOT / "examples")], env=env, cwd=work, check=True, stdout=subprocess.DEVNULL)
        base = _best([py, "-c", "pass"], env, work, args.repeat)
        floor = _best([py, "-c", "import sqlalchemy"], env, work, args.repeat)
        orm = _best([py, "-c", "import sqlmodel"], env, work, args.repeat)
        print(f"baseline: python -c pass {base:.3f} s; import sqlalchemy {floor:.3f} s; "
              f"import sqlmodel {orm:.3f} s (the store's tables need it)")
        commands = {
            "--help": [*tracker, "--help"],
            "history": [*tracker, "history", "elderly_care_beds", "海口", "2025Q4"],
            "status": [*tracker, "status"],
            "record": [*tracker, "record", "elderly_care_beds", "海口", "2025Q4", "12001", "--correct",
                       "--note", "bench"],
        }
        for name, cmd in commands.items():
            if name == "record":  # each run corrects the cell again, so each one writes
                best = float("inf")
                for i in range(args.repeat):
                    cmd[-4] = str(12001 + i)
                    start = time.perf_counter()
                    subprocess.run(cmd, env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    best = min(best, time.perf_counter() - start)
            else:
                best = _best(cmd, env, work, args.repeat)
            goal = GOALS[name]
            print(f"tracker {name:<8} {best:6.3f} s  = {best / base:5.1f}x python start, "
                  f"{best / floor:4.2f}x import sqlalchemy, {best / orm:4.2f}x import sqlmodel  (goal ≤ {goal} s: {'met' if best <= goal else 'NOT met'})")


if __name__ == "__main__":
    main()
