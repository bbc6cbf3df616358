"""The demo school: two teams that reviewed each other in a project week.

Its ids are fixed (evaluation 56, student 19, docent@example.com) so the
README's curl works on every fresh install. A database that already uses those
ids (imported schools, say) gets the demo school on free ids instead, and the
caller says which.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from importlib import resources

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from peerdigest.config import Settings
from peerdigest.db.models import Allocation, Criterion, Evaluation, School, Score, User


class DemoSchoolConflict(RuntimeError):
    """The demo school's people cannot be added: their emails belong to another school."""


@dataclass(frozen=True)
class DemoSchool:
    created: bool
    evaluations: dict[int, int]  # the documented id → its id in this database
    users: dict[int, int]

    @property
    def moved(self) -> dict[str, int]:
        """Documented ids that differ in this database, e.g. {"evaluation 56": 103, "student 19": 245}."""
        moved = {f"evaluation {a}": b for a, b in self.evaluations.items() if a != b}
        return moved | {f"user {a}": b for a, b in self.users.items() if a != b}

    def describe_moved(self) -> str:
        return (
            "The demo school's documented ids are taken in this database, so it has others: "
            + ", ".join(f"{name} is {new}" for name, new in self.moved.items())
            + ". Use these in the README's examples."
        )


def is_demo_database(session: Session, settings: Settings) -> bool:
    """Whether `run` may add the demo school by itself: only to the default database (an unset DATABASE_URL,
    the SQLite file in DATA_DIR) while it holds no school but the demo's. Any other database is a real
    school's, and gets the demo only when asked (`peerdigest seed`, `run --seed`, `make demo`)."""
    if settings.database_url != settings.default_database_url:
        return False
    demo = load_demo()["school"]
    return all(name == demo for name in session.scalars(select(School.name)))


def load_demo() -> dict:
    return json.loads(resources.files("peerdigest.data").joinpath("demo_school.json").read_text("utf-8"))


def _people(demo: dict) -> list[dict]:
    return demo["staff"] + [s for team in demo["teams"].values() for s in team]


def seed_demo(session: Session) -> DemoSchool:
    """Create the demo school unless it is there already; where its ids are taken, on free ids."""
    demo = load_demo()
    people = _people(demo)
    school = session.scalar(select(School).where(School.name == demo["school"]))
    if school is not None:
        return _found(session, school, demo, people)
    taken = list(session.scalars(select(User.email).where(User.email.in_([p["email"] for p in people]))))
    if taken:
        raise DemoSchoolConflict(
            f"The demo school cannot be added: {', '.join(sorted(taken))} already belong to another school "
            "in this database. Use another database (DATABASE_URL or DATA_DIR) for the demo."
        )
    evaluation_ids = [spec["id"] for spec in demo["evaluations"]]
    fixed = not (
        session.scalar(select(func.count()).select_from(User).where(User.id.in_([p["id"] for p in people])))
        or session.scalar(select(func.count()).select_from(Evaluation).where(Evaluation.id.in_(evaluation_ids)))
    )
    school = School(name=demo["school"])
    session.add(school)
    session.flush()
    users = {}
    for person in people:
        user = User(id=person["id"] if fixed else None, email=person["email"], name=person["name"],
                    role=person["role"], school_id=school.id)
        session.add(user)
        session.flush()
        users[person["id"]] = user.id
    teams = {name: [{**m, "id": users[m["id"]]} for m in members] for name, members in demo["teams"].items()}
    evaluations = {}
    for spec in demo["evaluations"]:
        evaluation = seed_evaluation(
            session, school, {**spec, "id": spec["id"] if fixed else None, "seed": spec["id"]}, teams,
            demo["comments"][spec["language"]],
        )
        evaluations[spec["id"]] = evaluation.id
    session.flush()
    if fixed:
        _bump_sequences(session)
    return DemoSchool(True, evaluations, users)


def _found(session: Session, school: School, demo: dict, people: list[dict]) -> DemoSchool:
    users = dict(session.execute(select(User.email, User.id).where(User.school_id == school.id)).all())
    evaluations = dict(session.execute(select(Evaluation.title, Evaluation.id).where(Evaluation.school_id == school.id)).all())
    return DemoSchool(
        False,
        {spec["id"]: evaluations[spec["title"]] for spec in demo["evaluations"] if spec["title"] in evaluations},
        {p["id"]: users[p["email"]] for p in people if p["email"] in users},
    )


def seed_evaluation(session: Session, school: School, spec: dict, teams: dict, comments: dict) -> Evaluation:
    """An evaluation in which every member of each team reviewed every member (themself included).

    `spec["id"]` None: the database chooses the evaluation's id; `spec["seed"]` (default: the id)
    chooses the scores and comments.

    `teams` maps a team name to members `{id, name, levels: {criterion: 1-5}}`; scores
    scatter around each level and comments come from `comments[criterion][high|mid|low]`.
    """
    evaluation = Evaluation(id=spec["id"], title=spec["title"], school_id=school.id, language=spec["language"])
    evaluation.criteria = [Criterion(name=name, position=i, min_score=1, max_score=5) for i, name in enumerate(spec["criteria"])]
    session.add(evaluation)
    session.flush()
    rng = random.Random(spec.get("seed", spec["id"]))  # fixed seed: the demo reads the same on every machine
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
    return evaluation


def _bump_sequences(session: Session) -> None:
    # Explicit ids do not advance PostgreSQL's sequences; move them past the seeded rows.
    if session.bind.dialect.name != "postgresql":
        return
    for table in ("school", "user_account", "evaluation", "criterion", "allocation", "score"):
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"))
