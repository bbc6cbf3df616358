"""Who is calling, in token and proxy mode: only the mode's own proof counts, and roles still apply."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from peerdigest.config import AuthMode
from peerdigest.db.models import ApiToken, User
from peerdigest.db.session import session_scope
from peerdigest.domain.auth import create_token, hash_token, revoke_token
from tests.support.api import PREFIX, STUDENT_19, TEACHER, api_client

EVALUATIONS = "/api/v1/evaluations"
PROXY = "10.0.0.5"


def issue(settings, email: str, expires_in: timedelta | None = timedelta(days=1)) -> tuple[int, str]:
    with session_scope(settings.database_url) as session:
        user = session.scalar(select(User).where(User.email == email))
        issued = create_token(session, user, name="test", expires_in=expires_in)
        return issued.token.id, issued.secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def token_mode(demo_school):
    return demo_school.model_copy(update={"auth_mode": AuthMode.token})


@pytest.fixture
def proxy_mode(demo_school):
    return demo_school.model_copy(update={"auth_mode": AuthMode.proxy, "trusted_proxies": f"{PROXY}, 192.168.0.0/24"})


def test_in_token_mode_a_bearer_token_signs_in_and_x_user_email_grants_nothing(token_mode):
    client = api_client(token_mode)
    token_id, secret = issue(token_mode, "docent@example.com")

    refused = client.get(EVALUATIONS, headers=TEACHER)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "Not signed in: send Authorization: Bearer <API token>."
    assert refused.headers["www-authenticate"] == "Bearer"
    assert client.get(EVALUATIONS, headers={**TEACHER, **bearer("pd_guessed")}).status_code == 401

    assert client.get(EVALUATIONS, headers=bearer(secret)).status_code == 200
    with session_scope(token_mode.database_url) as session:
        token = session.get(ApiToken, token_id)
        assert token.last_used_at is not None
        assert token.token_hash == hash_token(secret) and secret not in token.token_hash


def test_an_expired_or_revoked_token_is_refused_with_the_reason(token_mode):
    client = api_client(token_mode)
    _, expired = issue(token_mode, "docent@example.com", expires_in=timedelta(seconds=-1))
    revoked_id, revoked = issue(token_mode, "docent@example.com")
    with session_scope(token_mode.database_url) as session:
        revoke_token(session, revoked_id)

    assert "expired" in client.get(EVALUATIONS, headers=bearer(expired)).json()["detail"]
    assert client.get(EVALUATIONS, headers=bearer(revoked)).json()["detail"] == "This API token was revoked; ask for a new one."


def test_a_students_token_has_a_students_rights(token_mode):
    client = api_client(token_mode)
    _, secret = issue(token_mode, "jan@example.com")
    assert client.get(f"{PREFIX}/evaluation/56/student/20", headers=bearer(secret)).status_code == 403
    assert client.post(f"{PREFIX}/evaluation/56/batch-queue", headers=bearer(secret)).status_code == 403


def test_in_proxy_mode_the_proxy_header_counts_only_from_a_trusted_proxy(proxy_mode):
    from_proxy = api_client(proxy_mode, client=(PROXY, 40000))
    from_network = api_client(proxy_mode, client=("192.168.0.77", 40000))
    from_elsewhere = api_client(proxy_mode, client=("10.0.0.9", 40000))
    teacher = {"X-Forwarded-Email": "docent@example.com"}

    assert from_proxy.get(EVALUATIONS, headers=teacher).status_code == 200
    assert from_network.get(EVALUATIONS, headers=teacher).status_code == 200
    refused = from_elsewhere.get(EVALUATIONS, headers=teacher)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "Requests must come through the signing-in reverse proxy."


def test_in_proxy_mode_x_user_email_grants_nothing_and_roles_still_apply(proxy_mode):
    client = api_client(proxy_mode, client=(PROXY, 40000))
    refused = client.get(EVALUATIONS, headers=TEACHER)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "Not signed in: send the X-Forwarded-Email header."
    jan = {"X-Forwarded-Email": STUDENT_19["X-User-Email"]}
    assert client.post(f"{PREFIX}/evaluation/56/batch-queue", headers={**jan, **TEACHER}).status_code == 403


def test_in_proxy_mode_an_identity_header_sent_twice_is_refused_not_read(proxy_mode):
    client = api_client(proxy_mode, client=(PROXY, 40000))
    twice = [("X-Forwarded-Email", "docent@example.com"), ("X-Forwarded-Email", "jan@example.com")]
    refused = client.get(EVALUATIONS, headers=twice)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "The X-Forwarded-Email header was sent 2 times; a request may name one user only."


def test_in_proxy_mode_another_sites_form_cannot_act_with_the_identity_the_proxy_adds(proxy_mode):
    # The proxy names the user on every request their browser makes, also one a page of another site makes it
    # send: a form post, or a fetch the browser marks cross-site. Neither carries our session, so neither has a token.
    client = api_client(proxy_mode, client=(PROXY, 40000))
    teacher = {"X-Forwarded-Email": "docent@example.com"}
    approve_all = f"{PREFIX}/evaluation/56/approve-all"

    from_a_form = client.post(approve_all, headers=teacher, data={"anything": "1"})
    assert from_a_form.status_code == 403
    assert "another site" in from_a_form.json()["detail"]
    marked = client.post(approve_all, headers={**teacher, "Sec-Fetch-Site": "cross-site"})
    assert marked.status_code == 403

    # A script behind the proxy (no browser marks, JSON or no body) goes on as before.
    assert client.post(approve_all, headers=teacher).status_code == 200
    assert client.post(approve_all, headers={**teacher, "Sec-Fetch-Site": "same-origin"}, json={}).status_code == 200
