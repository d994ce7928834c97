"""One loader for every section of tracker.toml: keys and value types are checked against the
section's dataclass, and a mistake names the file, the section, the key and what is accepted."""

from pathlib import Path

import pytest

from tracker.config import ConfigError, load_settings, settings_from_mapping


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tracker.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_it_reads_every_section(tmp_path, monkeypatch):
    monkeypatch.delenv("TRACKER_DATABASE_URL", raising=False)
    path = write(tmp_path, """
[tracker]
database_url = "sqlite:///x.db"
reports_dir = "out"
language = "en"
[status]
grace_days = 20
tolerance = 0
[schedule]
report_day = 12
[web]
port = 9000
login_window_minutes = 5
[alerts]
channels = ["webhook"]
supervisors = ["省发展改革委"]
[alerts.webhook]
url = "http://127.0.0.1:9/hook"
[alerts.recipients."省民政厅"]
email = ["mzt@example.gov.cn"]
""")
    s = load_settings(path)
    assert (s.database_url, s.reports_dir, s.language) == ("sqlite:///x.db", tmp_path / "out", "en")
    assert (s.status.grace_days, s.status.tolerance) == (20, 0.0)
    assert isinstance(s.status.tolerance, float)
    assert s.schedule.report_day == 12 and s.web.port == 9000 and s.web.login_window_minutes == 5.0
    assert s.alerts.enabled and s.alerts.channel("webhook") == {"url": "http://127.0.0.1:9/hook"}
    assert s.alerts.emails("省民政厅") == ["mzt@example.gov.cn"] and s.alerts.emails("省教育厅") == []
    assert s.source == path


@pytest.mark.parametrize("text, words", [
    ("[schedule]\nreport_dya = 3\n", ["[schedule]", "report_dya", "report_day"]),
    ("[web]\nport = \"eighty\"\n", ["[web]", "port", "a whole number"]),
    ("[status]\ngrace_days = true\n", ["grace_days", "a whole number"]),
    ("[alerts]\nsupervisors = \"省发展改革委\"\n", ["supervisors", "a list"]),
    ("[sheduler]\n", ["sheduler", "schedule"]),
    ("[tracker]\nlanguage = \"fr\"\n", ["language", "zh, en"]),
    ("[tracker]\ndatabase = \"x\"\n", ["[tracker]", "database_url"]),
])
def test_a_mistake_names_the_file_section_key_and_what_is_accepted(tmp_path, text, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    message = str(err.value)
    assert str(path) in message
    for word in words:
        assert word in message


def test_alerts_are_off_without_a_channel():
    assert not settings_from_mapping({}).alerts.enabled
    assert settings_from_mapping({"alerts": {"wecom": {"url_env": "X"}}}).alerts.enabled


def test_the_environment_overrides_the_file_database(tmp_path, monkeypatch):
    monkeypatch.setenv("TRACKER_DATABASE_URL", "sqlite:///env.db")
    assert load_settings(write(tmp_path, '[tracker]\ndatabase_url = "sqlite:///file.db"\n')).database_url == \
        "sqlite:///env.db"


def test_lease_and_resend_settings_are_checked_with_the_file_named(tmp_path):
    from tracker.config import ConfigError, load_settings

    config = tmp_path / "tracker.toml"
    config.write_text("[schedule]\nheartbeat_seconds = 60\nlease_seconds = 30\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"tracker.toml: \[schedule\] heartbeat_seconds = 60.*shorter than the lease"):
        load_settings(config)
    config.write_text("[alerts]\nresend_after_minutes = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[alerts\] resend_after_minutes = 0: accepted 1 or more"):
        load_settings(config)
    config.write_text("[schedule]\nsubmission_day = 5\n[alerts]\nresend_after_minutes = 30\n", encoding="utf-8")
    settings = load_settings(config)
    assert settings.schedule.report_day_of_month == 6 and settings.alerts.resend_after_minutes == 30.0
