"""Teacher pages: the school's evaluations."""

from __future__ import annotations

from fastapi import Request

from peerdigest.api.deps import SessionDep
from peerdigest.domain.evaluations import evaluations_of
from peerdigest.domain.feedback import evaluation_students
from peerdigest.web.pages import StaffPageUser, page_router, render

router = page_router()


@router.get("/evaluations")
def evaluation_list(request: Request, user: StaffPageUser, session: SessionDep):
    evaluations = evaluations_of(session, user, staff=True)
    students = {e.id: len(evaluation_students(session, e.id)) for e in evaluations}
    return render(request, "evaluations.html", user=user, evaluations=evaluations, students=students)
