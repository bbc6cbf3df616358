"""The interface's words in Dutch and English, and numbers, dates and times in the reader's locale.

Source strings are English; the Dutch catalogue is one or more `.po` files in
`i18n/nl/` (one per area of the product: pages, collect, mail, ...), merged
when loaded, so two areas never edit the same file. English needs no catalogue.

The language of what is being written is held in a context variable: a request
sets it once (`use_language`) from `negotiate` (the user's own setting, else
the browser's Accept-Language, else the school's), a worker sets it for each
mail it writes. `_()` and the templates' `{{ _("...") }}` read it, so a
function that returns a message needs no language parameter.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone, tzinfo
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from jinja2 import Environment
from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.numbers import format_percent as _babel_percent
from babel.support import NullTranslations, Translations

CATALOGUES = Path(__file__).parent
LANGUAGES = ("nl", "en")
SOURCE_LANGUAGE = "en"
# Used where nothing says otherwise (no user, no browser preference, no school): the product is Dutch first.
DEFAULT_LANGUAGE = "nl"

_language: ContextVar[str] = ContextVar("peerdigest_language", default=DEFAULT_LANGUAGE)


@cache
def translations(language: str) -> NullTranslations:
    """Every catalogue of `language` merged into one; the source language translates nothing."""
    if language == SOURCE_LANGUAGE:
        return NullTranslations()
    merged = Translations()
    for path in sorted((CATALOGUES / language).glob("*.po")):
        with path.open("rb") as po:
            catalog = read_po(po, locale=language)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        merged.merge(Translations(compiled))
    return merged


def current_language() -> str:
    return _language.get()


@contextmanager
def use_language(language: str | None) -> Iterator[str]:
    """Write in `language` (one of LANGUAGES; anything else: the default) until the block ends."""
    chosen = language if language in LANGUAGES else DEFAULT_LANGUAGE
    token = _language.set(chosen)
    try:
        yield chosen
    finally:
        _language.reset(token)


def set_language(language: str | None) -> str:
    """Write in `language` for the rest of this context (a request); returns the one chosen."""
    chosen = language if language in LANGUAGES else DEFAULT_LANGUAGE
    _language.set(chosen)
    return chosen


def gettext(message: str, **values: object) -> str:
    """`message` in the current language, with `%(name)s` placeholders filled from `values`."""
    text = translations(current_language()).gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: object) -> str:
    text = translations(current_language()).ngettext(singular, plural, n)
    return text % {"num": n, **values}


_ = gettext


def N_(message: str) -> str:
    """Marks `message` for the catalogue where it is defined (a label in a table); it is translated where shown."""
    return message


class Message(str):
    """An English message (an error's detail, a notice) that is itself a plain string, for the API and the
    logs, and remembers its source and values so a page can write it again in its reader's language."""

    msgid: str
    values: dict[str, object]

    def __new__(cls, msgid: str, **values: object) -> Message:
        message = super().__new__(cls, msgid % values if values else msgid)
        message.msgid = msgid
        message.values = values
        return message

    def __reduce__(self):
        return (_message, (self.msgid, self.values))


def _message(msgid: str, values: dict[str, object]) -> Message:
    return Message(msgid, **values)


def translate(message: object) -> str:
    """`message` in the current language: a `Message` with its values, a string marked with N_() as it
    stands (no `%` formatting, so any text is safe); anything else as it is."""
    if isinstance(message, Message):
        return gettext(message.msgid, **message.values)
    if isinstance(message, str):
        return translations(current_language()).gettext(message)
    return message


# A language as the interface names it (translated where shown).
LANGUAGE_NAMES = {"nl": N_("Dutch"), "en": N_("English")}


def language_name(code: str | None) -> str:
    """`nl` as "Dutch" (in Dutch: "Nederlands"); a code without a name as it is."""
    return gettext(LANGUAGE_NAMES[code]) if code in LANGUAGE_NAMES else (code or "–")


def negotiate(user_language: str | None, accept_language: str | None, school_language: str | None) -> str:
    """The language to write to someone in: their own choice, else their browser's, else their school's."""
    if user_language in LANGUAGES:
        return user_language
    for language in _accepted(accept_language or ""):
        if language in LANGUAGES:
            return language
    return school_language if school_language in LANGUAGES else DEFAULT_LANGUAGE


def _accepted(header: str) -> list[str]:
    """The primary language tags of an Accept-Language header, most wanted first (q=0 left out)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            ranked.append((-quality, position, tag.split("-")[0].lower()))
    return [tag for _q, _p, tag in sorted(ranked)]


def zone(name: str | None) -> tzinfo:
    """The school's time zone; an unknown name falls back to the default rather than fail a page."""
    try:
        return ZoneInfo(name or "Europe/Amsterdam")
    except (KeyError, ValueError):
        return ZoneInfo("Europe/Amsterdam")


def format_number(value: float | int | None, digits: int = 2, fixed: bool = False) -> str:
    """`7,26` in Dutch, `7.26` in English; at most `digits` decimals, none shown when they are zero
    (`fixed`: always `digits` decimals, as a factor is written: `1,10`)."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + ("0" if fixed else "#") * digits if digits else "")
    return format_decimal(value, format=pattern, locale=current_language())


def format_percent(share: float | None) -> str:
    """A share of 1 as a whole percentage: `36%`."""
    if share is None:
        return "–"
    return _babel_percent(share, format="#,##0%", locale=current_language())


def format_datetime(value: datetime | None, time_zone: str | None = None) -> str:
    """`5 dec. 2026 17:48` in Dutch, `5 Dec 2026, 17:48` in English, in the school's time zone."""
    if value is None:
        return "–"
    local = on_school_clock(value, time_zone)
    return _babel_datetime(local, _pattern(local, _DATETIME), locale=_locale())


def format_date(value: datetime | None, time_zone: str | None = None) -> str:
    """`5 dec. 2026` in Dutch, `5 Dec 2026` in English; the day in the school's time zone."""
    if value is None:
        return "–"
    local = on_school_clock(value, time_zone)
    return _babel_date(local, _pattern(local, _DATE), locale=_locale())


def format_time(value: datetime | None, time_zone: str | None = None) -> str:
    """The time of day on the school's clock, `17:48`, the same in both languages."""
    if value is None:
        return "–"
    return on_school_clock(value, time_zone).strftime("%H:%M")


# Day, short month, year and the time without seconds: what a teacher reads at a glance.
_DATETIME = {"nl": "d MMM y HH:mm", "en": "d MMM y, HH:mm"}
_DATE = {"nl": "d MMM y", "en": "d MMM y"}


def on_school_clock(value: datetime, time_zone: str | None) -> datetime:
    """`value` on the school's clock; a naive value is taken as UTC, as the database stores time. A moment the
    school's clock cannot show (late on 9999-12-31, stored before such times were refused) stays in UTC rather
    than failing every page that shows it."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    try:
        return value.astimezone(zone(time_zone))
    except OverflowError:
        return value


def _pattern(local: datetime, patterns: dict[str, str]) -> str:
    """The language's pattern; Dutch writes a shortened month with a dot (`dec.`, `mrt.`, but `mei`),
    which Babel's abbreviations leave out."""
    pattern = patterns[current_language()]
    return pattern.replace("MMM", "MMM'.'") if _month_dot(local.month) else pattern


def _month_dot(month: int) -> bool:
    months = _locale().months["format"]
    return current_language() == "nl" and months["abbreviated"][month] != months["wide"][month]


def short_months() -> list[str]:
    """January to December shortened as `format_datetime` writes them (`jan.` … `mei` … `dec.`), for scripts
    that write times the same way."""
    abbreviated = _locale().months["format"]["abbreviated"]
    return [abbreviated[month] + ("." if _month_dot(month) else "") for month in range(1, 13)]


def _locale() -> Locale:
    return Locale.parse(current_language())


def install(environment: Environment) -> None:
    """Jinja2 writes in the current language: `{{ _("...") }}`, `ngettext`, and the filters `number`,
    `percent`, `datetime`, `date`, `time` and `translate` (a message made in Python: N_() or `Message`)."""
    environment.add_extension("jinja2.ext.i18n")
    # Newstyle gettext: `{{ _("Hello %(name)s", name=user.name) }}` escapes the values it fills in.
    environment.install_gettext_callables(
        lambda message: translations(current_language()).gettext(message),
        lambda singular, plural, n: translations(current_language()).ngettext(singular, plural, n),
        newstyle=True,
    )
    environment.filters.update(
        number=format_number, percent=format_percent, datetime=format_datetime, date=format_date, time=format_time,
        # Unlike `_()` no format string, so a `%` in an error's detail cannot break the page.
        translate=translate,
    )
    environment.globals.update(language_name=language_name, short_months=short_months)
