"""Reads about people: who is away, who has room for more leads, the team list."""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Prefetch, Q

from slaportal.roles import Role

from .models import Absence

User = get_user_model()


def away_now(now: datetime):
    """A condition on users: an absence of theirs covers `now` (for .filter / .exclude)."""
    return Exists(Absence.objects.filter(rep=OuterRef("pk"), starts_at__lte=now, ends_at__gt=now))


def workspace_users():
    """Everyone with a role here except API accounts, with their groups and rep profile."""
    roles = [role for role in Role.values if role != Role.INTEGRATION]
    return (
        User.objects.filter(Q(groups__name__in=roles) | Q(groups__isnull=True))
        .exclude(groups__name=Role.INTEGRATION)
        .filter(is_superuser=False)
        .select_related("rep_profile")
        .prefetch_related("groups")
        .distinct()
        .order_by("-is_active", "first_name", "username")
    )


def sales_reps():
    return User.objects.filter(groups__name=Role.SALES_REP).order_by("first_name", "username")


def absences_visible_to(user, *, now: datetime):
    """Current and coming absences: every rep's for a sales manager, else the user's own."""
    absences = Absence.objects.filter(ends_at__gt=now).select_related("rep", "created_by")
    if not (user.is_superuser or user.groups.filter(name=Role.SALES_MANAGER).exists()):
        absences = absences.filter(rep=user)
    return absences.order_by("starts_at", "id")


def users_with_absences(users, *, now: datetime):
    return users.prefetch_related(
        Prefetch(
            "absences",
            queryset=Absence.objects.filter(ends_at__gt=now).order_by("starts_at"),
            to_attr="coming_absences",
        )
    )
