"""`peerdigest preview` through the real command: what would be sent, what comes back, and nothing stored.

The command runs in-process (Typer's runner) with exactly the environment a
shell would give it; nothing here needs a separate process.
"""

from sqlalchemy import func, select
from typer.testing import CliRunner

from peerdigest.cli import app
from peerdigest.db.models import FeedbackSummary, SummaryJob
from peerdigest.db.session import session_scope
from peerdigest.summarize.prompt import PROMPT_VERSION
from tests.conftest import settings_env
from peerdigest.testing.fake_llm import Reply

DEMO_NAMES = ("Jan", "Vries", "Sanne", "Bakker", "Mohammed", "Amrani", "Lisa", "Jansen")


def run_cli(settings, *args):
    # A wide console: Rich wraps at the terminal's width, and unwrapped lines keep the asserts readable.
    return CliRunner().invoke(app, list(args), env={**settings_env(settings), "COLUMNS": "400"})


def stored_rows(settings):
    with session_scope(settings.database_url) as session:
        return (session.scalar(select(func.count(FeedbackSummary.id))),
                session.scalar(select(func.count(SummaryJob.id))))


def test_without_an_llm_it_shows_the_data_an_llm_would_get_and_the_builtin_summary(demo_school):
    result = run_cli(demo_school, "preview", "--evaluation", "56", "--student", "19", "--show-prompt")

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Evaluation 56, student 19 (nl): 3 reviewer(s)" in out
    assert f"Instructions (prompt version {PROMPT_VERSION})" in out and "Write in Dutch" in out
    assert "LLM_BASE_URL is not set: nothing is sent anywhere" in out
    assert "<feedback_data>" in out and '"criterion": "Inzet", "average": 2.0' in out
    assert "Het minst sterk scoor je op inzet" in out and "method builtin" in out
    assert not [name for name in DEMO_NAMES if name in out]
    assert stored_rows(demo_school) == (0, 0), "a preview stores nothing and queues nothing"


def test_with_an_llm_it_shows_every_answer_and_the_guards_verdict(demo_school, fake_llm):
    settings = demo_school.model_copy(update={"llm_base_url": fake_llm.base_url, "llm_model": "fake-model"})
    fake_llm.then(Reply("I'm sorry, but I can't help with that."))

    result = run_cli(settings, "preview", "--evaluation", "57", "--student", "20")

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"Sent to {fake_llm.base_url} as data" in out and "Instructions" not in out
    assert "Answer 1" in out and "rejected: the model refused" in out
    assert "Answer 2" in out and "accepted" in out
    assert f"method ai, model fake-model, prompt version {PROMPT_VERSION}" in out
    assert len(fake_llm.requests) == 2
    assert stored_rows(settings) == (0, 0)


def test_an_unknown_student_is_a_plain_error(demo_school):
    result = run_cli(demo_school, "preview", "--evaluation", "56", "--student", "99")
    assert result.exit_code == 1
    assert "student 99 does not take part in evaluation 56." in result.stderr
