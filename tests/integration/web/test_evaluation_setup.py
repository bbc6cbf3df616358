"""Setting up an evaluation on pages: from a class list (pasted or a spreadsheet) to allocations, its teams changed
afterwards keeping the scores that still apply, archived out of the lists; and the template files."""

import io
from datetime import datetime, timedelta, timezone

from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from peerdigest.db.models import Allocation, Evaluation, FeedbackSummary, Score, User, utcnow
from peerdigest.db.session import session_scope
from peerdigest.queue.cron import close_due
from tests.support.api import api_client
from tests.support.feedback import store_summary
from tests.support.races import student_added_meanwhile
from tests.support.web import sign_in

CLASS = "Naam\tE-mail\tTeam\nJan de Vries\tjan@example.com\tA\nNieuwe Leerling\tnieuw@school.example\tA\n" \
        "Sanne Bakker\tsanne@example.com\tB\nDerde Nieuw\tderde@school.example\tB\n"


def _form(csrf: str, **changes) -> dict:
    return {"csrf_token": csrf, "title": "Projectweek 4C", "language": "nl", "criteria_set": "Teamwork", "scale": "10",
            "self_rating": "true", "opens_date": "2031-03-02", "opens_time": "08:30", "closes_date": "2031-03-09",
            "closes_time": "17:00", "remind_hours_before": "24", "class_rows": CLASS, **changes}


def _teacher(demo_school):
    client = api_client(demo_school)
    return client, sign_in(client, "docent@example.com")


def _created(settings, title="Projectweek 4C") -> tuple[Evaluation, list[Allocation]]:
    with session_scope(settings.database_url) as session:
        evaluation = session.scalar(select(Evaluation).where(Evaluation.title == title))
        allocations = session.scalars(select(Allocation).where(Allocation.evaluation_id == evaluation.id)).all()
        session.expunge_all()
        return evaluation, list(allocations)


def _emails(settings, allocations) -> set[tuple[str, str, bool]]:
    with session_scope(settings.database_url) as session:
        email = {u.id: u.email for u in session.scalars(select(User))}
    return {(email[a.reviewer_id], email[a.reviewee_id], a.is_self) for a in allocations}


def test_a_teacher_creates_an_evaluation_from_pasted_rows_with_new_students_and_self_ratings(demo_school):
    client, csrf = _teacher(demo_school)
    answer = client.post("/evaluations/new", data=_form(csrf), follow_redirects=False)
    assert answer.status_code == 303, answer.text
    evaluation, allocations = _created(demo_school)
    assert answer.headers["location"] == f"/evaluations/{evaluation.id}"
    # 08:30 and 17:00 in Amsterdam (winter time, UTC+1) are stored in UTC.
    assert evaluation.opens_at == datetime(2031, 3, 2, 7, 30, tzinfo=timezone.utc)
    assert evaluation.deadline == datetime(2031, 3, 9, 16, 0, tzinfo=timezone.utc)
    assert (evaluation.language, evaluation.self_rating, evaluation.self_rating_counts, evaluation.remind_hours_before) \
        == ("nl", True, False, 24)
    with session_scope(demo_school.database_url) as session:
        criteria = [(c.name, c.max_score) for c in session.get(Evaluation, evaluation.id).criteria]
        new = session.scalar(select(User).where(User.email == "nieuw@school.example"))
        assert (new.name, new.role) == ("Nieuwe Leerling", "student")
        assert session.scalar(select(User.name).where(User.email == "jan@example.com")) == "Jan de Vries"
    assert criteria == [("Samenwerking", 10), ("Inzet", 10), ("Communicatie", 10), ("Kwaliteit van het werk", 10)]
    assert _emails(demo_school, allocations) == {
        ("jan@example.com", "nieuw@school.example", False), ("nieuw@school.example", "jan@example.com", False),
        ("sanne@example.com", "derde@school.example", False), ("derde@school.example", "sanne@example.com", False),
        *((e, e, True) for e in ("jan@example.com", "nieuw@school.example", "sanne@example.com", "derde@school.example")),
    }
    assert "Projectweek 4C" in client.get(f"/evaluations/{evaluation.id}").text


def test_the_notice_after_creating_names_one_team_as_one_team_in_english_and_in_dutch(demo_school):
    client, csrf = _teacher(demo_school)
    one_team = "Naam\tE-mail\tTeam\nEen Leerling\teen@school.example\tA\nTwee Leerling\ttwee@school.example\tA\n"
    english = client.post("/evaluations/new", data=_form(csrf, title="Klas 1", class_rows=one_team))
    assert "Created Klas 1: 2 students in 1 team (2 new to the school)." in english.text
    dutch = client.post("/evaluations/new", data=_form(csrf, title="Klas 2", class_rows=one_team),
                        headers={"Accept-Language": "nl"})
    assert "Klas 2 gemaakt: 2 leerlingen in 1 team (0 nieuw op school)." in dutch.text


def test_the_same_new_student_added_by_another_request_meanwhile_is_a_page_that_says_so(demo_school):
    """Sending the form twice (a double click) enrols the same new students twice at once: the second request's
    insert of a student the first just added fails. It is told so on the page, with nothing of it written."""
    client, csrf = _teacher(demo_school)
    with student_added_meanwhile(demo_school, "nieuw@school.example", "Nieuwe Leerling") as raced:
        answer = client.post("/evaluations/new", data=_form(csrf))
    assert raced
    assert answer.status_code == 409
    assert "added at the same moment" in answer.text
    with session_scope(demo_school.database_url) as session:
        assert session.scalar(select(Evaluation).where(Evaluation.title == "Projectweek 4C")) is None
        assert session.scalar(select(User).where(User.email == "derde@school.example")) is None


def test_an_xlsx_class_list_with_dutch_name_parts_is_read(demo_school):
    book = Workbook()
    for row in (["Voornaam", "Tussenvoegsel", "Achternaam", "E-mailadres", "Groep"],
                ["Eva", "van", "Dijk", "eva@school.example", "Rood"], ["Tim", None, "Bos", "tim@school.example", "Rood"]):
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    client, csrf = _teacher(demo_school)
    answer = client.post("/evaluations/new", data=_form(csrf, class_rows="", criteria_set="own",
                                                         own_criteria="Plannen\nLuisteren\n"),
                         files={"class_file": ("klas.xlsx", data.getvalue())}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    with session_scope(demo_school.database_url) as session:
        assert session.scalar(select(User.name).where(User.email == "eva@school.example")) == "Eva van Dijk"
    assert len(_created(demo_school)[1]) == 4  # two each way, two self-ratings


def test_problems_name_the_pages_fields_and_the_lists_rows_and_nothing_is_written(demo_school, other_school_teacher):
    client, csrf = _teacher(demo_school)
    rows = "Naam;E-mail;Team\nJan;jan@example.com;A\nDocent;docent@example.com;A\nJuf;juf@andere.example;B\n" \
           "Iemand;geen-mail;B\n"
    answer = client.post("/evaluations/new", data=_form(csrf, title=" ", class_rows=rows, closes_date="2031-03-01",
                                                        remind_hours_before="soon"))
    assert answer.status_code == 422
    page = answer.text
    for expected in ("Give the evaluation a title.", "The evaluation closes before it opens",
                     "Write a whole number of hours", "&#39;geen-mail&#39; is not an e-mail address"):
        assert expected in page, expected
    assert "--" not in page.split("<main>")[1].split("</form>")[0].split("Nothing was saved")[1].split("</table>")[0]
    # With the rest corrected, the class list's people are checked against the school.
    answer = client.post("/evaluations/new", data=_form(csrf, class_rows=rows.replace("geen-mail", "iemand@school.example")))
    assert answer.status_code == 422
    assert "docent@example.com is a teacher of this school, not a student" in answer.text
    assert "juf@andere.example belongs to another school" in answer.text
    assert '<td data-label="Row">3</td>' in answer.text and '<td data-label="Field">Class list</td>' in answer.text
    with session_scope(demo_school.database_url) as session:
        assert session.scalar(select(Evaluation).where(Evaluation.title == "Projectweek 4C")) is None
        assert session.scalar(select(User).where(User.email == "iemand@school.example")) is None
        assert session.scalar(select(User.role).where(User.email == "docent@example.com")) == "teacher"


def test_a_workbook_of_another_kind_is_named_on_the_page(demo_school):
    client, csrf = _teacher(demo_school)
    answer = client.post("/evaluations/new", data=_form(csrf, class_rows=""),
                         files={"class_file": ("klas.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")})
    assert answer.status_code == 422 and "This is a PDF document" in answer.text


def test_the_evaluation_page_is_in_dutch_for_a_dutch_browser(demo_school):
    client = api_client(demo_school, headers={"Accept-Language": "nl"})
    sign_in(client, "docent@example.com")
    page = client.get("/evaluations/new").text
    assert "Nieuwe evaluatie" in page and "Klaslijst" in page


def test_teams_change_afterwards_keeping_the_scores_that_still_apply(demo_school):
    client, csrf = _teacher(demo_school)
    assert client.post("/evaluations/new", data=_form(csrf), follow_redirects=False).status_code == 303
    evaluation, allocations = _created(demo_school)
    with session_scope(demo_school.database_url) as session:
        ids = {u.email: u.id for u in session.scalars(select(User))}
        criterion = session.get(Evaluation, evaluation.id).criteria[0]
        for allocation in session.scalars(select(Allocation).where(Allocation.evaluation_id == evaluation.id)):
            session.add(Score(allocation_id=allocation.id, criterion_id=criterion.id, value=7, comment="Goed"))
        store_summary(session, evaluation.id, ids["sanne@example.com"], summary_text="Sanne doet mee.")
        store_summary(session, evaluation.id, ids["nieuw@school.example"], summary_text="Nieuw doet mee.")
    jan, nieuw, sanne, derde = (ids[e] for e in ("jan@example.com", "nieuw@school.example", "sanne@example.com",
                                                   "derde@school.example"))
    page = client.get(f"/evaluations/{evaluation.id}/class").text
    assert 'name="team" value="A"' in page and "Nieuwe Leerling" in page
    # Nieuw moves from A to B, Jan leaves, and Kees joins A with ... nobody: refused, nothing changes.
    refused = client.post(f"/evaluations/{evaluation.id}/class", data={
        "csrf_token": csrf, "student": [jan, nieuw, sanne, derde], "team": ["A", "B", "B", "B"], "remove": [jan],
        "add_rows": "Kees Nieuw\tkees@school.example\tC"})
    assert refused.status_code == 422 and "Team C would have one student" in refused.text
    answer = client.post(f"/evaluations/{evaluation.id}/class", data={
        "csrf_token": csrf, "student": [jan, nieuw, sanne, derde], "team": ["A", "B", "B", "B"], "remove": [jan],
        "add_rows": "Kees Nieuw\tkees@school.example\tB"}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    _, after = _created(demo_school)
    pairs = {(a.reviewer_id, a.reviewee_id): a for a in after}
    kees = _user_id(demo_school, "kees@school.example")
    team_b = {nieuw, sanne, derde, kees}
    assert set(pairs) == {(r, e) for r in team_b for e in team_b}  # each way, and each themself
    assert {a.team for a in after} == {"B"}
    with session_scope(demo_school.database_url) as session:
        kept = session.scalars(select(Score).join(Allocation).where(Allocation.evaluation_id == evaluation.id)).all()
        stale = {s.student_id: s.stale for s in session.scalars(select(FeedbackSummary).where(
            FeedbackSummary.evaluation_id == evaluation.id))}
        # Sanne↔Derde and every self-rating kept their scores; Jan's and Nieuw's with team A went.
        assert {(s.allocation.reviewer_id, s.allocation.reviewee_id) for s in kept} == {
            (sanne, derde), (derde, sanne), (nieuw, nieuw), (sanne, sanne), (derde, derde)}
        # Nieuw no longer receives Jan's scores; Sanne still receives exactly Derde's (new teammates rated nothing yet).
        assert stale == {nieuw: True, sanne: False}


def _user_id(settings, email: str) -> int:
    with session_scope(settings.database_url) as session:
        return session.scalar(select(User.id).where(User.email == email))


def test_archiving_asks_first_then_takes_the_evaluation_out_of_the_lists(demo_school):
    client, csrf = _teacher(demo_school)
    confirm = client.get("/evaluations/57/archive")
    assert confirm.status_code == 200 and "Archive it" in confirm.text
    assert client.post("/evaluations/57/archive", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert 'href="/evaluations/57"' not in client.get("/evaluations").text
    assert 'href="/evaluations/56"' in client.get("/evaluations").text
    assert "was archived on" in client.get("/evaluations/57/archive").text
    api = client.get("/api/v1/evaluations", headers={"X-User-Email": "docent@example.com"}).json()
    assert [e["id"] for e in api] == [56]


def test_template_files_are_class_lists_and_feedback_files_the_importers_read(demo_school):
    client, _ = _teacher(demo_school)
    workbook = client.get("/import/templates/class-list.xlsx")
    assert workbook.status_code == 200 and 'filename="class-list.xlsx"' in workbook.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    assert [c.value for c in sheet[1]] == ["Name", "E-mail", "Team"]
    dutch = api_client(demo_school, headers={"Accept-Language": "nl"})
    sign_in(dutch, "docent@example.com")
    csv = dutch.get("/import/templates/feedback.csv")
    assert csv.content.startswith("\ufeffE-mail beoordelaar;Beoordelaar;".encode())
    assert client.get("/import/templates/passwords.csv").status_code == 404
    import_page = client.get("/import").text
    assert "/import/templates/feedback.xlsx" in import_page and "/import/templates/class-list.csv" in import_page


def test_only_the_schools_teachers_set_up_its_evaluations(demo_school, other_school_teacher):
    student = api_client(demo_school)
    csrf = sign_in(student, "jan@example.com")
    assert student.get("/evaluations/new").status_code == 403
    assert student.post("/evaluations/new", data=_form(csrf)).status_code == 403
    assert student.get("/evaluations/56/class").status_code == 403
    assert student.post("/evaluations/56/archive", data={"csrf_token": csrf}).status_code == 403
    stranger = api_client(demo_school)
    csrf = sign_in(stranger, "juf@andere.example")
    assert stranger.get("/evaluations/56/class").status_code == 404
    assert stranger.post("/evaluations/56/archive", data={"csrf_token": csrf}).status_code == 404
    assert stranger.post("/evaluations/56/class", data={"csrf_token": csrf, "student": [19], "team": ["X"]}).status_code == 404
    with session_scope(demo_school.database_url) as session:
        assert session.get(Evaluation, 56).archived_at is None


def test_moving_a_student_of_an_imported_evaluation_leaves_every_other_score_alone(demo_school):
    with session_scope(demo_school.database_url) as session:
        ids = {u.name: u.id for u in session.scalars(select(User))}
        jan, lisa, daan = ids["Jan de Vries"], ids["Lisa Jansen"], ids["Daan Visser"]
        store_summary(session, 56, lisa)
        store_summary(session, 56, daan)

        def scores_without_jan():
            return sorted(
                (s.allocation.reviewer_id, s.allocation.reviewee_id, s.criterion_id, s.value, s.comment)
                for s in session.scalars(select(Score).join(Allocation).where(Allocation.evaluation_id == 56))
                if jan not in (s.allocation.reviewer_id, s.allocation.reviewee_id)
            )

        before = scores_without_jan()
        zuid = session.scalar(select(Allocation.team).where(Allocation.evaluation_id == 56,
                                                            Allocation.reviewee_id == daan))
    client, csrf = _teacher(demo_school)
    answer = client.post("/evaluations/56/class", data={"csrf_token": csrf, "student": [jan], "team": [zuid]},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert "1 moved, 0 added, 0 removed" in client.get(answer.headers["location"]).text
    with session_scope(demo_school.database_url) as session:
        assert scores_without_jan() == before
        mates = set(session.scalars(select(Allocation.reviewee_id).where(
            Allocation.evaluation_id == 56, Allocation.reviewer_id == jan, Allocation.is_self.is_(False))))
        assert daan in mates and lisa not in mates
        stale = {s.student_id: s.stale for s in session.scalars(select(FeedbackSummary).where(
            FeedbackSummary.evaluation_id == 56))}
        assert stale == {lisa: True, daan: False}  # Lisa lost Jan's feedback; Jan has rated nobody in Zuid yet


# --- the times of an evaluation after it was made ------------------------------------------------------------------

TIMES = "/evaluations/56/times"


def _times(csrf: str, **changes) -> dict:
    return {"csrf_token": csrf, "opens_date": "2031-03-02", "opens_time": "08:30", "closes_date": "2031-03-09",
            "closes_time": "17:00", "remind_hours_before": "48", **changes}


def _set(settings, **values) -> None:
    with session_scope(settings.database_url) as session:
        evaluation = session.get(Evaluation, 56)
        for name, value in values.items():
            setattr(evaluation, name, value)


def test_a_teacher_moves_the_open_and_close_times_and_the_reminder_in_the_schools_time_zone(demo_school):
    _set(demo_school, deadline=datetime(2031, 3, 1, 16, 0, tzinfo=timezone.utc), remind_hours_before=24)
    client, csrf = _teacher(demo_school)
    page = client.get(TIMES).text
    assert 'value="2031-03-01"' in page and 'value="17:00"' in page, "16:00 UTC is 17:00 in Amsterdam"
    assert "Times are in Europe/Amsterdam." in page
    assert 'href="/evaluations/56/times"' in client.get("/evaluations/56").text

    moved = client.post(TIMES, data=_times(csrf), follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (303, TIMES)
    assert "Saved: open from" in client.get(TIMES).text
    with session_scope(demo_school.database_url) as session:
        evaluation = session.get(Evaluation, 56)
        assert evaluation.opens_at == datetime(2031, 3, 2, 7, 30, tzinfo=timezone.utc)
        assert evaluation.deadline == datetime(2031, 3, 9, 16, 0, tzinfo=timezone.utc)
        assert evaluation.remind_hours_before == 48


def test_a_close_time_that_has_passed_or_comes_first_is_refused_in_the_readers_language(demo_school):
    client, csrf = _teacher(demo_school)
    passed = client.post(TIMES, data=_times(csrf, closes_date="2020-01-01"))
    assert passed.status_code == 422
    assert "That moment has passed: choose a close time in the future." in passed.text
    assert "Close now" in passed.text, "the page says how to close it at once instead"
    early = client.post(TIMES, data=_times(csrf, opens_date="2031-03-10", remind_hours_before="0"))
    assert "The evaluation closes before it opens" in early.text and "Write a whole number of hours" in early.text

    dutch = api_client(demo_school, headers={"Accept-Language": "nl"})
    dutch_csrf = sign_in(dutch, "docent@example.com")
    refused = dutch.post(TIMES, data=_times(dutch_csrf, closes_date="2020-01-01"))
    assert "Dat moment is al voorbij: kies een sluittijd in de toekomst." in refused.text
    with session_scope(demo_school.database_url) as session:
        assert session.get(Evaluation, 56).deadline is None, "nothing was saved"


def test_a_date_in_year_1_or_9999_is_refused_on_the_times_page_in_the_readers_language(demo_school):
    client, csrf = _teacher(demo_school)
    first_day = client.post(TIMES, data=_times(csrf, opens_date="0001-01-01", opens_time="00:00"))
    assert first_day.status_code == 422, "in Amsterdam it is a moment before the first UTC one"
    assert "Choose a date from the year 1970 to 9998." in first_day.text
    assert client.post(TIMES, data=_times(csrf, closes_date="9999-12-31")).status_code == 422

    dutch = api_client(demo_school, headers={"Accept-Language": "nl"})
    dutch_csrf = sign_in(dutch, "docent@example.com")
    refused = dutch.post(TIMES, data=_times(dutch_csrf, opens_date="0001-01-01"))
    assert "Kies een datum van het jaar 1970 tot en met 9998." in refused.text
    with session_scope(demo_school.database_url) as session:
        assert session.get(Evaluation, 56).opens_at is None, "nothing was saved"


def test_a_close_time_stored_late_on_9999_12_31_still_shows_its_pages(demo_school):
    """Such a time, stored before it was refused, lies past what a datetime holds in Amsterdam: it stays in UTC."""
    _set(demo_school, deadline=datetime(9999, 12, 31, 23, 59, tzinfo=timezone.utc))
    client, _csrf = _teacher(demo_school)
    for page in (TIMES, "/evaluations/56", "/evaluations/56/progress"):
        assert client.get(page).status_code == 200, page
    student = api_client(demo_school)
    sign_in(student, "jan@example.com")
    assert "31 Dec 9999" in student.get("/my-evaluations").text


def test_closing_now_ends_the_form_and_the_scheduler_queues_the_summaries(demo_school, redis):
    _set(demo_school, deadline=utcnow() + timedelta(days=1))
    client, csrf = _teacher(demo_school)
    closed = client.post("/evaluations/56/close", data={"csrf_token": csrf}, follow_redirects=False)
    assert (closed.status_code, closed.headers["location"]) == (303, "/evaluations/56")
    with session_scope(demo_school.database_url) as session:
        assert session.get(Evaluation, 56).deadline <= utcnow()
    assert close_due(demo_school, redis) == 1
    assert "This evaluation closed on" in client.get(TIMES).text


def test_moving_the_close_of_an_evaluation_whose_summaries_were_queued_opens_it_again_only_when_asked(demo_school, redis):
    _set(demo_school, deadline=utcnow() - timedelta(hours=1))
    assert close_due(demo_school, redis) == 1
    client, csrf = _teacher(demo_school)
    assert "Open it again" in client.get(TIMES).text
    unasked = client.post(TIMES, data=_times(csrf))
    assert unasked.status_code == 422 and "Tick Open it again" in unasked.text

    reopened = client.post(TIMES, data=_times(csrf, reopen="true"))
    assert reopened.status_code == 200 and "It is open again until" in reopened.text
    with session_scope(demo_school.database_url) as session:
        assert session.get(Evaluation, 56).close_queued_at is None, "its summaries are queued again at the new close"


def test_only_the_schools_teachers_change_the_times(demo_school, other_school_teacher):
    student = api_client(demo_school)
    csrf = sign_in(student, "jan@example.com")
    assert student.get(TIMES).status_code == 403
    assert student.post(TIMES, data=_times(csrf)).status_code == 403
    assert student.post("/evaluations/56/close", data={"csrf_token": csrf}).status_code == 403
    stranger = api_client(demo_school)
    csrf = sign_in(stranger, "juf@andere.example")
    assert stranger.post(TIMES, data=_times(csrf)).status_code == 404
    assert stranger.post("/evaluations/56/close", data={"csrf_token": csrf}).status_code == 404
    with session_scope(demo_school.database_url) as session:
        assert session.get(Evaluation, 56).deadline is None
