"""Writes about people: inviting and editing workspace users, absences, and the jobs that
keep assignment honest about who is available (issue 11).

The jobs are safe to run twice: an absence's on-start policy is claimed with one UPDATE of
`applied_at`, and a waiting handoff is assigned under a row lock of the agreement, like
every assignment run (leads.services.handoffs.handoffs_create_bulk).
"""

from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from agreements.models import Agreement, HandoffPolicy
from leads.models import Handoff, HandoffAssignment, Lead
from leads.services.handoffs import (
    ACTIVE,
    RepPicker,
    active_reps,
    unassigned_notices,
)
from leads.services.notifications import EMAIL, Notice, languages_of, notify_many, written_for
from slaportal.clock import local_time
from slaportal.events import events_emit_many
from slaportal.language import in_team_language, language_of
from slaportal.outbox import outbox_write
from slaportal.roles import MANAGERS, Role, has_role

from .models import Absence, OnAbsence, RepProfile
from .role_labels import role_label

User = get_user_model()
# Roles a manager may give on the people page; API accounts are made in the admin.
GIVABLE_ROLES = (Role.SALES_REP, Role.SALES_MANAGER, Role.MARKETING_MANAGER, Role.VIEWER)


def _require_manager(by) -> None:
    if not has_role(by, *MANAGERS):
        raise PermissionDenied(_("Only a manager manages people."))


def _require_role(role: str) -> None:
    if role not in GIVABLE_ROLES:
        raise ValidationError({"role": _("Choose one of the roles on the list.")})


def _profile_save(user, *, team: str, capacity: int | None) -> RepProfile:
    team = (team or "").strip()
    if len(team) > 80:
        raise ValidationError({"team": _("Keep the team's name to 80 characters.")})
    if capacity is not None and capacity < 1:
        raise ValidationError({"capacity": _("Capacity is at least 1, or blank for no limit.")})
    profile, _created = RepProfile.objects.update_or_create(
        user=user, defaults={"team": team, "capacity": capacity}
    )
    return profile


def _role_set(user, role: str) -> None:
    keep = user.groups.exclude(name__in=Role.values)
    user.groups.set([*keep, Group.objects.get_or_create(name=role)[0]])
    user._sla_roles = None


def invitation_link(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    return f"{settings.SITE_URL}{path}"


def user_invite(
    *,
    email: str,
    first_name: str,
    last_name: str = "",
    role: str,
    team: str = "",
    capacity: int | None = None,
    by,
    now: datetime | None = None,
):
    """Make an account with no password and e-mail its owner a link to set one (outbox)."""
    _require_manager(by)
    _require_role(role)
    email = (email or "").strip().lower()
    if not email or "@" not in email:
        raise ValidationError({"email": _("Give the person's e-mail address.")})
    if not (first_name or "").strip():
        raise ValidationError({"first_name": _("Give the person's first name.")})
    if (
        User.objects.filter(email__iexact=email).exists()
        or User.objects.filter(username__iexact=email).exists()
    ):
        raise ValidationError({"email": _("Someone with this e-mail already has an account.")})
    now = now or timezone.now()
    with transaction.atomic():
        user = User.objects.create_user(
            username=email,
            email=email,
            first_name=first_name.strip(),
            last_name=(last_name or "").strip(),
        )  # no password: an unusable one until they set theirs
        _role_set(user, role)
        _profile_save(user, team=team, capacity=capacity)
        inviter = by.get_full_name() or by.username
        # Written for the newcomer, who chose no language yet: the workspace's.
        with translation.override(language_of(user)):
            payload = {
                "to": [email],
                "subject": _("[SLA Portal] %(inviter)s invited you") % {"inviter": inviter},
                "body": _(
                    "%(inviter)s made you an SLA Portal account as %(role)s.\n\n"
                    "Choose your password here (the link works for a few days):\n%(link)s\n\n"
                    "Your username is %(username)s."
                )
                % {
                    "inviter": inviter,
                    "role": role_label(role),
                    "link": invitation_link(user),
                    "username": user.username,
                },
            }
        outbox_write(channel=EMAIL, key=f"{EMAIL}:{user.pk}:invitation", payload=payload, now=now)
    return user


def user_update(
    *, user, role: str, is_active: bool, team: str = "", capacity: int | None = None, by
):
    """Change a person's role, whether they may log in, their team and capacity."""
    _require_manager(by)
    _require_role(role)
    if user.is_superuser or user.groups.filter(name=Role.INTEGRATION).exists():
        raise PermissionDenied(_("Administrators and API accounts are managed in the admin."))
    if user.pk == by.pk and (
        not is_active or role not in set(by.groups.values_list("name", flat=True))
    ):
        raise ValidationError(_("You cannot change your own role or deactivate yourself."))
    with transaction.atomic():
        _role_set(user, role)
        user.is_active = is_active
        user.save(update_fields=["is_active"])
        _profile_save(user, team=team, capacity=capacity)
    return user


# Absences ------------------------------------------------------------------------------------


def _is_sales_manager(user) -> bool:
    return has_role(user, Role.SALES_MANAGER)


def absence_default_policy() -> str:
    """The SLA's default for a rep's open leads when an absence starts (the first agreement's
    newest handoff part; reassign when there is none)."""
    policy = (
        HandoffPolicy.objects.filter(version__agreement=Agreement.objects.order_by("id").first())
        .order_by("-version__number")
        .values_list("on_absence", flat=True)
        .first()
    )
    return policy or OnAbsence.REASSIGN


def absence_create(
    *,
    rep,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    on_start: str | None = None,
    by,
    now: datetime | None = None,
) -> Absence:
    """A sales manager sets an absence for any rep; a rep only for themselves (and then the
    SLA's default decides what happens to their open leads)."""
    now = now or timezone.now()
    if not _is_sales_manager(by):
        if not (has_role(by, Role.SALES_REP) and rep.pk == by.pk):
            raise PermissionDenied(_("A rep sets absences only for themselves."))
        on_start = None
    if not rep.groups.filter(name=Role.SALES_REP).exists():
        raise ValidationError({"rep": _("Choose a sales rep.")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the rep is away.")})
    if len(reason) > 200:
        raise ValidationError({"reason": _("Keep the reason to 200 characters.")})
    if starts_at is None or ends_at is None:
        raise ValidationError(_("Give when the absence starts and ends."))
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The absence must end after it starts.")})
    if ends_at <= now:
        raise ValidationError({"ends_at": _("That absence is over already.")})
    if on_start not in (None, "", *OnAbsence.values):
        raise ValidationError({"on_start": _("Choose what happens to the rep's open leads.")})
    if Absence.objects.filter(rep=rep, starts_at__lt=ends_at, ends_at__gt=starts_at).exists():
        raise ValidationError(_("This rep already has an absence in that time."))
    return Absence.objects.create(
        rep=rep,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        on_start=on_start or absence_default_policy(),
        created_by=by,
        created_at=now,
    )


def absence_cancel(*, absence: Absence, by, now: datetime | None = None) -> None:
    """Remove an absence not yet over; an absence under way ends now."""
    now = now or timezone.now()
    if not (_is_sales_manager(by) or absence.rep_id == by.pk):
        raise PermissionDenied(_("A rep cancels only their own absences."))
    if absence.starts_at >= now:
        absence.delete()
    elif absence.ends_at > now:
        absence.ends_at = now
        absence.save(update_fields=["ends_at"])


# Jobs ----------------------------------------------------------------------------------------


def _move(handoffs: list[Handoff], picks: dict[int, object], *, by, reason: str, now) -> None:
    """Give each handoff to its pick (a rep, or None: unassigned), set-based per target."""
    moved = [h for h in handoffs if picks.get(h.pk) is not None or h.rep_id is not None]
    # A deadline already past stays with the rep who held the lead then.
    Handoff.objects.filter(
        pk__in=[h.pk for h in moved if h.rep_id is not None],
        first_touch_at__isnull=True,
        due_at__lte=now,
        breach_rep__isnull=True,
    ).update(breach_rep=F("rep"))
    by_target: dict[int | None, list[Handoff]] = defaultdict(list)
    for handoff in moved:
        by_target[getattr(picks.get(handoff.pk), "pk", None)].append(handoff)
    for rep_id, rows in by_target.items():
        ids = [h.pk for h in rows]
        Handoff.objects.filter(pk__in=ids).update(rep_id=rep_id)
        Lead.objects.filter(handoffs__pk__in=ids).update(owner_id=rep_id, updated_at=now)
    HandoffAssignment.objects.bulk_create(
        HandoffAssignment(
            handoff=h, from_rep_id=h.rep_id, to_rep=picks[h.pk], at=now, by=by, reason=reason
        )
        for h in moved
        if h.rep_id is not None and picks.get(h.pk) is not None
    )


def absences_apply(*, now: datetime | None = None) -> list[int]:
    """Apply each started absence's on-start policy once; returns the absences applied."""
    now = now or timezone.now()
    applied = []
    due = Absence.objects.filter(applied_at__isnull=True, starts_at__lte=now).values_list(
        "pk", flat=True
    )
    for absence_id in list(due):
        with transaction.atomic():
            # The claim: of two runs, only one updates the row.
            if not Absence.objects.filter(pk=absence_id, applied_at__isnull=True).update(
                applied_at=now
            ):
                continue
            absence = Absence.objects.select_related("rep", "created_by").get(pk=absence_id)
            applied.append(absence.pk)
            if absence.on_start != OnAbsence.REASSIGN or absence.ends_at <= now:
                continue
            open_ones = list(
                Handoff.objects.filter(ACTIVE, rep=absence.rep)
                .select_related("lead", "version__agreement__sales_manager")
                .order_by("due_at", "id")
            )
            with in_team_language():
                reason = _("%(rep)s is away: %(reason)s") % {
                    "rep": absence.rep.get_full_name() or absence.rep,
                    "reason": absence.reason,
                }
            _reassign_by_method(open_ones, by=absence.created_by, reason=reason, now=now)
    return applied


def _reassign_by_method(handoffs: list[Handoff], *, by, reason: str, now) -> dict:
    """Each handoff to the rep its version's assignment method picks now; None: unassigned."""
    picks: dict[int, object] = {}
    by_version = defaultdict(list)
    for handoff in handoffs:
        by_version[handoff.version].append(handoff)
    for version, rows in by_version.items():
        Agreement.objects.select_for_update().get(pk=version.agreement_id)
        policy = HandoffPolicy.objects.get(version=version)
        picker = RepPicker(version=version, policy=policy, now=now)
        for handoff in rows:
            rep = picker.choose(handoff.lead)
            picks[handoff.pk] = rep
            if rep is not None:
                picker.handed(rep, now)
    _move(handoffs, picks, by=by, reason=reason, now=now)
    notices = []
    for version, rows in by_version.items():
        waiting = [h for h in rows if picks[h.pk] is None and h.rep_id is not None]
        notices.extend(unassigned_notices(waiting, version))
    given = [h for h in handoffs if picks[h.pk] is not None]
    notices.extend(_new_lead_notices(given, picks))
    notify_many(notices, now=now)
    events_emit_many("handoff.reassigned", [h.pk for h in given], now=now)
    return picks


def _new_lead_notices(handoffs: list[Handoff], picks: dict) -> list[Notice]:
    """Each rep's notice in their own language (one query for all of them)."""
    languages = languages_of([picks[h.pk] for h in handoffs]) if handoffs else {}
    notices = []
    for h in handoffs:
        with written_for(picks[h.pk], languages):
            message = _("New lead for you: %(lead)s — first touch due %(due)s.") % {
                "lead": h.lead,
                "due": local_time(h.due_at),
            }
        notices.append(
            Notice(
                user=picks[h.pk],
                key=f"assigned:{h.pk}:{picks[h.pk].pk}",
                lead=h.lead,
                message=message,
            )
        )
    return notices


def waiting_assign(*, now: datetime | None = None) -> list[int]:
    """Give unassigned handoffs to reps who are available now, oldest first; returns the
    handoffs assigned. Their deadlines stay: the clock ran while they waited."""
    now = now or timezone.now()
    with transaction.atomic():
        waiting = list(
            Handoff.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(ACTIVE, rep__isnull=True)
            .select_related("lead", "version__agreement__sales_manager")
            .order_by("handed_off_at", "id")
        )
        if not waiting:
            return []
        picks: dict[int, object] = {}
        by_version = defaultdict(list)
        for handoff in waiting:
            by_version[handoff.version].append(handoff)
        for version, rows in by_version.items():
            Agreement.objects.select_for_update().get(pk=version.agreement_id)
            picker = RepPicker(
                version=version, policy=HandoffPolicy.objects.get(version=version), now=now
            )
            for handoff in rows:
                rep = picker.choose(handoff.lead)
                if rep is not None:
                    picks[handoff.pk] = rep
                    picker.handed(rep, now)
        given = [h for h in waiting if h.pk in picks]
        _move(given, picks, by=None, reason="", now=now)
        notify_many(_new_lead_notices(given, picks), now=now)
        events_emit_many("handoff.reassigned", [h.pk for h in given], now=now)
    return [h.pk for h in given]


def handoff_assign(*, handoff: Handoff, rep, by, now: datetime | None = None) -> None:
    """A sales manager gives an unassigned handoff to a rep of their choosing."""
    now = now or timezone.now()
    if not _is_sales_manager(by):
        raise PermissionDenied(_("Only a sales manager assigns waiting leads."))
    if not active_reps().filter(pk=rep.pk).exists():
        raise ValidationError({"rep": _("Choose an active sales rep.")})
    with transaction.atomic():
        handoff = Handoff.objects.select_for_update().select_related("lead").get(pk=handoff.pk)
        if not handoff.is_active or handoff.rep_id is not None:
            raise ValidationError(_("This lead is no longer waiting: someone has it already."))
        _move([handoff], {handoff.pk: rep}, by=by, reason="", now=now)
        notify_many(_new_lead_notices([handoff], {handoff.pk: rep}), now=now)
        events_emit_many("handoff.reassigned", [handoff.pk], now=now)
