"""Whether a user may open one lead's page, decided from the loaded row without a query.

Pages that list leads for several roles (notifications, queue rows) link a lead only when the
reader may open it, so a rep never follows a link into a 404. The rule is the one
`leads.selectors.leads_visible_to` applies to querysets; tests hold the two together.
"""

from slaportal.roles import Role, has_role

SEES_EVERY_LEAD = (Role.MARKETING_MANAGER, Role.SALES_MANAGER, Role.VIEWER, Role.INTEGRATION)


def lead_openable_by(lead, user) -> bool:
    if lead is None or user is None or not user.is_authenticated:
        return False
    if has_role(user, *SEES_EVERY_LEAD):
        return True
    return has_role(user, Role.SALES_REP) and lead.owner_id == user.pk
