"""The OpenAPI schema describes the answers the API really gives: error bodies, exports, headers."""

import pytest

from peerdigest.api.schemas import ImportRejected, Problem, ValidationProblem
from tests.support.api import PREFIX, TEACHER, api_client


@pytest.fixture
def client(demo_school):
    return api_client(demo_school)


def _responses(schema):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            for code, response in operation["responses"].items():
                yield f"{method.upper()} {path} {code}", code, response


def test_every_4xx_in_the_schema_is_a_body_with_a_detail_sentence(client):
    schema = client.get("/openapi.json").json()
    models = schema["components"]["schemas"]
    assert "HTTPValidationError" not in models
    for where, code, response in _responses(schema):
        if not code.startswith("4"):
            continue
        body = response["content"]["application/json"]["schema"]
        names = [ref["$ref"].rsplit("/", 1)[1] for ref in body.get("oneOf", [body])]
        assert all("detail" in models[name]["properties"] for name in names), where
        if code == "422":
            assert "ValidationProblem" in names, where


def test_every_answer_documents_the_rate_limit_headers_and_429_retry_after(client):
    schema = client.get("/openapi.json").json()
    for where, code, response in _responses(schema):
        if where.startswith("GET /metrics ") and code != "200":
            continue
        assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} <= set(response["headers"]), where
        if code == "429":
            assert "Retry-After" in response["headers"], where


def test_the_export_documents_each_format(client):
    export = client.get("/openapi.json").json()["paths"][f"{PREFIX}/evaluation/{{evaluation_id}}/export"]["get"]
    content = export["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/ExportedEvaluation"}
    assert {"text/csv", "text/markdown", "text/html"} <= set(content)


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", f"{PREFIX}/evaluation/56/student/19/queue", {"priority": "urgent"}),
        ("POST", f"{PREFIX}/evaluation/56/student/19/queue", {"webhook_url": "http://127.0.0.1/hook"}),
        ("GET", f"{PREFIX}/evaluation/{2**40}/jobs", None),
        ("POST", "/api/v1/scheduled-jobs", {"name": "n", "cron": "0 0 30 2 *", "evaluation_id": 56}),
    ],
)
def test_real_422_bodies_match_the_documented_model(demo_school, method, path, body):
    client = api_client(demo_school.model_copy(update={"webhook_allowed_hosts": ""}))
    response = client.request(method, path, json=body, headers=TEACHER)
    assert response.status_code == 422
    ValidationProblem.model_validate(response.json(), strict=False)


def test_an_import_422_matches_its_model_and_other_errors_are_problems(client):
    rejected = client.post(
        "/api/v1/evaluations/import", files={"file": ("f.csv", b"nonsense\n")}, data={"evaluation": "P"}, headers=TEACHER
    )
    assert rejected.status_code == 422
    ImportRejected.model_validate(rejected.json())
    for response in (client.get(f"{PREFIX}/jobs/none/status", headers=TEACHER), client.get("/api/v1/evaluations")):
        assert response.status_code in (401, 404)
        Problem.model_validate(response.json())
