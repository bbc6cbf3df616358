"""The installation's schools page: an installation admin starts a school from zero in the browser, with its first
admin, who then signs in, imports a class and adds a teacher; nobody else may open it."""

from peerdigest.config import AuthMode
from peerdigest.db.models import School, User
from peerdigest.db.session import session_scope
from peerdigest.domain.auth import create_token
from tests.support.api import api_client
from tests.support.feedback import EXAMPLE_CSV
from tests.support.web import form_token, sign_in

NEW_SCHOOL = {"name": "Zonnecollege", "language": "en", "time_zone": "Europe/Brussels",
              "admin_name": "Marieke Jansen", "admin_email": "M.Jansen@Zonnecollege.example"}


def _installation(settings, **changes):
    return settings.model_copy(update={"installation_admins": "admin@example.com", **changes})


def test_an_installation_admin_creates_a_school_whose_admin_signs_in_and_imports_a_class(demo_school):
    settings = _installation(demo_school)
    operator = api_client(settings)
    csrf = sign_in(operator, "admin@example.com")
    page = operator.get("/installation/schools")
    assert page.status_code == 200
    assert 'href="/installation/schools"' in page.text, "in the navigation"
    assert "Demo College" in page.text

    created = operator.post("/installation/schools", data={"csrf_token": csrf, **NEW_SCHOOL})
    assert created.status_code == 200
    assert "Zonnecollege is ready" in created.text
    assert "Marieke Jansen (m.jansen@zonnecollege.example) is its admin" in created.text
    assert "choosing their name on the sign-in page" in created.text
    with session_scope(settings.database_url) as session:
        school = session.query(School).filter_by(name="Zonnecollege").one()
        assert (school.language, school.time_zone) == ("en", "Europe/Brussels")

    marieke = api_client(settings)
    csrf = sign_in(marieke, "m.jansen@zonnecollege.example")
    assert "Evaluations of Zonnecollege" in marieke.get("/evaluations").text
    teachers = marieke.post("/school/teachers", data={"csrf_token": csrf, "name": "Piet", "email": "piet@zonnecollege.example"})
    assert "Piet &lt;piet@zonnecollege.example&gt; added as a teacher" in teachers.text
    checked = marieke.post(
        "/import", data={"csrf_token": csrf, "evaluation": "Projectweek 3B", "language": "nl"},
        files={"file": ("peer-feedback.csv", EXAMPLE_CSV.read_bytes(), "text/csv")},
    )
    assert checked.status_code == 200, checked.text
    assert "Projectweek 3B" in checked.text


def test_token_mode_shows_the_command_that_makes_the_new_admins_first_token(demo_school):
    with session_scope(demo_school.database_url) as session:
        admin = session.query(User).filter_by(email="admin@example.com").one()
        secret = create_token(session, admin, expires_in=None).secret
    token_mode = api_client(_installation(demo_school, auth_mode=AuthMode.token))
    csrf = sign_in(token_mode, token=secret)
    created = token_mode.post("/installation/schools", data={"csrf_token": csrf, **NEW_SCHOOL})
    assert "peerdigest tokens create --user m.jansen@zonnecollege.example" in created.text


def test_a_new_school_is_refused_in_words_and_the_form_keeps_what_was_typed(demo_school):
    operator = api_client(_installation(demo_school))
    csrf = sign_in(operator, "admin@example.com")
    for changes, problem in [
        ({"admin_email": "jan@example.com"}, "jan@example.com belongs to another school (Demo College)."),
        ({"name": "demo college"}, "There is a school called &#39;demo college&#39; already."),
        ({"time_zone": "Amsterdam"}, "&#39;Amsterdam&#39; is not a time zone"),
        ({"language": "de"}, "The language is one of nl, en, not &#39;de&#39;."),
    ]:
        refused = operator.post("/installation/schools", data={"csrf_token": csrf, **NEW_SCHOOL, **changes})
        assert refused.status_code == 400
        assert problem in refused.text
        assert 'value="Marieke Jansen"' in refused.text
    with session_scope(demo_school.database_url) as session:
        assert session.query(School).filter_by(name="Zonnecollege").count() == 0, "nothing half-made"


def test_only_installation_admins_open_the_schools_page(demo_school):
    school_admin = api_client(demo_school)  # admin@example.com, but not in INSTALLATION_ADMINS here
    csrf = sign_in(school_admin, "admin@example.com")
    assert 'href="/installation/schools"' not in school_admin.get("/school/teachers").text
    assert school_admin.get("/installation/schools").status_code == 403
    refused = school_admin.post("/installation/schools", data={"csrf_token": csrf, **NEW_SCHOOL})
    assert refused.status_code == 403
    assert "Only the installation&#39;s administrators (INSTALLATION_ADMINS) may do this." in refused.text
