"""Every route of the OpenAPI schema, walked with hostile input: no answer is a 5xx, no traceback is logged.

The routes come from the app's own schema, so a route added tomorrow is walked
too. Each request fills the route's path and query parameters, its JSON body
(following the body's schema, with hostile values mixed in at every level) or
its form, from values that broke this API before: ids beyond the database's
integer range, NUL characters, strings of megabytes, wrong types, and bodies
in a content type the route does not take, lone UTF-16 surrogates (valid JSON,
unwritable UTF-8), nesting deeper than any body needs, and ids written loosely
(`1.0`, ` 1`, `+1`, `01`). Hypothesis draws the combinations;
a fixed pass sends each of the worst values to each route once.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.api import STUDENT_19, TEACHER, api_client

HUGE_IDS = [2**31, 2**63, 2**64, 10**30, -(2**63) - 1]
LONE_SURROGATE = "\ud800"  # json.dumps writes it as the escape \ud800, which Python's JSON reader turns back into it
# Ids are plain decimal numbers: anything else int() would also read is refused (422), never read as another id.
LENIENT_IDS = ["1.0", " 1", "1 ", "+1", "01", "1_0", "\u0661", "0x1"]


def nested(depth: int) -> object:
    value: object = "bottom"
    for _ in range(depth):
        value = [value]
    return value


HOSTILE_SCALARS = [
    *HUGE_IDS, -1, 0, 1.5, float("1e308"), True, None, "", "a\x00b", "\x00", "%00", "9" * 40,
    "é" * 300, "x" * 100_000, [], {}, [None], {"a": "\x00"},
    LONE_SURROGATE, "ok" + LONE_SURROGATE, {LONE_SURROGATE: 1}, nested(200),
]
TEN_MB = "x" * 10_000_000
USERS = [TEACHER, STUDENT_19, {}, {"X-User-Email": "x" * 10_000}, {"Authorization": "Bearer " + "\x7f" * 5000}]
WRONG_BODIES = [
    ("text/plain", b"hello"),
    ("application/xml", b"<evaluation/>"),
    ("application/json", b'{"title": "unterminated'),
    ("application/json", b"\xff\xfe\x00\x00"),
    ("application/json", b"NaN"),
    ("application/json", b'{"score": Infinity, "min_score": NaN}'),
    ("application/json", b"[" * 5000 + b"]" * 5000),
    ("application/json", b"[" * 100_000 + b"]" * 100_000),
    ("application/json", b'{"title": "\\ud800", "\\udfff": 1}'),
    ("application/json", b'["\xed\xa0\x80"]'),  # a surrogate as raw bytes, which Python's reader also lets through
    ("multipart/form-data; boundary=x", b"--x\r\nnonsense"),
    ("application/x-www-form-urlencoded", b"title=%00&evaluation=%00"),
]


def operations(app) -> list[tuple[str, str, dict, dict]]:
    """(method, path, operation, components) for every route in the schema.

    An event stream that is allowed in never ends, so streams are walked with hostile
    values only (`valid` False): those are refused before any stream starts.
    """
    schema = app.openapi()
    components = schema.get("components", {}).get("schemas", {})
    return [
        (method.upper(), path, operation, components)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]


def _streams(operation: dict) -> bool:
    return "Server-Sent Events" in operation.get("summary", "")


def _resolved(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _plausible(schema: dict, components: dict, depth: int) -> st.SearchStrategy:
    """Values of the schema's shape, so a request gets past the outer checks to the inner ones."""
    schema = _resolved(schema, components)
    if depth > 3:
        return st.none()
    variants = schema.get("anyOf") or schema.get("oneOf")
    if variants:
        return st.one_of([_value(v, components, depth) for v in variants])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        if not properties:
            return st.dictionaries(st.sampled_from(["Team A", "\x00", "x" * 500]), st.lists(_hostile_text(), max_size=2), max_size=2)
        return st.fixed_dictionaries(
            {}, optional={name: _value(sub, components, depth + 1) for name, sub in properties.items()}
        )
    if kind == "array":
        return st.lists(_value(schema.get("items", {}), components, depth + 1), max_size=3)
    if kind == "integer":
        return st.sampled_from([19, 20, 56, 57, 1]) | st.integers()
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([3, 3.5, 10])
    if kind == "boolean":
        return st.booleans()
    if kind == "string" and schema.get("format") == "date-time":
        return st.sampled_from(["2030-01-01T00:00:00Z", "2020-01-01T00:00:00", "9999-12-31T23:59:59+14:00", "0"])
    return _hostile_text() | st.sampled_from(["0 8 * * mon", "0 0 30 2 *", "Projectweek", "http://127.0.0.1/x"])


def _hostile_text() -> st.SearchStrategy:
    return st.text(max_size=20) | st.sampled_from(["\x00", "a\x00", "x" * 5001, "é" * 301, LONE_SURROGATE, "a" + LONE_SURROGATE + "b"])


def _value(schema: dict, components: dict, depth: int = 0) -> st.SearchStrategy:
    return st.one_of(st.sampled_from(HOSTILE_SCALARS), _plausible(schema, components, depth))


def _path_value(valid: bool = True) -> st.SearchStrategy:
    hostile = st.sampled_from([*HUGE_IDS, *LENIENT_IDS, -1, 0, "abc", "a\x00b", "1e3", "9" * 400, " 56", "56.0", "x" * 30_000])
    return hostile | st.sampled_from([56, 19]) | st.integers() if valid else hostile


def _url(path: str, values: dict) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(str(value), safe=""))
    return path


def _request_for(operation: dict, path: str, components: dict, draw) -> dict:
    parameters = operation.get("parameters", [])
    in_path = {p["name"]: draw(_path_value(not _streams(operation))) for p in parameters if p["in"] == "path"}
    query = {
        p["name"]: draw(st.sampled_from(["csv", "completed", "\x00", "x" * 10_000, "2030-01-01T00:00:00Z", "", "-1"]))
        for p in parameters
        if p["in"] == "query" and draw(st.booleans())
    }
    request = {"url": _url(path, in_path), "params": query, "headers": dict(draw(st.sampled_from(USERS)))}
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content and draw(st.booleans()):
        body = draw(_value(content["application/json"]["schema"], components))
        request["content"] = json.dumps(body, allow_nan=True).encode()
        request["headers"]["Content-Type"] = "application/json"
    elif "multipart/form-data" in content:
        request["files"] = {"file": ("feedback.csv", draw(st.binary(max_size=200) | st.sampled_from(HOSTILE_FILES)))}
        request["data"] = {"evaluation": draw(st.sampled_from(["Projectweek", "\x00", "x" * 400, ""])), "language": draw(st.sampled_from(["nl", "xx", "\x00"]))}
    elif content or draw(st.booleans()):
        content_type, raw = draw(st.sampled_from(WRONG_BODIES))
        request["content"] = raw
        request["headers"]["Content-Type"] = content_type
    return request


HOSTILE_FILES = [
    b'reviewer_email,reviewer_name,reviewee_email,reviewee_name,team,criterion,score,comment\n'
    b'a@x.nl,A,b@x.nl,B,T,Inzet,3,"unterminated\n'
    b'b@x.nl,B,a@x.nl,A,T,Inzet,4,ok\n',
    b"reviewer_email,reviewer_name,reviewee_email,reviewee_name,team,criterion,score,comment\n"
    b"a@x.nl,A\x00,b@x.nl,B,T,Inzet,3,nul in \x00 here\n",
    b"reviewer_email,reviewer_name,reviewee_email,reviewee_name,team,criterion,score,comment\n"
    + b"a@x.nl," + b"N" * 300 + b",b@x.nl,B," + b"T" * 200 + b"," + b"C" * 300 + b",3,ok\n",
    b"\xef\xbb\xbf[{\"reviewer_email\": 5}]",
    b'{"reviewer_email": "a@x.nl"}\n{"score": 1e999}\n',
    b"\xff\xfe\xfa\x00\x00",
    b"[" * 100_000 + b"]" * 100_000,
    b'[{"reviewer_email": "a@x.nl", "reviewer_name": "\\ud800"}]',
]


class Tracebacks(logging.Handler):
    """Collects every log record that carries an exception."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


@pytest.fixture
def tracebacks():
    handler = Tracebacks()
    logging.getLogger().addHandler(handler)
    yield handler.records
    logging.getLogger().removeHandler(handler)


@pytest.fixture
def client(demo_school):
    return api_client(demo_school, raise_server_exceptions=False)


def _sent(client, method: str, request: dict, operation: dict):
    """Send the request; a 5xx is allowed only where the route documents it (the health check's 503)."""
    response = client.request(method, **request)
    shown = {k: (v if len(repr(v)) < 300 else repr(v)[:300] + "…") for k, v in request.items()}
    documented = response.status_code != 500 and str(response.status_code) in operation.get("responses", {})
    assert response.status_code < 500 or documented, f"{method} {shown}: {response.status_code} {response.text[:500]}"
    return response


def test_each_route_refuses_the_worst_values_with_a_4xx(client, tracebacks):
    for method, path, operation, components in operations(client.app):
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
        for value in [*HUGE_IDS, -1, "a\x00b", "x" * 30_000] if names else [None]:
            url = _url(path, dict.fromkeys(names, value))
            _sent(client, method, {"url": url, "headers": dict(TEACHER)}, operation)
        content = operation.get("requestBody", {}).get("content", {})
        known = dict.fromkeys(names, 56 if not _streams(operation) else 2**63)
        if "application/json" in content:
            schema = _resolved(content["application/json"]["schema"], components)
            fields = _resolved(schema.get("anyOf", [schema])[0], components).get("properties", {})
            for name in fields:
                for value in (TEN_MB, "\x00", 2**63, {"nested": [None]}, LONE_SURROGATE, nested(200)):
                    body = json.dumps({name: value}).encode()
                    headers = {**TEACHER, "Content-Type": "application/json"}
                    _sent(client, method, {"url": _url(path, known), "content": body, "headers": headers}, operation)
        if "multipart/form-data" in content:
            for raw in HOSTILE_FILES:
                form = {"files": {"file": ("feedback.csv", raw)}, "data": {"evaluation": "Projectweek"}}
                _sent(client, method, {"url": path, "headers": dict(TEACHER), **form}, operation)
        for content_type, raw in WRONG_BODIES:
            headers = {**TEACHER, "Content-Type": content_type}
            _sent(client, method, {"url": _url(path, known), "content": raw, "headers": headers}, operation)
    assert not tracebacks, [r.getMessage() for r in tracebacks]


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=st.data())
def test_generated_requests_never_get_a_5xx(client, tracebacks, data):
    method, path, operation, components = data.draw(st.sampled_from(operations(client.app)))
    _sent(client, method, _request_for(operation, path, components, data.draw), operation)
    assert not tracebacks, [r.getMessage() for r in tracebacks]


def test_ids_in_the_path_are_plain_decimal_numbers_or_refused_with_422(client, tracebacks):
    for method, path, operation, _ in operations(client.app):
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path" and p["schema"].get("type") == "integer"]
        if not names:
            continue
        for value in LENIENT_IDS:
            response = client.request(method, _url(path, dict.fromkeys(names, value)), headers=TEACHER)
            assert response.status_code == 422, f"{method} {path} with {value!r}: {response.status_code}"
            assert "plain" in response.json()["detail"]
    assert not tracebacks, [r.getMessage() for r in tracebacks]
