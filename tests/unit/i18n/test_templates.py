"""No template shows a person an English word outside `_()`: the text between tags, and the attributes a
person reads (title, placeholder, aria-label, alt, a button's value, the busy and confirm messages of a
form), must come from Jinja expressions; only names that are the same in every language stand literally."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment

import peerdigest

SOURCE = Path(peerdigest.__file__).parent
TEMPLATES = sorted((SOURCE / "web" / "templates").glob("*.html")) + sorted((SOURCE / "domain" / "templates").glob("*.html"))
# Read by people, so translated: attributes of any element, and `value` where it is a button's text
# (an <input type="submit">; a <button>'s value is sent, not shown).
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "data-busy", "data-confirm", "label"}
BUTTON_INPUTS = {"submit", "button", "reset"}
# Words that are the same in every language: the product, file formats, the language names in their own
# language (the chooser), the API token's prefix.
ALLOWED = {"peerdigest", "CSV", "HTML", "JSON", "xlsx", "English", "Nederlands", "pd"}
WORD = re.compile(r"[^\W\d_]{2,}")
EXPRESSION = "§"  # what a Jinja expression or statement stands as in the text


def literal_text(source: str) -> str:
    """The template as HTML, every `{{ … }}` and `{% … %}` replaced by a placeholder, comments left out."""
    parts = []
    for _line, token, value in Environment().lex(source):
        if token == "data":
            parts.append(value)
        elif token in ("variable_begin", "block_begin"):
            parts.append(EXPRESSION)
    return "".join(parts)


class _Reader(HTMLParser):
    """Collects the literal words a person reads, with their line."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self.skipping: str | None = None  # inside <script> or <style>

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skipping = tag
        named = dict(attrs)
        for name, value in attrs:
            read = name in READ_ATTRIBUTES or (name == "value" and tag == "input" and named.get("type") in BUTTON_INPUTS)
            if read and value:
                self._words(value)

    def handle_endtag(self, tag):
        if tag == self.skipping:
            self.skipping = None

    def handle_data(self, data):
        if not self.skipping:
            self._words(data)

    def _words(self, text: str) -> None:
        for word in WORD.findall(text):
            if word not in ALLOWED:
                self.found.append((self.getpos()[0], text.strip()))
                return


def untranslated(source: str) -> list[tuple[int, str]]:
    reader = _Reader()
    reader.feed(literal_text(source))
    reader.close()
    return reader.found


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_a_template_has_no_literal_words_a_person_reads(template):
    found = untranslated(template.read_text(encoding="utf-8"))
    assert not found, f"{template.name}: words outside _() (wrap them, or add a name to ALLOWED):\n" + "\n".join(
        f"  line {line}: {text!r}" for line, text in found
    )


@pytest.mark.parametrize(
    "source",
    [
        "<p>Hello {{ name }}</p>",
        '<span title="Peer average">{{ _("Factor") }}</span>',
        '<input placeholder="e.g. Project week">',
        '<input type="submit" value="Save">',
        '<form data-busy="Saving…"><button type="submit" name="language" value="en">{{ _("Save") }}</button></form>',
        "{% if x %}<td>never</td>{% endif %}",
    ],
)
def test_the_check_finds_a_literal_word(source):
    assert untranslated(source)


@pytest.mark.parametrize(
    "source",
    [
        '<p>{{ _("Hello %(name)s", name=name) }}</p>',
        '<a class="brand" href="/evaluations/{{ id }}/review">peerdigest</a>',
        "<style>body { font: 12pt Georgia }</style><script>const x = 'words';</script>",
        '<input type="hidden" name="next" value="some-path">{# a comment in English #}',
        '<span title="{{ _(\'Factor\') }}">{{ value|number }} · – ›</span>',
    ],
)
def test_the_check_passes_translated_and_language_free_text(source):
    assert not untranslated(source)
