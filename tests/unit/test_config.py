"""Settings come from the environment, and every one of them is documented where users look."""

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from peerdigest.config import Settings, explain

ROOT = Path(__file__).resolve().parents[2]


def test_settings_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("SUMMARY_LANGUAGE", "en")
    monkeypatch.setenv("LLM_TIMEOUT", "7.5")
    settings = Settings(_env_file=None)
    assert settings.summary_language == "en"
    assert settings.llm_timeout == 7.5


def test_a_bad_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("SUMMARY_LANGUAGE", "fr")
    with pytest.raises(ValidationError, match="summary_language"):
        Settings(_env_file=None)


@pytest.mark.parametrize("document", ["README.md", ".env.example"])
def test_every_setting_is_documented(document):
    text = (ROOT / document).read_text()
    documented = set(re.findall(r"\b([A-Z][A-Z0-9_]{2,})\b", text))
    missing = [name.upper() for name in Settings.model_fields if name.upper() not in documented]
    assert not missing, f"{document} does not mention {missing}"


def test_a_job_is_never_abandoned_sooner_than_two_missed_heartbeats():
    with pytest.raises(ValidationError, match="JOB_ABANDONED_AFTER must be at least twice JOB_HEARTBEAT_INTERVAL"):
        Settings(_env_file=None, job_heartbeat_interval=30, job_abandoned_after=45)
    assert Settings(_env_file=None, job_heartbeat_interval=30, job_abandoned_after=60).job_abandoned_after == 60


@pytest.mark.parametrize(
    "variable, value, reason",
    [
        ("REDIS_URL", "redis://localhost:6379/0?foo=1", "unexpected keyword argument 'foo'"),
        ("REDIS_URL", "http://localhost:6379", "redis://host:6379/0"),
        ("RATE_LIMIT_STORAGE_URL", "redis://localhost:port/0", "Port could not be cast"),
        ("DATABASE_URL", "postgres-please", "postgresql+psycopg://"),
        ("DATABASE_URL", "oracle+nothing://db", "Can't load plugin"),
        ("LLM_BASE_URL", "localhost:11434/v1", "http://localhost:11434/v1"),
    ],
)
def test_a_url_that_cannot_work_is_refused_at_start_in_one_sentence(monkeypatch, variable, value, reason):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None)
    explained = explain(refused.value)
    assert explained.startswith(f"{variable}: ") and reason in explained
    assert "\n" not in explained


def test_a_refused_url_never_shows_its_password(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://:s3cret@localhost:6379/0?foo=1")
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None)
    assert "s3cret" not in explain(refused.value)


def test_without_a_database_url_the_sqlite_database_lives_in_data_dir(tmp_path):
    assert Settings(_env_file=None, data_dir=tmp_path / "elsewhere").database_url == f"sqlite:///{tmp_path}/elsewhere/peerdigest.db"
    assert Settings(_env_file=None, data_dir=tmp_path, database_url="sqlite:///x.db").database_url == "sqlite:///x.db"
