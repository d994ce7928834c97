"""scripts/test, the README's test command, on a machine that lacks what the tests need: run
with stand-ins for apt-get, sudo, id, python3 and the venv's pip and pytest on its PATH (the
real ones would install packages), it installs exactly what is missing, as root or through
sudo, says what to do when it can be neither, and hands its arguments to pytest."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "test"
TOOLS = ("bash", "dirname", "grep", "env", "cat", "mkdir", "chmod")  # what the script runs besides the stand-ins


def _stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/bash\n{body}\n", encoding="utf-8")
    path.chmod(0o755)


@pytest.fixture
def machine(tmp_path):
    """A PATH with the basic tools, stand-ins that log what they are asked to do, no chromium."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        (bin_dir / tool).symlink_to(shutil.which(tool))
    log = tmp_path / "log"
    for name in ("apt-get", "sudo"):
        _stub(bin_dir, name, f'echo "{name} $*" >> {log}' + ('\nexec "$@"' if name == "sudo" else ""))
    _stub(bin_dir, "fc-list", 'echo "/usr/share/fonts/wqy-microhei.ttc: WenQuanYi Micro Hei"')
    venv = tmp_path / "venv"
    _stub(bin_dir, "python3", f'''echo "python3 $*" >> {log}
[ "$1" = -c ] && exit "${{ENSUREPIP_RC:-0}}"
if [ "$1" = -m ] && [ "$2" = venv ]; then
  mkdir -p "$3/bin"
  printf '#!/bin/bash\\necho "pip $*" >> {log}\\n' > "$3/bin/pip"
  printf '#!/bin/bash\\necho "pytest $*" >> {log}\\n' > "$3/bin/pytest"
  chmod +x "$3/bin/pip" "$3/bin/pytest"
fi''')

    def run(uid: int, *args: str, sudo: bool = True,
            venv_module: bool = True) -> tuple[subprocess.CompletedProcess, list[str]]:
        _stub(bin_dir, "id", f"echo {uid}")
        if not sudo:
            (bin_dir / "sudo").unlink(missing_ok=True)
        env = {"PATH": str(bin_dir), "TRACKER_VENV": str(venv), "HOME": str(tmp_path),
               "ENSUREPIP_RC": "0" if venv_module else "1"}
        done = subprocess.run([str(bin_dir / "bash"), str(SCRIPT), *args], env=env, capture_output=True, text=True,
                              timeout=60, check=False)
        return done, [line.rstrip() for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []

    return run


def test_as_root_it_installs_the_missing_browser_then_the_venv_and_runs_pytest_with_the_arguments(machine):
    done, log = machine(0, "-k", "export", "-x")
    assert done.returncode == 0, done.stderr
    assert "installing chromium" in done.stderr
    assert [line for line in log if "apt-get" in line] == ["apt-get update -qq", "apt-get install -y -qq chromium"]
    assert any(line.startswith("python3 -m venv ") for line in log)
    assert "pip install -q -e .[test]" in log
    assert log[-1] == "pytest -k export -x"


def test_not_root_it_goes_through_sudo(machine):
    done, log = machine(1000)
    assert done.returncode == 0, done.stderr
    assert "sudo apt-get update -qq" in log and "apt-get install -y -qq chromium" in log
    assert log[-1] == "pytest"


def test_neither_root_nor_sudo_says_what_to_install_and_stops(machine):
    done, log = machine(1000, sudo=False)
    assert done.returncode == 1
    assert "installing them needs root" in done.stderr and "apt-get install -y chromium" in done.stderr
    assert not any(line.startswith(("pip", "pytest")) for line in log)


def test_nothing_is_installed_when_nothing_is_missing(machine, tmp_path):
    _stub(tmp_path / "bin", "chromium", "true")
    done, log = machine(1000)
    assert done.returncode == 0, done.stderr
    assert not any("apt-get" in line for line in log) and log[-1] == "pytest"


def test_a_python_without_its_venv_module_gets_python3_venv(machine, tmp_path):
    _stub(tmp_path / "bin", "chromium", "true")
    done, log = machine(0, venv_module=False)
    assert done.returncode == 0, done.stderr
    assert "apt-get install -y -qq python3-venv" in log


def test_the_script_is_executable_and_valid_bash():
    assert os.access(SCRIPT, os.X_OK)
    assert subprocess.run(["bash", "-n", str(SCRIPT)], check=False).returncode == 0
