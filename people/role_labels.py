"""Roles as people read them. A role's value is its group's name (English, stored); the label
shown on pages and in e-mails is translated."""

from django.utils.translation import gettext_lazy as _

from slaportal.roles import Role

ROLE_LABELS = {
    Role.MARKETING_MANAGER: _("Marketing manager"),
    Role.SALES_MANAGER: _("Sales manager"),
    Role.SALES_REP: _("Sales rep"),
    Role.VIEWER: _("Viewer"),
    Role.INTEGRATION: _("Integration"),
}


def role_label(role: str) -> str:
    """The role's label in the active language; a name that is no role stays as it is."""
    return str(ROLE_LABELS.get(role, role))
