"""Fault trials with real processes: a `tracker` command started as a subprocess, stopped at a
named point (tracker.faults), then killed with SIGKILL, paused with SIGSTOP or let go on."""

import os
import signal
import subprocess
from pathlib import Path
from typing import Any

from tracker import faults

ROOT = Path(__file__).resolve().parent.parent
LEASE = "[schedule]\nheartbeat_seconds = 0.2\nlease_seconds = 1.0\n"  # short, for tests


def write_config(tmp_path: Path, extra: str = "", name: str = "tracker.toml") -> Path:
    config = tmp_path / name
    config.write_text(f'[tracker]\ntargets_path = "{ROOT / "targets.yaml"}"\nreports_dir = "{tmp_path / "reports"}"\n'
                      + extra, encoding="utf-8")
    return config


def start(args: list[str], config: Path, db_url: str, *, points: str = "", fault_dir: Path | None = None,
          cwd: Path | None = None) -> subprocess.Popen:
    """`tracker ARGS` in a child process on the test's database and configuration, stopping
    at `points` (comma-separated) if given."""
    return faults.spawn(args, {"TRACKER_DATABASE_URL": db_url, "TRACKER_CONFIG": str(config)}, points=points,
                        directory=fault_dir or config.parent, cwd=cwd or config.parent)


def run(args: list[str], config: Path, db_url: str, timeout: float = 120) -> subprocess.CompletedProcess:
    proc = start(args, config, db_url)
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def kill9(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def tree(directory: Path) -> dict[str, Any]:
    """Everything under a directory: files' bytes, symlinks' targets (what a crash may leave)."""
    return {str(p.relative_to(directory)): (os.readlink(p) if p.is_symlink() else p.read_bytes())
            for p in sorted(directory.rglob("*")) if p.is_symlink() or p.is_file()}
