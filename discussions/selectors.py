"""Reads of the conversation: threads and suggestions of a version, grouped by part."""

from dataclasses import dataclass, field

from django.db.models import Prefetch

from agreements.parts import PARTS, PARTS_BY_SLUG
from slaportal.clock import local_time

from .models import Comment, Invite, Suggestion, Thread
from .text import render_light


@dataclass
class PartConversation:
    part: object
    threads: list = field(default_factory=list)
    suggestions: list = field(default_factory=list)

    @property
    def open_threads(self) -> list:
        return [t for t in self.threads if t.status == Thread.Status.OPEN]

    @property
    def open_suggestions(self) -> list:
        return [s for s in self.suggestions if s.status == Suggestion.Status.OPEN]


def _threads(version):
    comments = Comment.objects.select_related("author").prefetch_related("mentions")
    return list(
        Thread.objects.filter(version=version)
        .select_related("created_by", "resolved_by", "suggestion")
        .prefetch_related(Prefetch("comments", queryset=comments))
    )


def comments_rendered(thread) -> list:
    for comment in thread.comments.all():
        known = {user.username for user in comment.mentions.all()}
        comment.html = render_light(comment.text, known=known)
    return list(thread.comments.all())


def version_conversation(*, version, part: str | None = None) -> list[PartConversation]:
    """Per part (in the SLA's order), its threads and suggestions, with comments rendered;
    a fixed number of queries whatever the number of threads."""
    by_part = {p.slug: PartConversation(p) for p in PARTS if part in (None, p.slug)}
    for thread in _threads(version):
        if thread.part in by_part:
            thread.rendered = comments_rendered(thread)
            by_part[thread.part].threads.append(thread)
    suggestions = Suggestion.objects.filter(version=version).select_related(
        "created_by", "decided_by"
    )
    for suggestion in suggestions:
        if suggestion.part in by_part:
            by_part[suggestion.part].suggestions.append(suggestion)
    return list(by_part.values())


def version_decisions(*, version) -> list[dict]:
    """The threads and suggestions that led to a version, as plain data for the history page
    and the PDF appendix."""
    out = []
    for conversation in version_conversation(version=version):
        threads = {thread.pk: thread for thread in conversation.threads}
        for suggestion in conversation.suggestions:
            # A suggestion's own thread is its conversation: told once, under the suggestion.
            thread = threads.pop(suggestion.thread_id, None)
            said = [_said(c) for c in thread.comments.all()] if thread else []
            decided = (
                [
                    f"{suggestion.get_status_display()}: {_name(suggestion.decided_by)}"
                    + (f" ({suggestion.decision_note})" if suggestion.decision_note else "")
                ]
                if suggestion.decided_at
                else []
            )
            out.append(
                {
                    "kind": "suggestion",
                    "part": str(conversation.part.title),
                    "title": f"{suggestion.label}: {suggestion.old_display or '—'} → "
                    f"{suggestion.new_display}",
                    "status": str(suggestion.get_status_display()),
                    "lines": said + decided,
                }
            )
        for thread in threads.values():
            out.append(
                {
                    "kind": "thread",
                    "part": str(conversation.part.title),
                    "title": thread.title + (f" ({thread.row_label})" if thread.row_label else ""),
                    "status": str(thread.get_status_display()),
                    "lines": [_said(c) for c in thread.comments.all()],
                }
            )
    return out


def _said(comment) -> str:
    return f"{_name(comment.author)}, {local_time(comment.created_at)}: {comment.text}"


def _name(user) -> str:
    return (user.get_full_name() or user.username) if user else "—"


def version_invites(*, version) -> list:
    return list(Invite.objects.filter(version=version).select_related("user"))


def part_rows(*, version, part_slug: str) -> list[tuple[str, str]]:
    """(rowset:row_key, label) of a part's rows, for a thread on one row."""
    part = PARTS_BY_SLUG[part_slug]
    out = []
    for rowset in part.rowsets:
        for row in rowset.queryset(version):
            out.append((f"{rowset.key}:{row.row_key}", f"{rowset.title}: {row}"[:120]))
    return out
