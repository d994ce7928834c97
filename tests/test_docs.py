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


def _toml_block(section: str) -> str:
    """The lines of one [section] of the README's tracker.toml example."""
    found = re.search(rf"^\[{re.escape(section)}\]\n(.*?)(?=^\[|^```)", README, re.MULTILINE | re.DOTALL)
    assert found, f"README.md has no [{section}] block"
    return found.group(1)


def test_the_readme_schedule_block_names_every_schedule_setting_the_code_accepts():
    import dataclasses

    from tracker.config import ScheduleConfig

    documented = re.findall(r"^#?\s*(\w+)\s*=", _toml_block("schedule"), re.MULTILINE)
    assert sorted(documented) == sorted(f.name for f in dataclasses.fields(ScheduleConfig))


def test_the_readme_alerts_block_names_the_resend_window_and_states_the_guarantee():
    assert re.search(r"^resend_after_minutes\s*=", _toml_block("alerts"), re.MULTILINE)
    assert "at least once" in README and "deduplicable" in README and "Message-ID" in README
