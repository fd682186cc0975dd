"""Text from alerts made safe for each channel's markup: a mail header, Microsoft Teams'
Markdown. (Slack escapes its own three characters; the e-mail's HTML part is autoescaped by
its template.)"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls and the Unicode line and paragraph separators: any of them
# in a header could end it, or start another.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")

# The punctuation that CommonMark lets a backslash escape and that Adaptive Cards' Markdown
# subset acts on: emphasis, links, code, HTML and headings.
_MARKDOWN = re.compile(r"([\\`*_\[\]()<>#~|!])")


def header_value(text: str) -> str:
    """`text` as one header line: every run of control characters becomes one space."""
    return _CONTROL.sub(" ", text).strip()


def one_line(value: object) -> object:
    """A template value as printed: text loses its control characters (line breaks too);
    anything else is left to the template."""
    return _CONTROL.sub(" ", value) if isinstance(value, str) else value


def markdown_text(text: str) -> str:
    """`text` shown as written in a Markdown TextBlock: no link, emphasis or code comes of it;
    control characters other than the line break become spaces."""
    plain = re.sub(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", " ", text)
    return _MARKDOWN.sub(r"\\\1", plain)
