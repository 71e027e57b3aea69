"""Writes to the conversation on a draft: threads, comments, mentions, suggestions, invites.

Every refusal is a PermissionDenied (who may not) or a ValidationError (what is wrong), raised
before anything is stored. Mentions are told through the outbox (leads' `notify`: in-app and
e-mail, keyed per comment and person, so a person is told once however often it is delivered).
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from agreements import merge
from agreements import services as agreement_services
from agreements.exceptions import EditConflict, NotEditable
from agreements.models import AgreementVersion
from agreements.parts import PARTS_BY_SLUG
from slaportal.language import language_of

from . import permissions as can
from .models import Comment, Invite, Suggestion, Thread
from .text import mentioned_usernames

User = get_user_model()
TITLE_MAX, TEXT_MAX, REASON_MAX = 200, 4000, 2000


def _name(user) -> str:
    return (user.get_full_name() or user.username) if user else _("someone")


def _part(slug: str):
    part = PARTS_BY_SLUG.get(slug)
    if part is None:
        raise ValidationError({"part": _("Choose a part of the SLA.")})
    return part


def _row(part, rowset_key: str, row_key):
    rowset = next((r for r in part.rowsets if r.key == rowset_key), None)
    if rowset is None:
        raise ValidationError({"row": _("That list is not in this part.")})
    return rowset


def _text(value: str, *, field: str, limit: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: _("Write something first.")})
    if len(value) > limit:
        raise ValidationError({field: _("Keep it under %(limit)s characters.") % {"limit": limit}})
    return value


def thread_open(
    *,
    version: AgreementVersion,
    part: str,
    by,
    title: str,
    text: str,
    rowset: str = "",
    row_key=None,
    blocking: bool = False,
    now=None,
) -> Thread:
    """A thread on a part, or on one row of it, with its first comment."""
    if not can.can_comment(by, version):
        raise PermissionDenied(_("You may not comment on this version."))
    if blocking and not can.can_moderate(by, version):
        raise PermissionDenied(_("Only a manager marks a thread as blocking."))
    part_obj = _part(part)
    title = _text(title, field="title", limit=TITLE_MAX)
    text = _text(text, field="text", limit=TEXT_MAX)
    row_label = ""
    if rowset or row_key:
        rowset_obj = _row(part_obj, rowset, row_key)
        row = rowset_obj.model.objects.filter(version=version, row_key=row_key).first()
        if row is None:
            raise ValidationError({"row": _("That row is not in this draft.")})
        row_label = f"{rowset_obj.title}: {row}"[:200]
    now = now or timezone.now()
    with transaction.atomic():
        thread = Thread.objects.create(
            version=version,
            part=part_obj.slug,
            rowset=rowset,
            row_key=row_key,
            row_label=row_label,
            title=title,
            blocking=blocking,
            created_by=by,
            created_at=now,
        )
        comment_add(thread=thread, by=by, text=text, now=now)
    return thread


def comment_add(*, thread: Thread, by, text: str, now=None) -> Comment:
    version = thread.version
    if not can.can_comment(by, version):
        raise PermissionDenied(_("You may not comment on this version."))
    text = _text(text, field="text", limit=TEXT_MAX)
    now = now or timezone.now()
    with transaction.atomic():
        comment = Comment.objects.create(thread=thread, author=by, text=text, created_at=now)
        people = list(
            User.objects.filter(username__in=mentioned_usernames(text), is_active=True).order_by(
                "pk"
            )
        )
        readers = [person for person in people if can.can_read(person, version)]
        comment.mentions.set(readers)
        _mentions_notify(comment=comment, people=readers, by=by, now=now)
    comment.not_told = [person for person in people if person not in readers]
    return comment


def _thread_url(thread: Thread) -> str:
    return (
        reverse("agreements:version", args=[thread.version.agreement_id, thread.version_id])
        + f"#thread-{thread.pk}"
    )


def _mentions_notify(*, comment: Comment, people, by, now) -> None:
    thread = comment.thread
    part = PARTS_BY_SLUG[thread.part]
    for person in people:
        if person.pk == getattr(by, "pk", None):
            continue
        # Each person is told, in the app and by e-mail, in their own language.
        with translation.override(language_of(person)):
            _mention_notify(person, comment=comment, part=part, by=by, now=now)


def _mention_notify(person, *, comment: Comment, part, by, now) -> None:
    # leads' notices are the in-app channel; imported here as agreements does (leads imports
    # agreements).
    from leads.services.notifications import notify

    thread = comment.thread
    notify(
        user=person,
        key=f"mention:{comment.pk}",
        message=_("%(who)s mentioned you on “%(thread)s” (%(part)s, %(agreement)s).")
        % {
            "who": _name(by),
            "thread": thread.title[:80],
            "part": part.title,
            "agreement": thread.version.agreement.name,
        },
        email=True,
        now=now,
        url=_thread_url(thread),
    )


def thread_resolve(*, thread: Thread, by, now=None) -> Thread:
    _may_close(thread, by)
    if thread.status == Thread.Status.RESOLVED:
        return thread
    thread.status = Thread.Status.RESOLVED
    thread.resolved_by, thread.resolved_at = by, now or timezone.now()
    thread.save(update_fields=["status", "resolved_by", "resolved_at"])
    return thread


def thread_reopen(*, thread: Thread, by) -> Thread:
    _may_close(thread, by)
    thread.status = Thread.Status.OPEN
    thread.resolved_by = thread.resolved_at = None
    thread.save(update_fields=["status", "resolved_by", "resolved_at"])
    return thread


def _may_close(thread: Thread, by) -> None:
    version = thread.version
    if not version.is_editable:
        raise PermissionDenied(_("A published version's threads are closed."))
    if not (
        can.can_moderate(by, version)
        or (thread.created_by_id == by.pk and can.can_comment(by, version))
    ):
        raise PermissionDenied(_("Only a manager or the thread's author resolves it."))


def blocking_threads_messages(version: AgreementVersion) -> list[str]:
    """What refuses the submission: each open blocking thread, named."""
    threads = Thread.objects.filter(version=version, status=Thread.Status.OPEN, blocking=True)
    titles = [f"“{t.title}” ({PARTS_BY_SLUG[t.part].title})" for t in threads]
    if not titles:
        return []
    return [_("Resolve the blocking threads first: %(threads)s.") % {"threads": "; ".join(titles)}]


def invite_add(*, version: AgreementVersion, user, by, now=None) -> Invite:
    if not can.can_moderate(by, version):
        raise PermissionDenied(_("Only a manager invites people to a draft."))
    if can.is_manager(user):
        raise ValidationError({"user": _("Managers take part without an invitation.")})
    if not can.has_role(user, *can.READERS):
        raise ValidationError({"user": _("Only reps and viewers can be invited.")})
    invite, _created = Invite.objects.get_or_create(
        version=version, user=user, defaults={"invited_by": by, "created_at": now or timezone.now()}
    )
    return invite


def invite_remove(*, version: AgreementVersion, user, by) -> None:
    if not can.can_moderate(by, version):
        raise PermissionDenied(_("Only a manager removes an invitation."))
    Invite.objects.filter(version=version, user=user).delete()


# Suggestions -------------------------------------------------------------------------------


def suggestion_targets(*, version: AgreementVersion, part) -> list[tuple[str, str, str]]:
    """What can be suggested on a part: (target, label, value now) for each setting and each
    field of each row. A row's target names the row by its id in this draft."""
    values = merge.part_values(part=part, version=version)
    targets = []
    for block in part.settings:
        form = block.form(version=version)
        for name in block.fields():
            key = f"{block.key}-{name}"
            field = form.fields[name]
            targets.append(
                (
                    f"s:{key}",
                    f"{block.title}: {_label(field, name)}",
                    merge.value_display(field, values["settings"][key]),
                )
            )
    for rowset in part.rowsets:
        form = rowset.form(version=version)
        for row_id, row in values["rows"][rowset.key].items():
            summary = merge.row_summary(form.fields, row)
            for name in rowset.fields():
                field = form.fields[name]
                targets.append(
                    (
                        f"r:{rowset.key}:{row_id}:{name}",
                        f"{rowset.title} ({summary}): {_label(field, name)}",
                        merge.value_display(field, row[name]),
                    )
                )
    return targets


def _label(field, name):
    label = str(field.label or name.replace("_", " "))
    return label[:1].upper() + label[1:]


def _raw_value(field, text: str) -> list[str]:
    """What the person typed, as the editor would post it (a choice by its value or label)."""
    from django import forms

    text = (text or "").strip()
    if isinstance(field.widget, forms.CheckboxInput):
        yes = text.lower() in {"yes", "y", "on", "true", "1", _("yes").lower(), "sim"}
        return ["on"] if yes else []
    if hasattr(field, "choices"):
        labels = {}
        for key, label in field.choices:
            if isinstance(label, list | tuple):
                labels.update({str(k): str(v) for k, v in label})
            else:
                labels[str(key)] = str(label)
        by_label = {label.lower(): key for key, label in labels.items()}
        parts = [p.strip() for p in text.split(",")] if merge._is_multiple(field) else [text]
        out = []
        for item in parts:
            if item in labels:
                out.append(item)
            elif item.lower() in by_label:
                out.append(by_label[item.lower()])
            elif item:
                raise ValidationError(
                    {"value": _("“%(value)s” is not one of the choices.") % {"value": item}}
                )
        return sorted(out) if merge._is_multiple(field) else (out or [""])
    return [text]


def _resolve_target(*, version, part, target: str):
    """(values now, where the target is in them, the form field, a label, the row)."""
    values = merge.part_values(part=part, version=version)
    kind, _sep, rest = (target or "").partition(":")
    if kind == "s":
        block = next((b for b in part.settings if rest.startswith(f"{b.key}-")), None)
        name = rest[len(block.key) + 1 :] if block else ""
        if block is None or name not in block.fields():
            raise ValidationError({"target": _("Choose what to change.")})
        field = block.form(version=version).fields[name]
        return values, ("s", rest), field, f"{block.title}: {_label(field, name)}", None
    if kind == "r":
        rowset_key, _s, rest = rest.partition(":")
        row_id, _s, name = rest.partition(":")
        rowset = next((r for r in part.rowsets if r.key == rowset_key), None)
        if (
            rowset is None
            or name not in rowset.fields()
            or row_id not in values["rows"].get(rowset_key, {})
        ):
            raise ValidationError({"target": _("Choose what to change.")})
        form = rowset.form(version=version)
        field = form.fields[name]
        row = values["rows"][rowset_key][row_id]
        label = f"{rowset.title} ({merge.row_summary(form.fields, row)}): {_label(field, name)}"
        instance = rowset.model.objects.get(pk=row_id)
        return values, ("r", rowset_key, row_id, name), field, label, instance
    raise ValidationError({"target": _("Choose what to change.")})


def _with(values: dict, where: tuple, raw: list[str]) -> dict:
    values = {
        "settings": dict(values["settings"]),
        "rows": {k: {i: dict(r) for i, r in rows.items()} for k, rows in values["rows"].items()},
        "deleted": {},
    }
    if where[0] == "s":
        values["settings"][where[1]] = raw
    else:
        values["rows"][where[1]][where[2]][where[3]] = raw
    return values


def _bound(part, version, values: dict):
    data = merge.values_post(values, revision=version.revision_of(part.slug), base=None)
    settings_forms = [block.bound_form(version, data) for block in part.settings]
    formsets = [rowset.formset(version, data) for rowset in part.rowsets]
    problems = []
    for form in settings_forms:
        problems += [str(e) for errors in form.errors.values() for e in errors]
    for formset in formsets:
        problems += [str(e) for e in formset.non_form_errors()]
        for form in formset.forms:
            problems += [str(e) for errors in form.errors.values() for e in errors]
    if problems:
        raise ValidationError({"value": problems})
    return settings_forms, formsets


def suggestion_make(
    *, version: AgreementVersion, part: str, target: str, value: str, reason: str, by, now=None
) -> Suggestion:
    """Propose a value for one field; refused, storing nothing, if the part would not accept
    it as it stands now."""
    if not can.can_suggest(by, version, part):
        raise PermissionDenied(
            _("Suggest changes on parts you do not draft, or on any part while it is submitted.")
        )
    part_obj = _part(part)
    reason = _text(reason, field="reason", limit=REASON_MAX, required=False)
    values, where, field, label, row = _resolve_target(
        version=version, part=part_obj, target=target
    )
    raw = _raw_value(field, value)
    current = (
        values["settings"][where[1]]
        if where[0] == "s"
        else values["rows"][where[1]][where[2]][where[3]]
    )
    if raw == current:
        raise ValidationError({"value": _("That is already the value: nothing to suggest.")})
    _bound(part_obj, version, _with(values, where, raw))
    now = now or timezone.now()
    with transaction.atomic():
        suggestion = Suggestion.objects.create(
            version=version,
            part=part_obj.slug,
            setting=where[1] if where[0] == "s" else "",
            rowset=where[1] if where[0] == "r" else "",
            row_key=row.row_key if row is not None else None,
            field=where[3] if where[0] == "r" else "",
            label=label[:300],
            old_display=merge.value_display(field, current)[:500],
            new_value=raw,
            new_display=(merge.value_display(field, raw) or "—")[:500],
            reason=reason,
            created_by=by,
            created_at=now,
        )
        title = _("Suggestion: %(label)s → %(value)s") % {
            "label": label,
            "value": suggestion.new_display,
        }
        thread = Thread.objects.create(
            version=version,
            part=part_obj.slug,
            rowset=suggestion.rowset,
            row_key=suggestion.row_key,
            row_label=label[:200],
            title=title[:200],
            created_by=by,
            created_at=now,
        )
        suggestion.thread = thread
        suggestion.save(update_fields=["thread"])
        comment_add(
            thread=thread,
            by=by,
            text=reason or _("I suggest %(value)s.") % {"value": suggestion.new_display},
            now=now,
        )
        _owners_notify(suggestion=suggestion, by=by, now=now)
    return suggestion


def _owners_notify(*, suggestion: Suggestion, by, now) -> None:
    from leads.services.notifications import notify

    agreement = suggestion.version.agreement
    for manager in (agreement.marketing_manager, agreement.sales_manager):
        if manager.pk != by.pk and can.can_edit_part(manager, suggestion.part):
            with translation.override(language_of(manager)):
                notify(
                    user=manager,
                    key=f"suggestion:{suggestion.pk}",
                    message=_("%(who)s suggests %(label)s → %(value)s.")
                    % {
                        "who": _name(by),
                        "label": suggestion.label,
                        "value": suggestion.new_display,
                    },
                    email=True,
                    now=now,
                    url=_thread_url(suggestion.thread),
                )


def _current_target(suggestion: Suggestion, part) -> str:
    if suggestion.setting:
        return f"s:{suggestion.setting}"
    rowset = next(r for r in part.rowsets if r.key == suggestion.rowset)
    row = rowset.model.objects.filter(
        version=suggestion.version, row_key=suggestion.row_key
    ).first()
    if row is None:
        raise ValidationError(_("The row this suggestion changes is gone from the draft."))
    return f"r:{suggestion.rowset}:{row.pk}:{suggestion.field}"


def suggestion_accept(*, suggestion: Suggestion, by, now=None) -> Suggestion:
    """Apply the suggestion as the owner's edit, through the part-save service; its history
    entry names the suggestion."""
    if not can.can_decide(by, suggestion):
        raise PermissionDenied(_("Only the manager who drafts this part accepts a suggestion."))
    version = AgreementVersion.objects.select_related("agreement").get(pk=suggestion.version_id)
    part = _part(suggestion.part)
    now = now or timezone.now()
    with transaction.atomic():
        locked = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
        if locked.status != Suggestion.Status.OPEN:
            raise ValidationError(_("This suggestion was already decided."))
        values, where, _field, _label_, _row = _resolve_target(
            version=version, part=part, target=_current_target(locked, part)
        )
        settings_forms, formsets = _bound(part, version, _with(values, where, locked.new_value))
        try:
            agreement_services.part_save(
                version=version,
                part=part,
                settings_forms=settings_forms,
                formsets=formsets,
                expected_revision=version.revision_of(part.slug),
                by=by,
                note=_("suggestion #%(id)s by %(who)s accepted: %(label)s %(old)s → %(new)s")
                % {
                    "id": locked.pk,
                    "who": _name(locked.created_by),
                    "label": locked.label,
                    "old": locked.old_display or "—",
                    "new": locked.new_display,
                },
            )
        except (EditConflict, NotEditable) as error:
            raise ValidationError(str(error)) from error
        locked.status = Suggestion.Status.ACCEPTED
        locked.decided_by, locked.decided_at = by, now
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        if locked.thread_id:
            thread_resolve(thread=locked.thread, by=by, now=now)
    return locked


def suggestion_decline(*, suggestion: Suggestion, by, reason: str, now=None) -> Suggestion:
    if not can.can_decide(by, suggestion):
        raise PermissionDenied(_("Only the manager who drafts this part declines a suggestion."))
    if not suggestion.version.is_editable:
        raise ValidationError(_("The version is published: the suggestion can no longer change."))
    reason = _text(reason, field="reason", limit=REASON_MAX)
    now = now or timezone.now()
    with transaction.atomic():
        locked = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
        if locked.status != Suggestion.Status.OPEN:
            raise ValidationError(_("This suggestion was already decided."))
        locked.status = Suggestion.Status.DECLINED
        locked.decided_by, locked.decided_at, locked.decision_note = by, now, reason
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        if locked.thread_id:
            comment_add(thread=locked.thread, by=by, text=_("Declined: %(r)s") % {"r": reason})
            thread_resolve(thread=locked.thread, by=by, now=now)
    return locked
