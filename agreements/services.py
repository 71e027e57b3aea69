"""Writes to the SLA: creating agreements, editing drafts, sign-off and publication."""

from collections.abc import Callable
from contextlib import contextmanager
from datetime import time

import holidays
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from slaportal.events import event_emit
from slaportal.language import language_of
from slaportal.queue import enqueue

from . import models as m
from .document import build_document
from .exceptions import EditConflict, NotEditable
from .parts import CORE_LIFECYCLE_SLUGS, ROW_MODELS, SETTINGS_MODELS, Part
from .selectors import open_draft, scopes_in_force, version_consistency, version_scope

Status = m.AgreementVersion.Status
Kind = m.VersionEvent.Kind

# The first draft's stage labels are written in the language of whoever starts the SLA;
# from then on they are the managers' own text.
DEFAULT_LIFECYCLE = {
    "lead": gettext_lazy("Lead"),
    "mql": gettext_lazy("Marketing qualified lead (MQL)"),
    "sql": gettext_lazy("Sales qualified lead (SQL)"),
    "opportunity": gettext_lazy("Opportunity"),
    "customer": gettext_lazy("Customer"),
}


def _log(version, kind, by, *, part="", side="", note=""):
    m.VersionEvent.objects.create(
        version=version, kind=kind, by=by, part=part, side=side, note=note, at=timezone.now()
    )


def agreement_create(
    *,
    name: str,
    marketing_manager,
    sales_manager,
    by,
    marketing_team: str = "Marketing",
    sales_team: str = "Sales",
) -> m.Agreement:
    """A new agreement with a first draft holding the parts every SLA needs."""
    with transaction.atomic():
        agreement = m.Agreement.objects.create(
            name=name,
            marketing_team=marketing_team,
            sales_team=sales_team,
            marketing_manager=marketing_manager,
            sales_manager=sales_manager,
        )
        draft = m.AgreementVersion.objects.create(agreement=agreement, created_by=by)
        version_defaults_create(version=draft)
        _log(draft, Kind.CREATED, by)
    return agreement


def version_defaults_create(*, version: m.AgreementVersion) -> None:
    for model in SETTINGS_MODELS:
        instance, created = model.objects.get_or_create(version=version)
        if created and model is m.ReviewSchedule:
            # The two managers run the review until the SLA names who else attends.
            agreement = version.agreement
            instance.attendees.set([agreement.marketing_manager, agreement.sales_manager])
    m.BusinessCalendar.objects.filter(version=version, working_days=[]).update(
        working_days=[0, 1, 2, 3, 4], day_start=time(9), day_end=time(18)
    )
    if not m.Stage.objects.filter(version=version).exists():
        m.Stage.objects.bulk_create(
            m.Stage(
                version=version,
                kind=m.Stage.Kind.LIFECYCLE,
                slug=slug,
                label=str(label),
                position=position,
            )
            for position, (slug, label) in enumerate(DEFAULT_LIFECYCLE.items())
        )
    assert set(CORE_LIFECYCLE_SLUGS) == set(DEFAULT_LIFECYCLE)


def amendment_start(*, agreement: m.Agreement, by, note: str = "") -> m.AgreementVersion:
    """The open draft, or a new one copied from the latest published version."""
    with transaction.atomic():
        m.Agreement.objects.select_for_update().get(pk=agreement.pk)
        draft = open_draft(agreement=agreement)
        if draft is not None:
            if note:
                draft.change_note = "\n\n".join(filter(None, [draft.change_note, note]))
                draft.save(update_fields=["change_note"])
            return draft
        source = agreement.versions.filter(status=Status.PUBLISHED).order_by("-number").first()
        draft = m.AgreementVersion.objects.create(
            agreement=agreement, based_on=source, created_by=by, change_note=note
        )
        if source is None:
            version_defaults_create(version=draft)
        else:
            _copy_parts(source=source, target=draft)
        _log(
            draft,
            Kind.CREATED,
            by,
            note=_("Amends %(version)s") % {"version": source.label} if source else "",
        )
    return draft


def _copy_parts(*, source: m.AgreementVersion, target: m.AgreementVersion) -> None:
    """Copy every part row, keeping row_key so the diff can follow each row."""
    for model in SETTINGS_MODELS:
        instance = model.objects.filter(version=source).first()
        if instance is None:
            created = model.objects.create(version=target)
            if model is m.ReviewSchedule:
                # Added since the source was published: its defaults, as a new SLA's.
                agreement = target.agreement
                created.attendees.set([agreement.marketing_manager, agreement.sales_manager])
            continue
        # Many-to-many values live in their own table: read them before the copy is saved.
        people = list(instance.attendees.all()) if model is m.ReviewSchedule else None
        instance.pk = None
        instance.version = target
        instance._state.adding = True
        instance.save()
        if people is not None:
            instance.attendees.set(people)
    tracks: dict[int, int] = {}
    for model in ROW_MODELS:
        for row in model.objects.filter(version=source).order_by("position", "id"):
            old_pk = row.pk
            row.pk = None
            row.version = target
            row._state.adding = True
            if model is m.NurtureStep:
                row.track_id = tracks[row.track_id]
            if model is m.ReturnReason and row.nurture_track_id:
                row.nurture_track_id = tracks.get(row.nurture_track_id)
            row.save()
            if model is m.NurtureTrack:
                tracks[old_pk] = row.pk


def part_conflict(*, version: m.AgreementVersion, part: Part) -> EditConflict:
    """The conflict to tell about: who saved the part last, and when."""
    last = version.events.filter(kind=Kind.EDITED, part=part.slug).select_related("by").first()
    return EditConflict(
        part=part.title,
        saved_by=(last.by.get_full_name() or last.by.username)
        if last and last.by
        else _("someone"),
        saved_at=last.at if last else None,
    )


@contextmanager
def _part_change(
    *, version: m.AgreementVersion, part: Part, expected_revision: int, by, note: str = ""
):
    """Lock the draft, refuse stale or closed edits, then bump the part's revision.

    Yields the locked version; on exit the change is logged and, on a submitted draft, the
    approvals are withdrawn (the managers signed a different text).
    """
    with transaction.atomic():
        locked = m.AgreementVersion.objects.select_for_update().get(pk=version.pk)
        if not locked.is_editable:
            raise NotEditable(
                _("%(version)s is %(status)s and cannot change.")
                % {"version": locked, "status": str(locked.get_status_display()).lower()}
            )
        if locked.revision_of(part.slug) != expected_revision:
            raise part_conflict(version=locked, part=part)
        yield locked
        locked.part_revisions = {**locked.part_revisions, part.slug: expected_revision + 1}
        withdrew = bool(locked.marketing_approved_at or locked.sales_approved_at)
        _clear_approvals(locked)
        locked.save()
        _log(locked, Kind.EDITED, by, part=part.slug, note=note)
        if withdrew:
            _log(locked, Kind.APPROVALS_WITHDRAWN, by, part=part.slug)
    version.refresh_from_db()


def part_save(
    *,
    version: m.AgreementVersion,
    part: Part,
    settings_forms,
    formsets,
    expected_revision: int,
    by,
    note: str = "",
) -> None:
    """Save a part's validated forms if nobody saved that part since they were loaded.

    Raises EditConflict when the part's revision moved on, NotEditable when the version is
    no longer a draft. `note` goes into the history with the edit (e.g. the suggestion it
    applies).
    """
    with _part_change(
        version=version, part=part, expected_revision=expected_revision, by=by, note=note
    ) as locked:
        for form in settings_forms:
            form.save()
        for formset in formsets:
            _formset_save(formset, version=locked)


def holidays_prefill(
    *,
    version: m.AgreementVersion,
    part: Part,
    country: str,
    year: int,
    expected_revision: int,
    by,
) -> int:
    """Add a country's public holidays for a year (`holidays` package); returns how many."""
    try:
        country_holidays = holidays.country_holidays(country, years=year)
    except NotImplementedError as error:
        raise ValidationError(
            {"holiday_country": _("No holiday calendar for '%(country)s'.") % {"country": country}}
        ) from error
    with _part_change(
        version=version, part=part, expected_revision=expected_revision, by=by
    ) as locked:
        existing = set(m.Holiday.objects.filter(version=locked).values_list("date", flat=True))
        new = [
            m.Holiday(version=locked, date=day, name=name)
            for day, name in sorted(country_holidays.items())
            if day not in existing
        ]
        m.Holiday.objects.bulk_create(new)
    return len(new)


def _formset_save(formset, *, version) -> None:
    position = 0
    for form in formset.forms:
        is_new = form.instance.pk is None
        if form.cleaned_data.get("DELETE"):
            if not is_new:
                form.instance.delete()
            continue
        if is_new and not form.has_changed():
            continue
        if not is_new and not type(form.instance).objects.filter(pk=form.instance.pk).exists():
            continue  # went with a row removed earlier in this save (a track and its steps)
        row = form.save(commit=False)
        row.version = version
        row.position = position
        row.save()
        position += 1


def _clear_approvals(version: m.AgreementVersion) -> None:
    version.marketing_approved_by = version.marketing_approved_at = None
    version.sales_approved_by = version.sales_approved_at = None


def _lock_version(version: m.AgreementVersion) -> m.AgreementVersion:
    """The version's row, locked for this transaction: every status change reads the status
    it changes under the lock, so a change that lost a race sees the winner's status."""
    return m.AgreementVersion.objects.select_for_update().get(pk=version.pk)


_APPROVAL_FIELDS = [
    "marketing_approved_by",
    "marketing_approved_at",
    "sales_approved_by",
    "sales_approved_at",
]


# Other apps add reasons to refuse a submission without this app importing them (discussions:
# open blocking threads). Each check takes the version and returns the messages that refuse.
_SUBMIT_CHECKS: list[Callable[[m.AgreementVersion], list[str]]] = []


def submit_check_register(check: Callable[[m.AgreementVersion], list[str]]) -> None:
    if check not in _SUBMIT_CHECKS:
        _SUBMIT_CHECKS.append(check)


def version_submit(*, version: m.AgreementVersion, by, change_note: str, effective_at=None) -> None:
    if effective_at is not None and effective_at < timezone.now():
        raise ValidationError({"effective_at": _("The effective date cannot be in the past.")})
    blocking = [
        item.contradiction for item in version_consistency(version=version) if not item.accepted
    ]
    if blocking:
        raise ValidationError(
            [_("The SLA contradicts itself: fix or accept each point of the checklist.")]
            + [c.message for c in blocking],
            code="contradictions",
        )
    scope_problems = scope_conflicts(version=version)
    if scope_problems:
        raise ValidationError(scope_problems, code="scope_overlap")
    refusals = [message for check in _SUBMIT_CHECKS for message in check(version)]
    if refusals:
        raise ValidationError(refusals, code="submit_checks")
    with transaction.atomic():
        locked = _lock_version(version)
        if locked.status != Status.DRAFT:
            raise ValidationError(_("Only a draft can be submitted for approval."))
        locked.status = Status.SUBMITTED
        locked.submitted_by, locked.submitted_at = by, timezone.now()
        locked.change_note = change_note
        locked.effective_at = effective_at
        _clear_approvals(locked)
        # Only the fields this step owns: a stale copy must never write back a number or a
        # publication date.
        locked.save(
            update_fields=[
                "status",
                "submitted_by",
                "submitted_at",
                "change_note",
                "effective_at",
                *_APPROVAL_FIELDS,
            ]
        )
        _log(locked, Kind.SUBMITTED, by, note=change_note)
        _approvers_notify(version=locked, by=by)
    version.refresh_from_db()


def scope_conflicts(*, version: m.AgreementVersion) -> list[str]:
    """Why the draft's scope cannot be submitted: it overlaps a published agreement of the
    same priority (agreements.scopes explains "overlap"), or it is a second default."""
    # The lead engine compiles scopes to SQL over leads; imported here, as leads imports us.
    from leads.services.scopes import scope_overlaps

    from .scopes import default_scope

    scope = version_scope(version=version)
    problems = []
    for other, both in scope_overlaps(scope=scope):
        problems.append(
            _(
                "The scope overlaps “%(other)s”, published with the same priority "
                "(%(priority)s): some lead could match both (%(both)s current leads do). "
                "Give one of them another priority or rules that exclude each other."
            )
            % {"other": other.name, "priority": other.priority, "both": both}
        )
    if scope.is_default:
        others = [s for s in scopes_in_force() if s.agreement_id != scope.agreement_id]
        default = default_scope(others)
        if default is not None:
            problems.append(
                _(
                    "“%(other)s” is already the default agreement: only one agreement takes "
                    "the leads no scope matches."
                )
                % {"other": default.name}
            )
    return problems


def _approvers_notify(*, version: m.AgreementVersion, by) -> None:
    """Tell each manager who signs the draft, in the app and by e-mail, that it waits for
    them; the submitter knows. Written to the outbox in the submit's transaction, once per
    submission."""
    # The in-app notices are the leads app's channel; imported here, as leads imports us.
    from leads.services.notifications import notify

    agreement = m.Agreement.objects.select_related("marketing_manager", "sales_manager").get(
        pk=version.agreement_id
    )
    submitter = by.get_full_name() or by.username
    approvers = {agreement.marketing_manager, agreement.sales_manager} - {None, by}
    for manager in sorted(approvers, key=lambda user: user.pk):
        # Each manager reads the notice, and its e-mail, in their own language.
        with translation.override(language_of(manager)):
            notify(
                user=manager,
                key=f"submitted:{version.pk}:{version.submitted_at:%Y%m%d%H%M%S%f}",
                message=_("%(who)s submitted a draft of “%(agreement)s” for your approval.")
                % {"who": submitter, "agreement": agreement.name},
                email=True,
                now=version.submitted_at,
            )


def contradiction_accept(*, version: m.AgreementVersion, key: str, note: str, by) -> None:
    """Accept one contradiction of a draft as it reads now, with the reason, in its history."""
    note = note.strip()
    if not version.is_editable:
        raise ValidationError(_("Only a draft's checklist can be accepted."))
    current = {item.contradiction.key: item for item in version_consistency(version=version)}
    item = current.get(key)
    if item is None:
        raise ValidationError(_("This contradiction is no longer in the draft: nothing to accept."))
    if not note:
        raise ValidationError({"note": _("Say why the contradiction stands.")})
    if item.accepted:
        return
    _log(
        version,
        Kind.CONTRADICTION_ACCEPTED,
        by,
        part=key,
        note=f"{item.contradiction.message} — {note}",
    )


def version_reopen(*, version: m.AgreementVersion, by) -> None:
    """Take a submitted draft back to draft, e.g. to keep editing before sign-off."""
    with transaction.atomic():
        locked = _lock_version(version)
        if locked.status != Status.SUBMITTED:
            raise ValidationError(_("Only a submitted draft can be returned to draft."))
        locked.status = Status.DRAFT
        _clear_approvals(locked)
        locked.save(update_fields=["status", *_APPROVAL_FIELDS])
        _log(locked, Kind.RETURNED, by)
    version.refresh_from_db()


def approval_side_for(*, agreement: m.Agreement, user) -> str | None:
    """Which side of the agreement this user signs for: each manager only for their own."""
    if user.pk == agreement.marketing_manager_id:
        return m.Team.MARKETING
    if user.pk == agreement.sales_manager_id:
        return m.Team.SALES
    return None


def version_approve(*, version: m.AgreementVersion, by, side: str) -> bool:
    """Record one side's approval; the second approval publishes. Returns True if published."""
    with transaction.atomic():
        locked = (
            m.AgreementVersion.objects.select_for_update()
            .select_related("agreement")
            .get(pk=version.pk)
        )
        owner_side = approval_side_for(agreement=locked.agreement, user=by)
        if owner_side != side and not by.is_superuser:
            raise PermissionDenied(
                _("Only the agreement's sales manager approves for sales.")
                if side == m.Team.SALES
                else _("Only the agreement's marketing manager approves for marketing.")
            )
        if locked.status != Status.SUBMITTED:
            raise ValidationError(_("Only a submitted draft can be approved."))
        now = timezone.now()
        if side == m.Team.MARKETING:
            locked.marketing_approved_by, locked.marketing_approved_at = by, now
        elif side == m.Team.SALES:
            locked.sales_approved_by, locked.sales_approved_at = by, now
        else:
            raise ValidationError(_("Unknown side %(side)r.") % {"side": side})
        locked.save()
        _log(locked, Kind.APPROVED, by, side=side)
        published = bool(locked.marketing_approved_at and locked.sales_approved_at)
        if published:
            _publish(locked, by=by)
    version.refresh_from_db()
    return published


def _publish(version: m.AgreementVersion, *, by) -> None:
    last = version.agreement.versions.aggregate(last=Max("number"))["last"] or 0
    now = timezone.now()
    version.number = last + 1
    version.status = Status.PUBLISHED
    version.published_at = now
    if version.effective_at is None or version.effective_at < now:
        version.effective_at = now
    version.snapshot = build_document(version)
    version.save()
    _log(version, Kind.PUBLISHED, by, note=version.change_note)
    event_emit("sla.version_published", version, now=now)
    # Every lead is re-scored under the new rules once the version is in force.
    enqueue("leads.tasks.rescore_all_leads")
