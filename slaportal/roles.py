"""The four roles of SLA Portal, kept as Django groups, and the checks views use."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    # The values are the groups' names; the labels are what people read.
    MARKETING_MANAGER = "Marketing manager", _("Marketing manager")
    SALES_MANAGER = "Sales manager", _("Sales manager")
    SALES_REP = "Sales rep", _("Sales rep")
    VIEWER = "Viewer", _("Viewer")
    # API-only accounts (the website form, a CRM sync): they push and read leads by token.
    INTEGRATION = "Integration", _("Integration")


MANAGERS = (Role.MARKETING_MANAGER, Role.SALES_MANAGER)
READERS = (*MANAGERS, Role.SALES_REP, Role.VIEWER)


def user_roles(user) -> frozenset[str]:
    """The user's roles; a superuser administers and so holds them all."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_sla_roles", None)
    if cached is None:
        if user.is_superuser:
            cached = frozenset(Role.values)
        else:
            names = user.groups.values_list("name", flat=True)
            cached = frozenset(name for name in names if name in Role.values)
        user._sla_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def require_role(user, *roles: str) -> None:
    if not has_role(user, *roles):
        raise PermissionDenied(gettext("Your role does not allow this."))


def role_required(*roles: str):
    """View decorator: anonymous users go to the login page, other refused roles get 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            require_role(request.user, *roles)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
