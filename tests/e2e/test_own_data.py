"""A school's own data through the real command line: import a file, summarize it, export it; API tokens."""

import csv
import io

import pytest

from peerdigest.config import AuthMode
from tests.conftest import run_cli
from tests.support.api import PREFIX, TEACHER, api_client
from tests.support.feedback import EXAMPLE_CSV

pytestmark = pytest.mark.slow


def test_import_summarize_and_export_a_class_from_a_spreadsheet_file(process_demo_school):
    settings = process_demo_school
    imported = run_cli(settings, "import", str(EXAMPLE_CSV), "--school", "Demo College", "--evaluation", "Projectweek")
    assert imported.returncode == 0, imported.stderr
    assert "13 rows read: 1 evaluation created, 3 users created" in imported.stdout
    evaluation_id = int(imported.stdout.rsplit("Evaluation id: ", 1)[1].rstrip(".\n"))

    client = api_client(settings)
    queued = client.post(f"{PREFIX}/evaluation/{evaluation_id}/batch-queue", headers=TEACHER).json()
    assert queued["queued"] == 3
    assert run_cli(settings, "worker", "--burst").returncode == 0

    exported = run_cli(settings, "export", "--evaluation", str(evaluation_id), "--format", "csv")
    assert exported.returncode == 0, exported.stderr
    # A Dutch evaluation exports with ";" between the cells, as Dutch spreadsheets expect.
    rows = list(csv.DictReader(io.StringIO(exported.stdout.lstrip("\ufeff")), delimiter=";"))
    assert sorted(r["student_name"] for r in rows) == ["Emma Visser", "Liam Smit", "Noah de Boer"]
    assert all(r["summary"] and r["method"] == "builtin" and r["stale"] == "false" for r in rows)


def test_a_file_with_its_own_column_names_and_encoding_imports_with_map_and_encoding(process_demo_school, tmp_path):
    own = tmp_path / "eigen.csv"
    own.write_bytes(
        "Van;Naam;Aan;Naam ontvanger;Criterium;Punten;Opmerking\r\n"
        "ann@lyceum.example;Anneliës;bob@lyceum.example;Bob;Inzet;4;Goed gedaan, één keer te laat\r\n".encode("cp1252")
    )
    mapping = ["--map", "Van=reviewer_email", "--map", "Naam=reviewer_name", "--map", "Aan=reviewee_email",
               "--map", "Naam ontvanger=reviewee_name", "--map", "Punten=score"]
    result = run_cli(process_demo_school, "import", str(own), "--school", "Lyceum", "--evaluation", "Eigen",
                     "--encoding", "windows-1252", *mapping)
    assert result.returncode == 0, result.stderr
    assert "1 rows read" in result.stdout

    unmapped = run_cli(process_demo_school, "import", str(own), "--school", "Lyceum", "--evaluation", "Eigen",
                       "--map", "Punten")
    assert unmapped.returncode == 2
    assert "'Punten' does not map a column" in unmapped.stderr


def test_an_unterminated_quote_names_its_spreadsheet_row_and_nothing_is_imported(process_demo_school, tmp_path):
    bad = tmp_path / "quote.csv"
    bad.write_bytes(EXAMPLE_CSV.read_bytes().replace(b";Werkt door tot het af is.;", b';"Werkt door tot het af is.;', 1))
    result = run_cli(process_demo_school, "import", str(bad), "--school", "Demo College", "--evaluation", "Projectweek")
    assert result.returncode == 1
    report = " ".join(result.stderr.split())
    assert "a quote (\") opened in this row (file line 5) is never closed" in report
    assert "Traceback" not in result.stderr


def test_a_bad_file_is_reported_line_by_line_and_nothing_is_imported(process_demo_school, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(EXAMPLE_CSV.read_bytes().replace(b";Inzet;4;", b";Inzet;four;"))
    result = run_cli(process_demo_school, "import", str(bad), "--school", "Demo College", "--evaluation", "Projectweek")
    assert result.returncode == 1
    report = " ".join(result.stderr.split())  # as read, without the terminal's line wrapping
    assert "score 'four' is not a number" in report
    assert "3 problem(s)" in report and "nothing was imported" in report
    evaluations = api_client(process_demo_school).get("/api/v1/evaluations", headers=TEACHER).json()
    assert [e["id"] for e in evaluations] == [56, 57]


def test_a_token_from_the_command_line_signs_in_until_it_is_revoked(process_demo_school):
    created = run_cli(process_demo_school, "tokens", "create", "--user", "docent@example.com", "--name", "gradebook")
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert "not shown again" in " ".join(created.stderr.split()) and secret not in created.stderr

    client = api_client(process_demo_school.model_copy(update={"auth_mode": AuthMode.token}))
    signed_in = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/evaluations", headers=signed_in).status_code == 200

    assert run_cli(process_demo_school, "tokens", "revoke", "1").returncode == 0
    assert client.get("/api/v1/evaluations", headers=signed_in).status_code == 401
    listed = run_cli(process_demo_school, "tokens", "list")
    assert "gradebook" in listed.stdout and "revoked" in listed.stdout and secret not in listed.stdout


def test_the_api_refuses_to_start_in_production_with_dev_authentication(process_settings):
    result = run_cli(process_settings.model_copy(update={"environment": "production"}), "api", timeout=60)
    assert result.returncode == 2
    assert "Refusing to start the API" in result.stderr and "AUTH_MODE=token" in result.stderr
