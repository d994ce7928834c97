"""Named points where a fault trial may stop a process: the tests and the fault benchmark
start a real subprocess, make it wait at a chosen point, then kill -9 it, SIGSTOP it or let
it go on. Without the environment variables below every point is a no-op (one dict look-up).

    TRACKER_FAULT_POINT=run:claimed,report:switched   the points to stop at
    TRACKER_FAULT_DIR=/tmp/x                          where the process says it arrived

At a chosen point the process writes `<dir>/<point>.reached` (its pid inside) and waits
until `<dir>/<point>.go` exists; a test reads what is on disk and in the database at that
moment, then kills the process or writes the .go file.
"""

import os
import time
from pathlib import Path
from typing import Any

POINT_ENV, DIR_ENV = "TRACKER_FAULT_POINT", "TRACKER_FAULT_DIR"


def _safe(point: str) -> str:
    return point.replace(":", "-").replace("/", "-")


def reached_file(directory: str | Path, point: str) -> Path:
    return Path(directory) / f"{_safe(point)}.reached"


def go_file(directory: str | Path, point: str) -> Path:
    return Path(directory) / f"{_safe(point)}.go"


def point(name: str) -> None:
    """Wait here if a fault trial chose this point (see the module docstring)."""
    chosen = os.environ.get(POINT_ENV)
    if not chosen or name not in chosen.split(","):
        return
    directory = os.environ.get(DIR_ENV) or "."
    go = go_file(directory, name)
    reached = reached_file(directory, name)
    tmp = reached.with_suffix(".tmp")
    tmp.write_text(str(os.getpid()), encoding="utf-8")
    os.replace(tmp, reached)
    while not go.exists():
        time.sleep(0.02)


# ---------------------------------------------------------------------------------------
# The trial's side (tests and benchmarks/bench_faults.py)


def environment(points: str, directory: str | Path) -> dict[str, str]:
    """The variables that make a child process stop at `points` (comma-separated)."""
    return {POINT_ENV: points, DIR_ENV: str(directory)}


def wait_reached(directory: str | Path, name: str, proc: Any = None, timeout: float = 60.0) -> int:
    """Wait until a child has arrived at `name`; returns its pid. Raises RuntimeError if the
    child (a subprocess.Popen) exits first or the time runs out."""
    reached = reached_file(directory, name)
    deadline = time.monotonic() + timeout
    while not reached.exists():
        if proc is not None and proc.poll() is not None:
            out = proc.communicate()[1] if proc.stderr else ""
            raise RuntimeError(f"the process exited ({proc.returncode}) before reaching {name}: {out}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no process reached {name} within {timeout:.0f} s")
        time.sleep(0.02)
    return int(reached.read_text(encoding="utf-8"))


def release(directory: str | Path, name: str) -> None:
    """Let a child waiting at `name` go on."""
    go_file(directory, name).write_text("", encoding="utf-8")


def spawn(args: list[str], variables: dict[str, str], *, points: str = "", directory: str | Path = ".",
          cwd: str | Path | None = None) -> Any:
    """`tracker ARGS` in a child process (subprocess.Popen, text pipes) with the environment
    plus `variables`, stopping at `points` if given."""
    import subprocess
    import sys

    env = {**os.environ, **variables}
    env.pop(POINT_ENV, None)
    if points:
        env.update(environment(points, directory))
    return subprocess.Popen([sys.executable, "-m", "tracker", *args], env=env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
