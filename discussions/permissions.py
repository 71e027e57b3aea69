"""Who may read and write the conversation on a version (decided for issue 14).

- Managers read every thread, comment on drafts, open blocking threads, invite, resolve.
- Reps and viewers read the threads of published versions; on a draft they read and comment
  only when a manager invited them to that version (an explicit invite per version).
- Nobody comments on a published version: it is closed, its conversation is its history.
- A suggestion is made by a manager who may not edit the part (the other side's part), or by
  any manager while the draft is submitted (its parts are locked for sign-off: an edit would
  withdraw the approvals). The owner decides it: a manager who may edit the part, never the
  person who made it.
"""

from agreements.models import Team
from agreements.parts import PARTS_BY_SLUG, part_editable_by_side
from slaportal.roles import MANAGERS, READERS, Role, has_role

from .models import Invite


def is_manager(user) -> bool:
    return has_role(user, *MANAGERS)


def is_invited(user, version) -> bool:
    return Invite.objects.filter(version=version, user=user).exists()


def can_read(user, version) -> bool:
    if is_manager(user):
        return True
    if not has_role(user, *READERS):
        return False
    return not version.is_editable or is_invited(user, version)


def can_comment(user, version) -> bool:
    if not version.is_editable:
        return False
    return is_manager(user) or (has_role(user, *READERS) and is_invited(user, version))


def can_moderate(user, version) -> bool:
    """Mark blocking, resolve any thread, invite: the managers of a draft."""
    return version.is_editable and is_manager(user)


def sides_of(user) -> list[str]:
    return [
        side
        for side, role in (
            (Team.MARKETING, Role.MARKETING_MANAGER),
            (Team.SALES, Role.SALES_MANAGER),
        )
        if has_role(user, role)
    ]


def can_edit_part(user, part_slug: str) -> bool:
    part = PARTS_BY_SLUG.get(part_slug)
    return part is not None and any(part_editable_by_side(part, s) for s in sides_of(user))


def can_suggest(user, version, part_slug: str) -> bool:
    if not version.is_editable or not is_manager(user) or part_slug not in PARTS_BY_SLUG:
        return False
    locked = version.status == version.Status.SUBMITTED
    return locked or not can_edit_part(user, part_slug)


def can_decide(user, suggestion) -> bool:
    return (
        is_manager(user)
        and suggestion.created_by_id != user.pk
        and can_edit_part(user, suggestion.part)
    )
