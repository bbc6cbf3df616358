"""One owner of each transaction: a request's unit of work (`api.deps.get_session`) commits or rolls back, never
the route or page it serves.

A route or page that commits by hand splits its request in two transactions (a
client may get an error for a write that stayed), and one that rolls back by
hand also runs the actions waiting on the commit it dropped. They say what they
mean instead: `after_commit` for what follows the commit, `discard_writes` for a
refusal answered with a page. The walk reads every call, also those inside
nested functions, so none can hide.
"""

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src" / "peerdigest"
ROUTES_AND_PAGES = sorted([*(SOURCE / "api" / "routes").glob("*.py"), *(SOURCE / "web").rglob("*.py")])


def _transaction_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        f"line {node.lineno}: .{node.func.attr}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("commit", "rollback")
    ]


def test_the_walk_finds_routes_and_pages():
    names = {str(path.relative_to(SOURCE)) for path in ROUTES_AND_PAGES}
    assert {"api/routes/evaluations.py", "web/submissions.py"} <= names


@pytest.mark.parametrize("path", ROUTES_AND_PAGES, ids=lambda path: str(path.relative_to(SOURCE)))
def test_routes_and_pages_neither_commit_nor_roll_back(path: Path):
    found = _transaction_calls(path)
    assert not found, "use after_commit / discard_writes (db/session.py): " + ", ".join(found)
