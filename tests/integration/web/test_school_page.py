"""The school admin's page: add a teacher, end and restore access, delete what someone gave; nobody is deleted
by a click, a student becomes a teacher only once confirmed, and teachers and students cannot open the page."""

from datetime import timedelta

from sqlalchemy import func, select

from peerdigest.config import AuthMode
from peerdigest.db.models import Allocation, FeedbackSummary, Role, Score, User
from peerdigest.db.session import session_scope
from peerdigest.domain.auth import create_token
from peerdigest.domain.users import users_of
from tests.support.api import PREFIX, api_client
from tests.support.feedback import store_summary
from tests.support.web import form_token, page_csrf, sign_in

JAN = 19  # a student of the demo school, in the team of 19-22


def _user(settings, email: str) -> User:
    with session_scope(settings.database_url) as session:
        user = session.scalar(select(User).where(User.email == email))
        session.expunge(user)
        return user


def _given_scores(settings, reviewer_id: int) -> int:
    with session_scope(settings.database_url) as session:
        return session.scalar(
            select(func.count(Score.id)).join(Allocation, Score.allocation_id == Allocation.id)
            .where(Allocation.reviewer_id == reviewer_id)
        )


def _tried_sign_in(client, email: str):
    page = client.get("/sign-in").text
    return client.post("/sign-in", data={"sign_in_token": form_token(page, "sign_in_token"), "email": email})


def test_an_admin_adds_a_teacher_who_can_then_sign_in_and_ends_their_access_without_deleting_them(demo_school):
    admin = api_client(demo_school)
    csrf = sign_in(admin, "admin@example.com")
    added = admin.post("/school/teachers", data={"csrf_token": csrf, "name": "Piet Leraar", "email": "Piet@Example.com"})
    assert added.status_code == 200
    assert "Piet Leraar &lt;piet@example.com&gt; added as a teacher; they can sign in." in added.text

    teacher = api_client(demo_school)
    sign_in(teacher, "piet@example.com")
    assert "Evaluations of Demo College" in teacher.get("/evaluations").text

    piet = _user(demo_school, "piet@example.com")
    removed = admin.post(f"/school/teachers/{piet.id}/disable", data={"csrf_token": page_csrf(added.text)})
    assert "Piet Leraar can no longer sign in; what they gave and received stays." in removed.text
    assert teacher.get("/evaluations", follow_redirects=False).status_code == 303, "the removed teacher's session ended"
    refused = _tried_sign_in(api_client(demo_school), "piet@example.com")
    assert refused.status_code == 401
    assert "piet@example.com has had no access since" in refused.text
    assert _user(demo_school, "piet@example.com").disabled_at is not None, "the person is still there"

    enabled = admin.post(f"/school/teachers/{piet.id}/enable", data={"csrf_token": page_csrf(removed.text)})
    assert "Piet Leraar can sign in again." in enabled.text
    sign_in(teacher, "piet@example.com")
    assert "Evaluations of Demo College" in teacher.get("/evaluations").text


def test_the_list_says_who_ended_someones_access_and_when(demo_school):
    admin = api_client(demo_school)
    csrf = sign_in(admin, "admin@example.com")
    docent = _user(demo_school, "docent@example.com")
    page = admin.post(f"/school/teachers/{docent.id}/disable", data={"csrf_token": csrf}).text
    row = page[page.index("docent@example.com"):]
    row = row[: row.index("</tr>")]
    admin_name = _user(demo_school, "admin@example.com").name
    assert f"by {admin_name}" in row and "Ended " in row
    assert "Give access again" in row


def test_a_students_email_in_add_teacher_asks_first_and_says_what_she_would_see(demo_school):
    admin = api_client(demo_school)
    csrf = sign_in(admin, "admin@example.com")
    asked = admin.post("/school/teachers", data={"csrf_token": csrf, "name": "Jan", "email": "jan@example.com"})
    assert asked.status_code == 200
    assert "Make a student a teacher?" in asked.text
    for seen in ("contribution factor and labels", "flagged as offensive, threatening or about self-harm",
                 "every class of the school"):
        assert seen in asked.text
    assert _user(demo_school, "jan@example.com").role == Role.student, "nothing changed before the confirmation"

    student = api_client(demo_school)
    sign_in(student, "jan@example.com")
    assert student.get("/evaluations").status_code == 403

    confirmed = admin.post(
        "/school/teachers",
        data={"csrf_token": form_token(asked.text), "name": "Jan", "email": "jan@example.com", "promote": "true"},
    )
    assert "Jan &lt;jan@example.com&gt; is a teacher now; they can sign in." in confirmed.text
    assert _user(demo_school, "jan@example.com").role == Role.teacher


def test_removing_a_promoted_student_keeps_her_feedback_and_deleting_it_is_confirmed_and_marks_summaries_stale(
    demo_school,
):
    """The issue's story: promoted by mistake, then removed. Her scores stay; deleting them is a step of its own."""
    with session_scope(demo_school.database_url) as session:
        for reviewee in (20, 21, 22):
            store_summary(session, 56, reviewee)
        session.execute(
            FeedbackSummary.__table__.update().values(approved_at=func.now(), approved_by_id=1)
        )
    given = _given_scores(demo_school, JAN)
    assert given > 0

    admin = api_client(demo_school)
    csrf = sign_in(admin, "admin@example.com")
    admin.post("/school/teachers", data={"csrf_token": csrf, "name": "Jan", "email": "jan@example.com", "promote": "true"})
    page = admin.post(f"/school/teachers/{JAN}/disable", data={"csrf_token": csrf}).text
    assert "Jan can no longer sign in" in page
    assert _given_scores(demo_school, JAN) == given, "ending access deletes nothing"
    with session_scope(demo_school.database_url) as session:
        assert not any(session.scalars(select(FeedbackSummary.stale)))

    confirm = admin.get(f"/school/teachers/{JAN}/given-feedback")
    assert confirm.status_code == 200
    assert f"gave {given} scores" in confirm.text and "Projectweek" in confirm.text
    assert "cannot be undone" in confirm.text
    assert _given_scores(demo_school, JAN) == given, "the page only asks"

    deleted = admin.post(f"/school/teachers/{JAN}/given-feedback", data={"csrf_token": csrf})
    assert f"Deleted the {given} scores and comments Jan gave; 3 summaries built on them are marked stale." in deleted.text
    assert _given_scores(demo_school, JAN) == 0
    with session_scope(demo_school.database_url) as session:
        stale = dict(session.execute(select(FeedbackSummary.student_id, FeedbackSummary.stale)).all())
        assert stale == {20: True, 21: True, 22: True}
        assert session.get(User, JAN) is not None, "she herself stays"


def test_a_disabled_users_api_token_and_header_stop_working(demo_school):
    with session_scope(demo_school.database_url) as session:
        docent = session.scalar(select(User).where(User.email == "docent@example.com"))
        secret = create_token(session, docent, expires_in=timedelta(days=1)).secret
    token_mode = api_client(demo_school.model_copy(update={"auth_mode": AuthMode.token}))
    bearer = {"Authorization": f"Bearer {secret}"}
    assert token_mode.get(f"{PREFIX}/evaluation/56/student/19/quotes", headers=bearer).status_code == 200

    admin = api_client(demo_school)
    admin.post(f"/school/teachers/{docent.id}/disable", data={"csrf_token": sign_in(admin, "admin@example.com")})

    refused = token_mode.get(f"{PREFIX}/evaluation/56/student/19/quotes", headers=bearer)
    assert refused.status_code == 401
    dev = api_client(demo_school).get(f"{PREFIX}/evaluation/56/student/19/quotes", headers={"X-User-Email": "docent@example.com"})
    assert dev.status_code == 401
    assert dev.json() == {"detail": refused.json()["detail"]}
    assert "docent@example.com has had no access since" in dev.json()["detail"]


def test_the_admin_page_refuses_what_it_must_in_words(demo_school, other_school_teacher):
    admin = api_client(demo_school)
    csrf = sign_in(admin, "admin@example.com")
    moved = admin.post("/school/teachers", data={"csrf_token": csrf, "name": "Juf", "email": "juf@andere.example"})
    assert "juf@andere.example belongs to another school (Andere School)." in moved.text
    not_staff = admin.post(f"/school/teachers/{JAN}/disable", data={"csrf_token": csrf})
    assert "Jan de Vries is a student, not a teacher or admin of this page." in not_staff.text
    me = _user(demo_school, "admin@example.com")
    own = admin.post(f"/school/teachers/{me.id}/disable", data={"csrf_token": csrf})
    assert "You cannot end your own access; ask another admin." in own.text
    juf = _user(demo_school, "juf@andere.example")
    elsewhere = admin.post(f"/school/teachers/{juf.id}/given-feedback", data={"csrf_token": csrf})
    assert f"There is no user {juf.id} in this school." in elsewhere.text

    teacher = api_client(demo_school)
    sign_in(teacher, "docent@example.com")
    answer = teacher.get("/school/teachers")
    assert answer.status_code == 403
    assert "Only a school&#39;s admins may do this." in answer.text
    with session_scope(demo_school.database_url) as session:
        assert len(users_of(session, "Demo College", (Role.teacher, Role.admin))) == 2


def test_the_teachers_page_and_its_questions_read_in_dutch(demo_school):
    admin = api_client(demo_school, headers={"Accept-Language": "nl"})
    csrf = sign_in(admin, "admin@example.com")
    page = admin.get("/school/teachers").text
    assert "Docenten van Demo College" in page and "Toegang intrekken" in page
    asked = admin.post("/school/teachers", data={"csrf_token": csrf, "name": "Jan", "email": "jan@example.com"}).text
    assert "Een leerling docent maken?" in asked and "de bijdragefactor en labels van elke leerling;" in asked
    confirm = admin.get(f"/school/teachers/{JAN}/given-feedback").text
    assert "De feedback verwijderen die Jan de Vries gaf?" in confirm
