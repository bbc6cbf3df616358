"""The school admin's page: add a teacher, remove one; teachers and students cannot open it."""

from peerdigest.db.session import session_scope
from peerdigest.domain.users import users_of
from tests.support.api import api_client
from tests.support.web import page_csrf, sign_in


def test_an_admin_adds_a_teacher_who_can_then_sign_in_and_removes_them_again(demo_school):
    admin = api_client(demo_school)
    csrf = sign_in(admin, "admin@example.com")
    added = admin.post("/school/teachers", data={"csrf_token": csrf, "name": "Piet Leraar", "email": "Piet@Example.com"})
    assert added.status_code == 200
    assert "Piet Leraar &lt;piet@example.com&gt; added as a teacher; they can sign in." in added.text

    teacher = api_client(demo_school)
    sign_in(teacher, "piet@example.com")
    assert "Evaluations of Demo College" in teacher.get("/evaluations").text

    with session_scope(demo_school.database_url) as session:
        piet = next(u for u in users_of(session, "Demo College") if u.email == "piet@example.com")
    removed = admin.post(f"/school/teachers/{piet.id}/remove", data={"csrf_token": page_csrf(added.text)})
    assert "Removed Piet Leraar: they can no longer sign in." in removed.text
    assert teacher.get("/evaluations", follow_redirects=False).status_code == 303, "the removed teacher's session ended"


def test_the_admin_page_refuses_what_it_must_in_words(demo_school, other_school_teacher):
    admin = api_client(demo_school)
    csrf = sign_in(admin, "admin@example.com")
    moved = admin.post("/school/teachers", data={"csrf_token": csrf, "name": "Juf", "email": "juf@andere.example"})
    assert "juf@andere.example belongs to another school (Andere School)." in moved.text
    not_a_teacher = admin.post("/school/teachers/19/remove", data={"csrf_token": csrf})
    assert "Jan de Vries is a student, not a teacher; only teachers are removed here." in not_a_teacher.text

    teacher = api_client(demo_school)
    sign_in(teacher, "docent@example.com")
    answer = teacher.get("/school/teachers")
    assert answer.status_code == 403
    assert "Only a school&#39;s admins may open this page." in answer.text
