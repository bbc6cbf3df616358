"""The teacher's pages for review: flagged comments counted in the evaluation table and marked on the student's
detail, approve from either page, and the student's page never showing a flagged comment or another's summary."""

from peerdigest.db.session import session_scope
from tests.support.api import api_client
from tests.support.feedback import add_comment, store_summary
from tests.support.web import sign_in

THREAT = "Ik maak je af als je weer te laat bent."


def _school(demo_school):
    with session_scope(demo_school.database_url) as session:
        store_summary(session, 56, 19, summary_text="Jan werkt goed samen.")
        store_summary(session, 56, 20, summary_text="Sanne communiceert helder.")
        add_comment(session, 56, reviewer_id=20, reviewee_id=19, text=THREAT)


def test_the_evaluation_table_counts_flagged_comments_and_the_detail_marks_them(demo_school):
    _school(demo_school)
    teacher = api_client(demo_school)
    sign_in(teacher, "docent@example.com")
    table = teacher.get("/evaluations/56").text
    assert table.count(" flagged</a>") == 1 and 'href="/evaluations/56/review#student-19">1 flagged' in table
    detail = teacher.get("/evaluations/56/students/19").text
    assert "threatening: never shown to the student" in detail and "Jan de Vries sees nothing until you approve it" in detail


def test_approving_from_the_detail_page_lands_back_on_it_and_releases_only_that_summary(demo_school):
    _school(demo_school)
    teacher = api_client(demo_school)
    csrf = sign_in(teacher, "docent@example.com")
    answer = teacher.post(
        "/evaluations/56/review/19",
        data={"csrf_token": csrf, "summary_text": "Jan werkt goed samen en plant netjes.", "back": "detail"},
        follow_redirects=False,
    )
    assert (answer.status_code, answer.headers["location"]) == (303, "/evaluations/56/students/19")
    assert "Jan de Vries reads this" in teacher.get("/evaluations/56/students/19").text
    assert teacher.post("/evaluations/56/review/19", data={"summary_text": "x"}).status_code == 403  # no CSRF token

    jan = api_client(demo_school)
    sign_in(jan, "jan@example.com")
    page = jan.get("/my-summaries").text
    assert "Jan werkt goed samen en plant netjes." in page
    assert THREAT not in page and "Sanne communiceert helder." not in page


def test_students_and_other_schools_cannot_open_the_review_or_print_pages(demo_school, other_school_teacher):
    _school(demo_school)
    jan = api_client(demo_school)
    sign_in(jan, "jan@example.com")
    assert jan.get("/evaluations/56/review").status_code == 403
    assert jan.get("/evaluations/56/print").status_code == 403
    other = api_client(demo_school)
    sign_in(other, "juf@andere.example")
    assert other.get("/evaluations/56/review").status_code == 404
    assert other.get("/evaluations/56/print").status_code == 404
