"""Markdown-light for comments, rendered safely: escape everything, then a few inline marks.

**bold**, *italic*, `code`, line breaks, and @username mentions. Nothing a person types can
become markup of its own: the marks are applied to already-escaped text.
"""

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

MENTION = re.compile(r"(?<![\w@.])@([\w.+-]{1,150})")
_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*([^*\n]+)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*([^*\n]+)\*(?![*\w])")


def mentioned_usernames(text: str) -> list[str]:
    """The @usernames in a text, in order, each once (a trailing dot is punctuation)."""
    seen: list[str] = []
    for match in MENTION.finditer(text or ""):
        name = match.group(1).rstrip(".")
        if name and name not in seen:
            seen.append(name)
    return seen


def render_light(text: str, *, known: set[str] | frozenset = frozenset()) -> SafeString:
    """The comment as safe HTML; mentions of `known` usernames are highlighted."""
    html = escape(text or "").replace("\r\n", "\n")
    codes: list[str] = []

    def keep_code(match):
        codes.append(match.group(1))
        return f"\x00{len(codes) - 1}\x00"

    html = _CODE.sub(keep_code, html)  # no marks inside code
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    html = _ITALIC.sub(r"<em>\1</em>", html)

    def mention(match):
        name = match.group(1).rstrip(".")
        rest = match.group(1)[len(name) :]
        if name in known:
            return f'<span class="mention">@{name}</span>{rest}'
        return match.group(0)

    html = MENTION.sub(mention, html)
    html = re.sub(r"\x00(\d+)\x00", lambda m: f"<code>{codes[int(m.group(1))]}</code>", html)
    return mark_safe(html.replace("\n", "<br>"))  # noqa: S308 - built from escaped text
