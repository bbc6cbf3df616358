"""Imports point one way: from the entry points down to the database, never back up.

    cli, web, api, dev          entry points: a command, a page, a request, a tool
      ↓
    ops → queue → domain → summarize
      ↓
    db, config, i18n

Among the entry points, `web` puts its pages on the API's app and uses the
API's dependencies (who is signed in, what they may see); the API never imports
the web app, so the web's composition is what `cli` serves.
Within the middle layer the order is the arrow: `ops` reads the queues, the
queue runs the domain, the domain hands feedback to a summarizer. `summarize`
is pure: it turns feedback into text and knows no database, queue or HTTP
framework. `dev` is a tool for this machine: only the CLI starts it.
`testing` holds test doubles (a fake LLM server) for the tests and the bench;
nothing in the application imports it.

The walk reads every import statement, also those inside functions (the CLI
imports lazily to start fast), so a lazy import cannot hide a wrong direction.
"""

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src" / "peerdigest"

# What each part of the package may import from peerdigest, besides itself.
MAY_IMPORT: dict[str, set[str]] = {
    "cli": {"api", "web", "dev", "ops", "queue", "domain", "summarize", "db", "config", "i18n", "data"},
    "api": {"ops", "queue", "domain", "summarize", "db", "config", "i18n"},
    "web": {"api", "ops", "queue", "domain", "summarize", "db", "config", "i18n"},
    "dev": {"queue", "domain", "summarize", "db", "config", "i18n", "data", "testing"},
    "ops": {"queue", "domain", "summarize", "db", "config", "i18n"},
    "queue": {"domain", "summarize", "db", "config", "i18n"},
    "domain": {"summarize", "db", "config", "i18n"},
    "summarize": {"config"},  # and the pure domain modules below
    "db": {"config"},
    "config": set(),
    # The interface's words and formats: any layer writes to people (pages, mail, exports), and it imports nothing.
    "i18n": set(),
    "testing": {"domain", "summarize", "config"},
    "data": set(),
}
# The domain modules that are plain values and text rules, which summarizers read (checked pure below).
PURE_DOMAIN = {"peerdigest.domain.received", "peerdigest.domain.names", "peerdigest.domain.flags"}
# Third-party packages that would make `summarize` impure.
NOT_IN_SUMMARIZE = {"sqlalchemy", "redis", "rq", "fastapi", "starlette"}


def _part(path: Path) -> str:
    relative = path.relative_to(SOURCE)
    return relative.parts[0].removesuffix(".py") if len(relative.parts) > 1 or relative.suffix else ""


def _imported(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) of every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ["peerdigest", *path.relative_to(SOURCE).parent.parts]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # `from peerdigest import cli` names a part in the imported names.
            if module == "peerdigest":
                found.extend((node.lineno, f"peerdigest.{alias.name}") for alias in node.names)
    return found


def _modules() -> list[Path]:
    return sorted(path for path in SOURCE.rglob("*.py") if "migrations" not in path.parts)


def test_every_part_of_the_package_has_its_place_in_the_layers():
    parts = {_part(path) for path in _modules()} - {"", "__init__", "__main__"}
    assert parts <= set(MAY_IMPORT), f"place {sorted(parts - set(MAY_IMPORT))} in MAY_IMPORT"


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(SOURCE)))
def test_imports_point_down_the_layers(path: Path):
    part = _part(path)
    if part in ("", "__init__", "__main__"):
        return
    wrong = []
    for line, module in _imported(path):
        names = module.split(".")
        if names[0] == "peerdigest" and len(names) > 1:
            target = names[1]
            pure = part == "summarize" and module in PURE_DOMAIN
            if target != part and target not in MAY_IMPORT[part] and not pure:
                wrong.append(f"line {line}: {part} imports {module}")
        elif part == "summarize" and names[0] in NOT_IN_SUMMARIZE:
            wrong.append(f"line {line}: summarize imports {module}")
    assert not wrong, "\n".join(wrong)


def test_route_modules_share_through_deps_and_errors_not_through_each_other():
    routes = SOURCE / "api" / "routes"
    wrong = [
        f"{path.name} line {line}: {module}"
        for path in sorted(routes.glob("*.py"))
        for line, module in _imported(path)
        if module.startswith("peerdigest.api.routes") and module != "peerdigest.api.routes"
    ]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("module", sorted(PURE_DOMAIN))
def test_the_domain_modules_summarizers_read_are_pure(module: str):
    path = SOURCE.joinpath(*module.split(".")[1:]).with_suffix(".py")
    imported = {name.split(".")[0] if not name.startswith("peerdigest.") else name for _, name in _imported(path)}
    assert not imported & (NOT_IN_SUMMARIZE | {"httpx"}), "no database, queue or HTTP"
    assert {name for name in imported if name.startswith("peerdigest.")} <= PURE_DOMAIN | {"peerdigest.config"}


def test_only_the_openai_provider_knows_the_openai_sdk():
    """The LLM seam: every other module talks to a `summarize.provider.Provider` and meets only `ProviderError`."""
    knows = sorted(
        str(path.relative_to(SOURCE)) for path in _modules()
        if any(module.split(".")[0] == "openai" for _, module in _imported(path))
    )
    assert knows == ["summarize/openai_compatible.py"]
