"""The demo school: two teams that reviewed each other in a project week.

Ids are fixed so the README's curl (evaluation 56, student 19, docent@example.com)
works on every fresh install.
"""

from __future__ import annotations

import json
import random
from importlib import resources

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from peerdigest.db.models import Allocation, Criterion, Evaluation, School, Score, User


def load_demo() -> dict:
    return json.loads(resources.files("peerdigest.data").joinpath("demo_school.json").read_text("utf-8"))


def seed_demo(session: Session) -> bool:
    """Create the demo school unless it is there already. True when something was created."""
    demo = load_demo()
    if session.scalar(select(School).where(School.name == demo["school"])) is not None:
        return False
    school = School(name=demo["school"])
    session.add(school)
    session.flush()
    for person in demo["staff"] + [s for team in demo["teams"].values() for s in team]:
        session.add(User(id=person["id"], email=person["email"], name=person["name"], role=person["role"], school_id=school.id))
    for spec in demo["evaluations"]:
        seed_evaluation(session, school, spec, demo["teams"], demo["comments"][spec["language"]])
    session.flush()
    _bump_sequences(session)
    session.commit()
    return True


def seed_evaluation(session: Session, school: School, spec: dict, teams: dict, comments: dict) -> None:
    """An evaluation in which every member of each team reviewed every member (themself included).

    `teams` maps a team name to members `{id, name, levels: {criterion: 1-5}}`; scores
    scatter around each level and comments come from `comments[criterion][high|mid|low]`.
    """
    evaluation = Evaluation(id=spec["id"], title=spec["title"], school_id=school.id, language=spec["language"])
    evaluation.criteria = [Criterion(name=name, position=i, min_score=1, max_score=5) for i, name in enumerate(spec["criteria"])]
    session.add(evaluation)
    session.flush()
    rng = random.Random(spec["id"])  # fixed seed: the demo reads the same on every machine
    for team_name, members in teams.items():
        for reviewer in members:
            for reviewee in members:
                is_self = reviewer["id"] == reviewee["id"]
                allocation = Allocation(
                    evaluation_id=evaluation.id, reviewer_id=reviewer["id"], reviewee_id=reviewee["id"],
                    team=team_name, is_self=is_self,
                )
                session.add(allocation)
                session.flush()
                for criterion in evaluation.criteria:
                    level = reviewee["levels"].get(criterion.name, 4)
                    value = max(1, min(5, level + rng.choice([-1, 0, 0, 0, 1])))
                    band = "high" if value >= 4 else "mid" if value == 3 else "low"
                    pool = comments[criterion.name][band]
                    comment = rng.choice(pool).format(name=reviewee["name"].split()[0]) if rng.random() < 0.8 else None
                    session.add(Score(allocation_id=allocation.id, criterion_id=criterion.id, value=value, comment=comment))


def _bump_sequences(session: Session) -> None:
    # Explicit ids do not advance PostgreSQL's sequences; move them past the seeded rows.
    if session.bind.dialect.name != "postgresql":
        return
    for table in ("school", "user_account", "evaluation", "criterion", "allocation", "score"):
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"))
