"""Every message the product writes has its Dutch translation: a string marked in a template or in the
code (`_()`, `N_()`, `ngettext`, `Message()`) without a Dutch entry fails here, named with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from peerdigest import i18n

SOURCE = Path(i18n.__file__).resolve().parents[1]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "Message": None}
METHODS = [
    ("**/migrations/**", "ignore"),
    ("**/testing/**", "ignore"),
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2.ext:babel_extract"),
]


def _marked() -> dict[str, str]:
    """Every marked message (its singular) with where it stands first."""
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        SOURCE, METHODS, keywords=KEYWORDS, options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    ):
        singular = message[0] if isinstance(message, tuple) else message
        if singular:
            found.setdefault(singular, f"{filename}:{lineno}")
    return found


def _dutch() -> dict[str, object]:
    entries: dict[str, object] = {}
    for path in sorted((i18n.CATALOGUES / "nl").glob("*.po")):
        with path.open("rb") as po:
            for message in read_po(po, locale="nl"):
                if message.id:
                    key = message.id[0] if isinstance(message.id, tuple) else message.id
                    entries[key] = message.string
    return entries


def test_there_are_marked_messages_to_check():
    assert len(_marked()) > 10


def test_every_marked_message_has_a_dutch_translation():
    dutch = _dutch()
    missing = [
        f"{where}: {message!r}"
        for message, where in sorted(_marked().items(), key=lambda item: item[1])
        if not (dutch.get(message) if not isinstance(dutch.get(message), tuple) else all(dutch[message]))
    ]
    assert not missing, "no Dutch translation in src/peerdigest/i18n/nl/*.po for:\n" + "\n".join(missing)


def test_a_message_is_translated_in_one_catalogue_only():
    seen: dict[str, Path] = {}
    twice = []
    for path in sorted((i18n.CATALOGUES / "nl").glob("*.po")):
        with path.open("rb") as po:
            for message in read_po(po, locale="nl"):
                if message.id and message.id in seen:
                    twice.append(f"{message.id!r} in {seen[message.id].name} and {path.name}")
                seen.setdefault(message.id, path)
    assert not twice, "\n".join(twice)


@pytest.mark.parametrize(
    ("language", "number", "expected"), [("nl", 7.256, "7,26"), ("en", 7.256, "7.26"), ("nl", 0.99, "0,99")]
)
def test_numbers_are_written_in_the_readers_locale(language, number, expected):
    with i18n.use_language(language):
        assert i18n.format_number(number) == expected


def test_times_are_written_in_the_schools_time_zone():
    from datetime import datetime, timezone

    moment = datetime(2026, 12, 5, 16, 48, tzinfo=timezone.utc)
    with i18n.use_language("nl"):
        assert i18n.format_datetime(moment, "Europe/Amsterdam").endswith("2026 17:48")
    with i18n.use_language("en"):
        assert i18n.format_datetime(moment, "Europe/London") == "5 Dec 2026, 16:48"


@pytest.mark.parametrize(
    ("user", "browser", "school", "expected"),
    [
        ("en", "nl-NL,nl;q=0.9", "nl", "en"),
        (None, "en-GB,en;q=0.9,nl;q=0.8", "nl", "en"),
        (None, "fr-FR, de;q=0.5", "en", "en"),
        (None, "nl;q=0, en;q=0.2", "nl", "en"),
        (None, None, None, "nl"),
    ],
)
def test_the_language_is_the_users_else_the_browsers_else_the_schools(user, browser, school, expected):
    assert i18n.negotiate(user, browser, school) == expected
