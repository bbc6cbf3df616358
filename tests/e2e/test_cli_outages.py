"""The command line says in one sentence what is wrong (a service away, a bad setting, an impossible id), never a traceback."""

import socket

from tests.conftest import run_cli


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_database_that_does_not_answer_is_one_sentence_and_exit_1(process_settings):
    gone = process_settings.model_copy(
        update={"database_url": f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/peerdigest"}
    )
    for command in (["jobs", "list"], ["tokens", "list"], ["export", "--evaluation", "56"]):
        result = run_cli(gone, *command)
        assert result.returncode == 1, command
        assert "Traceback" not in result.stderr
        assert result.stderr.strip().startswith("The database does not answer"), command
        assert result.stderr.strip().endswith("start it or check DATABASE_URL.")


def test_a_redis_url_that_cannot_work_is_refused_in_one_sentence(process_settings):
    result = run_cli(process_settings.model_copy(update={"redis_url": "redis://127.0.0.1:6379/0?foo=1"}), "jobs", "list")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "REDIS_URL: 'redis://127.0.0.1:6379/0?foo=1' is not a Redis URL" in result.stderr


def test_an_id_beyond_the_databases_range_is_refused_by_the_option_itself(process_settings):
    result = run_cli(process_settings, "export", "--evaluation", str(2**63))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "2147483647" in result.stderr
