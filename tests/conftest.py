"""Shared fixtures: a fresh, migrated database per test.

SQLite in the test's tmp_path by default. When $TRACKER_TEST_DATABASE_URL names a PostgreSQL
database (CI: postgresql+psycopg://postgres@127.0.0.1:5432/test), each test gets its own
schema there, put first on the search_path through the URL, and dropped afterwards: tests
never see each other's rows, and a URL handed to a subprocess or the CLI reaches the same
schema.
"""

import os
import shutil
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import settings as hypothesis_settings

PG_ENV = "TRACKER_TEST_DATABASE_URL"

# Property tests: no per-example deadline (CI shares two cores with PostgreSQL); in CI the
# examples are derived from the test, so a run is reproducible and a failure can be re-run.
hypothesis_settings.register_profile("default", deadline=None)
hypothesis_settings.register_profile("ci", deadline=None, derandomize=True)
hypothesis_settings.load_profile("ci" if os.environ.get("CI") else "default")


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def db_url(tmp_path, monkeypatch) -> Iterator[str]:
    """A database URL no other test uses; also exported as $TRACKER_DATABASE_URL so that
    code reading the settings (the CLI) finds it."""
    base = os.environ.get(PG_ENV)
    if not base:
        url = f"sqlite:///{tmp_path / 'tracker.db'}"
        monkeypatch.setenv("TRACKER_DATABASE_URL", url)
        yield url
        from tracker import store as db
        db.dispose_engine(url)
        return

    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(base, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = _pg_schema_url(base, schema)
    monkeypatch.setenv("TRACKER_DATABASE_URL", url)
    try:
        yield url
    finally:
        from tracker import store as db
        db.dispose_engine(url)
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def engine(db_url):
    """The migrated engine for `db_url` (tracker.store.get_engine)."""
    from tracker import store as db
    return db.get_engine(db_url)


def make_small_model():
    """A small targets model covering each kind of indicator: a count, a percentage, a
    monthly flow, and a ratio per 1,000 with its two components."""
    from datetime import date

    from tracker.domain.model import Indicator, Milestone, Plan, ResponsibleUnit, Target, TargetsModel, Task

    plan = Plan("hainan", "海南省一老一小整体解决方案", "海南省人民政府", "province", "460000",
                date(2021, 1, 1), date(2025, 12, 31), "seeds/hainan.docx")
    indicators = [
        Indicator("senior_universities", "老年大学数", "institution", "count", "yearly", "省教育厅"),
        Indicator("childcare_enrollment_rate", "婴幼儿在托率", "percent", "percentage", "yearly", "省卫生健康委"),
        Indicator("elderly_care_trainees", "养老护理员培训人次", "person_time", "flow", "monthly", "省民政厅"),
        Indicator("elderly_care_beds", "养老床位数", "bed", "count", "yearly", "省民政厅"),
        Indicator("elderly_population", "老年人口数", "person", "count", "yearly", "省卫生健康委"),
        Indicator("elderly_care_beds_per_1000_elderly", "每千名老年人口养老床位数", "bed / kiloperson",
                  "ratio", "yearly", "省民政厅", numerator="elderly_care_beds",
                  denominator="elderly_population", multiplier=1000.0),
    ]
    tasks = [Task("hainan", 1, "完善养老服务体系", (ResponsibleUnit("省民政厅", "lead"),
                                                    ResponsibleUnit("省卫生健康委", "participating"))),
             Task("hainan", 2, "发展老年教育", (ResponsibleUnit("省教育厅", "lead"), ResponsibleUnit("各市县政府", "local")))]
    targets = [
        Target("beds_ratio_2025", "hainan", 1, "elderly_care_beds_per_1000_elderly", ">=", 30.0,
               "bed / kiloperson", date(2025, 12, 31)),
        Target("universities_each", "hainan", 2, "senior_universities", ">=", 1.0, "institution",
               date(2025, 12, 31), scope="each_region"),
    ]
    milestones = [Milestone("hainan-m1", "hainan", 1, "出台养老服务条例", date(2022, 12, 31)),
                  Milestone("hainan-m2", "hainan", 2, "建成省级老年大学", date(2025, 12, 31))]
    return TargetsModel([plan], indicators, tasks, targets, milestones)


@pytest.fixture
def small_model():
    """See make_small_model."""
    return make_small_model()


# ---------------------------------------------------------------------------------------
# The real browser: Debian's Chromium driven by Playwright (never `playwright install`).

CHROMIUM = os.environ.get("TRACKER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless Chromium for the whole run. Missing pieces fail the test with what to
    install; only TRACKER_SKIP_BROWSER=1 skips, here for every browser test (scripts/test and
    .ci/run never set it, so CI runs them all)."""
    if os.environ.get("TRACKER_SKIP_BROWSER") == "1":
        pytest.skip("TRACKER_SKIP_BROWSER=1 was set: the developer opted out of the browser tests on a machine "
                    "without Chromium (scripts/test installs it and CI runs them)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: pip install playwright (do not run `playwright install`; "
                    "the test drives Debian's chromium). Set TRACKER_SKIP_BROWSER=1 to skip.")
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium fonts-wqy-microhei "
                    "(or set TRACKER_CHROMIUM). Set TRACKER_SKIP_BROWSER=1 to skip.")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def cli_model(tmp_path, monkeypatch):
    """Point the CLI at a targets model: written as tmp_path/cli-targets.yaml and named by a
    tracker.toml that $TRACKER_CONFIG points at (the CLI reads the file, as a user's would)."""

    def use(model):
        from tracker.targets.file import dump_model

        targets = tmp_path / "cli-targets.yaml"
        targets.write_text(dump_model(model), encoding="utf-8")
        config = tmp_path / "cli-tracker.toml"
        config.write_text(f'[tracker]\ntargets_path = "{targets}"\nreports_dir = "{tmp_path / "reports"}"\n',
                          encoding="utf-8")
        monkeypatch.setenv("TRACKER_CONFIG", str(config))
        return model

    return use
