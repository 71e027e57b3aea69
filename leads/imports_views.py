"""CSV import pages for managers: upload and preview, confirm, follow a background import.

Between preview and confirm the file waits in the cache under a one-time token: nothing is
written to the database until the manager confirms.
"""

import logging
import secrets

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from redis.exceptions import RedisError

from slaportal.csv_files import read_csv_upload
from slaportal.numbers import number
from slaportal.roles import MANAGERS, role_required

from .models import ImportJob
from .services.imports import (
    FORMATS,
    MAX_BYTES,
    MAX_ROWS,
    SYNC_MAX_ROWS,
    ImportRefused,
    import_create,
    import_jobs_recent,
    import_preview,
    import_template,
)

logger = logging.getLogger(__name__)

STAGED_FOR_SECONDS = 60 * 60
# What an unreachable Redis cache raises (redis-py's errors, or the socket's own).
CACHE_DOWN = (RedisError, OSError)
STAGING_DOWN = gettext_lazy(
    "Every row is valid, but the file cannot be held for confirmation right now (the cache "
    "is unreachable). Upload it again in a minute; nothing was stored."
)


def _file_help() -> str:
    return _("UTF-8, a header row, up to %(megabytes)s MB and %(rows)s rows.") % {
        "megabytes": number(MAX_BYTES // 2**20),
        "rows": number(MAX_ROWS),
    }


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        choices=ImportJob.Kind.choices,
        widget=forms.RadioSelect,
        initial=ImportJob.Kind.LEADS,
    )
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=lazy(_file_help, str)(),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        error_messages={"empty": gettext_lazy("The file is empty.")},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        self.cleaned_data["content"] = read_csv_upload(upload, max_bytes=MAX_BYTES)
        return upload


def _staged_key(token: str) -> str:
    return f"leads-import:{token}"


def _stage(staged: dict) -> str | None:
    """Hold the checked file for confirmation; None when the cache (Redis) is unreachable."""
    token = secrets.token_urlsafe(16)
    try:
        cache.set(_staged_key(token), staged, STAGED_FOR_SECONDS)
    except CACHE_DOWN:
        logger.warning("Could not stage an import: the cache is unreachable", exc_info=True)
        return None
    return token


def _take_staged(token: str, *, user) -> dict | None:
    """The file this user staged, removed so that a double click cannot import it twice."""
    key = _staged_key(token)
    try:
        staged = cache.get(key)
        # Deleting is the claim: only the request whose delete succeeds imports the file.
        if staged and staged["user"] == user.pk and cache.delete(key):
            return staged
    except CACHE_DOWN:
        logger.warning("Could not read a staged import: the cache is unreachable", exc_info=True)
    return None


def _page(request, form, **extra):
    context = {
        "form": form,
        "formats": FORMATS,
        "sync_max_rows": SYNC_MAX_ROWS,
        "recent": import_jobs_recent(),
        **extra,
    }
    return render(request, "leads/imports/start.html", context)


@role_required(*MANAGERS)
@require_http_methods(["GET", "POST"])
def import_start(request):
    if request.method != "POST":
        return _page(request, UploadForm())
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, form)
    kind, content = form.cleaned_data["kind"], form.cleaned_data["content"]
    try:
        preview = import_preview(kind=kind, content=content)
    except ImportRefused as refused:
        form.add_error("file", str(refused))
        return _page(request, form)
    token = None
    if preview.ok:
        staged = {
            "user": request.user.pk,
            "kind": kind,
            "filename": form.cleaned_data["file"].name,
            "content": content,
        }
        token = _stage(staged)
        if token is None:
            messages.warning(request, STAGING_DOWN)
    return _page(
        request,
        UploadForm(initial={"kind": kind}),
        preview=preview,
        token=token,
        filename=form.cleaned_data["file"].name,
    )


@role_required(*MANAGERS)
@require_POST
def import_confirm(request):
    staged = _take_staged(request.POST.get("token", ""), user=request.user)
    if staged is None:
        messages.error(
            request, _("This upload is no longer waiting to be confirmed: upload it again.")
        )
        return redirect("leads_import:start")
    try:
        job, outcome = import_create(
            kind=staged["kind"],
            filename=staged["filename"],
            content=staged["content"],
            by=request.user,
        )
    except ImportRefused as refused:
        messages.error(request, str(refused))
        return redirect("leads_import:start")
    if outcome is None:
        # Stored as pending even when the broker is down: the sweeper starts it then.
        messages.info(request, _("The import is queued and will start shortly."))
    elif outcome.status == ImportJob.Status.DONE:
        messages.success(request, outcome.summary(job.kind))
    return redirect("leads_import:detail", pk=job.pk)


@role_required(*MANAGERS)
@require_safe
def import_detail(request, pk):
    job = get_object_or_404(ImportJob.objects.defer("content").select_related("created_by"), pk=pk)
    finished = job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED)
    context = {"job": job, "finished": finished}
    if request.htmx:
        return render(request, "leads/imports/_progress.html", context)
    return render(request, "leads/imports/detail.html", context)


@role_required(*MANAGERS)
@require_safe
def import_template_download(request, kind):
    if kind not in FORMATS:
        raise Http404(_("No such kind of import."))
    response = HttpResponse(import_template(kind=kind), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.csv"'
    return response
