"""The README documents every command, and its quick-start commands are the ones CI runs."""

import re
from pathlib import Path

from tracker.cli.main import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_is_documented_in_the_readme():
    missing = [name for name in COMMANDS if not re.search(rf"tracker {name}\b", README)]
    assert not missing, f"commands with no example in README.md: {missing}"


def test_ci_runs_the_readme_test_command():
    """The README's test command is scripts/test, and .ci/run calls it verbatim (then again on
    PostgreSQL); the README still starts with the command that needs nothing but Python."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert "scripts/test" in ci
    assert 'TRACKER_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/test" scripts/test' in ci
    blocks = re.findall(r"```sh\n(.*?)```", README, re.DOTALL)
    assert "scripts/test" in [line.strip() for block in blocks for line in block.splitlines()]
    assert blocks[0].strip() == "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/tracker demo"
    for what in ("chromium", "fonts-wqy-microhei", "apt-get", "sudo", ".venv", "'.[test]'"):
        assert what in README.split("## The targets model")[0], what


def test_readme_names_only_files_that_exist():
    for path in re.findall(r"`((?:tracker|tests|benchmarks|docs|examples|sources)/[\w./-]+)`", README):
        assert (ROOT / path).exists(), path
