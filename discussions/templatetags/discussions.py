"""The conversation panel that the SLA pages include: `{% discussion_panel version %}`.

A template tag, so the agreements app's views need not import this app.
"""

from django import template

from agreements.parts import PARTS_BY_SLUG

from .. import permissions as can
from ..selectors import part_rows, version_conversation, version_invites
from ..services import suggestion_targets

register = template.Library()


@register.inclusion_tag("discussions/partials/panel.html", takes_context=True)
def discussion_panel(context, version, part=None):
    request = context["request"]
    user = request.user
    slug = getattr(part, "slug", part)
    readable = can.can_read(user, version)
    conversations = version_conversation(version=version, part=slug) if readable else []
    may_comment = can.can_comment(user, version)
    for conversation in conversations:
        p = conversation.part
        conversation.may_suggest = can.can_suggest(user, version, p.slug)
        conversation.targets = (
            suggestion_targets(version=version, part=p) if conversation.may_suggest else []
        )
        conversation.rows = part_rows(version=version, part_slug=p.slug) if may_comment else []
        for suggestion in conversation.suggestions:
            suggestion.may_decide = version.is_editable and can.can_decide(user, suggestion)
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "version": version,
        "single": PARTS_BY_SLUG.get(slug) if slug else None,
        "conversations": conversations,
        "readable": readable,
        "may_comment": may_comment,
        "may_moderate": can.can_moderate(user, version),
        "invites": version_invites(version=version) if can.can_moderate(user, version) else [],
        "user": user,
    }
