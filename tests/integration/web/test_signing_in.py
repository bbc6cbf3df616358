"""The web app's sign-in: a session cookie in each AUTH_MODE, CSRF tokens, and signing out for good."""

from peerdigest.config import AuthMode
from peerdigest.db.session import session_scope
from peerdigest.domain.auth import create_token, revoke_token, user_by_email
from tests.support.api import PREFIX, api_client
from tests.support.web import form_token, sign_in


def test_a_page_sends_a_browser_that_is_not_signed_in_to_the_sign_in_page(demo_school):
    answer = api_client(demo_school).get("/evaluations", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=/evaluations"


def test_dev_sign_in_lists_the_demo_users_under_a_development_banner_and_sets_a_safe_cookie(demo_school):
    client = api_client(demo_school)
    page = client.get("/sign-in").text
    assert "Development sign-in" in page
    assert "docent@example.com" in page and "jan@example.com" in page

    answer = client.post(
        "/sign-in",
        data={"sign_in_token": form_token(page, "sign_in_token"), "email": "docent@example.com", "next": "/evaluations"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/evaluations"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("peerdigest_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Demo College" in client.get("/evaluations").text


def test_sign_in_refuses_a_form_without_the_token_of_its_own_page(demo_school):
    client = api_client(demo_school)
    answer = client.post("/sign-in", data={"sign_in_token": "made-up", "email": "docent@example.com"})
    assert answer.status_code == 401
    assert "The sign-in form had expired" in answer.text
    assert client.get("/evaluations", follow_redirects=False).status_code == 303


def test_sign_in_never_redirects_to_another_site(demo_school):
    client = api_client(demo_school)
    page = client.get("/sign-in").text
    answer = client.post(
        "/sign-in",
        data={"sign_in_token": form_token(page, "sign_in_token"), "email": "docent@example.com",
              "next": "//evil.example/steal"},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/evaluations"


def test_a_form_post_without_or_with_a_wrong_csrf_token_is_refused_with_403(demo_school):
    client = api_client(demo_school)
    csrf = sign_in(client, "docent@example.com")

    assert client.post("/sign-out", data={}).status_code == 403
    refused = client.post("/sign-out", data={"csrf_token": "wrong"})
    assert refused.status_code == 403
    assert "security token (CSRF)" in refused.text
    assert client.get("/evaluations").status_code == 200, "a refused sign-out leaves the session as it was"
    assert client.post("/sign-out", data={"csrf_token": csrf}).status_code == 200


def test_the_api_takes_a_signed_in_browser_but_its_state_changing_requests_need_the_csrf_header(demo_school):
    client = api_client(demo_school)
    csrf = sign_in(client, "docent@example.com")

    assert client.get(f"{PREFIX}/evaluation/56/jobs").status_code == 200
    refused = client.post(f"{PREFIX}/evaluation/56/cancel-all")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "This request lacks the page's security token (CSRF); reload the page and try again."}
    assert client.post(f"{PREFIX}/evaluation/56/cancel-all", headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert client.post(f"{PREFIX}/evaluation/56/cancel-all", headers={"X-CSRF-Token": csrf}).status_code == 200


def test_signing_out_ends_the_session_on_the_server_so_a_copied_cookie_is_worthless(demo_school):
    client = api_client(demo_school)
    csrf = sign_in(client, "docent@example.com")
    copied = dict(client.cookies)

    client.post("/sign-out", data={"csrf_token": csrf})
    thief = api_client(demo_school, cookies=copied)
    assert thief.get("/evaluations", follow_redirects=False).status_code == 303
    assert thief.get(f"{PREFIX}/evaluation/56/jobs").status_code == 401


def test_token_mode_signs_in_once_with_a_personal_api_token(demo_school):
    settings = demo_school.model_copy(update={"auth_mode": AuthMode.token})
    with session_scope(settings.database_url) as session:
        secret = create_token(session, user_by_email(session, "docent@example.com", header="-"), expires_in=None).secret
    client = api_client(settings)
    page = client.get("/sign-in").text
    assert "personal API token" in page and "docent@example.com" not in page

    wrong = client.post("/sign-in", data={"sign_in_token": form_token(page, "sign_in_token"), "token": "pd_nope"})
    assert wrong.status_code == 401
    assert "Unknown API token." in wrong.text

    sign_in(client, token=secret)
    assert "Demo College" in client.get("/evaluations").text


def test_proxy_mode_signs_in_the_user_the_trusted_proxy_names_and_no_one_else(demo_school):
    settings = demo_school.model_copy(update={"auth_mode": AuthMode.proxy, "trusted_proxies": "10.0.0.5"})
    from_proxy = api_client(settings, client=("10.0.0.5", 50000), headers={"X-Forwarded-Email": "docent@example.com"})
    assert "Evaluations of Demo College" in from_proxy.get("/evaluations").text

    elsewhere = api_client(settings, client=("10.0.0.9", 50000), headers={"X-Forwarded-Email": "docent@example.com"})
    answer = elsewhere.get("/evaluations")
    assert answer.status_code == 401
    assert "Requests must come through the signing-in reverse proxy." in answer.text


def test_a_student_is_refused_the_teacher_pages_in_words(demo_school):
    client = api_client(demo_school)
    sign_in(client, "jan@example.com")
    answer = client.get("/evaluations")
    assert answer.status_code == 403
    assert "Only teachers and admins may do this." in answer.text


def test_a_session_ends_when_auth_mode_changes(demo_school):
    dev = api_client(demo_school)
    sign_in(dev, "docent@example.com")
    cookies = dict(dev.cookies)

    # The same cookie after a restart in token mode, and in proxy mode through the trusted proxy itself.
    for update in ({"auth_mode": AuthMode.token}, {"auth_mode": AuthMode.proxy, "trusted_proxies": "10.0.0.5"}):
        later = api_client(demo_school.model_copy(update=update), cookies=cookies, client=("10.0.0.5", 50000))
        assert later.get("/evaluations", follow_redirects=False).status_code == 303
        assert later.get(f"{PREFIX}/evaluation/56/jobs").status_code == 401


def test_revoking_a_token_ends_the_sessions_signed_in_with_it(demo_school):
    settings = demo_school.model_copy(update={"auth_mode": AuthMode.token})
    with session_scope(settings.database_url) as session:
        issued = create_token(session, user_by_email(session, "docent@example.com", header="-"), expires_in=None)
        secret, token_id = issued.secret, issued.token.id
    client = api_client(settings)
    sign_in(client, token=secret)
    assert client.get(f"{PREFIX}/evaluation/56/jobs").status_code == 200

    with session_scope(settings.database_url) as session:
        revoke_token(session, token_id)
    assert client.get("/evaluations", follow_redirects=False).status_code == 303
    assert client.get(f"{PREFIX}/evaluation/56/jobs").status_code == 401


def test_a_proxy_session_counts_only_through_the_trusted_proxy(demo_school):
    settings = demo_school.model_copy(update={"auth_mode": AuthMode.proxy, "trusted_proxies": "10.0.0.5"})
    from_proxy = api_client(settings, client=("10.0.0.5", 50000), headers={"X-Forwarded-Email": "docent@example.com"})
    from_proxy.get("/sign-in")  # the proxy has signed the user in: the page starts the session
    assert from_proxy.cookies.get("peerdigest_session")

    direct = api_client(settings, client=("10.0.0.9", 50000), cookies=dict(from_proxy.cookies))
    assert direct.get(f"{PREFIX}/evaluation/56/jobs").status_code == 401
    assert direct.get("/evaluations", follow_redirects=False).status_code in (303, 401)
