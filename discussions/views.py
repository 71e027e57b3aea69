"""The conversation on a version: thin views over discussions.services and selectors.

Forms post and redirect back to the page they came from (`next`, checked to be ours), with a
message saying what happened or, when refused, why and that nothing was stored.
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from agreements import exports
from agreements.document import version_document
from agreements.models import AgreementVersion
from agreements.reading import version_readable
from agreements.summary import version_promises
from slaportal.roles import MANAGERS, READERS, role_required

from . import permissions as can
from . import services
from .models import Suggestion, Thread
from .presence import presence_beat
from .selectors import version_decisions


def _version(pk) -> AgreementVersion:
    return get_object_or_404(AgreementVersion.objects.select_related("agreement"), pk=pk)


def _back(request, version, anchor: str = "conversation"):
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = version.get_absolute_url()
    return redirect(f"{target.split('#')[0]}#{anchor}")


def _refused(request, error) -> None:
    if isinstance(error, PermissionDenied):
        messages.error(request, f"{error} " + _("Nothing was stored."))
        return
    messages.error(request, " ".join(error.messages) + " " + _("Nothing was stored."))


def _read_or_404(user, version) -> None:
    if not can.can_read(user, version):
        raise PermissionDenied(_("This draft's conversation is for the managers and invitees."))


@role_required(*READERS)
@require_POST
def thread_create(request, version_pk):
    version = _version(version_pk)
    rowset, _sep, row_key = request.POST.get("row", "").partition(":")
    try:
        thread = services.thread_open(
            version=version,
            part=request.POST.get("part", ""),
            rowset=rowset,
            row_key=row_key or None,
            title=request.POST.get("title", ""),
            text=request.POST.get("text", ""),
            blocking=request.POST.get("blocking") == "on",
            by=request.user,
        )
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
        return _back(request, version)
    _told(request, thread.comments.first())
    messages.success(request, _("Thread opened."))
    return _back(request, version, f"thread-{thread.pk}")


def _told(request, comment) -> None:
    if comment is not None and getattr(comment, "not_told", None):
        names = ", ".join(user.username for user in comment.not_told)
        messages.warning(
            request,
            _("%(names)s cannot read this draft and was not told; a manager can invite them.")
            % {"names": names},
        )


def _thread(pk) -> Thread:
    return get_object_or_404(Thread.objects.select_related("version__agreement"), pk=pk)


@role_required(*READERS)
@require_POST
def comment_create(request, thread_pk):
    thread = _thread(thread_pk)
    try:
        comment = services.comment_add(
            thread=thread, by=request.user, text=request.POST.get("text", "")
        )
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
    else:
        _told(request, comment)
        messages.success(request, _("Comment added."))
    return _back(request, thread.version, f"thread-{thread.pk}")


@role_required(*READERS)
@require_POST
def thread_status(request, thread_pk):
    thread = _thread(thread_pk)
    action = request.POST.get("action")
    try:
        if action == "resolve":
            services.thread_resolve(thread=thread, by=request.user)
        elif action == "reopen":
            services.thread_reopen(thread=thread, by=request.user)
        else:
            raise ValidationError(_("Choose to resolve or reopen the thread."))
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
    return _back(request, thread.version, f"thread-{thread.pk}")


@role_required(*MANAGERS)
@require_POST
def suggestion_create(request, version_pk):
    version = _version(version_pk)
    try:
        suggestion = services.suggestion_make(
            version=version,
            part=request.POST.get("part", ""),
            target=request.POST.get("target", ""),
            value=request.POST.get("value", ""),
            reason=request.POST.get("reason", ""),
            by=request.user,
        )
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
        return _back(request, version)
    messages.success(request, _("Suggestion sent to the part's owner."))
    return _back(request, version, f"thread-{suggestion.thread_id}")


def _suggestion(pk) -> Suggestion:
    return get_object_or_404(Suggestion.objects.select_related("version__agreement"), pk=pk)


@role_required(*MANAGERS)
@require_POST
def suggestion_decide(request, pk):
    suggestion = _suggestion(pk)
    decision = request.POST.get("decision")
    try:
        if decision == "accept":
            services.suggestion_accept(suggestion=suggestion, by=request.user)
            messages.success(request, _("Suggestion accepted: the part is changed."))
        elif decision == "decline":
            services.suggestion_decline(
                suggestion=suggestion, by=request.user, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("Suggestion declined."))
        else:
            raise ValidationError(_("Choose to accept or decline the suggestion."))
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
    return _back(request, suggestion.version, f"thread-{suggestion.thread_id}")


@role_required(*MANAGERS)
@require_POST
def invite(request, version_pk):
    version = _version(version_pk)
    user = (
        get_user_model()
        .objects.filter(username=request.POST.get("username", "").strip(), is_active=True)
        .first()
    )
    try:
        if user is None:
            raise ValidationError(_("No one with that username."))
        if request.POST.get("action") == "remove":
            services.invite_remove(version=version, user=user, by=request.user)
            messages.success(request, _("Invitation removed."))
        else:
            services.invite_add(version=version, user=user, by=request.user)
            messages.success(
                request, _("%(who)s may now read and comment on this draft.") % {"who": user}
            )
    except (ValidationError, PermissionDenied) as error:
        _refused(request, error)
    return _back(request, version)


@role_required(*READERS)
@require_POST
def presence(request, version_pk):
    """htmx heartbeat: note that this person has the draft open; list the others."""
    version = _version(version_pk)
    _read_or_404(request.user, version)
    if not version.is_editable:
        return HttpResponse("")
    others = presence_beat(
        version_pk=version.pk, user=request.user, part=request.POST.get("part", "")[:30]
    )
    return render(request, "discussions/partials/presence.html", {"others": others})


@role_required(*READERS)
@require_safe
def decisions(request, version_pk):
    version = _version(version_pk)
    _read_or_404(request.user, version)
    return render(
        request,
        "discussions/decisions.html",
        {
            "version": version,
            "agreement": version.agreement,
            "decisions": version_decisions(version=version),
        },
    )


@role_required(*READERS)
@require_safe
def decisions_pdf(request, version_pk):
    """The version's PDF with the conversation that led to it as an appendix."""
    version = _version(version_pk)
    _read_or_404(request.user, version)
    if version.is_editable:
        raise Http404(_("A draft's decisions are still being made."))
    response = HttpResponse(
        exports.document_pdf(
            version_readable(version, version_document(version)),
            promises=version_promises(version),
            decisions=version_decisions(version=version),
        ),
        content_type="application/pdf",
    )
    name = exports.filename(version, "pdf").replace(".pdf", "-decisions.pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
