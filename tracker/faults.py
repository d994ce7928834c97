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
