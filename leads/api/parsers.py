"""The API's JSON parser, and the checks every free-form JSON value of the API goes through.

Python's json module reads what PostgreSQL and UTF-8 cannot keep: a NUL character (PostgreSQL
text and jsonb refuse it), a lone UTF-16 surrogate such as "\\ud800" (not a character, so
neither the database nor our own JSON renderer can encode it) and nesting so deep that
decoding it exhausts the interpreter's recursion limit. Each would surface as a 500; here they
are refused with a 400 that names where they are.
"""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# A whole request body: a batch list, its items and their JSON fields fit well inside this.
MAX_BODY_DEPTH = 32
# A free-form JSON field (a lead's attributes, an event's properties).
MAX_FIELD_DEPTH = 20


def text_problem(text: str) -> str | None:
    """Why this string cannot be stored, or None."""
    if "\x00" in text:
        return _("contains a NUL character (\\u0000), which cannot be stored")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _("contains a lone surrogate (e.g. \\ud800), which is not valid Unicode")
    return None


def json_problem(value, *, max_depth: int, check_nul: bool = True) -> tuple[str, str] | None:
    """The first (path, problem) of a parsed JSON value, or None when it can be stored.

    The path joins keys and list indexes with dots ("" for the value itself); it never
    contains a bad string, so the answer can always be rendered. Iterative, so a deep value
    cannot exhaust the recursion limit here either.
    """
    if not _has_problem(value, max_depth=max_depth, check_nul=check_nul):
        return None
    return _first_problem(value, max_depth=max_depth, check_nul=check_nul)


def _has_problem(value, *, max_depth: int, check_nul: bool) -> bool:
    """Whether _first_problem would find anything: the same walk without building a path for
    every node, and with ASCII strings (almost all of them) checked in place. A 1,000-event
    batch has some 12,000 strings; building their paths cost more than validating them."""

    def bad(text: str) -> bool:
        if text.isascii():
            return check_nul and "\x00" in text
        return _first_problem(text, max_depth=1, check_nul=check_nul) is not None

    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            if depth > max_depth:
                return True
            for key, child in node.items():
                if bad(key if isinstance(key, str) else str(key)):
                    return True
                if isinstance(child, str):
                    if bad(child):
                        return True
                elif isinstance(child, dict | list):
                    stack.append((child, depth + 1))
        elif isinstance(node, list):
            if depth > max_depth:
                return True
            for child in node:
                if isinstance(child, str):
                    if bad(child):
                        return True
                elif isinstance(child, dict | list):
                    stack.append((child, depth + 1))
        elif isinstance(node, str) and bad(node):
            return True
    return False


def _first_problem(value, *, max_depth: int, check_nul: bool) -> tuple[str, str] | None:
    def problem_of(text: str) -> str | None:
        if not check_nul and "\x00" in text:
            text = text.replace("\x00", "")
        return text_problem(text)

    stack = [(value, 1, "")]
    while stack:
        node, depth, path = stack.pop()
        if isinstance(node, str):
            if problem := problem_of(node):
                return path, problem
            continue
        if isinstance(node, dict):
            children = []
            for key, child in node.items():
                if problem := problem_of(str(key)):
                    return path, _("a key %(problem)s") % {"problem": problem}
                children.append((f"{path}.{key}" if path else str(key), child))
        elif isinstance(node, list):
            children = [
                (f"{path}.{index}" if path else str(index), child)
                for index, child in enumerate(node)
            ]
        else:
            continue
        if depth > max_depth:
            return path, _("is nested deeper than %(max)d levels") % {"max": max_depth}
        stack.extend((child, depth + 1, child_path) for child_path, child in reversed(children))
    return None


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, refusing bodies too deep to decode and lone surrogates with a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(
                _("JSON parse error - nested too deeply; at most %(max)d levels.")
                % {"max": MAX_BODY_DEPTH}
            ) from None
        # NUL is valid JSON and renders fine in an answer; the fields refuse it by name.
        found = json_problem(data, max_depth=MAX_BODY_DEPTH, check_nul=False)
        if found:
            path, problem = found
            raise ParseError(
                _("JSON parse error - %(where)s %(problem)s.")
                % {"where": path or _("the body"), "problem": problem}
            )
        return data
