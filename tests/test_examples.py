"""Every example runs as written: each `tracker …` line of the README's shell blocks and of the
commands' --help texts is run, in order, in a working folder holding the project's sources,
examples and targets.yaml, against a fresh database loaded with the sample (tracker demo). An
example fails the test when it exits non-zero, except `tracker status`'s documented 3
(something is overdue).

A line is read as bash reads it (shlex: quotes and comments; globs expanded in the folder)
and run through the `tracker` entry point in this process: a process per example would spend
a second on imports each. `test_the_examples_shell_runs_them_too` runs a few through bash
and the installed `tracker` command, to show the two agree.

A few cannot run here, each for the reason in NOT_RUN (checked: each names an example that
exists). The input files examples name that a reader has of their own (a filled form, a file
of corrections, a plan document) are made before the example that reads them, in PREPARE
(checked the same way).
"""

import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from docbuild import blocks_of, write_docx
from openpyxl import load_workbook
from servers import RecordingHTTPServer

from tracker.cli.main import COMMANDS, cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent

# Examples that cannot run in a test, by their command's first words.
NOT_RUN = {
    "tracker schedule": "runs the scheduler in the foreground until it is stopped",
    "tracker serve": "serves the web app until it is stopped",
}
STATUS_EXIT = {"tracker status": 3}  # documented: exit 3 when anything is overdue
PASSWORD = "correct-horse-battery-staple"
STDIN = {"tracker users add": f"{PASSWORD}\n{PASSWORD}\n"}  # the password it asks for, twice


def _fill_form(ws_dir: Path) -> None:
    """An official fills one cell of the form `tracker template` wrote."""
    path = ws_dir / "民政厅-2026Q4.xlsx"
    wb = load_workbook(path)
    sheet = wb["填报"]
    column = next(c.column for c in sheet[2] if c.value and "[elderly_care_beds]" in str(c.value))
    row = next(c.row for c in sheet["A"] if c.value == "琼海市")
    sheet.cell(row, column, "1800")
    wb.save(path)


def _corrections(ws_dir: Path) -> None:
    (ws_dir / "更正.csv").write_text("指标,地区,期间,数值,备注\n养老床位数,海口,2026Q3,12100,更正：统计口径调整\n",
                                     encoding="utf-8")


def _plan_document(ws_dir: Path) -> None:
    write_docx(blocks_of(ROOT / "tests" / "fixtures" / "documents" / "liaoning-plan.txt"), ws_dir / "实施方案.docx")


PREPARE = {
    "tracker import 民政厅-2026Q4.xlsx": _fill_form,
    "tracker import 更正.csv": _corrections,
    "tracker extract 实施方案.docx": _plan_document,
}


def _command(line: str) -> str:
    """The line without leading VAR=value assignments."""
    return re.sub(r"^(?:[A-Z_]+=\S*\s+)+", "", line.strip())


def readme_examples() -> list[str]:
    lines = []
    for block in re.findall(r"```(?:sh|bash|shell)\n(.*?)```", README, re.DOTALL):
        lines += [line.strip() for line in block.splitlines() if _command(line).startswith("tracker ")]
    return lines


def help_examples() -> list[str]:
    ctx = click.Context(cli)
    lines: list[str] = []

    def walk(cmd: click.Command) -> None:
        lines.extend(line.strip() for line in (cmd.help or "").splitlines() if re.match(r"\s*tracker ", line))
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, name))

    for name in sorted(COMMANDS):
        walk(cli.get_command(ctx, name))
    return lines


def _matches(line: str, key: str) -> bool:
    return _command(line) == key or _command(line).startswith(key + " ")


def test_the_lists_of_examples_not_run_and_of_their_inputs_name_examples_that_exist():
    examples = readme_examples() + help_examples()
    assert len(readme_examples()) >= 20 and len(help_examples()) >= 5
    for key in [*NOT_RUN, *PREPARE, *STDIN]:
        assert any(_matches(line, key) for line in examples), f"{key}: no such example any more"


@pytest.fixture
def workspace(tmp_path, db_url, monkeypatch):
    ws = tmp_path / "ws"
    ws.mkdir()
    for name in ("sources", "examples"):
        (ws / name).symlink_to(ROOT / name)
    shutil.copy(ROOT / "targets.yaml", ws / "targets.yaml")
    for key in [k for k in os.environ if k.startswith("TRACKER_") and k != "TRACKER_DATABASE_URL"]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("TRACKER_USER", "示例测试")
    monkeypatch.chdir(ws)
    with RecordingHTTPServer() as hook:
        (ws / "tracker.toml").write_text(
            f'[tracker]\ntargets_path = "targets.yaml"\nreports_dir = "reports"\n\n'
            f'[alerts]\nchannels = ["webhook"]\n\n[alerts.webhook]\nurl = "{hook.url}"\n', encoding="utf-8")
        demo = run(f'tracker demo --database-url "{db_url}"', ws)
        assert demo.exit_code == 0, demo.output
        yield ws, hook


def argv(line: str, cwd: Path) -> tuple[list[str], dict[str, str]]:
    """The words bash would run for `line` (quotes, comments, globs) and its VAR=value prefixes."""
    words = shlex.split(line, comments=True)
    env = {}
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        key, _, value = words.pop(0).partition("=")
        env[key] = value
    out = []
    for word in words:
        hits = sorted(glob.glob(word, root_dir=cwd)) if any(c in word for c in "*?[") else []
        out += hits or [word]
    return out, env


def run(line: str, cwd: Path, stdin: str = "") -> Result:
    words, env = argv(line, cwd)
    assert words[0] == "tracker", line
    return CliRunner().invoke(cli, words[1:], input=stdin, env=env, obj={})


def _prepare(line: str, ws: Path) -> str:
    """Make the inputs the example reads; the text it would be typed at its prompt."""
    for key, prepare in PREPARE.items():
        if _matches(line, key):
            prepare(ws)
    return next((text for key, text in STDIN.items() if _matches(line, key)), "")


def _allowed(line: str) -> set[int]:
    return {0} | {code for key, code in STATUS_EXIT.items() if _matches(line, key)}


def test_every_readme_and_help_example_runs_as_written(workspace):
    ws, hook = workspace
    failures = []
    ran = 0
    for line in readme_examples() + help_examples():
        if any(_matches(line, key) for key in NOT_RUN):
            continue
        done = run(line, ws, _prepare(line, ws))
        ran += 1
        if done.exit_code not in _allowed(line):
            failures.append(f"{_command(line)}\n  exit {done.exit_code}: {done.output[-1500:]}"
                            + (f"\n  {done.exception!r}" if done.exception and not isinstance(done.exception, SystemExit)
                               else ""))
    assert not failures, "\n".join(failures)
    assert ran >= 25
    assert hook.requests, "tracker alerts test sent its message to the configured webhook"
    assert (ws / "数据导出.xlsx").exists() and (ws / "民政厅-2026.csv").exists()


def test_the_examples_shell_runs_them_too(workspace, db_url):
    """bash and the installed command: a glob, quotes and comments read as above."""
    ws, _hook = workspace
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    lines = [line for line in readme_examples() if _command(line).startswith(("tracker extract sources/*",
                                                                                "tracker record"))]
    assert len(lines) >= 2
    for line in lines:
        done = subprocess.run(["bash", "-c", line], cwd=ws, env=env, input=_prepare(line, ws), capture_output=True,
                              text=True, timeout=300, check=False)
        assert done.returncode in _allowed(line), (line, done.stdout[-500:], done.stderr[-1500:])
